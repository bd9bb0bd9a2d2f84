//! The GELF sender's chunking: a payload and a datagram size from the
//! fuzzer, cut by `datagrams`, reassembled by `GelfChunker` in reverse
//! order. Must not panic; no datagram over the size; the payload comes
//! back whole whenever it was chunked.

#![no_main]

use hark_proto::gelf::{GelfChunker, datagrams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, [u8; 8], Vec<u8>)| {
    let (size, id, payload) = input;
    let size = usize::from(size);
    let Ok(parts) = datagrams(&payload, size, id) else {
        return;
    };
    assert!(parts.iter().all(|d| d.len() <= size));
    if parts.len() < 2 {
        return;
    }
    let mut chunker = GelfChunker::new(5_000, 1 << 24);
    let mut whole = None;
    for d in parts.iter().rev() {
        if let Some(p) = chunker.push((), d, 0).unwrap() {
            whole = Some(p);
        }
    }
    assert_eq!(whole, Some(payload));
});
