//! State shared by the store's threads: sequence numbers, sizes, the splits.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use hark_event::sink::Health;

use crate::Mark;
use crate::index::Catalog;
use crate::telemetry as metrics;
use crate::wal::{Marks, Readers, SegmentFile};

/// Counters and the split set, shared by the WAL writer, the indexer,
/// maintenance and searches.
pub(crate) struct Shared {
    /// Sequence number of the last event written to the WAL.
    pub appended_seq: AtomicU64,
    /// Sequence number up to which the index has committed every event.
    pub committed_seq: AtomicU64,
    /// Bytes of WAL segments on disk.
    pub wal_bytes: AtomicU64,
    /// Groups written to the WAL and not yet committed to the index:
    /// (last sequence number, when written), oldest first.
    pending: Mutex<VecDeque<(u64, Instant)>>,
    /// The splits.
    pub catalog: Catalog,
    /// Whether the WAL can write; appends are held while it cannot.
    health: Mutex<Health>,
    /// The WAL's segments and their written lengths, as the writer last
    /// published them: what a reader catching up from disk may read.
    wal_segments: Mutex<Vec<SegmentFile>>,
    /// The store is closing: threads waiting to retry give up.
    pub closing: AtomicBool,
    /// The durable readers of the WAL (the index aside).
    pub readers: Readers,
    /// Woken when the writer publishes segments, and on close.
    pub wal_published: tokio::sync::Notify,
    /// The highest origin mark per origin among the batches written.
    marks: Mutex<Marks>,
    /// Appends wait while the WAL holds this many bytes (`u64::MAX`: no cap).
    wal_block_at: AtomicU64,
}

impl Shared {
    /// State after opening: everything up to `appended` is in the WAL, up to `committed` in the index.
    pub fn new(
        catalog: Catalog,
        appended: u64,
        committed: u64,
        wal_segments: Vec<SegmentFile>,
        readers: Readers,
        marks: Marks,
        wal_block_at: Option<u64>,
    ) -> Self {
        let wal_bytes = crate::wal::total_bytes(&wal_segments);
        let mut pending = VecDeque::new();
        if appended > committed {
            // Replayed events have been waiting since before this process started.
            pending.push_back((appended, Instant::now()));
        }
        Shared {
            appended_seq: AtomicU64::new(appended),
            committed_seq: AtomicU64::new(committed),
            wal_bytes: AtomicU64::new(wal_bytes),
            pending: Mutex::new(pending),
            catalog,
            health: Mutex::new(Health::Ready),
            wal_segments: Mutex::new(wal_segments),
            closing: AtomicBool::new(false),
            readers,
            wal_published: tokio::sync::Notify::new(),
            marks: Mutex::new(marks),
            wal_block_at: AtomicU64::new(wal_block_at.unwrap_or(u64::MAX)),
        }
    }

    /// The byte cap at which appends wait, if any.
    pub fn wal_block_at(&self) -> Option<u64> {
        Some(self.wal_block_at.load(Ordering::Relaxed)).filter(|&cap| cap != u64::MAX)
    }

    /// Sets the byte cap at which appends wait; a held append is tried
    /// again against it at its next retry.
    pub fn set_wal_block_at(&self, cap: Option<u64>) {
        self.wal_block_at
            .store(cap.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Records the mark of a batch written to the WAL.
    pub fn raise_mark(&self, mark: Mark) {
        lock(&self.marks).raise(mark);
    }

    /// The highest mark written for `origin`.
    pub fn mark(&self, origin: &str) -> Option<u64> {
        lock(&self.marks).get(origin)
    }

    /// Every origin's highest mark.
    pub fn marks(&self) -> Marks {
        lock(&self.marks).clone()
    }

    /// Whether the WAL can write now.
    pub fn health(&self) -> Health {
        lock(&self.health).clone()
    }

    /// Records whether the WAL can write.
    pub fn set_health(&self, health: Health) {
        *lock(&self.health) = health;
    }

    /// The WAL segments as last published, with lengths that end on whole records.
    pub fn wal_segments(&self) -> Vec<SegmentFile> {
        lock(&self.wal_segments).clone()
    }

    /// Publishes the WAL's segments after a write, a rotation or a truncation.
    pub fn publish_wal_segments(&self, segments: &[SegmentFile]) {
        let mut published = lock(&self.wal_segments);
        published.clear();
        published.extend_from_slice(segments);
        drop(published);
        self.wal_published.notify_waiters();
    }

    /// Where the WAL may be truncated: below what the index and every
    /// attached reader have committed (see `wal::readers`).
    pub fn wal_truncate_point(&self, segments: &[SegmentFile]) -> u64 {
        self.readers
            .truncate_point(self.committed_seq(), self.appended_seq(), segments)
    }

    /// Marks the store closing and wakes the readers waiting for the WAL.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        self.wal_published.notify_waiters();
    }

    /// Whether the store is closing.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Instant)>> {
        lock(&self.pending)
    }

    /// Records that events up to `last_seq` are in the WAL.
    pub fn note_appended(&self, last_seq: u64, at: Instant) {
        self.pending().push_back((last_seq, at));
        self.appended_seq.store(last_seq, Ordering::Release);
        metrics::set_index_lag_events(last_seq.saturating_sub(self.committed_seq()));
        metrics::set_index_lag_seconds(self.lag_seconds());
    }

    /// Records that the index has committed every event up to `seq`.
    pub fn note_committed(&self, seq: u64) {
        self.committed_seq.fetch_max(seq, Ordering::AcqRel);
        let mut pending = self.pending();
        while pending.front().is_some_and(|(s, _)| *s <= seq) {
            pending.pop_front();
        }
        drop(pending);
        metrics::set_index_lag_events(self.appended_seq().saturating_sub(seq));
        metrics::set_index_lag_seconds(self.lag_seconds());
    }

    /// Sequence number of the last appended event.
    pub fn appended_seq(&self) -> u64 {
        self.appended_seq.load(Ordering::Acquire)
    }

    /// Sequence number the index has committed up to.
    pub fn committed_seq(&self) -> u64 {
        self.committed_seq.load(Ordering::Acquire)
    }

    /// Age in seconds of the oldest event in the WAL not yet committed to the index.
    pub fn lag_seconds(&self) -> f64 {
        self.pending()
            .front()
            .map_or(0.0, |(_, at)| at.elapsed().as_secs_f64())
    }
}

/// Locks `m`, taking the data of a poisoned lock as it is (every writer leaves it consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
