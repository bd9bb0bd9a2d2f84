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
    /// appended before it is sent). Batches before `next_seq` that were
    /// still on their way are left out, so the subscription delivers
    /// exactly the events from `next_seq` on.
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
                Ok(batch) => match self.deliver(batch) {
                    Some(r) => return r,
                    None => continue,
                },
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
                Ok(batch) => match self.deliver(batch) {
                    Some(r) => return r,
                    None => continue,
                },
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty) => return Err(TailError::Empty),
                Err(TryRecvError::Closed) => return Err(TailError::Closed),
            }
        }
    }

    /// Sequence number the next batch is expected to start at.
    pub(crate) fn next_seq(&self) -> Option<u64> {
        self.next_seq
    }

    /// Events this subscriber has missed so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The batch for the subscriber, cut to what starts at `next_seq`;
    /// `None` for a batch wholly before it (appended before subscribing,
    /// broadcast after).
    fn deliver(&mut self, mut batch: Batch) -> Option<Result<Arc<Vec<Event>>, TailError>> {
        if let Some(next) = self.next_seq
            && batch.first_seq < next
        {
            let skip = (next - batch.first_seq) as usize;
            if skip >= batch.events.len() {
                return None;
            }
            batch = Batch {
                first_seq: next,
                events: Arc::new(batch.events[skip..].to_vec()),
            };
        }
        Some(self.deliver_from_next(batch))
    }

    fn deliver_from_next(&mut self, batch: Batch) -> Result<Arc<Vec<Event>>, TailError> {
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
