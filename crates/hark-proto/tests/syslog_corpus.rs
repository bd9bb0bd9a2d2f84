//! The parser against the syslog vectors of other implementations
//! (shared/corpora/syslog). They come from strict parsers; Hark is lenient,
//! so each file maps the vectors onto what Hark promises:
//!
//! * `valid: true`: every expected header field matches: PRI as facility
//!   and severity, timestamp (as an instant), hostname, app_name, procid,
//!   msgid, structured data as `sd.<SD-ID>.<PARAM>` fields, msg. Hark
//!   strips the UTF-8 BOM from MSG (go-syslog keeps it as U+FEFF) and a
//!   missing MSG is an empty message. A missing PRI is user.notice (13),
//!   where syslog_loose reports none.
//! * `valid: false`: either the message is stored whole with `parse_error`
//!   (message = the whole text, raw = the bytes), or Hark read it
//!   leniently: then its message is the tail of the input (nothing after
//!   the header is lost) and every header field the strict parser had read
//!   before failing (`expected_partial`) agrees.

mod common;

use base64::Engine;
use common::{nanos, opt_str, trimmed};
use hark_event::Event;
use hark_proto::{ParseContext, parse_syslog};
use hark_testkit::corpus::{self, input_bytes};
use serde_json::Value;

/// An arbitrary receive time for vectors whose timestamps carry a year.
const RECEIVED: i64 = 1_763_787_600_000_000_000;

fn sd_fields(ev: &Event) -> Vec<(String, String)> {
    ev.fields
        .iter()
        .filter(|(k, _)| k.starts_with("sd.") && k != "sd.invalid")
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect()
}

/// The expected `sd.*` fields of go-syslog's map form `{id: {param: value}}`
/// or syslog_loose's list form `[{id, params: [[k, v]]}]`.
fn expected_sd(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match v {
        Value::Object(map) => {
            for (id, params) in map {
                for (k, val) in params.as_object().unwrap() {
                    out.push((format!("sd.{id}.{k}"), val.as_str().unwrap().to_owned()));
                }
            }
        }
        Value::Array(list) => {
            for el in list {
                let id = el["id"].as_str().unwrap();
                for kv in el["params"].as_array().unwrap() {
                    out.push((
                        format!("sd.{id}.{}", kv[0].as_str().unwrap()),
                        kv[1].as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
        _ => {}
    }
    out.sort();
    out
}

/// Checks the header fields present in `exp`; `what` names the case.
fn check_fields(ev: &Event, exp: &Value, what: &str) {
    let pri = exp["pri"].as_u64().unwrap_or(13);
    assert_eq!(
        ev.facility.map(|f| f as u64),
        Some(pri / 8),
        "facility: {what}"
    );
    assert_eq!(
        ev.severity.map(|s| s as u64),
        Some(pri % 8),
        "severity: {what}"
    );
    assert_eq!(ev.host, opt_str(&exp["hostname"]), "hostname: {what}");
    assert_eq!(ev.app, opt_str(&exp["app_name"]), "app_name: {what}");
    assert_eq!(ev.procid, opt_str(&exp["procid"]), "procid: {what}");
    assert_eq!(ev.msgid, opt_str(&exp["msgid"]), "msgid: {what}");
    let mut got_sd = sd_fields(ev);
    got_sd.sort();
    assert_eq!(
        got_sd,
        expected_sd(&exp["structured_data"]),
        "structured data: {what}"
    );
}

/// MSG is `msg`, or `msg_b64` when it is not UTF-8 (then compared lossily).
fn check_message(ev: &Event, exp: &Value, what: &str) {
    let bytes = match exp["msg_b64"].as_str() {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        None => exp["msg"].as_str().unwrap_or("").as_bytes().to_vec(),
    };
    let msg = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    assert_eq!(ev.message, String::from_utf8_lossy(msg), "msg: {what}");
}

/// A message Hark could not parse is kept whole.
fn is_stored_whole(ev: &Event, input: &[u8]) -> bool {
    ev.parse_error.is_some()
        && ev.message == String::from_utf8_lossy(trimmed(input))
        && ev.raw.as_deref() == Some(input)
}

/// A message Hark read leniently lost nothing after the header.
fn message_is_input_tail(ev: &Event, input: &[u8]) -> bool {
    String::from_utf8_lossy(trimmed(input)).ends_with(&ev.message)
}

#[test]
fn go_syslog_rfc5424() {
    let cases = corpus::syslog("go_syslog_rfc5424.jsonl");
    assert_eq!(cases.len(), 224);
    let (mut whole, mut lenient) = (0, 0);
    for case in &cases {
        let input = input_bytes(case);
        let what = format!("{:?}", String::from_utf8_lossy(&input));
        let ev = parse_syslog(&input, &ParseContext::new(RECEIVED, "corpus"));
        let non_utf8 = std::str::from_utf8(&input).is_err();
        assert_eq!(
            ev.raw.is_some(),
            non_utf8 || ev.parse_error.is_some(),
            "raw: {what}"
        );
        if case["valid"].as_bool().unwrap() {
            let exp = &case["expected"];
            assert_eq!(ev.parse_error, None, "{what}");
            check_fields(&ev, exp, &what);
            check_message(&ev, exp, &what);
            let ts = exp["timestamp"].as_str().map_or(RECEIVED, nanos);
            assert_eq!(ev.timestamp, ts, "timestamp: {what}");
        } else if is_stored_whole(&ev, &input) {
            whole += 1;
        } else {
            lenient += 1;
            assert_eq!(ev.parse_error, None, "{what}");
            assert!(message_is_input_tail(&ev, &input), "{what}: {ev:?}");
            let partial = &case["expected_partial"];
            if !partial.is_null() {
                for (key, got) in [
                    ("hostname", &ev.host),
                    ("app_name", &ev.app),
                    ("procid", &ev.procid),
                    ("msgid", &ev.msgid),
                ] {
                    if let Some(exp) = opt_str(&partial[key]) {
                        assert_eq!(got.as_deref(), Some(exp.as_str()), "{key}: {what}");
                    }
                }
                if let Some(ts) = partial["timestamp"].as_str() {
                    assert_eq!(ev.timestamp, nanos(ts), "timestamp: {what}");
                }
            }
        }
    }
    // 87 broken headers (bad PRI, bad or truncated timestamp, empty, over-long
    // or control-character fields, undelimited structured data) are stored
    // whole. 53 are read leniently: invalid UTF-8 after a BOM (30, the
    // "compliant MSG" mode), an unescaped `]` or a stray backslash inside an
    // SD value, duplicate SD-IDs, empty or malformed SD elements (kept as
    // `sd.invalid`), lower-case `t`/`z`, and text after a PRI that is not an
    // RFC 5424 version (read as RFC 3164 text).
    assert_eq!((whole, lenient), (87, 53));
}

#[test]
fn go_syslog_rfc3164() {
    for case in corpus::syslog("go_syslog_rfc3164.jsonl") {
        let input = input_bytes(&case);
        let what = format!("{:?}", String::from_utf8_lossy(&input));
        let ev = parse_syslog(&input, &ParseContext::new(RECEIVED, "corpus"));
        let exp = &case["expected"];
        assert_eq!(ev.parse_error, None, "{what}");
        assert_eq!(ev.raw, None, "{what}");
        if !go_syslog_3164_divergence(&String::from_utf8_lossy(&input), &ev) {
            check_fields(&ev, exp, &what);
            check_message(&ev, exp, &what);
        }
        // The vectors show the year-less timestamp as text.
        let shown = chrono::DateTime::from_timestamp_nanos(ev.timestamp)
            .format("%b %e %H:%M:%S")
            .to_string();
        assert_eq!(
            shown,
            exp["timestamp"].as_str().unwrap(),
            "timestamp: {what}"
        );
    }
}

/// syslog_loose cases where Hark deliberately differs, and how (none today:
/// a word after the host is the tag, as syslog_loose and rsyslog read it).
fn syslog_loose_divergence(_test: &str, _ev: &Event) -> bool {
    false
}

/// go-syslog cases where Hark deliberately differs: after the host, go-syslog
/// wants `app:` or `app[pid]`, while rsyslog and syslog_loose end the tag at
/// a space too, so `host Some message here` has the tag `Some`.
fn go_syslog_3164_divergence(input: &str, ev: &Event) -> bool {
    let expected = match input {
        "<166>Jul  6 20:33:28 ABC-1-234567 Some message here" => ("Some", "message here"),
        "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!" => ("Use", "the BFG!"),
        _ => return false,
    };
    assert_eq!(ev.app.as_deref(), Some(expected.0), "{input}");
    assert_eq!(ev.message, expected.1, "{input}");
    true
}

#[test]
fn syslog_loose() {
    // The vectors put year-less December in 2019 and the rest in 2020.
    let received = nanos("2020-01-20T00:00:00Z");
    let cases = corpus::syslog("syslog_loose.jsonl");
    assert_eq!(cases.len(), 36);
    for case in &cases {
        let input = input_bytes(case);
        let what = format!("{:?}", String::from_utf8_lossy(&input));
        let mut ctx = ParseContext::new(received, "corpus");
        ctx.default_offset = match case["default_tz"].as_str() {
            None => chrono::FixedOffset::east_opt(0).unwrap(),
            Some("Europe/Paris") => chrono::FixedOffset::east_opt(3600).unwrap(),
            Some(other) => other.parse().unwrap(),
        };
        let ev = parse_syslog(&input, &ctx);
        if syslog_loose_divergence(case["test"].as_str().unwrap(), &ev) {
            continue;
        }
        if case["valid"].as_bool().unwrap() {
            let exp = &case["expected"];
            assert_eq!(ev.parse_error, None, "{what}");
            check_fields(&ev, exp, &what);
            check_message(&ev, exp, &what);
            let ts = exp["timestamp"].as_str().map_or(received, nanos);
            assert_eq!(ev.timestamp, ts, "timestamp: {what}");
        } else {
            // Both are text Hark keeps (one without any header, one a valid 29 February in 2020).
            assert!(
                is_stored_whole(&ev, &input) || message_is_input_tail(&ev, &input),
                "{what}"
            );
            assert!(!ev.message.is_empty(), "{what}");
        }
    }
}
