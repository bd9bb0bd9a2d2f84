//! A GELF JSON object into an [`Event`].

use hark_event::{Event, Facility, FieldValue, Severity, parse_rfc3339_nanos};
use serde_json::Value;

use crate::ParseContext;

/// Additional fields, in order of preference, whose value names the application.
const APP_KEYS: [&str; 3] = ["_app", "_application_name", "facility"];

/// Turns one GELF message (plain JSON, already decompressed) into an event.
///
/// | GELF | event |
/// |---|---|
/// | `host` | `host` |
/// | `short_message` | `message` |
/// | `full_message` | field `full_message` |
/// | `timestamp` (seconds, with fraction) | `timestamp` (else the receive time) |
/// | `level` (syslog severity 0–7, or a name) | `severity` (an unknown value stays as field `level`) |
/// | first of `_app`, `_application_name`, `facility` (text) | `app` (the one used is not repeated as a field) |
/// | `facility` as a number 0–23 | `facility` |
/// | `_name` | field `name` (numbers stay numbers) |
/// | `_id` | dropped (reserved by the GELF spec) |
/// | `version` | dropped |
/// | any other key | field of the same name |
///
/// Never fails: bytes that are not a JSON object are kept whole as the
/// message with `parse_error` set and `raw` holding them; an object without
/// `short_message` is mapped all the same, but its message is the whole
/// JSON text and `parse_error` says what was missing.
pub fn gelf_to_event(json: &[u8], ctx: &ParseContext) -> Event {
    let mut ev = Event::new(ctx.received_at, ctx.input);
    ev.source = ctx.source.map(str::to_owned);
    let object = match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return failed(ev, json, "GELF: not a JSON object".to_owned()),
        Err(e) => return failed(ev, json, format!("GELF: invalid JSON: {e}")),
    };
    let app_key = APP_KEYS
        .into_iter()
        .find(|k| object.get(*k).is_some_and(Value::is_string));
    let mut message = None;
    for (key, value) in object {
        match (key.as_str(), value) {
            (_, Value::Null) | ("version" | "_id", _) => {}
            ("short_message", v) => message = text(v),
            ("host", v) => ev.host = text(v),
            ("timestamp", v) => match timestamp(&v) {
                Some(ns) => ev.timestamp = ns,
                None => ev.push_field("timestamp", FieldValue::from_json(&v)),
            },
            ("level", v) => match severity(&v) {
                Some(s) => ev.severity = Some(s),
                None => ev.push_field("level", FieldValue::from_json(&v)),
            },
            (k, Value::String(s)) if Some(k) == app_key => ev.app = Some(s),
            ("facility", Value::Number(n)) if facility(&n).is_some() => ev.facility = facility(&n),
            (k, v) => {
                let name = k.strip_prefix('_').unwrap_or(k);
                if !name.is_empty() {
                    // Numbers stay numbers; objects and arrays become their JSON text.
                    ev.push_field(name, FieldValue::from_json(&v));
                }
            }
        }
    }
    match message {
        Some(m) => ev.message = m,
        None => {
            ev.message = String::from_utf8_lossy(json).into_owned();
            ev.raw = Some(json.to_vec());
            ev.parse_error = Some("GELF: missing short_message".to_owned());
        }
    }
    ev
}

/// The event for bytes that are not a GELF object: kept whole, with the reason.
fn failed(mut ev: Event, json: &[u8], reason: String) -> Event {
    ev.message = String::from_utf8_lossy(json).into_owned();
    ev.raw = Some(json.to_vec());
    ev.parse_error = Some(reason);
    ev
}

/// A scalar as text; objects and arrays do not qualify.
fn text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn severity(v: &Value) -> Option<Severity> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|c| u8::try_from(c).ok())
            .and_then(Severity::from_code),
        Value::String(s) => Severity::parse(s),
        _ => None,
    }
}

fn facility(n: &serde_json::Number) -> Option<Facility> {
    n.as_u64()
        .and_then(|c| u8::try_from(c).ok())
        .and_then(Facility::from_code)
}

/// GELF's `timestamp` in nanoseconds: seconds since the epoch as a number or
/// numeric text (with an optional fraction), or RFC 3339 text.
fn timestamp(v: &Value) -> Option<i64> {
    match v {
        // The number's text is exact where its f64 value is not (1.7e18 ns needs 61 bits).
        Value::Number(n) => seconds_to_nanos(&n.to_string()),
        Value::String(s) => seconds_to_nanos(s.trim()).or_else(|| parse_rfc3339_nanos(s.trim())),
        _ => None,
    }
}

/// Decimal seconds (`-12`, `1700000000.123456`, `1.7e9`) to nanoseconds,
/// truncated, or `None` when it is not such a number or out of range.
fn seconds_to_nanos(s: &str) -> Option<i64> {
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = int.bytes().chain(frac.bytes());
    let mut value: i128 = 0;
    let mut scale: i32 = 9 + exponent.clamp(-100, 100) - i32::try_from(frac.len()).ok()?;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        if value < 10i128.pow(30) {
            value = value * 10 + i128::from(d - b'0');
        } else {
            // Digits past 30 significant ones cannot matter at nanosecond range.
            scale += 1;
        }
    }
    let nanos = if scale >= 0 {
        value.checked_mul(10i128.checked_pow(u32::try_from(scale).ok()?)?)?
    } else {
        match 10i128.checked_pow(scale.unsigned_abs()) {
            Some(div) => value / div,
            None => 0,
        }
    };
    i64::try_from(if negative { -nanos } else { nanos }).ok()
}

#[cfg(test)]
mod tests {
    use super::seconds_to_nanos;

    #[test]
    fn seconds_convert_exactly() {
        assert_eq!(
            seconds_to_nanos("1700000000.123456789"),
            Some(1_700_000_000_123_456_789)
        );
        assert_eq!(
            seconds_to_nanos("1700000000"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(seconds_to_nanos("1.7e9"), Some(1_700_000_000_000_000_000));
        assert_eq!(seconds_to_nanos("17e-1"), Some(1_700_000_000));
        assert_eq!(seconds_to_nanos("-1.5"), Some(-1_500_000_000));
        assert_eq!(seconds_to_nanos(".5"), Some(500_000_000));
        assert_eq!(seconds_to_nanos("1.0000000001"), Some(1_000_000_000));
        assert_eq!(seconds_to_nanos("1e400"), None);
        assert_eq!(seconds_to_nanos("99999999999"), None);
        assert_eq!(seconds_to_nanos("1.2.3"), None);
        assert_eq!(seconds_to_nanos("."), None);
        assert_eq!(seconds_to_nanos(""), None);
        assert_eq!(seconds_to_nanos("abc"), None);
    }
}
