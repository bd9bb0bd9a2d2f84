//! Reading Prometheus text exposition (what /metrics serves).

/// Label pairs of a series.
type Labels = Vec<(String, String)>;

/// One sample line: name, labels, value.
pub(crate) fn parse_sample(line: &str) -> Option<(String, Labels, f64)> {
    let (series, value) = line.trim().rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = parse_series(series)?;
    Some((name, labels, value))
}

/// `name{a="x",b="y"}` → name and label pairs.
fn parse_series(series: &str) -> Option<(String, Labels)> {
    let Some((name, rest)) = series.split_once('{') else {
        return Some((series.trim().to_owned(), Vec::new()));
    };
    let body = rest.trim_end().strip_suffix('}')?;
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(',') | Some(' ')) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('"') {
            return None;
        }
        let mut val = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        val.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => break,
                c => val.push(c),
            }
        }
        labels.push((key.trim().to_owned(), val));
    }
    Some((name.to_owned(), labels))
}

/// The value of series `wanted` (labels in any order) in Prometheus text.
pub fn metric_in(text: &str, wanted: &str) -> Option<f64> {
    let (wname, mut wlabels) = parse_series(wanted)?;
    wlabels.sort();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(parse_sample)
        .find(|(n, ls, _)| {
            let mut ls = ls.clone();
            ls.sort();
            *n == wname && ls == wlabels
        })
        .map(|(_, _, v)| v)
}

#[cfg(test)]
mod tests {
    use super::metric_in;

    #[test]
    fn metric_lookup_ignores_label_order() {
        let text = "# TYPE x counter\nhark_events_dropped_total{reason=\"oversize\",input=\"tcp\"} 3\nhark_x 1.5\n";
        assert_eq!(
            metric_in(
                text,
                "hark_events_dropped_total{input=\"tcp\",reason=\"oversize\"}"
            ),
            Some(3.0)
        );
        assert_eq!(metric_in(text, "hark_x"), Some(1.5));
        assert_eq!(
            metric_in(text, "hark_events_dropped_total{input=\"udp\"}"),
            None
        );
    }
}
