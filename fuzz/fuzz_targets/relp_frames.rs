//! `RelpCodec` and `RelpSession` on arbitrary bytes fed in two pieces,
//! split where the fuzzer says: must not panic, must decode the same frames
//! as when fed in one piece, must never hand out DATA over its maximum or
//! hold more than one frame's worth of bytes, and every reply the session
//! produces must be one well-formed `rsp` frame or hint.

#![no_main]

use bytes::BytesMut;
use hark_proto::relp::{Action, RelpCodec, RelpFrame, RelpSession, ReplyQueue};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

/// The longest header: 9-digit TXNR, 32-byte command, 9-digit DATALEN and their spaces.
const MAX_HEADER: usize = 9 + 1 + 32 + 1 + 9 + 1;

fn run(max: usize, chunks: &[&[u8]]) -> Vec<Result<RelpFrame, String>> {
    let mut codec = RelpCodec::new(max);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
        assert!(buf.len() <= MAX_HEADER + max);
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => out.push(Ok(f)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e.to_string()));
                return out;
            }
        }
    }
}

/// Every reply decodes back into complete frames.
fn check_replies(bytes: &[u8]) {
    let mut codec = RelpCodec::new(usize::MAX);
    let mut buf = BytesMut::from(bytes);
    while let Some(frame) = codec.decode_eof(&mut buf).expect("reply is a valid frame") {
        assert!(matches!(frame.command.as_str(), "rsp" | "serverclose"));
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte: the DATALEN limit; second: where to split the rest.
    let [max, split, stream @ ..] = data else {
        return;
    };
    let max = usize::from(*max);
    let split = usize::from(*split) % (stream.len() + 1);
    let (a, b) = stream.split_at(split);
    let frames = run(max, &[a, b]);
    assert_eq!(frames, run(max, &[stream]));

    let mut session = RelpSession::new();
    let mut replies = ReplyQueue::new();
    for frame in frames.into_iter().flatten() {
        assert!(frame.data.len() <= max);
        match session.on_frame(frame) {
            Action::Reply(r) | Action::CloseAfter(r) => {
                check_replies(&r);
                replies.push_reply(r);
            }
            Action::Deliver { txnr, message } => {
                assert!(message.len() <= max);
                replies.push_pending(txnr);
                assert!(replies.mark_durable(txnr));
            }
            Action::ProtocolError(_) | Action::Ignore => {}
        }
    }
    if let Some(out) = replies.take_ready() {
        check_replies(&out);
    }
    assert!(replies.is_empty());
});
