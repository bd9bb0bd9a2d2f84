//! Readers of the shared test corpora (`shared/corpora/` beside the
//! repository): JSON Lines vectors and the byte captures they name.

use std::path::PathBuf;

use base64::Engine;
use serde_json::Value;

/// The directory holding the corpora.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora"
    ))
}

/// The bytes of `path` under the corpora (`protocols/relp/…`, `syslog/…`).
pub fn file(path: &str) -> Vec<u8> {
    let full = root().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// The vectors of a JSON Lines file under the corpora, one object a line.
pub fn jsonl(path: &str) -> Vec<Value> {
    let text = String::from_utf8(file(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

/// The vectors of a syslog corpus file (`syslog/NAME`).
pub fn syslog(name: &str) -> Vec<Value> {
    jsonl(&format!("syslog/{name}"))
}

/// The bytes of `path` under the protocol corpora (`protocols/PATH`).
pub fn protocol_file(path: &str) -> Vec<u8> {
    file(&format!("protocols/{path}"))
}

/// The vectors of a JSON Lines file under the protocol corpora.
pub fn protocol_jsonl(path: &str) -> Vec<Value> {
    jsonl(&format!("protocols/{path}"))
}

/// A vector's input bytes (`input`, or `input_b64` when they are not UTF-8).
pub fn input_bytes(case: &Value) -> Vec<u8> {
    match case["input"].as_str() {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            let b64 = case["input_b64"]
                .as_str()
                .unwrap_or_else(|| panic!("neither input nor input_b64 in {case}"));
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|e| panic!("input_b64 of {case}: {e}"))
        }
    }
}

/// Bytes from their hexadecimal text.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|e| panic!("hex {s:?}: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhex_reads_pairs_of_digits() {
        assert_eq!(unhex("00ff7F"), [0x00, 0xff, 0x7f]);
        assert_eq!(unhex(""), Vec::<u8>::new());
    }
}
