//! The client sides on arbitrary server bytes: `RelpClient` (opened, with
//! a window of messages in flight) fed the `rsp` frames `RelpCodec` finds,
//! and `BeatsClient` fed the acks `AckDecoder` finds. Must not panic; the
//! RELP client never holds more messages than its window nor acknowledges
//! one it did not send, and the Beats client completes a window only with
//! the ack of its last event.

#![no_main]

use bytes::BytesMut;
use hark_proto::lumberjack::{AckDecoder, AckProgress, BeatsClient};
use hark_proto::relp::{ClientEvent, RelpClient, RelpCodec};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

const WINDOW: usize = 4;

fuzz_target!(|data: &[u8]| {
    // RELP: the reply to `open` comes from the fuzzer too.
    let mut client = RelpClient::new("fuzz", WINDOW);
    let mut out = BytesMut::new();
    let _ = client.open(&mut out);
    let mut sent = Vec::new();
    let mut codec = RelpCodec::default();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        match client.on_frame(frame) {
            Ok(ClientEvent::Acked { txnr }) => assert!(sent.contains(&txnr)),
            Ok(_) => {}
            Err(_) => break,
        }
        while client.can_send() {
            sent.push(client.send(b"<13>m", &mut out).unwrap());
        }
        assert!(client.in_flight().count() <= WINDOW);
    }

    // Beats: a window of three events, acks from the fuzzer.
    let mut beats = BeatsClient::new(None);
    beats.write_window(&[b"{}"; 3], &mut out).unwrap();
    let mut buf = BytesMut::from(data);
    while let Ok(Some(ack)) = AckDecoder.decode(&mut buf) {
        match beats.on_ack(ack) {
            Ok(AckProgress::Complete) => assert_eq!(ack.seq, 3),
            Ok(AckProgress::Partial { seq }) => assert!(seq < 3),
            Err(_) => break,
        }
    }
});
