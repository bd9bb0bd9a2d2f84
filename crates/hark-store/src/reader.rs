//! Durable readers of the WAL: follow it by sequence number from a named,
//! persisted cursor (see `wal::readers` for the retention rules).

use std::sync::Arc;

use hark_event::Event;

use crate::StoreError;
use crate::state::Shared;
use crate::telemetry;
use crate::wal::Replay;

/// Consecutive events read from the WAL.
#[derive(Debug, Clone)]
pub struct WalBatch {
    /// Sequence number of `events[0]`.
    pub first_seq: u64,
    /// The events, in sequence order.
    pub events: Arc<Vec<Event>>,
}

impl WalBatch {
    /// Sequence number of the last event.
    pub fn last_seq(&self) -> u64 {
        (self.first_seq + self.events.len() as u64).saturating_sub(1)
    }
}

/// What a read of the WAL on the blocking pool gives back: the replay
/// (to read on from) and the batch it found.
type ReadOutcome = (Replay, Result<Option<crate::wal::Batch>, StoreError>);

/// A named reader of the WAL, from [`crate::Store::wal_reader`].
///
/// It reads from just past its committed position, which survives
/// restarts; the WAL keeps every segment it has not committed past (up to
/// `wal_max_retained`, see [`crate::LaggingReader`]). One handle per name
/// may be open at a time; dropping it keeps the registration, and
/// [`crate::Store::remove_wal_reader`] ends it.
pub struct WalReader {
    name: String,
    shared: Arc<Shared>,
    /// Reads on from the last event handed out; taken while a read runs.
    replay: Option<Replay>,
    /// A read of the WAL that was started and not yet taken back (its
    /// caller stopped waiting); the next call waits for it.
    reading: Option<tokio::task::JoinHandle<ReadOutcome>>,
    /// Sequence number of the last event handed out.
    position: u64,
    /// Sequence number of the last event committed.
    committed: u64,
}

impl WalReader {
    /// Opens (registering when new) the reader `name`.
    pub(crate) fn open(shared: Arc<Shared>, name: &str) -> Result<WalReader, StoreError> {
        let committed = shared.readers.attach(name, shared.appended_seq())?;
        let replay = Replay::new(shared.wal_segments(), committed);
        Ok(WalReader {
            name: name.to_owned(),
            shared,
            replay: Some(replay),
            reading: None,
            position: committed,
            committed,
        })
    }

    /// The reader's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sequence number of the last event committed (0 before any).
    pub fn committed(&self) -> u64 {
        self.committed
    }

    /// Whether the reader has been detached for lagging too far behind
    /// (reads and commits then fail with [`StoreError::ReaderDetached`]).
    pub fn is_detached(&self) -> bool {
        matches!(self.shared.readers.position(&self.name), Some((_, true)))
    }

    /// Events appended to the WAL that this reader has not committed.
    pub fn lag(&self) -> u64 {
        self.shared.appended_seq().saturating_sub(self.committed)
    }

    /// Whether events past those handed out (and past any dropped from
    /// under the reader) are in the WAL now, so that
    /// [`WalReader::next_batch`] returns without waiting for appends.
    pub fn has_more(&self) -> bool {
        let committed = self
            .shared
            .readers
            .position(&self.name)
            .map_or(self.committed, |(c, _)| c);
        self.shared.appended_seq() > self.position.max(committed)
    }

    /// Sequence number of the last event handed out.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next events after those handed out, waiting until there are
    /// some. Fails with [`StoreError::ReaderDetached`] once the reader has
    /// been detached for lagging too far behind, and with
    /// [`StoreError::Closed`] when the store shuts down.
    ///
    /// Cancel-safe: a call dropped before it resolves loses nothing (a
    /// later call hands out the same events), so it may be raced against a
    /// timer.
    pub async fn next_batch(&mut self) -> Result<WalBatch, StoreError> {
        loop {
            let published = self.shared.wal_published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            if let Some((position, true)) = self.shared.readers.position(&self.name) {
                return Err(StoreError::ReaderDetached {
                    reader: self.name.clone(),
                    position,
                });
            }
            if self.shared.is_closing() {
                return Err(StoreError::Closed);
            }
            if let Some((committed, false)) = self.shared.readers.position(&self.name)
                && committed > self.position
                && self.reading.is_none()
            {
                // The oldest events were dropped from under this reader
                // (`LaggingReader::DropOldest`, counted there): go on after them.
                self.replay = Some(Replay::new(self.shared.wal_segments(), committed));
                self.position = committed;
            }
            let handle = match self.reading.take() {
                Some(handle) => handle,
                None => {
                    let Some(mut replay) = self.replay.take() else {
                        return Err(StoreError::Closed);
                    };
                    let segments = self.shared.wal_segments();
                    tokio::task::spawn_blocking(move || {
                        replay.follow(&segments);
                        let read = replay.next_batch();
                        (replay, read)
                    })
                }
            };
            // Kept here while awaited: a caller that stops waiting leaves it
            // for the next call.
            let handle = self.reading.insert(handle);
            let joined = handle.await;
            self.reading = None;
            let (replay, read) = joined.map_err(|_| StoreError::Closed)?;
            self.replay = Some(replay);
            match read? {
                Some(batch) => {
                    if batch.first_seq > self.position + 1 {
                        // Only a crash that lost unsynced appends leaves a gap.
                        tracing::warn!(reader = %self.name, from = self.position + 1, to = batch.first_seq - 1, "events missing from the WAL (lost in a crash before they were synced)");
                    }
                    let batch = WalBatch {
                        first_seq: batch.first_seq,
                        events: batch.events,
                    };
                    self.position = batch.last_seq();
                    self.shared.readers.note_read(&self.name, self.position);
                    return Ok(batch);
                }
                None => published.await,
            }
        }
    }

    /// Records that every event up to `seq` has been dealt with: after a
    /// restart the reader goes on after it, and the WAL may drop it.
    pub fn commit(&mut self, seq: u64) -> Result<(), StoreError> {
        if seq > self.position {
            return Err(StoreError::Reader(format!(
                "WAL reader `{}` cannot commit {seq}: it has read up to {}",
                self.name, self.position
            )));
        }
        self.shared.readers.commit(&self.name, seq)?;
        self.committed = self.committed.max(seq);
        telemetry::set_wal_reader_lag(
            &self.name,
            self.shared.appended_seq().saturating_sub(self.committed),
        );
        Ok(())
    }
}

impl Drop for WalReader {
    fn drop(&mut self) {
        self.shared.readers.release(&self.name);
    }
}
