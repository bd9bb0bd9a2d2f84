//! Hark's wire codecs and parsers: pure code, no sockets, no clocks, no
//! global state, so every piece can be tested and fuzzed on bytes alone.
//!
//! * [`framing`]: RFC 6587 framing of syslog over TCP/TLS ([`SyslogFramer`],
//!   octet counting or LF/NUL-delimited, detected per frame and bounded),
//!   and [`split_datagram`] for UDP.
//! * [`syslog`]: [`parse_syslog`], one lenient parser for RFC 5424 and
//!   RFC 3164 with the variants real senders produce, into a
//!   [`hark_event::Event`].
//! * [`relp`]: RELP frames, the server side of a session as a state
//!   machine, and replies kept in receive order until messages are durable.
//! * [`lumberjack`]: Beats (Lumberjack v2, and v1) frames with bounded zlib
//!   inflation, window/ack bookkeeping, and Beats JSON into events.
//! * [`gelf`]: GELF over UDP (chunked, compressed) and TCP into events.
//! * [`snmp`]: SNMP v1/v2c in BER: traps and informs, GET requests and
//!   responses.
//!
//! Each protocol also has its sending side beside its decoder, sans-IO as
//! well: the [`syslog`] header writers and [`StreamFraming`], the RELP
//! [`RelpClient`](relp::RelpClient), the Beats
//! [`BeatsClient`](lumberjack::BeatsClient), GELF
//! [`datagrams`](gelf::datagrams) and SNMP [`Message`](snmp::Message).
//!
//! A syslog listener chains [`framing`] and [`syslog`]:
//!
//! ```
//! use bytes::BytesMut;
//! use hark_proto::{ParseContext, SyslogFramer, parse_syslog};
//! use tokio_util::codec::Decoder;
//!
//! let mut framer = SyslogFramer::new(64 * 1024);
//! let mut buf = BytesMut::from(&b"<13>1 2026-11-22T04:51:20Z vm app - - - hello\n"[..]);
//! let ctx = ParseContext::new(1_763_790_000_000_000_000, "syslog_tcp");
//! while let Some(frame) = framer.decode(&mut buf).unwrap() {
//!     let mut event = parse_syslog(&frame.bytes, &ctx);
//!     event.truncated = frame.truncated;
//!     assert_eq!(event.app.as_deref(), Some("app"));
//!     assert_eq!(event.message, "hello");
//! }
//! ```

pub mod framing;
pub mod gelf;
pub mod lumberjack;
pub mod relp;
pub mod snmp;
pub mod syslog;

pub use framing::{
    Frame, FramingError, StreamFraming, SyslogFramer, split_datagram, write_octet_counted,
};
pub use syslog::{ParseContext, parse_syslog};
