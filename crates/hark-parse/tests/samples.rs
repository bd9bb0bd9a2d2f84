//! Every format against real samples: `samples/<format>/*.jsonl` hold one
//! case per line, the sample and the fields expected from it, written out.
//!
//! A case is a JSON object:
//! - `line`: the whole syslog line as a device sent it (the header is
//!   parsed as an input would), or `message` (and optionally `app`): the body;
//! - `format`: the format that must read it, both when named alone and
//!   when `auto` chooses;
//! - `fields`: every field the format adds, with its type (numbers as JSON
//!   numbers, booleans as booleans);
//! - optionally `timestamp` (RFC 3339) when the body carries the event time,
//!   and `parse_error` when the format must give up (its reason, whole).

use std::path::{Path, PathBuf};

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue, format_rfc3339_nanos};
use hark_parse::{Step, builtin};
use hark_proto::syslog::{ParseContext, parse_syslog};
use serde_json::{Map, Value};

/// Receive time of every case: 2024-01-01T00:00:00Z.
const RECEIVED_AT: i64 = 1_704_067_200_000_000_000;

fn sample_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("samples directory") {
        let dir = dir.expect("samples entry").path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("format directory") {
            let file = file.expect("sample file").path();
            if file.extension().is_some_and(|e| e == "jsonl") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

fn event_of(case: &Map<String, Value>) -> Event {
    if let Some(line) = case.get("line").and_then(Value::as_str) {
        return parse_syslog(line.as_bytes(), &ParseContext::new(RECEIVED_AT, "samples"));
    }
    let mut ev = Event::new(RECEIVED_AT, "samples");
    ev.message = case["message"].as_str().expect("message").to_owned();
    ev.app = case.get("app").and_then(Value::as_str).map(str::to_owned);
    ev
}

fn fields_json(before: usize, ev: &Event) -> Value {
    let mut map = Map::new();
    for (k, v) in &ev.fields[before..] {
        let v = match v {
            FieldValue::Bool(b) => Value::Bool(*b),
            other => other.to_json(),
        };
        match map.get_mut(k) {
            // A name written twice (related.ip) is compared as a list.
            Some(Value::Array(list)) => list.push(v),
            Some(first) => *first = Value::Array(vec![first.clone(), v]),
            None => {
                map.insert(k.clone(), v);
            }
        }
    }
    Value::Object(map)
}

/// Runs `step` on the case's event; the fields it added, the event time
/// and the parse error.
fn run(step: &Step, case: &Map<String, Value>) -> (bool, Value, String, Option<String>) {
    let mut ev = event_of(case);
    let before = ev.fields.len();
    let claimed = step.parse(&mut ev);
    (
        claimed,
        fields_json(before, &ev),
        format_rfc3339_nanos(ev.timestamp),
        ev.parse_error,
    )
}

#[test]
fn every_sample_gives_its_fields() {
    let files = sample_files();
    let mut cases = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read samples");
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", file.display(), n + 1);
            let case: Map<String, Value> =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: {e}"));
            cases += 1;
            let format = case["format"].as_str().expect("format");
            let alone = Step::new(builtin(format).unwrap_or_else(|| panic!("{at}: no {format}")));
            for (how, step) in [("alone", alone), ("auto", Step::auto())] {
                let (claimed, fields, timestamp, error) = run(&step, &case);
                if !claimed {
                    failures.push(format!("{at} ({how}): {format} did not claim it"));
                    continue;
                }
                if fields != case["fields"] {
                    failures.push(format!(
                        "{at} ({how}): fields differ\n  expected {}\n  got      {}",
                        case["fields"], fields
                    ));
                }
                if let Some(want) = case.get("timestamp").and_then(Value::as_str)
                    && want != timestamp
                {
                    failures.push(format!(
                        "{at} ({how}): timestamp {timestamp}, expected {want}"
                    ));
                }
                let want_error = case.get("parse_error").and_then(Value::as_str);
                if want_error != error.as_deref() {
                    failures.push(format!(
                        "{at} ({how}): parse error {error:?}, expected {want_error:?}"
                    ));
                }
            }
        }
    }
    assert!(cases > 0, "no sample cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{cases} sample cases in {} files", files.len());
}
