//! RELP, the Reliable Event Logging Protocol of rsyslog (librelp), both sides.
//!
//! * [`RelpCodec`]: frames `TXNR SP COMMAND SP DATALEN [SP DATA] LF` in and
//!   out, bounded by a maximum DATALEN (librelp's 128 KiB by default).
//! * [`RelpSession`]: the open/offers exchange, message delivery and close,
//!   as a state machine that turns each [`RelpFrame`] into an [`Action`].
//! * [`ReplyQueue`]: replies in receive order, each `200 OK` held back until
//!   its message is durable.
//! * [`RelpClient`]: the client side: `open`, numbered `syslog` frames
//!   within a window of unanswered transactions, `rsp` parsing, `close`.
//!
//! A listener drives them like this (no sockets here):
//!
//! ```
//! use bytes::BytesMut;
//! use hark_proto::relp::{Action, RelpCodec, RelpSession, ReplyQueue};
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = RelpCodec::default();
//! let mut session = RelpSession::new();
//! let mut replies = ReplyQueue::new();
//! let mut input = BytesMut::from(
//!     &b"1 open 30 relp_version=0\ncommands=syslog\n2 syslog 10 <13>hello\n\n3 close 0\n"[..],
//! );
//! let mut delivered = Vec::new();
//! let mut close = false;
//! while let Some(frame) = codec.decode(&mut input).unwrap() {
//!     match session.on_frame(frame) {
//!         Action::Reply(bytes) => replies.push_reply(bytes),
//!         Action::Deliver { txnr, message } => {
//!             delivered.push(message);
//!             replies.push_pending(txnr);
//!         }
//!         Action::CloseAfter(bytes) => {
//!             replies.push_reply(bytes);
//!             close = true;
//!         }
//!         Action::ProtocolError(e) => panic!("{e}"),
//!         Action::Ignore => {}
//!     }
//! }
//! // ... the pipeline reports the message durable:
//! replies.mark_durable(2);
//! let out = replies.take_ready().unwrap();
//! assert!(out.ends_with(b"2 rsp 6 200 OK\n3 rsp 0\n0 serverclose 0\n"));
//! assert_eq!(&delivered[0][..], b"<13>hello");
//! assert!(close && replies.is_empty());
//! ```

mod client;
mod codec;
mod offers;
mod reply_queue;
mod session;

pub use client::{ClientError, ClientEvent, DEFAULT_WINDOW, RelpClient, Rsp};
pub use codec::{Command, DEFAULT_MAX_DATA, RelpCodec, RelpError, RelpFrame};
pub use reply_queue::ReplyQueue;
pub use session::{
    Action, RelpSession, SOFTWARE, SessionError, error_reply, ok_reply, rsp, serverclose,
};
