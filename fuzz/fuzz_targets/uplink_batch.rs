//! The uplink's batch decoder on arbitrary bytes, as the center reads a
//! forwarder's request body: no panic, whether the bytes arrive as they
//! are or zstd-compressed (so the fuzzer reaches the decoder behind the
//! decompression); whatever decodes encodes again to the same batch.

#![no_main]

use hark_uplink::wire::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    let Ok(body) = zstd::bulk::compress(data, 1) else {
        return;
    };
    let Ok(batch) = decode(&body) else {
        return;
    };
    let again = encode(batch.first_seq, &batch.events, 1).expect("a decoded batch encodes");
    let back = decode(&again).expect("an encoded batch decodes");
    assert_eq!(back.first_seq, batch.first_seq);
    assert_eq!(back.events, batch.events);
});
