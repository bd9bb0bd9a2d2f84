use std::io::Write;

use bytes::BytesMut;
use flate2::Compression as Level;
use flate2::write::{GzEncoder, ZlibEncoder};
use hark_event::{Facility, FieldValue, Severity};
use tokio_util::codec::Decoder;

use super::*;
use crate::ParseContext;

const NOW: i64 = 1_795_323_600_000_000_000;

fn ctx() -> ParseContext<'static> {
    let mut c = ParseContext::new(NOW, "gelf_udp");
    c.source = Some("192.0.2.7:41000");
    c
}

/// The chunks of `payload` cut into `n` pieces, for message `id`.
fn chunks(id: u8, payload: &[u8], n: usize) -> Vec<Vec<u8>> {
    let size = payload.len().div_ceil(n).max(1);
    let pieces: Vec<&[u8]> = payload.chunks(size).collect();
    assert_eq!(pieces.len(), n, "payload too short for {n} chunks");
    pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut d = vec![0x1e, 0x0f, id, 0, 0, 0, 0, 0, 0, 0xaa, i as u8, n as u8];
            d.extend_from_slice(p);
            d
        })
        .collect()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Level::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Level::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

const PAYLOAD: &[u8] = br#"{"version":"1.1","host":"example.org","short_message":"A short message that helps you identify what is going on","full_message":"Backtrace here\n\nmore stuff","timestamp":1385053862.3072,"level":1,"_user_id":9001,"_some_info":"foo","_some_env_var":"bar"}"#;

#[test]
fn whole_datagrams_pass_through() {
    let mut c = GelfChunker::new(5_000, 1 << 20);
    assert_eq!(c.push(1, PAYLOAD, 0).unwrap().as_deref(), Some(PAYLOAD));
    assert_eq!(c.pending(), 0);
}

#[test]
fn chunks_reassemble_in_order_and_out_of_order() {
    let parts = chunks(1, PAYLOAD, 5);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    for p in &parts[..4] {
        assert_eq!(c.push("a", p, 10).unwrap(), None);
    }
    assert_eq!(
        c.push("a", &parts[4], 10).unwrap().as_deref(),
        Some(PAYLOAD)
    );
    for order in [[4, 2, 0, 3, 1], [1, 0, 4, 3, 2]] {
        let mut out = None;
        for i in order {
            out = c.push("a", &parts[i], 20).unwrap();
        }
        assert_eq!(out.as_deref(), Some(PAYLOAD));
    }
    assert_eq!(c.pending(), 0);
    assert_eq!(c.held_bytes(), 0);
    assert_eq!(c.stats().completed, 3);
}

#[test]
fn single_chunk_message_comes_out_at_once() {
    let parts = chunks(1, PAYLOAD, 1);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    assert_eq!(c.push("a", &parts[0], 0).unwrap().as_deref(), Some(PAYLOAD));
    assert_eq!(c.pending(), 0);
}

#[test]
fn duplicates_are_ignored_and_counted() {
    let parts = chunks(1, PAYLOAD, 3);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    assert_eq!(c.push("a", &parts[0], 0).unwrap(), None);
    assert_eq!(c.push("a", &parts[0], 0).unwrap(), None);
    assert_eq!(c.push("a", &parts[2], 0).unwrap(), None);
    assert_eq!(c.push("a", &parts[2], 0).unwrap(), None);
    assert_eq!(c.push("a", &parts[1], 0).unwrap().as_deref(), Some(PAYLOAD));
    assert_eq!(c.stats().duplicates, 2);
}

#[test]
fn messages_are_kept_apart_by_sender_and_id() {
    let a = chunks(1, b"{\"short_message\":\"from a\"}", 2);
    let b = chunks(1, b"{\"short_message\":\"from b\"}", 2);
    let other_id = chunks(2, b"{\"short_message\":\"id two\"}", 2);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    assert_eq!(c.push("a", &a[0], 0).unwrap(), None);
    assert_eq!(c.push("b", &b[1], 0).unwrap(), None);
    assert_eq!(c.push("a", &other_id[0], 0).unwrap(), None);
    assert_eq!(c.pending(), 3);
    assert_eq!(
        c.push("a", &a[1], 0).unwrap().as_deref(),
        Some(&b"{\"short_message\":\"from a\"}"[..])
    );
    assert_eq!(
        c.push("b", &b[0], 0).unwrap().as_deref(),
        Some(&b"{\"short_message\":\"from b\"}"[..])
    );
    assert_eq!(c.pending(), 1);
}

#[test]
fn incomplete_messages_expire() {
    let one = chunks(1, PAYLOAD, 2);
    let two = chunks(2, PAYLOAD, 2);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    c.push("a", &one[0], 1_000).unwrap();
    c.push("a", &two[0], 3_000).unwrap();
    assert_eq!(c.expire(5_999), 0);
    assert_eq!(c.expire(6_000), 1);
    assert_eq!(c.pending(), 1);
    // The late second chunk of the expired message starts a new, incomplete one.
    assert_eq!(c.push("a", &one[1], 6_500).unwrap(), None);
    assert_eq!(
        c.push("a", &two[1], 7_000).unwrap().as_deref(),
        Some(PAYLOAD)
    );
    // A push also expires what is stale.
    assert_eq!(c.push("b", &two[0], 11_500).unwrap(), None);
    assert_eq!(c.pending(), 1);
    assert_eq!(c.stats().expired, 2);
    assert_eq!(c.held_bytes(), two[0].len() - 12);
}

#[test]
fn memory_bound_drops_the_oldest_incomplete_message() {
    let body = vec![b'x'; 1000];
    let mut c = GelfChunker::new(60_000, 2400);
    for id in 1..=4 {
        assert_eq!(
            c.push("a", &chunks(id, &body, 2)[0], u64::from(id))
                .unwrap(),
            None
        );
    }
    // Four halves of 500 bytes fit; the fifth goes over 2400.
    assert_eq!(c.stats().evicted, 0);
    assert_eq!(c.held_bytes(), 2000);
    assert_eq!(c.push("a", &chunks(5, &body, 2)[0], 5).unwrap(), None);
    assert_eq!(c.stats().evicted, 1);
    assert_eq!(c.held_bytes(), 2000);
    // Message 2 is still there, message 1 is gone: its second half starts anew.
    assert_eq!(
        c.push("a", &chunks(2, &body, 2)[1], 6).unwrap().as_deref(),
        Some(&body[..])
    );
    assert_eq!(c.push("a", &chunks(1, &body, 2)[1], 7).unwrap(), None);
    assert_eq!(c.pending(), 4);
    assert_eq!(c.stats().evicted, 1);
}

#[test]
fn a_message_larger_than_the_bound_is_dropped_alone() {
    let mut c = GelfChunker::new(60_000, 1000);
    c.push("a", &chunks(1, &[b'x'; 200], 2)[0], 0).unwrap();
    let big = chunks(2, &[b'y'; 4000], 2);
    assert_eq!(c.push("a", &big[0], 1).unwrap(), None);
    assert_eq!(c.pending(), 1);
    assert_eq!(c.held_bytes(), 100);
    assert_eq!(c.stats().evicted, 1);
}

#[test]
fn bad_chunk_headers_are_rejected() {
    let mut c = GelfChunker::new(5_000, 1 << 20);
    let mut too_many = chunks(1, PAYLOAD, 1).remove(0);
    too_many[11] = 129;
    assert!(matches!(
        c.push("a", &too_many, 0),
        Err(GelfError::TooManyChunks { count: 129 })
    ));
    too_many[11] = 128;
    too_many[10] = 127;
    assert_eq!(c.push("a", &too_many, 0).unwrap(), None);
    let mut beyond = too_many.clone();
    beyond[10] = 128;
    assert!(matches!(
        c.push("a", &beyond, 0),
        Err(GelfError::BadSequence {
            number: 128,
            count: 128
        })
    ));
    let mut zero = too_many.clone();
    zero[10] = 0;
    zero[11] = 0;
    assert!(matches!(
        c.push("a", &zero, 0),
        Err(GelfError::BadSequence { .. })
    ));
    assert!(matches!(
        c.push("a", &[0x1e, 0x0f, 1, 2, 3], 0),
        Err(GelfError::ChunkTooShort { len: 5 })
    ));
    let mut mismatch = too_many.clone();
    mismatch[10] = 3;
    mismatch[11] = 4;
    assert!(matches!(
        c.push("a", &mismatch, 0),
        Err(GelfError::CountMismatch {
            expected: 128,
            found: 4
        })
    ));
    assert_eq!(c.pending(), 1);
}

#[test]
fn compression_is_detected_and_undone() {
    assert_eq!(detect_compression(&zlib(PAYLOAD)), Compression::Zlib);
    assert_eq!(detect_compression(&gzip(PAYLOAD)), Compression::Gzip);
    assert_eq!(detect_compression(PAYLOAD), Compression::None);
    assert_eq!(detect_compression(b"x"), Compression::None);
    assert_eq!(decompress(&zlib(PAYLOAD), 4096).unwrap().as_ref(), PAYLOAD);
    assert_eq!(decompress(&gzip(PAYLOAD), 4096).unwrap().as_ref(), PAYLOAD);
    assert!(matches!(
        decompress(PAYLOAD, 4096).unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn chunked_compressed_payload_round_trips() {
    let compressed = zlib(PAYLOAD);
    let parts = chunks(9, &compressed, 3);
    let mut c = GelfChunker::new(5_000, 1 << 20);
    let mut out = None;
    for p in parts.iter().rev() {
        out = c.push("a", p, 0).unwrap();
    }
    let payload = out.unwrap();
    let json = decompress(&payload, 1 << 20).unwrap();
    let ev = gelf_to_event(&json, &ctx());
    assert_eq!(ev.host.as_deref(), Some("example.org"));
    assert!(ev.parse_error.is_none());
}

#[test]
fn decompression_is_bounded() {
    let bomb = zlib(&vec![b' '; 10 << 20]);
    assert!(bomb.len() < 20_000);
    assert!(matches!(
        decompress(&bomb, 1 << 20),
        Err(GelfError::TooLarge { limit }) if limit == 1 << 20
    ));
    assert!(matches!(
        decompress(&gzip(&vec![b' '; 100_000]), 99_999),
        Err(GelfError::TooLarge { .. })
    ));
    assert_eq!(decompress(&gzip(&[b' '; 1000]), 1000).unwrap().len(), 1000);
    assert!(matches!(
        decompress(PAYLOAD, 10),
        Err(GelfError::TooLarge { .. })
    ));
    let mut corrupt = zlib(PAYLOAD);
    corrupt[10] ^= 0xff;
    corrupt.truncate(20);
    assert!(matches!(
        decompress(&corrupt, 4096),
        Err(GelfError::Decompress { format: "zlib", .. })
    ));
}

#[test]
fn spec_example_maps_to_the_event() {
    let ev = gelf_to_event(PAYLOAD, &ctx());
    assert!(ev.parse_error.is_none());
    assert_eq!(ev.raw, None);
    assert_eq!(ev.host.as_deref(), Some("example.org"));
    assert_eq!(
        ev.message,
        "A short message that helps you identify what is going on"
    );
    assert_eq!(
        ev.field("full_message"),
        Some(&FieldValue::Str("Backtrace here\n\nmore stuff".into()))
    );
    assert_eq!(ev.timestamp, 1_385_053_862_307_200_000);
    assert_eq!(ev.received_at, NOW);
    assert_eq!(ev.severity, Some(Severity::Alert));
    assert_eq!(ev.field("user_id"), Some(&FieldValue::Int(9001)));
    assert_eq!(ev.field("some_info"), Some(&FieldValue::Str("foo".into())));
    assert_eq!(
        ev.field("some_env_var"),
        Some(&FieldValue::Str("bar".into()))
    );
    assert_eq!(ev.field("version"), None);
    assert_eq!(ev.source.as_deref(), Some("192.0.2.7:41000"));
    assert_eq!(ev.input, "gelf_udp");
    assert_eq!(ev.app, None);
}

#[test]
fn app_comes_from_app_then_application_name_then_facility() {
    let ev = gelf_to_event(
        br#"{"short_message":"m","facility":"gelf-rb","_application_name":"billing","_app":"api"}"#,
        &ctx(),
    );
    assert_eq!(ev.app.as_deref(), Some("api"));
    assert_eq!(
        ev.field("application_name"),
        Some(&FieldValue::Str("billing".into()))
    );
    assert_eq!(
        ev.field("facility"),
        Some(&FieldValue::Str("gelf-rb".into()))
    );
    assert_eq!(ev.field("app"), None);
    let ev = gelf_to_event(br#"{"short_message":"m","facility":"gelf-rb"}"#, &ctx());
    assert_eq!(ev.app.as_deref(), Some("gelf-rb"));
    assert!(ev.fields.is_empty());
    let ev = gelf_to_event(br#"{"short_message":"m","facility":20,"_app":7}"#, &ctx());
    assert_eq!(ev.facility, Some(Facility::Local4));
    assert_eq!(ev.app, None);
    assert_eq!(ev.field("app"), Some(&FieldValue::Int(7)));
}

#[test]
fn additional_fields_keep_their_types_and_id_is_dropped() {
    let ev = gelf_to_event(
        br#"{"short_message":"m","_id":"x","_n":-3,"_f":2.5,"_b":true,"_o":{"k":[1]},"_nil":null,"_":"empty","line":42,"file":"a.rb"}"#,
        &ctx(),
    );
    assert_eq!(ev.field("id"), None);
    assert_eq!(ev.field("n"), Some(&FieldValue::Int(-3)));
    assert_eq!(ev.field("f"), Some(&FieldValue::Float(2.5)));
    assert_eq!(ev.field("b"), Some(&FieldValue::Bool(true)));
    assert_eq!(ev.field("o"), Some(&FieldValue::Str("{\"k\":[1]}".into())));
    assert_eq!(ev.field("nil"), None);
    assert_eq!(ev.field("line"), Some(&FieldValue::Int(42)));
    assert_eq!(ev.field("file"), Some(&FieldValue::Str("a.rb".into())));
    assert_eq!(ev.fields.len(), 6);
}

#[test]
fn level_and_timestamp_variants() {
    let ev = gelf_to_event(
        br#"{"short_message":"m","level":"warning","timestamp":"1700000000.5"}"#,
        &ctx(),
    );
    assert_eq!(ev.severity, Some(Severity::Warning));
    assert_eq!(ev.timestamp, 1_700_000_000_500_000_000);
    let ev = gelf_to_event(
        br#"{"short_message":"m","level":9,"timestamp":"2026-11-22T04:51:20.25Z"}"#,
        &ctx(),
    );
    assert_eq!(ev.severity, None);
    assert_eq!(ev.field("level"), Some(&FieldValue::Int(9)));
    assert_eq!(ev.timestamp, 1_795_323_080_250_000_000);
    let ev = gelf_to_event(br#"{"short_message":"m","timestamp":"soon"}"#, &ctx());
    assert_eq!(ev.timestamp, NOW);
    assert_eq!(ev.field("timestamp"), Some(&FieldValue::Str("soon".into())));
    let ev = gelf_to_event(br#"{"short_message":"m","timestamp":1700000000}"#, &ctx());
    assert_eq!(ev.timestamp, 1_700_000_000_000_000_000);
}

#[test]
fn invalid_json_is_stored_whole() {
    for bad in [
        &b"not json"[..],
        b"[1,2]",
        b"{\"short_message\":",
        b"\xff\xfe{}",
    ] {
        let ev = gelf_to_event(bad, &ctx());
        assert!(ev.parse_error.is_some(), "{bad:?}");
        assert_eq!(ev.raw.as_deref(), Some(bad));
        assert_eq!(ev.message, String::from_utf8_lossy(bad));
        assert_eq!(ev.timestamp, NOW);
    }
}

#[test]
fn missing_short_message_keeps_the_json_as_message() {
    let json = br#"{"host":"h","message":"wrong key","level":3}"#;
    let ev = gelf_to_event(json, &ctx());
    assert_eq!(
        ev.parse_error.as_deref(),
        Some("GELF: missing short_message")
    );
    assert_eq!(ev.message, String::from_utf8_lossy(json));
    assert_eq!(ev.raw.as_deref(), Some(&json[..]));
    assert_eq!(ev.host.as_deref(), Some("h"));
    assert_eq!(ev.severity, Some(Severity::Err));
    let ev = gelf_to_event(br#"{"short_message":null}"#, &ctx());
    assert!(ev.parse_error.is_some());
    let ev = gelf_to_event(br#"{"short_message":""}"#, &ctx());
    assert!(ev.parse_error.is_none());
}

/// Runs the whole input through a TCP framer, with end of stream at the end.
fn tcp_frames(max: usize, input: &[u8]) -> Vec<(Vec<u8>, bool)> {
    let mut f = GelfFramer::new(max);
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(fr) = f.decode_eof(&mut buf).unwrap() {
        out.push((fr.bytes.to_vec(), fr.truncated));
    }
    out
}

#[test]
fn tcp_frames_end_at_nul() {
    assert_eq!(
        tcp_frames(100, b"{\"a\":1}\0\n{\"b\":2}\0\0{\"c\":3}"),
        vec![
            (b"{\"a\":1}".to_vec(), false),
            (b"\n{\"b\":2}".to_vec(), false),
            (b"{\"c\":3}".to_vec(), false),
        ]
    );
    assert!(tcp_frames(100, b"\0\r\n\0 ").is_empty());
}

#[test]
fn tcp_oversize_frame_is_cut_and_the_rest_skipped() {
    assert_eq!(
        tcp_frames(4, b"abcdefgh\0xy\0abcd\0"),
        vec![
            (b"abcd".to_vec(), true),
            (b"xy".to_vec(), false),
            (b"abcd".to_vec(), false)
        ]
    );
    let mut f = GelfFramer::new(8);
    let mut buf = BytesMut::new();
    let mut n = 0;
    for _ in 0..1000 {
        buf.extend_from_slice(&[b'x'; 64]);
        while let Some(fr) = f.decode(&mut buf).unwrap() {
            assert!(fr.truncated);
            n += 1;
        }
        assert!(buf.len() <= 8);
    }
    assert_eq!(n, 1);
}

#[test]
fn tcp_frames_arrive_byte_by_byte() {
    let stream = b"{\"short_message\":\"one\"}\0{\"short_message\":\"two\"}\0";
    let mut f = GelfFramer::new(1024);
    let mut buf = BytesMut::new();
    let mut msgs = Vec::new();
    for b in stream {
        buf.extend_from_slice(&[*b]);
        while let Some(fr) = f.decode(&mut buf).unwrap() {
            msgs.push(gelf_to_event(&fr.bytes, &ctx()).message);
        }
    }
    assert_eq!(msgs, ["one", "two"]);
}
