//! The framer against go-syslog's RFC 6587 vectors
//! (shared/corpora/syslog/go_syslog_framing_rfc6587.jsonl), compared with
//! its best-effort results. Each stream is fed whole and byte by byte; both
//! must give the same frames.
//!
//! Mapping of go-syslog's results to Hark's:
//! * a message, or a parse error after a frame was cut (it names a PRI):
//!   Hark hands out that frame; the parsed event has the same PRI, and for a
//!   message the same header fields and MSG;
//! * "expecting a WS" (digits not followed by a space): a framing error;
//! * "message too long": the frame cut to the maximum, flagged truncated;
//! * "expecting a MSGLEN" after a frame (a byte other than 1-9 where a count
//!   belongs): Hark reads the rest as a non-transparent frame, as rsyslog
//!   does; on an empty stream there is simply no frame.

mod common;

use common::{nanos, opt_str};
use hark_proto::{Frame, ParseContext, SyslogFramer, parse_syslog};
use hark_testkit::corpus::{self, input_bytes};
use hark_testkit::decode::feed_text;
use serde_json::Value;

type Outcome = Result<Frame, String>;

/// Feeds `chunks` to a framer, then ends the stream; stops at the first error.
fn run<'a>(max: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Outcome> {
    feed_text(&mut SyslogFramer::new(max), chunks, |_| ())
}

fn check_stream(case: &Value) {
    let descr = case["descr"].as_str().unwrap();
    let input = input_bytes(case);
    let max = case["max_message_length"]
        .as_u64()
        .map_or(64 * 1024, |m| m as usize);
    let whole = run(max, [&input[..]]);
    let bytewise = run(max, input.chunks(1));
    assert_eq!(whole, bytewise, "{descr}: byte-by-byte differs");

    let ctx = ParseContext::new(0, "corpus");
    let mut got = whole.iter();
    for exp in case["expected_results_best_effort"].as_array().unwrap() {
        let error = exp["error"].as_str();
        let message = &exp["message"];
        match (error, message.is_null()) {
            (_, false) => {
                let frame = match got.next() {
                    Some(Ok(f)) => f,
                    other => panic!("{descr}: expected a frame, got {other:?}"),
                };
                let ev = parse_syslog(&frame.bytes, &ctx);
                let pri = message["pri"].as_u64().unwrap();
                assert_eq!(ev.severity.map(|s| s as u64), Some(pri % 8), "{descr}");
                assert_eq!(ev.facility.map(|f| f as u64), Some(pri / 8), "{descr}");
                if error.is_none() {
                    assert!(!frame.truncated, "{descr}");
                    assert_eq!(ev.parse_error, None, "{descr}");
                    assert_eq!(ev.host, opt_str(&message["hostname"]), "{descr}");
                    assert_eq!(ev.app, opt_str(&message["app_name"]), "{descr}");
                    assert_eq!(ev.procid, opt_str(&message["procid"]), "{descr}");
                    assert_eq!(ev.msgid, opt_str(&message["msgid"]), "{descr}");
                    assert_eq!(ev.message, message["msg"].as_str().unwrap_or(""), "{descr}");
                    let ts = message["timestamp"].as_str().map_or(0, nanos);
                    assert_eq!(ev.timestamp, ts, "{descr}");
                }
            }
            (Some(e), true) if e.contains("expecting a WS") => {
                assert!(
                    matches!(got.next(), Some(Err(_))),
                    "{descr}: expected a framing error"
                );
            }
            (Some(e), true) if e.contains("message too long") => match got.next() {
                Some(Ok(f)) => assert!(f.truncated && f.bytes.len() == max, "{descr}"),
                other => panic!("{descr}: expected a truncated frame, got {other:?}"),
            },
            (Some(e), true) if e.contains("expecting a MSGLEN") => {
                if let Some(next) = got.next() {
                    let f = next.as_ref().unwrap_or_else(|e| panic!("{descr}: {e}"));
                    assert!(!f.bytes[0].is_ascii_digit(), "{descr}");
                }
            }
            other => panic!("{descr}: unmapped expectation {other:?}"),
        }
    }
    assert!(got.next().is_none(), "{descr}: more frames than expected");
}

#[test]
fn go_syslog_rfc6587_streams() {
    let cases = corpus::syslog("go_syslog_framing_rfc6587.jsonl");
    assert_eq!(cases.len(), 27);
    for case in &cases {
        check_stream(case);
    }
}
