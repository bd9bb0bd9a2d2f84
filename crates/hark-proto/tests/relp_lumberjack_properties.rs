//! Property tests for the RELP and Lumberjack codecs: no input makes them
//! panic, a stream cut anywhere decodes the same as whole, encoded frames
//! decode back, and RELP replies always leave in receive order.

use std::io::Write;

use bytes::{Bytes, BytesMut};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use hark_proto::ParseContext;
use hark_proto::lumberjack::{
    BeatsBatch, Frame, Limits, LumberjackDecoder, beats_event_to_event, data_pairs_to_event,
};
use hark_proto::relp::{Command, RelpCodec, RelpFrame, RelpSession, ReplyQueue, ok_reply};
use hark_testkit::decode::{cut, feed_text};
use proptest::prelude::*;
use tokio_util::codec::Decoder;

/// Feeds `stream` to `decoder` cut at `cuts`, then ends it; stops at the
/// first error. `check` runs on the buffer after every chunk.
fn run<D: Decoder>(
    mut decoder: D,
    stream: &[u8],
    cuts: &[usize],
    check: impl Fn(&BytesMut),
) -> Vec<Result<D::Item, String>>
where
    D::Error: std::fmt::Display,
{
    feed_text(&mut decoder, cut(stream, cuts), check)
}

/// RELP-shaped fragments, so that generated streams get past the header.
fn relpish() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"1 open 30 relp_version=0\ncommands=syslog\n".to_vec()),
        Just(b"2 syslog 5 <13>a\n".to_vec()),
        Just(b"3 close 0\n".to_vec()),
        Just(b"0 serverclose 0\n".to_vec()),
        Just(b"1 ".to_vec()),
        Just(b"syslog ".to_vec()),
        Just(b"12 ".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\n".to_vec()),
        "[0-9]{1,10}".prop_map(String::into_bytes),
        "[a-z]{1,6}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 1..6),
    ];
    proptest::collection::vec(fragment, 0..12).prop_map(|v| v.concat())
}

fn relp_frame() -> impl Strategy<Value = RelpFrame> {
    (
        0u32..=999_999_999,
        prop_oneof![
            Just(Command::Open),
            Just(Command::Syslog),
            Just(Command::Close),
            Just(Command::Rsp),
            Just(Command::ServerClose),
            "[a-zA-Z]{1,32}".prop_map(|s| Command::from_name(&s)),
        ],
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(txnr, command, data)| RelpFrame::new(txnr, command, data))
}

fn zlib(plain: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(plain).unwrap_or_default();
    enc.finish().unwrap_or_default()
}

fn be(n: usize) -> Vec<u8> {
    (n as u32).to_be_bytes().to_vec()
}

/// Lumberjack-shaped frames (some well-formed, some not), possibly compressed.
fn lumberjackish() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        (0u32..5).prop_map(|n| [b"2W".to_vec(), n.to_be_bytes().to_vec()].concat()),
        (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(seq, p)| [
            b"2J".to_vec(),
            seq.to_be_bytes().to_vec(),
            be(p.len()),
            p
        ]
        .concat()),
        (any::<u32>(), "[a-z]{0,4}", "[a-z ]{0,8}").prop_map(|(seq, k, v)| [
            b"1D".to_vec(),
            seq.to_be_bytes().to_vec(),
            be(1),
            be(k.len()),
            k.into_bytes(),
            be(v.len()),
            v.into_bytes()
        ]
        .concat()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    let frames = proptest::collection::vec(leaf, 0..6).prop_map(|v| v.concat());
    prop_oneof![
        frames.clone(),
        frames.clone().prop_map(|p| {
            let z = zlib(&p);
            [b"2C".to_vec(), be(z.len()), z].concat()
        }),
        (frames, any::<u8>()).prop_map(|(p, flip)| {
            // A compressed frame with one byte of its zlib stream damaged.
            let mut z = zlib(&p);
            let i = usize::from(flip) % z.len().max(1);
            if let Some(b) = z.get_mut(i) {
                *b ^= 0x5a;
            }
            [b"2C".to_vec(), be(z.len()), z].concat()
        }),
    ]
}

const SMALL: Limits = Limits {
    max_window: 100,
    max_frame: 256,
    max_inflated: 1024,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn relp_never_panics_and_stays_bounded(
        stream in prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), relpish()],
        max in 0usize..64,
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        // Header at most 9 + 1 + 32 + 1 + 9 + 1 bytes, then the data and its LF.
        let out = run(RelpCodec::new(max), &stream, &cuts, |buf| assert!(buf.len() <= 53 + max + 1));
        let mut session = RelpSession::new();
        for frame in out.iter().flatten() {
            prop_assert!(frame.data.len() <= max);
            let _ = session.on_frame(frame.clone());
        }
        prop_assert_eq!(out, run(RelpCodec::new(max), &stream, &[], |_| ()));
    }

    #[test]
    fn relp_frames_round_trip(frames in proptest::collection::vec(relp_frame(), 0..8), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
        let mut wire = BytesMut::new();
        for f in &frames {
            f.encode_into(&mut wire);
        }
        let got = run(RelpCodec::new(64), &wire, &cuts, |_| ());
        let want: Vec<Result<RelpFrame, String>> = frames.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn relp_replies_leave_in_receive_order(order in Just((1u32..=20).collect::<Vec<u32>>()).prop_shuffle()) {
        let mut q = ReplyQueue::new();
        for t in 1..=20 {
            q.push_pending(t);
        }
        let mut out = Vec::new();
        for t in order {
            prop_assert!(q.mark_durable(t));
            if let Some(b) = q.take_ready() {
                out.extend_from_slice(&b);
            }
        }
        let want: Vec<u8> = (1..=20).flat_map(|t| ok_reply(t).to_vec()).collect();
        prop_assert_eq!(out, want);
        prop_assert!(q.is_empty());
    }

    #[test]
    fn lumberjack_never_panics_and_splits_do_not_matter(
        stream in prop_oneof![proptest::collection::vec(any::<u8>(), 0..300), lumberjackish()],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let out = run(LumberjackDecoder::new(SMALL), &stream, &cuts, |_| ());
        let ctx = ParseContext::new(0, "p");
        let mut batch = BeatsBatch::new();
        for frame in out.iter().flatten() {
            let _ = batch.on_frame(frame);
            match frame {
                Frame::Json { payload, .. } => {
                    prop_assert!(payload.len() <= SMALL.max_frame);
                    let ev = beats_event_to_event(payload, &ctx);
                    if ev.parse_error.is_some() {
                        prop_assert_eq!(ev.raw.as_deref(), Some(&payload[..]));
                    }
                }
                Frame::Data { pairs, .. } => {
                    let _ = data_pairs_to_event(pairs, &ctx);
                }
                Frame::Window { count, .. } => prop_assert!(*count <= SMALL.max_window),
            }
        }
        let whole = run(LumberjackDecoder::new(SMALL), &stream, &[], |_| ());
        prop_assert_eq!(out, whole);
    }

    #[test]
    fn beats_events_never_panic(json in prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\{(\"[@a-z.]{1,8}\":(\"[a-zA-Z0-9 ]{0,8}\"|[0-9]{1,4}|\\{\\}|\\[1\\]|null|true),?){0,6}\\}".prop_map(String::into_bytes),
    ]) {
        let ev = beats_event_to_event(&json, &ParseContext::new(0, "p"));
        prop_assert!(ev.message.len() <= hark_proto::lumberjack::MAX_MESSAGE);
    }
}

#[test]
fn compressed_frames_of_every_kind_decode_back() {
    let frames = vec![
        Frame::Window {
            version: hark_proto::lumberjack::Version::V2,
            count: 2,
        },
        Frame::Json {
            seq: 1,
            payload: Bytes::from_static(b"{\"a\":1}"),
        },
        Frame::Data {
            seq: 2,
            pairs: vec![(Bytes::from_static(b"line"), Bytes::from_static(b"x"))],
        },
    ];
    let plain = [
        b"2W\0\0\0\x02".to_vec(),
        [b"2J\0\0\0\x01".to_vec(), be(7), b"{\"a\":1}".to_vec()].concat(),
        [
            b"2D\0\0\0\x02".to_vec(),
            be(1),
            be(4),
            b"line".to_vec(),
            be(1),
            b"x".to_vec(),
        ]
        .concat(),
    ]
    .concat();
    let z = zlib(&plain);
    let wire = [b"2C".to_vec(), be(z.len()), z].concat();
    let got: Vec<Frame> = run(LumberjackDecoder::default(), &wire, &[3, 9], |_| ())
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got, frames);
}
