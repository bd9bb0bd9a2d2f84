//! Helpers shared by the syslog corpus tests: comparing what go-syslog and
//! syslog_loose expect with what Hark parses. The corpora themselves are
//! read with `hark_testkit::corpus`.

#![allow(dead_code)]

use serde_json::Value;

/// A JSON string, number or null as an optional string.
pub fn opt_str(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// RFC 3339 text to nanoseconds.
pub fn nanos(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp_nanos_opt()
        .unwrap()
}

/// Trims what the parser ignores around a message.
pub fn trimmed(b: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\0');
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    &b[start..end]
}
