//! How check outputs write durations, numbers and what peers sent.

use std::time::Duration;

/// A configured limit the way it is written in the configuration:
/// `10s`, `500ms`, `1.5s`, `2m`, `1h30m`.
pub(crate) fn limit(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return format!("{}us", d.as_micros());
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if !ms.is_multiple_of(1000) {
        return format!("{}s", trim_float(d.as_secs_f64(), 3));
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// A measured time for people: `0.42 ms`, `12.3 ms`, `250 ms`, `1.25 s`.
pub(crate) fn elapsed(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{} s", trim_float(d.as_secs_f64(), 2))
    }
}

/// A number without needless decimals: `12`, `0.5`, `3.142`, `1e+21` for huge ones.
pub(crate) fn number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    if v.abs() >= 1e15 || v.abs() < 1e-4 {
        return format!("{v:e}");
    }
    trim_float(v, 3)
}

/// A rate with an SI prefix: `950`, `12.5 k`, `1.2 M`.
pub(crate) fn si(v: f64) -> String {
    let a = v.abs();
    let (scaled, prefix) = if a >= 1e12 {
        (v / 1e12, " T")
    } else if a >= 1e9 {
        (v / 1e9, " G")
    } else if a >= 1e6 {
        (v / 1e6, " M")
    } else if a >= 1e3 {
        (v / 1e3, " k")
    } else {
        (v, "")
    };
    format!(
        "{}{prefix}",
        trim_float(scaled, if prefix.is_empty() { 2 } else { 1 })
    )
}

/// `v` with at most `decimals` decimals, trailing zeros dropped.
fn trim_float(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// What a peer sent, quoted and escaped for one line, at most `max` characters.
pub(crate) fn snippet(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(max.min(text.len()) + 8);
    out.push('"');
    for (count, c) in text.chars().enumerate() {
        if count >= max {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// A plural: `1 day`, `5 days`.
pub(crate) fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 || n == -1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_like_configuration() {
        assert_eq!(limit(Duration::from_secs(10)), "10s");
        assert_eq!(limit(Duration::from_millis(500)), "500ms");
        assert_eq!(limit(Duration::from_millis(1500)), "1.5s");
        assert_eq!(limit(Duration::from_secs(120)), "2m");
        assert_eq!(limit(Duration::from_secs(5400)), "1h30m");
        assert_eq!(limit(Duration::from_micros(20)), "20us");
    }

    #[test]
    fn elapsed_times() {
        assert_eq!(elapsed(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(elapsed(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(elapsed(Duration::from_millis(250)), "250 ms");
        assert_eq!(elapsed(Duration::from_millis(1250)), "1.25 s");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(12.0), "12");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.23456), "1.235");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(si(1_234_567.0), "1.2 M");
        assert_eq!(si(950.0), "950");
        assert_eq!(si(12.345), "12.35");
    }

    #[test]
    fn snippets_escape_and_cut() {
        assert_eq!(snippet(b"ok\r\n", 10), "\"ok\\r\\n\"");
        assert_eq!(snippet(b"abcdef", 3), "\"abc...\"");
        assert_eq!(snippet(&[0xff, b'a'], 5), "\"\u{fffd}a\"");
        assert_eq!(plural(1, "day", "days"), "1 day");
        assert_eq!(plural(5, "day", "days"), "5 days");
    }
}
