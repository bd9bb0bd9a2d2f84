//! Lumberjack against shared/corpora/protocols/lumberjack: byte streams
//! written by go-lumber's v2 client (plain and zlib-compressed), v1 data
//! frames, the ACK bytes go-lumber's server sends, and malformed frames
//! with go-lumber's error class. Every stream is fed whole and byte by byte.

use hark_event::FieldValue;
use hark_proto::ParseContext;
use hark_proto::lumberjack::{
    BatchStep, BeatsBatch, Frame, Limits, LumberjackDecoder, LumberjackError, ack,
    beats_event_to_event, data_pairs_to_event,
};
use hark_testkit::corpus::{protocol_file, protocol_jsonl, unhex};
use hark_testkit::decode::feed;
use serde_json::Value;

/// The bytes of `name` in the Lumberjack corpus.
fn read(name: &str) -> Vec<u8> {
    protocol_file(&format!("lumberjack/{name}"))
}

/// The vectors of `name` in the Lumberjack corpus.
fn jsonl(name: &str) -> Vec<Value> {
    protocol_jsonl(&format!("lumberjack/{name}"))
}

/// What a server makes of one client stream: the event frames and the acks
/// it sends, stopping at the first error.
struct Served {
    events: Vec<Frame>,
    acks: Vec<u8>,
    error: Option<LumberjackError>,
}

fn serve(limits: Limits, stream: &[u8], chunk: usize) -> Served {
    let mut batch = BeatsBatch::new();
    let mut served = Served {
        events: Vec::new(),
        acks: Vec::new(),
        error: None,
    };
    let outcomes = feed(
        &mut LumberjackDecoder::new(limits),
        stream.chunks(chunk),
        |_| (),
    );
    for outcome in outcomes {
        let frame = match outcome {
            Ok(frame) => frame,
            Err(e) => {
                served.error = Some(e);
                break;
            }
        };
        match batch.on_frame(&frame).unwrap() {
            BatchStep::Complete { ack, .. } | BatchStep::EmptyWindow { ack } => {
                served.acks.extend_from_slice(&ack)
            }
            BatchStep::Opened { .. } | BatchStep::Event { .. } => {}
        }
        if !matches!(frame, Frame::Window { .. }) {
            served.events.push(frame);
        }
    }
    served
}

#[test]
fn v2_streams_give_the_events_and_acks_go_lumber_gives() {
    let mut streams = 0;
    for v in jsonl("lumberjack_v2_vectors.jsonl") {
        let Some(file) = v["client_to_server_file"].as_str() else {
            continue;
        };
        let stream = read(file);
        assert_eq!(
            stream.len() as u64,
            v["client_to_server_len"].as_u64().unwrap()
        );
        let want_events = v["expected_events"].as_array().unwrap();
        let want_ack = unhex(v["server_to_client_hex"].as_str().unwrap());
        let ack_seq = v["expected_ack_seq"].as_u64().unwrap() as u32;
        assert_eq!(want_ack, ack(ack_seq));
        for chunk in [stream.len(), 1, 13] {
            let served = serve(Limits::default(), &stream, chunk);
            assert!(served.error.is_none(), "{file}: {:?}", served.error);
            assert_eq!(served.acks, want_ack, "{file} in {chunk}-byte chunks");
            let got: Vec<Value> = served
                .events
                .iter()
                .map(|f| match f {
                    Frame::Json { payload, .. } => serde_json::from_slice(payload).unwrap(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(&got, want_events, "{file}");
        }
        // The events as Hark stores them.
        let ctx = ParseContext::new(1, "beats");
        for (frame, want) in serve(Limits::default(), &stream, stream.len())
            .events
            .iter()
            .zip(want_events)
        {
            let Frame::Json { payload, .. } = frame else {
                unreachable!()
            };
            let ev = beats_event_to_event(payload, &ctx);
            assert!(ev.parse_error.is_none());
            assert_eq!(ev.message, want["message"].as_str().unwrap());
            if let Some(host) = want["host"]["name"].as_str() {
                assert_eq!(ev.host.as_deref(), Some(host));
                assert_eq!(ev.app.as_deref(), Some("filebeat"));
                let ts = want["@timestamp"].as_str().unwrap();
                assert_eq!(Some(ev.timestamp), hark_event::parse_rfc3339_nanos(ts));
                assert!(ev.timestamp >= 1_705_312_800_000_000_000);
                assert_eq!(
                    ev.field("log.file.path"),
                    Some(&FieldValue::Str("/var/log/auth.log".into()))
                );
                assert!(matches!(ev.field("log.offset"), Some(FieldValue::Int(_))));
                assert_eq!(
                    ev.field("input.type"),
                    Some(&FieldValue::Str("filestream".into()))
                );
            } else {
                assert_eq!(ev.field("line"), Some(&FieldValue::Int(1)));
            }
        }
        streams += 1;
    }
    assert_eq!(streams, 4);
}

#[test]
fn ack_frames_match_go_lumber() {
    let mut n = 0;
    for v in jsonl("lumberjack_v2_vectors.jsonl") {
        if v["name"] == "v2_ack_frame" {
            let seq = v["ack_seq"].as_u64().unwrap() as u32;
            assert_eq!(
                ack(seq).to_vec(),
                unhex(v["server_to_client_hex"].as_str().unwrap())
            );
            n += 1;
        }
    }
    assert_eq!(n, 4);
}

#[test]
fn malformed_frames_fail_with_go_lumbers_error_class() {
    let mut n = 0;
    for v in jsonl("lumberjack_v2_vectors.jsonl") {
        let Some(expected) = v["expected_error"].as_str() else {
            continue;
        };
        let stream = unhex(v["client_to_server_hex"].as_str().unwrap());
        let limits = Limits {
            max_window: v["max_window_size"].as_u64().unwrap() as u32,
            ..Limits::default()
        };
        for chunk in [stream.len(), 1] {
            let served = serve(limits, &stream, chunk);
            let err = served.error.unwrap_or_else(|| panic!("{v}: no error"));
            let class_ok = match expected {
                "lumberjack window size too large" => {
                    matches!(
                        err,
                        LumberjackError::WindowTooLarge {
                            count: 101,
                            max: 100
                        }
                    )
                }
                "lumberjack protocol error" => matches!(
                    err,
                    LumberjackError::UnsupportedVersion { .. }
                        | LumberjackError::UnknownFrameType { .. }
                ),
                other => panic!("unknown error class {other:?}"),
            };
            assert!(class_ok, "{}: got {err}", v["name"]);
            assert!(err.to_string().starts_with(expected), "{err}");
            assert!(served.events.is_empty() && served.acks.is_empty());
        }
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn v1_data_frames_plain_and_compressed() {
    let mut n = 0;
    for v in jsonl("lumberjack_v1_vectors.jsonl") {
        let file = v["client_to_server_file"].as_str().unwrap();
        let stream = read(file);
        assert_eq!(stream, unhex(v["client_to_server_hex"].as_str().unwrap()));
        let want_ack = unhex(v["server_to_client_hex"].as_str().unwrap());
        let want_events = v["expected_events"].as_array().unwrap();
        for chunk in [stream.len(), 1] {
            let served = serve(Limits::default(), &stream, chunk);
            assert!(served.error.is_none(), "{file}: {:?}", served.error);
            assert_eq!(served.acks, want_ack, "{file}");
            assert_eq!(served.events.len(), want_events.len());
            for (frame, want) in served.events.iter().zip(want_events) {
                let Frame::Data { pairs, .. } = frame else {
                    panic!("{frame:?}")
                };
                let got: serde_json::Map<String, Value> = pairs
                    .iter()
                    .map(|(k, val)| {
                        (
                            String::from_utf8(k.to_vec()).unwrap(),
                            Value::String(String::from_utf8(val.to_vec()).unwrap()),
                        )
                    })
                    .collect();
                assert_eq!(&Value::Object(got), want);
                let ev = data_pairs_to_event(pairs, &ParseContext::new(1, "lumberjack"));
                assert_eq!(ev.message, want["line"].as_str().unwrap());
                assert_eq!(ev.host.as_deref(), want["host"].as_str());
            }
        }
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn second_window_acks_the_last_seq_not_the_count() {
    // pylogbeat keeps numbering across sends: the second batch of one event is seq 3.
    let event = |seq: u32| {
        let json = br#"{"message":"hi"}"#;
        let mut v = b"2J".to_vec();
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&(json.len() as u32).to_be_bytes());
        v.extend_from_slice(json);
        v
    };
    let stream = [
        b"2W\0\0\0\x02".to_vec(),
        event(1),
        event(2),
        b"2W\0\0\0\x01".to_vec(),
        event(3),
        b"2W\0\0\0\0".to_vec(),
    ]
    .concat();
    let served = serve(Limits::default(), &stream, 5);
    assert!(served.error.is_none());
    assert_eq!(served.acks, [ack(2), ack(3), ack(0)].concat());
}
