//! GELF on arbitrary bytes. UDP mode: the input is a series of datagrams
//! (each a length byte, a sender byte, a clock step byte and the bytes),
//! pushed through `GelfChunker`, then `decompress` and `gelf_to_event`:
//! no panic, the memory bound holds, unparsed JSON is kept in `raw`.
//! TCP mode: the input is a stream for `GelfFramer`, split where the
//! fuzzer says: no panic, same frames as unsplit, no frame over the limit.

#![no_main]

use bytes::BytesMut;
use hark_proto::ParseContext;
use hark_proto::framing::Frame;
use hark_proto::gelf::{GelfChunker, GelfFramer, decompress, gelf_to_event};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

const MAX_HELD: usize = 2048;
const MAX_PLAIN: usize = 16 * 1024;

fn ctx() -> ParseContext<'static> {
    ParseContext::new(1_795_323_600_000_000_000, "fuzz")
}

fn to_event(payload: &[u8]) {
    if let Ok(json) = decompress(payload, MAX_PLAIN) {
        assert!(json.len() <= MAX_PLAIN);
        let ev = gelf_to_event(&json, &ctx());
        if ev.parse_error.is_some() {
            assert_eq!(ev.raw.as_deref(), Some(&json[..]));
        }
    }
}

fn udp(mut data: &[u8]) {
    let mut chunker = GelfChunker::new(1_000, MAX_HELD);
    let mut now = 0u64;
    while let [len, sender, step, rest @ ..] = data {
        let len = usize::from(*len).min(rest.len());
        let (datagram, next) = rest.split_at(len);
        now += u64::from(*step) * 10;
        if let Ok(Some(payload)) = chunker.push(*sender % 4, datagram, now) {
            to_event(&payload);
        }
        assert!(chunker.held_bytes() <= MAX_HELD);
        data = next;
    }
    chunker.expire(u64::MAX);
    assert_eq!(chunker.held_bytes(), 0);
}

fn tcp(max: usize, pieces: &[&[u8]]) -> Vec<Frame> {
    let mut framer = GelfFramer::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for p in pieces {
        buf.extend_from_slice(p);
        while let Ok(Some(f)) = framer.decode(&mut buf) {
            out.push(f);
        }
        assert!(buf.len() <= max);
    }
    while let Ok(Some(f)) = framer.decode_eof(&mut buf) {
        out.push(f);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    if mode & 1 == 0 {
        udp(rest);
        return;
    }
    let [max, split, stream @ ..] = rest else {
        return;
    };
    let max = usize::from(*max) + 1;
    let (a, b) = stream.split_at(usize::from(*split) % (stream.len() + 1));
    let frames = tcp(max, &[a, b]);
    for f in &frames {
        assert!(!f.bytes.is_empty() && f.bytes.len() <= max && !f.bytes.contains(&0));
        let ev = gelf_to_event(&f.bytes, &ctx());
        if ev.parse_error.is_some() {
            assert_eq!(ev.raw.as_deref(), Some(&f.bytes[..]));
        }
    }
    assert_eq!(frames, tcp(max, &[stream]));
});
