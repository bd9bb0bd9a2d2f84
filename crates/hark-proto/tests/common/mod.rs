//! Shared helpers for the corpus tests: reading the JSON Lines vectors that
//! live outside the repository.

#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;

/// The vectors of one corpus file, one JSON object per line.
pub fn corpus(name: &str) -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/syslog/"
    )
    .to_owned()
        + name;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A vector's input bytes (`input`, or `input_b64` when they are not UTF-8).
pub fn input_bytes(case: &Value) -> Vec<u8> {
    match case["input"].as_str() {
        Some(s) => s.as_bytes().to_vec(),
        None => base64::engine::general_purpose::STANDARD
            .decode(case["input_b64"].as_str().expect("input or input_b64"))
            .unwrap(),
    }
}

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

/// The bytes of `path` under the protocol corpora (`protocols/relp/…`).
pub fn protocol_file(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../shared/corpora/protocols/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

/// The JSON Lines vectors of `path` under the protocol corpora.
pub fn protocol_jsonl(path: &str) -> Vec<Value> {
    String::from_utf8(protocol_file(path))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Bytes from their hexadecimal text.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
