//! A flush as prepared under the store's lock and written without it.

use std::io;
use std::path::PathBuf;

use super::log::{self, Entry, FlushFile};

/// What [`super::StateStore::prepare_flush`] collected: the entries of one
/// flush file, and whether to fold the flush files into a new snapshot
/// after writing it.
#[derive(Debug, Default)]
pub struct FlushBatch {
    pub(super) dir: PathBuf,
    /// The flush file's number.
    pub(super) number: u64,
    pub(super) entries: Vec<Entry>,
    pub(super) compact: bool,
}

/// What a flush wrote; hand it to [`super::StateStore::finish_flush`].
#[derive(Debug, Default)]
pub struct FlushReport {
    /// Entries written (a part of a monitor, the downtimes, a deletion).
    pub entries: usize,
    /// Bytes written to the flush file.
    pub bytes: u64,
    /// Why the flush file could not be written (already logged); its
    /// entries go into the next flush.
    pub error: Option<io::Error>,
    /// The entries not written.
    pub(super) unsaved: Vec<Entry>,
    /// The size of the new snapshot, when one was written.
    pub snapshot_bytes: Option<u64>,
    /// Whether a snapshot was attempted.
    pub(super) compacted: bool,
}

impl FlushBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && !self.compact
    }

    /// The monitor parts in this batch as `<monitor>.<part>` (`state`,
    /// `intervals`, `series`, `forget`), and `downtimes`, in order.
    pub fn parts(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::State { monitor, .. } => format!("{monitor}.state"),
                Entry::Intervals { monitor, .. } => format!("{monitor}.intervals"),
                Entry::Series { monitor, .. } => format!("{monitor}.series"),
                Entry::Forget { monitor } => format!("{monitor}.forget"),
                Entry::Downtimes { .. } => "downtimes".to_owned(),
            })
            .collect()
    }

    /// Writes `flush-<n>.json` atomically (temporary file, fsync, rename,
    /// directory fsync) and, when due, folds the flush files into
    /// `snapshot.json`. Blocking: run it off the async runtime, and one at a
    /// time.
    pub fn write(self) -> FlushReport {
        let mut report = FlushReport::default();
        if !self.entries.is_empty() {
            let file = FlushFile {
                flush: self.number,
                entries: self.entries,
            };
            match log::write_flush(&self.dir, &file) {
                Ok(bytes) => {
                    report.entries = file.entries.len();
                    report.bytes = bytes;
                }
                Err(error) => {
                    tracing::warn!(
                        dir = %self.dir.display(), flush = file.flush, %error,
                        "cannot write monitor states"
                    );
                    report.error = Some(error);
                    report.unsaved = file.entries;
                    // A disk that refuses the flush file would refuse the snapshot too.
                    return report;
                }
            }
        }
        if self.compact {
            report.compacted = true;
            match log::compact(&self.dir) {
                Ok(bytes) => report.snapshot_bytes = Some(bytes),
                Err(error) => tracing::warn!(
                    dir = %self.dir.display(), %error,
                    "cannot write the monitor state snapshot; keeping the flush files"
                ),
            }
        }
        report
    }
}
