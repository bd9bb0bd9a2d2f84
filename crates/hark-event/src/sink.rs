//! Where inputs hand their events: an [`EventSink`] takes a batch and gives
//! back a [`Receipt`] that resolves once the batch is durable.
//!
//! Inputs see this trait, never the store behind it: the local store today,
//! a forwarder's disk buffer or a cluster publisher later. An input answers
//! its sender (a RELP `200 OK`, a Beats ACK, an HTTP 2xx) only once the
//! receipt has resolved `Ok`.
//!
//! Failures are typed so each protocol can react the right way:
//! - [`SinkError::Full`]: back-pressure; try again soon (HTTP answers 429/503).
//! - [`SinkError::Unavailable`]: storage cannot write (disk full, fsync
//!   error). The sink keeps what it was given and retries; an input that
//!   can wait (RELP, Beats) simply waits and keeps its sessions open, one
//!   that cannot (HTTP) answers 507 with the cause.
//! - [`SinkError::ShuttingDown`]: the sink takes nothing more; the sender
//!   must resend elsewhere or later.
//!
//! ```
//! use hark_event::sink::{Health, SinkError};
//! let e = SinkError::Unavailable { cause: "No space left on device".into(), since_unix: 0 };
//! assert!(e.to_string().contains("No space left"));
//! assert_eq!(Health::Ready, Health::Ready);
//! ```

use std::future::Future;
use std::pin::Pin;

use crate::Event;

/// Why a sink did not take a batch or could not make it durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// No room right now; the caller may retry soon.
    #[error("the event queue is full")]
    Full,
    /// Storage cannot make events durable; `cause` says why.
    #[error("storage unavailable since {since_unix} (unix time): {cause}")]
    Unavailable {
        /// What failed, as the operating system said it (e.g. "No space left on device").
        cause: String,
        /// When the trouble began, seconds since the Unix epoch.
        since_unix: u64,
    },
    /// The sink is closing and takes nothing more.
    #[error("shutting down")]
    ShuttingDown,
}

/// Whether a sink can make events durable right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Appends are written as they come.
    Ready,
    /// Appends are held until storage can write again; see [`SinkError::Unavailable`].
    Unavailable {
        /// What failed.
        cause: String,
        /// When it began, seconds since the Unix epoch.
        since_unix: u64,
    },
}

impl Health {
    /// The error an input reports while the sink is in this state, if any.
    pub fn as_error(&self) -> Option<SinkError> {
        match self {
            Health::Ready => None,
            Health::Unavailable { cause, since_unix } => Some(SinkError::Unavailable {
                cause: cause.clone(),
                since_unix: *since_unix,
            }),
        }
    }
}

/// Resolves with the sequence number of a batch's last event once the batch
/// is durable, or with why it cannot be.
pub struct Receipt(Pin<Box<dyn Future<Output = Result<u64, SinkError>> + Send>>);

impl Receipt {
    /// Wraps the future that resolves when the batch is durable.
    pub fn new(fut: impl Future<Output = Result<u64, SinkError>> + Send + 'static) -> Self {
        Receipt(Box::pin(fut))
    }

    /// A receipt for a batch that is already durable at `seq`.
    pub fn done(seq: u64) -> Self {
        Receipt::new(std::future::ready(Ok(seq)))
    }

    /// Waits until the batch is durable.
    pub async fn durable(self) -> Result<u64, SinkError> {
        self.0.await
    }
}

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receipt")
    }
}

/// The future [`EventSink::append`] returns.
pub type AppendFuture<'a> = Pin<Box<dyn Future<Output = Result<Receipt, SinkError>> + Send + 'a>>;

/// Takes batches of events and makes them durable.
pub trait EventSink: Send + Sync + 'static {
    /// Queues `events`; awaiting this is back-pressure (it waits for room).
    /// The receipt resolves once they are durable.
    fn append(&self, events: Vec<Event>) -> AppendFuture<'_>;

    /// Whether appends are being made durable right now.
    fn health(&self) -> Health;
}
