//! The live tail: a lossy broadcast of appended batches that counts what
//! each subscriber misses.

use std::sync::Arc;

use hark_event::Event;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use crate::telemetry;
use crate::wal::Batch;

/// Why [`Tail::recv`] returned no batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TailError {
    /// The subscriber fell behind and this many events passed it by; the
    /// next call returns the batch after them.
    #[error("missed {0} events")]
    Lagged(u64),
    /// The store has shut down.
    #[error("the store is closed")]
    Closed,
    /// Nothing is waiting ([`Tail::try_recv`] only).
    #[error("no batch waiting")]
    Empty,
}

/// A live-tail subscription, from [`crate::Store::subscribe`]: batches as
/// they are appended to the WAL. A subscriber that falls behind misses
/// batches (the broadcast keeps 1 024); it is told how many events it
/// missed, and `hark_tail_dropped_events_total{subscriber}` counts them.
pub struct Tail {
    rx: broadcast::Receiver<Batch>,
    /// Label of the subscriber in the metrics.
    subscriber: Arc<str>,
    /// Sequence number the next batch should start at.
    next_seq: Option<u64>,
    /// A batch received after a gap, returned by the next call.
    pending: Option<Batch>,
    /// Events missed so far.
    dropped: u64,
}

impl Tail {
    /// A subscription whose first batch starts at `next_seq` (subscribe
    /// before reading the appended sequence number: a batch is counted as
    /// appended before it is sent).
    pub(crate) fn new(rx: broadcast::Receiver<Batch>, subscriber: &str, next_seq: u64) -> Tail {
        Tail {
            rx,
            subscriber: Arc::from(subscriber),
            next_seq: Some(next_seq),
            pending: None,
            dropped: 0,
        }
    }

    /// The next batch, waiting for it.
    pub async fn recv(&mut self) -> Result<Arc<Vec<Event>>, TailError> {
        if let Some(batch) = self.pending.take() {
            return Ok(batch.events);
        }
        loop {
            match self.rx.recv().await {
                Ok(batch) => return self.deliver(batch),
                // The gap shows in the next batch's sequence number.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Err(TailError::Closed),
            }
        }
    }

    /// The next batch if one is waiting.
    pub fn try_recv(&mut self) -> Result<Arc<Vec<Event>>, TailError> {
        if let Some(batch) = self.pending.take() {
            return Ok(batch.events);
        }
        loop {
            match self.rx.try_recv() {
                Ok(batch) => return self.deliver(batch),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => return Err(TailError::Empty),
                Err(TryRecvError::Closed) => return Err(TailError::Closed),
            }
        }
    }

    /// Events this subscriber has missed so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn deliver(&mut self, batch: Batch) -> Result<Arc<Vec<Event>>, TailError> {
        let missed = self
            .next_seq
            .map_or(0, |next| batch.first_seq.saturating_sub(next));
        self.next_seq = Some(batch.first_seq + batch.events.len() as u64);
        if missed == 0 {
            return Ok(batch.events);
        }
        self.dropped += missed;
        telemetry::tail_dropped(&self.subscriber, missed);
        self.pending = Some(batch);
        Err(TailError::Lagged(missed))
    }
}
