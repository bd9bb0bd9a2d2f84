//! Event times as CEF's `rt` and LEEF's `devTime` write them, and the
//! small helpers both formats share.
//!
//! A time is turned into UTC nanoseconds only when it names its zone (an
//! offset, `Z`, `UTC` or `GMT`) or counts milliseconds since the epoch; a
//! local time without a zone leaves the syslog header's time in place.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// Milliseconds since the epoch, or one of CEF's date forms
/// (`MMM dd yyyy HH:mm:ss[.SSS] zzz`), or RFC 3339: UTC nanoseconds.
pub(crate) fn parse_cef_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return epoch_millis(text);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return t.timestamp_nanos_opt();
    }
    let (local, zone) = split_zone(text)?;
    for pattern in ["%b %d %Y %H:%M:%S%.f", "%b %d %Y %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(local, pattern) {
            return with_offset(t, zone);
        }
    }
    None
}

/// `devTime` read with the Java `SimpleDateFormat` pattern in
/// `devTimeFormat` (the common letters: y M d H h m s S a z Z X and quoted
/// literals); without a pattern, epoch milliseconds or CEF's forms.
pub(crate) fn parse_java_time(text: &str, pattern: Option<&str>) -> Option<i64> {
    let Some(pattern) = pattern else {
        return parse_cef_time(text);
    };
    let (format, zoned) = java_to_chrono(pattern)?;
    if zoned {
        let t = DateTime::parse_from_str(text.trim(), &format).ok()?;
        return t.timestamp_nanos_opt();
    }
    // A zone name (`zzz`) chrono cannot read: accept UTC and GMT only.
    let (local, zone) = split_zone(text.trim())?;
    let t = NaiveDateTime::parse_from_str(local, format.trim_end_matches(" %Z")).ok()?;
    if format.ends_with(" %Z") {
        with_offset(t, zone)
    } else {
        None
    }
}

fn epoch_millis(digits: &str) -> Option<i64> {
    digits.parse::<i64>().ok()?.checked_mul(1_000_000)
}

/// The local part and whether a trailing zone name says UTC. `None` when
/// the zone is one chrono cannot place (`PST`, `CET`…).
fn split_zone(text: &str) -> Option<(&str, Option<i64>)> {
    match text.rsplit_once(' ') {
        Some((local, "UTC" | "GMT" | "Z")) => Some((local, Some(0))),
        Some((_, zone)) if zone.bytes().all(|b| b.is_ascii_alphabetic()) => None,
        _ => Some((text, None)),
    }
}

fn with_offset(t: NaiveDateTime, zone: Option<i64>) -> Option<i64> {
    zone?;
    Utc.from_utc_datetime(&t).timestamp_nanos_opt()
}

/// A chrono format for a Java pattern, and whether it holds a numeric zone.
fn java_to_chrono(pattern: &str) -> Option<(String, bool)> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut zoned = false;
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let run = b[i..].iter().take_while(|&&x| x == c).count();
        match c {
            b'\'' => {
                let end = b[i + 1..].iter().position(|&x| x == b'\'')? + i + 1;
                out.push_str(&pattern[i + 1..end].replace('%', "%%"));
                i = end + 1;
                continue;
            }
            b'y' if run == 2 => out.push_str("%y"),
            b'y' => out.push_str("%Y"),
            b'M' if run >= 3 => out.push_str("%b"),
            b'M' => out.push_str("%m"),
            b'd' => out.push_str("%d"),
            b'H' => out.push_str("%H"),
            b'h' => out.push_str("%I"),
            b'm' => out.push_str("%M"),
            b's' => out.push_str("%S"),
            b'S' => {
                // chrono's `%.f` takes the dot too: drop a dot already written.
                if out.ends_with('.') {
                    out.pop();
                }
                out.push_str("%.f");
            }
            b'a' => out.push_str("%p"),
            b'Z' | b'X' => {
                out.push_str("%z");
                zoned = true;
            }
            b'z' => out.push_str("%Z"),
            b'%' => out.push_str("%%"),
            c if c.is_ascii_alphabetic() => return None,
            _ => out.push_str(&pattern[i..i + run]),
        }
        i += run;
    }
    Some((out, zoned))
}

/// `network.transport` for a protocol name or IANA number, lower case.
pub(crate) fn transport(proto: &str) -> String {
    match proto {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "ipv6-icmp".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_millis_and_zoned_forms() {
        assert_eq!(
            parse_cef_time("1543270652000"),
            Some(1_543_270_652_000_000_000)
        );
        assert_eq!(
            parse_cef_time("Nov 26 2018 22:17:32 UTC"),
            Some(1_543_270_652_000_000_000)
        );
        assert_eq!(
            parse_cef_time("2018-11-26T22:17:32Z"),
            Some(1_543_270_652_000_000_000)
        );
        assert_eq!(parse_cef_time("Nov 26 2018 22:17:32"), None);
        assert_eq!(parse_cef_time("Nov 26 2018 22:17:32 PST"), None);
        assert_eq!(parse_cef_time("99999999999999999999"), None);
    }

    #[test]
    fn java_patterns() {
        assert_eq!(
            parse_java_time(
                "2018-11-26T22:17:32.000+0000",
                Some("yyyy-MM-dd'T'HH:mm:ss.SSSZ")
            ),
            Some(1_543_270_652_000_000_000)
        );
        assert_eq!(
            parse_java_time("Nov 26 2018 22:17:32 GMT", Some("MMM dd yyyy HH:mm:ss z")),
            Some(1_543_270_652_000_000_000)
        );
        assert_eq!(
            parse_java_time("Nov 26 2018 22:17:32", Some("MMM dd yyyy HH:mm:ss")),
            None
        );
        assert_eq!(parse_java_time("x", Some("'unterminated")), None);
        assert_eq!(parse_java_time("x", Some("GGGG")), None);
    }
}
