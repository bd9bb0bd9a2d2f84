//! GELF, the Graylog Extended Log Format: a JSON object per message, over
//! UDP (optionally chunked, optionally zlib- or gzip-compressed) or over TCP
//! (NUL-delimited, never compressed).
//!
//! The pieces chain like this on UDP:
//!
//! ```
//! use hark_proto::ParseContext;
//! use hark_proto::gelf::{GelfChunker, decompress, gelf_to_event};
//!
//! let mut chunker = GelfChunker::new(5_000, 8 << 20);
//! let datagram = br#"{"version":"1.1","host":"web1","short_message":"hi","level":3}"#;
//! let ctx = ParseContext::new(1_763_790_000_000_000_000, "gelf_udp");
//! // Whole datagrams pass straight through; chunks come out once complete.
//! if let Some(payload) = chunker.push("192.0.2.7:41000", datagram, 0).unwrap() {
//!     let json = decompress(&payload, 1 << 20).unwrap();
//!     let ev = gelf_to_event(&json, &ctx);
//!     assert_eq!(ev.host.as_deref(), Some("web1"));
//!     assert_eq!(ev.message, "hi");
//!     assert_eq!(ev.severity_code(), Some(3));
//! }
//! ```
//!
//! On TCP, [`GelfFramer`] cuts the stream at NUL bytes and each frame goes
//! to [`gelf_to_event`].
//!
//! Senders write a [`GelfMessage`] as JSON, [`compress`] it if they like
//! (UDP only) and cut it into [`datagrams`].

mod chunk;
mod client;
mod event;
mod framing;
mod payload;

pub use chunk::{ChunkerStats, GelfChunker, MAX_CHUNKS, MessageId, is_chunked};
pub use client::{GelfMessage, compress, datagrams};
pub use event::gelf_to_event;
pub use framing::GelfFramer;
pub use payload::{Compression, decompress, detect_compression};

/// A GELF datagram or payload that could not be used; the listener counts
/// it and drops it.
#[derive(Debug, thiserror::Error)]
pub enum GelfError {
    /// A datagram starts with the chunk magic but is too short for the header.
    #[error("GELF chunk of {len} bytes is shorter than its 12-byte header")]
    ChunkTooShort {
        /// The datagram's length.
        len: usize,
    },
    /// A chunk announces zero chunks, or a sequence number beyond the count.
    #[error("GELF chunk {number} of {count} is out of range")]
    BadSequence {
        /// The chunk's sequence number (from 0).
        number: u8,
        /// The announced number of chunks.
        count: u8,
    },
    /// A chunk announces more chunks than GELF allows.
    #[error("GELF message announces {count} chunks; at most {MAX_CHUNKS} are allowed")]
    TooManyChunks {
        /// The announced number of chunks.
        count: u8,
    },
    /// A chunk announces another chunk count than earlier chunks of the
    /// same message; the chunk is dropped, the message kept.
    #[error("GELF chunk announces {found} chunks, earlier chunks of its message said {expected}")]
    CountMismatch {
        /// The count of the message's first chunk.
        expected: u8,
        /// The count this chunk announces.
        found: u8,
    },
    /// The compressed payload is corrupt.
    #[error("GELF {format} payload does not decompress: {source}")]
    Decompress {
        /// `zlib` or `gzip`.
        format: &'static str,
        /// What the decompressor said.
        source: std::io::Error,
    },
    /// A message to send needs more than [`MAX_CHUNKS`] datagrams.
    #[error(
        "GELF message of {len} bytes does not fit in {MAX_CHUNKS} chunks of {max_datagram} bytes"
    )]
    MessageTooLarge {
        /// The payload's length.
        len: usize,
        /// The largest datagram allowed.
        max_datagram: usize,
    },
    /// The payload is, or decompresses to, more than the allowed size.
    #[error("GELF payload exceeds {limit} bytes")]
    TooLarge {
        /// The allowed size in bytes.
        limit: usize,
    },
}

#[cfg(test)]
mod tests;
