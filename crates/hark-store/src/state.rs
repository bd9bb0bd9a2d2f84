//! State shared by the store's threads: sequence numbers, sizes, the splits.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::index::Catalog;
use crate::telemetry as metrics;

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
}

impl Shared {
    /// State after opening: everything up to `appended` is in the WAL, up to `committed` in the index.
    pub fn new(catalog: Catalog, appended: u64, committed: u64, wal_bytes: u64) -> Self {
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
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, Instant)>> {
        match self.pending.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
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
