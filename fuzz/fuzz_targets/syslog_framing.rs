//! `SyslogFramer` on arbitrary bytes fed in two pieces, split where the
//! fuzzer says: must not panic, must hand out the same frames as when fed
//! in one piece, and must never hand out a frame over its maximum.

#![no_main]

use bytes::BytesMut;
use hark_proto::{Frame, SyslogFramer};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fn run(max: usize, chunks: &[&[u8]]) -> Vec<Result<Frame, String>> {
    let mut framer = SyslogFramer::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match framer.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
        assert!(buf.len() <= max + 12);
    }
    loop {
        match framer.decode_eof(&mut buf) {
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
    // First byte: the frame limit; second: where to split the rest.
    let [max, split, stream @ ..] = data else {
        return;
    };
    let max = usize::from(*max) + 1;
    let split = usize::from(*split) % (stream.len() + 1);
    let (a, b) = stream.split_at(split);
    let pieces = run(max, &[a, b]);
    for f in pieces.iter().flatten() {
        assert!(!f.bytes.is_empty() && f.bytes.len() <= max);
    }
    assert_eq!(pieces, run(max, &[stream]));
});
