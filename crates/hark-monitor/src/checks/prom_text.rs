//! A parser for the Prometheus text exposition format (0.0.4, and the
//! OpenMetrics text that shares its sample lines).
//!
//! One line at a time: comments (`# HELP`, `# TYPE`, `# EOF`) and blank
//! lines are skipped; a sample is `name{label="value",...} value [timestamp]`
//! where label values escape `\\`, `\"` and `\n`, the value may be `NaN`,
//! `+Inf` or `-Inf`, and an OpenMetrics exemplar (`# {...} v`) after it is
//! ignored. The quoted names of Prometheus 3 (`{"my.metric", "a.b"="c"}`)
//! are understood too. Nothing is allocated for names and values without
//! escapes.

use std::borrow::Cow;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub(crate) value: f64,
    /// Milliseconds since the epoch, when given.
    pub(crate) timestamp: Option<i64>,
}

impl Sample<'_> {
    /// The value of label `name`.
    pub(crate) fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// Whether `line` may hold a sample of `metric` (a cheap test before
/// [`parse_line`]): it starts with the name, or with `{` (a quoted name).
pub(crate) fn may_be(line: &str, metric: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with('{') {
        return true;
    }
    match line.strip_prefix(metric) {
        Some(rest) => rest.starts_with(['{', ' ', '\t']),
        None => false,
    }
}

/// Parses one line: `Ok(None)` for comments and blank lines.
pub(crate) fn parse_line(line: &str) -> Result<Option<Sample<'_>>, String> {
    let s = line.trim_start();
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let mut p = Cursor { s, pos: 0 };
    let mut name: Option<Cow<'_, str>> = None;
    if !s.starts_with('{') {
        name = Some(Cow::Borrowed(p.identifier().ok_or("no metric name")?));
    }
    let mut labels = Vec::new();
    if p.peek() == Some(b'{') {
        p.pos += 1;
        loop {
            p.skip_ws();
            match p.peek() {
                Some(b'}') => {
                    p.pos += 1;
                    break;
                }
                None => return Err("unclosed '{'".into()),
                _ => {}
            }
            let key: Cow<'_, str> = if p.peek() == Some(b'"') {
                p.quoted()?
            } else {
                Cow::Borrowed(p.identifier().ok_or("bad label name")?)
            };
            p.skip_ws();
            if p.peek() == Some(b'=') {
                p.pos += 1;
                p.skip_ws();
                if p.peek() != Some(b'"') {
                    return Err(format!("label {key} has no quoted value"));
                }
                let value = p.quoted()?;
                labels.push((key, value));
            } else if name.is_none() {
                // `{"metric.name", ...}`: a quoted metric name.
                name = Some(key);
            } else {
                return Err(format!("label {key} has no value"));
            }
            p.skip_ws();
            match p.peek() {
                Some(b',') => p.pos += 1,
                Some(b'}') => {}
                _ => return Err("expected ',' or '}' in the labels".into()),
            }
        }
    }
    let name = name.ok_or("no metric name")?;
    let rest = &s[p.pos..];
    if !rest.starts_with([' ', '\t']) {
        return Err("no value".into());
    }
    let mut tokens = rest.split_ascii_whitespace();
    let value = parse_value(tokens.next().ok_or("no value")?)?;
    let timestamp = match tokens.next() {
        None => None,
        Some(t) if t.starts_with('#') => None,
        Some(t) => Some(parse_timestamp(t)?),
    };
    Ok(Some(Sample {
        name,
        labels,
        value,
        timestamp,
    }))
}

fn parse_value(v: &str) -> Result<f64, String> {
    match v {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => v
            .parse::<f64>()
            .map_err(|_| format!("{v:?} is not a sample value")),
    }
}

/// Integer milliseconds, or OpenMetrics' float seconds.
fn parse_timestamp(t: &str) -> Result<i64, String> {
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    t.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .map(|s| (s * 1000.0) as i64)
        .ok_or_else(|| format!("{t:?} is not a timestamp"))
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    fn identifier(&mut self) -> Option<&'a str> {
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            let ok = b.is_ascii_alphabetic()
                || b == b'_'
                || b == b':'
                || (end > start && b.is_ascii_digit());
            if !ok {
                break;
            }
            end += 1;
        }
        if end == start {
            return None;
        }
        self.pos = end;
        Some(&self.s[start..end])
    }

    /// A `"..."` string with `\\`, `\"` and `\n` escapes (others kept as written).
    fn quoted(&mut self) -> Result<Cow<'a, str>, String> {
        let bytes = self.s.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut owned: Option<String> = None;
        let mut copied = start;
        loop {
            match bytes.get(i) {
                None => return Err("unclosed quote".into()),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(&self.s[start..i]),
                        Some(mut o) => {
                            o.push_str(&self.s[copied..i]);
                            Cow::Owned(o)
                        }
                    });
                }
                Some(b'\\') => {
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(&self.s[copied..i]);
                    match bytes.get(i + 1) {
                        Some(b'\\') => o.push('\\'),
                        Some(b'"') => o.push('"'),
                        Some(b'n') => o.push('\n'),
                        Some(_) => {
                            // Unknown escape: keep it as written.
                            o.push('\\');
                            copied = i + 1;
                            i += 1;
                            continue;
                        }
                        None => return Err("unclosed quote".into()),
                    }
                    i += 2;
                    copied = i;
                }
                Some(_) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE_EXPORTER: &str = include_str!("../../tests/data/node-exporter-1.5.0.prom");

    #[test]
    fn simple_lines() {
        let s = parse_line("node_load1 3.72").unwrap().unwrap();
        assert_eq!(
            (s.name.as_ref(), s.value, s.labels.len()),
            ("node_load1", 3.72, 0)
        );
        let s =
            parse_line("  http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000")
                .unwrap()
                .unwrap();
        assert_eq!(s.label("code"), Some("200"));
        assert_eq!(s.timestamp, Some(1_395_066_363_000));
        assert_eq!(parse_line("# HELP x y").unwrap(), None);
        assert_eq!(parse_line("# EOF").unwrap(), None);
        assert_eq!(parse_line("   ").unwrap(), None);
    }

    #[test]
    fn special_values_and_escapes() {
        assert!(parse_line("x NaN").unwrap().unwrap().value.is_nan());
        assert_eq!(parse_line("x +Inf").unwrap().unwrap().value, f64::INFINITY);
        assert_eq!(
            parse_line("x -Inf").unwrap().unwrap().value,
            f64::NEG_INFINITY
        );
        assert_eq!(parse_line("x 1.5e+10").unwrap().unwrap().value, 1.5e10);
        let s = parse_line(r#"msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9"#)
            .unwrap()
            .unwrap();
        assert_eq!(s.label("path"), Some(r"C:\DIR\FILE.TXT"));
        assert_eq!(s.label("error"), Some("Cannot find file:\n\"FILE.TXT\""));
        let s = parse_line(r#"a{b="x\ty", c = "{},=" ,} 2"#)
            .unwrap()
            .unwrap();
        assert_eq!(s.label("b"), Some(r"x\ty"));
        assert_eq!(s.label("c"), Some("{},="));
    }

    #[test]
    fn quoted_names_and_exemplars() {
        let s = parse_line(r#"{"my.metric", "a.b"="c"} 4"#)
            .unwrap()
            .unwrap();
        assert_eq!(s.name, "my.metric");
        assert_eq!(s.label("a.b"), Some("c"));
        let s = parse_line(r#"foo_total{a="1"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789"#)
            .unwrap()
            .unwrap();
        assert_eq!((s.value, s.timestamp), (17.0, None));
        let s = parse_line("foo 1 1520879607.789").unwrap().unwrap();
        assert_eq!(s.timestamp, Some(1_520_879_607_789));
    }

    #[test]
    fn broken_lines_are_errors_not_panics() {
        for bad in [
            "x",
            "x{",
            "x{a=\"1\"",
            "x{a=1} 2",
            "x{a} 2",
            "x{a=\"1\"}2",
            "x y",
            "1x 2",
            "x{a=\"\\",
            "x 1 y",
            "{} 1",
            "x{a=\"1\" b=\"2\"} 1",
            "x{\u{e9}=\"1\"} 1",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn real_node_exporter_output() {
        let mut samples = 0;
        for line in NODE_EXPORTER.lines() {
            if let Some(s) = parse_line(line).unwrap_or_else(|e| panic!("{line:?}: {e}")) {
                samples += 1;
                assert!(!s.name.is_empty());
            }
        }
        let comments = NODE_EXPORTER.lines().filter(|l| l.starts_with('#')).count();
        assert_eq!(samples, NODE_EXPORTER.lines().count() - comments);
        let build = NODE_EXPORTER
            .lines()
            .filter(|l| may_be(l, "node_exporter_build_info"))
            .find_map(|l| parse_line(l).ok().flatten())
            .unwrap();
        assert_eq!(build.label("version"), Some("1.5.0"));
        assert_eq!(build.value, 1.0);
        let root = NODE_EXPORTER
            .lines()
            .filter(|l| may_be(l, "node_filesystem_avail_bytes"))
            .filter_map(|l| parse_line(l).ok().flatten())
            .find(|s| s.label("mountpoint") == Some("/"))
            .unwrap();
        assert!(root.value > 0.0);
        assert!(!may_be("node_load15 2", "node_load1"));
        assert!(may_be("node_load1 2", "node_load1"));
    }
}
