//! Origin marks: for each origin that appends marked batches, the highest
//! mark stored so far.
//!
//! A mark travels in the WAL record of its batch, so it is durable exactly
//! when the batch's events are. On open the marks are rebuilt from every
//! record still in the WAL, on top of `wal/marks.json`. That file holds the
//! marks of segments the WAL has deleted: before the writer deletes a
//! segment it fsyncs the WAL and then writes the file (temporary file,
//! fsync, rename), with every mark written so far. A crash between the two
//! leaves the segment in place, so no mark is ever lost and none is
//! recorded for a batch that is not durable.

use std::collections::BTreeMap;
use std::path::Path;

use crate::fsutil::{io_err, write_atomic};
use crate::{Mark, StoreError};

/// The file that keeps the marks of deleted segments.
pub(crate) const MARKS_FILE: &str = "marks.json";

/// The highest mark per origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Marks(BTreeMap<String, u64>);

impl Marks {
    /// Takes `mark` in, keeping the higher sequence number per origin.
    pub fn raise(&mut self, mark: Mark) {
        let seq = self.0.entry(mark.origin).or_insert(0);
        *seq = (*seq).max(mark.seq);
    }

    /// Takes in every mark of `other`.
    pub fn merge(&mut self, other: Marks) {
        for (origin, seq) in other.0 {
            self.raise(Mark { origin, seq });
        }
    }

    /// The highest mark stored for `origin`.
    pub fn get(&self, origin: &str) -> Option<u64> {
        self.0.get(origin).copied()
    }

    /// Every origin with its highest mark.
    pub fn all(&self) -> &BTreeMap<String, u64> {
        &self.0
    }

    /// Reads `dir/marks.json` (none yet: no marks).
    pub fn load(dir: &Path) -> Result<Marks, StoreError> {
        let path = dir.join(MARKS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Marks::default()),
            Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
        };
        let map: BTreeMap<String, u64> = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Reader(format!("{}: {e}", path.display())))?;
        Ok(Marks(map))
    }

    /// Writes `dir/marks.json` atomically and durably.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&self.0).map_err(std::io::Error::other)?;
        write_atomic(&dir.join(MARKS_FILE), &bytes)
    }
}
