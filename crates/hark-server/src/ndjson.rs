//! Turns an NDJSON ingest body into events, one JSON object per line.
//!
//! `message` (a string) is required; `timestamp` (RFC 3339 text, or epoch
//! seconds or milliseconds as a number), `host`, `app` and `severity` (a
//! name or 0–7) are optional; every other key becomes a field, nested
//! objects flattened with dots and arrays kept as their JSON text.

use hark_event::{Event, Severity, flatten_json, parse_rfc3339_nanos};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Name of the input events from the HTTP API carry.
pub const INPUT_NAME: &str = "http";

/// At most this many per-line errors are reported in one reply.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// Epoch numbers below this are seconds (until the year 5138); above, milliseconds.
const SECONDS_BELOW: f64 = 1e11;
/// Epoch numbers from here on would be microseconds or more: refused as ambiguous.
const MILLIS_BELOW: f64 = 1e14;

/// Why one line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLine {
    /// The bytes are not UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// The line is not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// No `message` key.
    #[error("missing \"message\"")]
    MissingMessage,
    /// A key that must hold text does not.
    #[error("\"{0}\" must be a string")]
    NotString(&'static str),
    /// `timestamp` is neither RFC 3339 text nor epoch seconds or milliseconds.
    #[error("\"timestamp\" must be an RFC 3339 time or epoch seconds or milliseconds")]
    BadTimestamp,
    /// `severity` is neither a severity name nor 0–7.
    #[error("\"severity\" must be a severity name (emerg … debug) or 0–7")]
    BadSeverity,
}

/// One rejected line, as reported to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub error: String,
}

/// The outcome of parsing a body.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Events from the good lines, in order.
    pub events: Vec<Event>,
    /// Number of rejected lines.
    pub rejected: usize,
    /// The first [`MAX_REPORTED_ERRORS`] rejections.
    pub errors: Vec<LineError>,
}

/// Parses every non-blank line of `body`; events get `received_at` and `source`.
pub fn parse_body(body: &[u8], received_at: i64, source: Option<&str>) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = std::str::from_utf8(raw)
            .map_err(|_| BadLine::NotUtf8)
            .and_then(|line| parse_line(line, received_at));
        match parsed {
            Ok(mut ev) => {
                ev.source = source.map(str::to_owned);
                out.events.push(ev);
            }
            Err(e) => {
                out.rejected += 1;
                if out.errors.len() < MAX_REPORTED_ERRORS {
                    out.errors.push(LineError {
                        line: i + 1,
                        error: e.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// Parses one line into an event received at `received_at` on the `http` input.
pub fn parse_line(line: &str, received_at: i64) -> Result<Event, BadLine> {
    let value: Value = serde_json::from_str(line).map_err(|e| BadLine::Json(e.to_string()))?;
    let Value::Object(mut obj) = value else {
        return Err(BadLine::NotObject);
    };
    let mut ev = Event::new(received_at, INPUT_NAME);
    ev.message = match obj.remove("message") {
        Some(Value::String(s)) => s,
        None => return Err(BadLine::MissingMessage),
        Some(_) => return Err(BadLine::NotString("message")),
    };
    if let Some(ts) = obj.remove("timestamp").filter(|v| !v.is_null()) {
        ev.timestamp = timestamp(&ts).ok_or(BadLine::BadTimestamp)?;
    }
    ev.host = optional_string(&mut obj, "host")?;
    ev.app = optional_string(&mut obj, "app")?;
    if let Some(sev) = obj.remove("severity").filter(|v| !v.is_null()) {
        ev.severity = Some(Severity::from_json(&sev).ok_or(BadLine::BadSeverity)?);
    }
    for (mut key, value) in obj {
        flatten_json(&mut key, &value, &mut ev.fields);
    }
    Ok(ev)
}

fn optional_string(
    obj: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, BadLine> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(BadLine::NotString(key)),
    }
}

fn timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => parse_rfc3339_nanos(s),
        Value::Number(n) => {
            let x = n.as_f64()?;
            let scale: i64 = if x.abs() < SECONDS_BELOW {
                1_000_000_000
            } else if x.abs() < MILLIS_BELOW {
                1_000_000
            } else {
                return None;
            };
            if let Some(i) = n.as_i64() {
                return i.checked_mul(scale);
            }
            // Whole and fractional parts apart, so the whole part stays exact.
            let whole = x.trunc();
            let frac = ((x - whole) * scale as f64).round() as i64;
            (whole as i64).checked_mul(scale)?.checked_add(frac)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_event::FieldValue;

    const NOW: i64 = 1_800_000_000_000_000_000;

    #[test]
    fn full_line() {
        let ev = parse_line(
            r#"{"message":"disk full","timestamp":"2027-01-15T08:00:00.5Z","host":"db1","app":"pg","severity":"warn","user":{"id":42,"name":"ann"},"tags":["a","b"],"ok":true,"none":null,"ratio":0.5}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(ev.message, "disk full");
        assert_eq!(
            ev.timestamp,
            parse_rfc3339_nanos("2027-01-15T08:00:00.5Z").unwrap()
        );
        assert_eq!(ev.received_at, NOW);
        assert_eq!(ev.host.as_deref(), Some("db1"));
        assert_eq!(ev.app.as_deref(), Some("pg"));
        assert_eq!(ev.severity, Some(Severity::Warning));
        assert_eq!(ev.input, "http");
        assert_eq!(ev.field("user.id"), Some(&FieldValue::Int(42)));
        assert_eq!(ev.field("user.name"), Some(&FieldValue::Str("ann".into())));
        assert_eq!(
            ev.field("tags"),
            Some(&FieldValue::Str(r#"["a","b"]"#.into()))
        );
        assert_eq!(ev.field("ok"), Some(&FieldValue::Bool(true)));
        assert_eq!(ev.field("ratio"), Some(&FieldValue::Float(0.5)));
        assert_eq!(ev.field("none"), None);
        assert_eq!(ev.field("message"), None);
        assert_eq!(ev.fields.len(), 5);
    }

    #[test]
    fn minimal_line_defaults_to_receive_time() {
        let ev = parse_line(r#"{"message":""}"#, NOW).unwrap();
        assert_eq!(ev.timestamp, NOW);
        assert_eq!((ev.host, ev.app, ev.severity), (None, None, None));
        assert!(ev.fields.is_empty());
    }

    #[test]
    fn epoch_numbers() {
        let secs = 1_700_000_000i64;
        let at = |v: &str| parse_line(&format!(r#"{{"message":"m","timestamp":{v}}}"#), NOW);
        assert_eq!(at("1700000000").unwrap().timestamp, secs * 1_000_000_000);
        assert_eq!(
            at("1700000000123").unwrap().timestamp,
            secs * 1_000_000_000 + 123_000_000
        );
        assert_eq!(
            at("1700000000.25").unwrap().timestamp,
            secs * 1_000_000_000 + 250_000_000
        );
        assert_eq!(at("1700000000123456789"), Err(BadLine::BadTimestamp));
        assert_eq!(at("1e300"), Err(BadLine::BadTimestamp));
        assert_eq!(at("\"noon\""), Err(BadLine::BadTimestamp));
        assert_eq!(at("true"), Err(BadLine::BadTimestamp));
    }

    #[test]
    fn severity_forms() {
        let sev = |v: &str| parse_line(&format!(r#"{{"message":"m","severity":{v}}}"#), NOW);
        assert_eq!(sev("3").unwrap().severity, Some(Severity::Err));
        assert_eq!(sev("\"ERROR\"").unwrap().severity, Some(Severity::Err));
        assert_eq!(sev("\"7\"").unwrap().severity, Some(Severity::Debug));
        assert_eq!(sev("8"), Err(BadLine::BadSeverity));
        assert_eq!(sev("-1"), Err(BadLine::BadSeverity));
        assert_eq!(sev("\"loud\""), Err(BadLine::BadSeverity));
    }

    #[test]
    fn line_errors() {
        assert_eq!(
            parse_line(r#"{"msg":"x"}"#, NOW),
            Err(BadLine::MissingMessage)
        );
        assert_eq!(
            parse_line(r#"{"message":5}"#, NOW),
            Err(BadLine::NotString("message"))
        );
        assert_eq!(
            parse_line(r#"{"message":"x","host":1}"#, NOW),
            Err(BadLine::NotString("host"))
        );
        assert_eq!(parse_line(r#"["message"]"#, NOW), Err(BadLine::NotObject));
        assert!(matches!(parse_line("{", NOW), Err(BadLine::Json(_))));
    }

    #[test]
    fn body_reports_errors_by_line_and_skips_blank_lines() {
        let body = b"{\"message\":\"one\"}\r\n\n   \nnot json\n{\"message\":\"two\",\"host\":\"h\"}\n\xff\xfe\n{\"nomessage\":1}\n";
        let parsed = parse_body(body, NOW, Some("10.0.0.9:4711"));
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[0].message, "one");
        assert_eq!(parsed.events[1].message, "two");
        assert_eq!(parsed.events[1].source.as_deref(), Some("10.0.0.9:4711"));
        assert_eq!(parsed.rejected, 3);
        let lines: Vec<usize> = parsed.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 6, 7]);
        assert!(parsed.errors[0].error.starts_with("invalid JSON"));
        assert_eq!(parsed.errors[1].error, "not valid UTF-8");
        assert_eq!(parsed.errors[2].error, "missing \"message\"");
    }

    #[test]
    fn reported_errors_are_capped_but_counted() {
        let body = "x\n".repeat(MAX_REPORTED_ERRORS + 5);
        let parsed = parse_body(body.as_bytes(), NOW, None);
        assert_eq!(parsed.rejected, MAX_REPORTED_ERRORS + 5);
        assert_eq!(parsed.errors.len(), MAX_REPORTED_ERRORS);
        assert!(parsed.events.is_empty());
    }
}
