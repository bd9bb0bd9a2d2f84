//! Hark's outputs: forward the events a query selects to other systems.
//!
//! Every output follows the WAL through its own durable reader
//! ([`hark_store::WalReader`], named `output-NAME`), so a slow or
//! unreachable destination never slows ingest or another output: it falls
//! behind, retries with capped and jittered backoff, and catches up. The
//! WAL keeps what an output has not delivered, up to
//! `storage.wal_max_retained`; past it the output is detached, reported and
//! stopped, never moved on silently.
//!
//! One loop, [`run`], serves every kind of destination: read a batch,
//! filter it, hand the selected events to a [`Destination`], and commit the
//! reader's cursor only once the destination has taken them. A destination
//! is anything that implements the trait: the syslog, RELP, HTTP, GELF and
//! Beats clients of this crate, or an uplink to another Hark.
//!
//! ```
//! use hark_event::Event;
//! use hark_output::{DeliveryError, Destination};
//!
//! /// Keeps what it is given: a destination that never fails.
//! struct Memory(Vec<Event>);
//!
//! impl Destination for Memory {
//!     async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
//!         self.0.extend_from_slice(events);
//!         Ok(())
//!     }
//! }
//! ```

mod backoff;
pub mod beats;
mod build;
mod delivery;
pub mod encode;
pub mod gelf;
pub mod http;
pub mod relp;
mod status;
mod stream;
pub mod syslog;
mod tls;
mod udp;

pub use backoff::Backoff;
pub use build::{Outputs, READER_PREFIX, ReattachError, SetupError, reader_name};
pub use delivery::{MAX_CHUNK, run};
pub use status::{OutputState, OutputStatus, Reporter, Statuses};

use std::future::Future;

use hark_event::Event;

/// Where an output sends events.
///
/// [`run`] calls [`Destination::deliver`] with the selected events of one
/// or more WAL batches (at most [`Destination::max_chunk`] at a time) and commits the output's
/// cursor past them only when it returns `Ok`. A destination should return
/// `Ok` only once the receiver has taken every event as durably as its
/// protocol allows (an acknowledgement where there is one) and document
/// what it promises. On failure it says how many events from the front
/// were taken: the loop commits those and offers the rest again after a
/// backoff, on the same destination, which reconnects as it needs to.
pub trait Destination: Send {
    /// Delivers `events`, in order.
    fn deliver(
        &mut self,
        events: &[Event],
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;

    /// Delivers `events`, whose WAL sequence numbers are `seqs` (increasing,
    /// one per event). [`run`] calls this; a destination whose receiver
    /// deduplicates by position (the uplink to a central Hark) uses the
    /// numbers, every other one keeps this default, which ignores them.
    fn deliver_numbered(
        &mut self,
        events: &[Event],
        seqs: &[u64],
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send {
        let _ = seqs;
        self.deliver(events)
    }

    /// The most events [`run`] hands to one delivery: [`MAX_CHUNK`] unless
    /// the destination asks for larger deliveries (one round trip each).
    /// Asked before each delivery.
    fn max_chunk(&self) -> usize {
        MAX_CHUNK
    }

    /// Ends the connection politely (called once, when the output stops).
    fn close(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// A delivery that did not take every event.
#[derive(Debug, thiserror::Error)]
#[error("{cause}")]
pub struct DeliveryError {
    /// How many events from the front of the slice the destination took.
    pub delivered: usize,
    /// Why the rest were not.
    pub cause: OutputError,
}

impl DeliveryError {
    /// A failure before any event was taken.
    pub fn none(cause: impl Into<OutputError>) -> Self {
        DeliveryError {
            delivered: 0,
            cause: cause.into(),
        }
    }

    /// A failure after the first `delivered` events were taken.
    pub fn after(delivered: usize, cause: impl Into<OutputError>) -> Self {
        DeliveryError {
            delivered,
            cause: cause.into(),
        }
    }
}

/// Why a destination could not take events.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination could not be reached.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// `host:port` or URL.
        target: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS handshake failed.
    #[error("TLS with {target} failed: {source}")]
    Tls {
        /// `host:port`.
        target: String,
        /// The handshake's error.
        source: std::io::Error,
    },
    /// Reading or writing the connection failed.
    #[error("connection to {target} failed: {source}")]
    Io {
        /// `host:port`.
        target: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("{target} did not answer within {seconds} s")]
    Timeout {
        /// `host:port` or URL.
        target: String,
        /// The limit.
        seconds: u64,
    },
    /// The destination answered that it does not take the events.
    #[error("{target} refused the events: {reason}")]
    Refused {
        /// `host:port` or URL.
        target: String,
        /// Its answer (status and body, or reply code and text).
        reason: String,
    },
    /// The destination broke its protocol.
    #[error("protocol error with {target}: {reason}")]
    Protocol {
        /// `host:port` or URL.
        target: String,
        /// What went wrong.
        reason: String,
    },
    /// An event could not be encoded for this destination.
    #[error("cannot encode an event: {0}")]
    Encode(String),
    /// Any other failure of a destination outside this crate.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}
