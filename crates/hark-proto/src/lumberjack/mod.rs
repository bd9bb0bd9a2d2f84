//! Lumberjack v2, the protocol of Elastic Beats (Filebeat, Winlogbeat…),
//! and its v1 ancestor: the server side, and a v2 sender.
//!
//! * [`LumberjackDecoder`]: client frames in, compressed frames inflated
//!   (zlib, bounded) and flattened into [`Frame`]s.
//! * [`BeatsBatch`]: counts the events of each window and says which
//!   sequence number to acknowledge; [`ack`] encodes the `2A` frame.
//! * [`beats_event_to_event`] and [`data_pairs_to_event`]: events as Hark
//!   [`Event`](hark_event::Event)s.
//! * [`BeatsClient`] and [`AckDecoder`]: the sender's side, windows of JSON
//!   frames (zlib-compressed if asked) and the acks that come back.
//!
//! The listener acknowledges a window only once all its events are durable,
//! and acknowledges windows in the order they arrived.
//!
//! ```
//! use bytes::BytesMut;
//! use hark_proto::ParseContext;
//! use hark_proto::lumberjack::{BatchStep, BeatsBatch, Frame, LumberjackDecoder, beats_event_to_event};
//! use tokio_util::codec::Decoder;
//!
//! let json = br#"{"message":"hello"}"#;
//! let mut wire = b"2W\0\0\0\x012J\0\0\0\x01".to_vec();
//! wire.extend_from_slice(&(json.len() as u32).to_be_bytes());
//! wire.extend_from_slice(json);
//!
//! let mut decoder = LumberjackDecoder::default();
//! let mut batch = BeatsBatch::new();
//! let mut buf = BytesMut::from(&wire[..]);
//! let ctx = ParseContext::new(0, "beats");
//! let mut events = Vec::new();
//! let mut ack = None;
//! while let Some(frame) = decoder.decode(&mut buf).unwrap() {
//!     match batch.on_frame(&frame).unwrap() {
//!         BatchStep::Complete { ack: a, .. } => ack = Some(a),
//!         BatchStep::EmptyWindow { ack: a } => ack = Some(a),
//!         _ => {}
//!     }
//!     if let Frame::Json { payload, .. } = &frame {
//!         events.push(beats_event_to_event(payload, &ctx));
//!     }
//! }
//! assert_eq!(events[0].message, "hello");
//! // ... once the events are durable:
//! assert_eq!(ack, Some(*b"2A\0\0\0\x01"));
//! ```

mod batch;
mod client;
mod codec;
mod event;

pub use batch::{BatchError, BatchStep, BeatsBatch};
pub use client::{
    Ack, AckDecoder, AckProgress, BeatsClient, ClientError, write_compressed, write_json,
    write_window,
};
pub use codec::{Frame, Limits, LumberjackDecoder, LumberjackError, Version, ack, ack_for};
pub use event::{MAX_MESSAGE, beats_event_to_event, data_pairs_to_event};

#[cfg(test)]
mod tests;
