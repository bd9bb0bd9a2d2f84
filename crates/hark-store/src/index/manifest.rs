//! The small JSON file describing a split (`manifest.json` in its directory).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::fsutil::{io_err, write_atomic};

/// File name of a split's manifest.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";

/// What a split holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SplitManifest {
    /// Split id, also its directory name.
    pub id: String,
    /// Oldest event timestamp, ns (none while empty).
    pub min_ts: Option<i64>,
    /// Newest event timestamp, ns (none while empty).
    pub max_ts: Option<i64>,
    /// Number of events.
    pub docs: u64,
    /// When the split was created, ns since the epoch.
    pub created_at: i64,
    /// Sealed splits never change again.
    pub sealed: bool,
    /// Sequence number of the first event the split may hold.
    pub first_seq: u64,
    /// Sequence number of the last event it holds (`first_seq - 1` when empty).
    pub last_seq: u64,
    /// Splits this one was merged from; any of them still on disk is a
    /// leftover of an interrupted cleanup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

impl SplitManifest {
    /// Whether the split may hold events with timestamps in `[from, to)`.
    pub fn overlaps(&self, from: Option<i64>, to: Option<i64>) -> bool {
        let (Some(min), Some(max)) = (self.min_ts, self.max_ts) else {
            return false;
        };
        from.is_none_or(|f| max >= f) && to.is_none_or(|t| min < t)
    }

    /// Reads the manifest in `dir`.
    pub fn read(dir: &Path) -> Result<SplitManifest, StoreError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Index(format!("{}: {e}", path.display())))
    }

    /// Writes the manifest into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), StoreError> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| StoreError::Index(format!("encoding manifest: {e}")))?;
        write_atomic(&path, &bytes).map_err(io_err(format!("writing {}", path.display())))
    }
}
