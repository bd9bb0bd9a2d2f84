//! `LumberjackDecoder`, `BeatsBatch` and the event mapping on arbitrary
//! bytes fed in two pieces, split where the fuzzer says: must not panic,
//! must decode the same frames as when fed in one piece, must respect its
//! limits, and must keep the bytes of any event that does not parse.

#![no_main]

use bytes::BytesMut;
use hark_proto::ParseContext;
use hark_proto::lumberjack::{
    BeatsBatch, Frame, Limits, LumberjackDecoder, beats_event_to_event, data_pairs_to_event,
};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

/// Small limits, so that the fuzzer reaches them.
const LIMITS: Limits = Limits {
    max_window: 1000,
    max_frame: 4096,
    max_inflated: 16 * 1024,
};

fn run(chunks: &[&[u8]]) -> Vec<Result<Frame, String>> {
    let mut decoder = LumberjackDecoder::new(LIMITS);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(f)) => out.push(Ok(f)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e.to_string()));
                return out;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte: where to split the rest.
    let [split, stream @ ..] = data else {
        return;
    };
    let split = usize::from(*split) % (stream.len() + 1);
    let (a, b) = stream.split_at(split);
    let frames = run(&[a, b]);
    assert_eq!(frames, run(&[stream]));

    let ctx = ParseContext::new(1_795_323_600_000_000_000, "fuzz");
    let mut batch = BeatsBatch::new();
    for frame in frames.iter().flatten() {
        let _ = batch.on_frame(frame);
        match frame {
            Frame::Window { count, .. } => assert!(*count <= LIMITS.max_window),
            Frame::Json { payload, .. } => {
                assert!(payload.len() <= LIMITS.max_frame);
                let ev = beats_event_to_event(payload, &ctx);
                if ev.parse_error.is_some() {
                    assert_eq!(ev.raw.as_deref(), Some(&payload[..]));
                }
            }
            Frame::Data { pairs, .. } => {
                let _ = data_pairs_to_event(pairs, &ctx);
            }
        }
    }
});
