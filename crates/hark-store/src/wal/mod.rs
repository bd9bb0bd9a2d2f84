//! The write-ahead log: the durability point of the store.
//!
//! Segment files under `wal/` hold checksummed records, one per appended
//! batch. On open every segment is checked; a torn or corrupt tail of the
//! newest segment is cut off. The WAL is truncated (whole segments deleted)
//! only below the position every reader has committed: the index and the
//! durable readers of [`readers`].

mod marks;
mod readers;
mod record;
mod replay;
mod segment;
#[cfg(test)]
mod tests;
mod writer;

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use hark_event::Event;

use crate::StoreError;
use crate::fsutil::{io_err, sync_dir};

pub(crate) use marks::Marks;
pub(crate) use readers::Readers;
pub use readers::{INDEX_READER, LaggingReader};
pub(crate) use replay::Replay;
pub(crate) use segment::SegmentFile;
#[cfg(test)]
pub(crate) use writer::RETRY_INTERVAL;
pub(crate) use writer::{AppendRequest, WalWriter, WriterCtx, WriterMsg, run_writer};

/// Events that are in the WAL, on their way to the indexer.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// Sequence number of `events[0]`.
    pub first_seq: u64,
    /// The events.
    pub events: Arc<Vec<Event>>,
}

/// A problem found (and dealt with) while opening the WAL.
#[derive(Debug, Clone)]
pub(crate) struct RecoveryProblem {
    /// Segment file name.
    pub segment: String,
    /// Byte offset of the bad record.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
    /// Whether the segment was cut at `offset` (the newest segment) or only read up to it.
    pub truncated: bool,
}

impl RecoveryProblem {
    fn report(&self) {
        let (segment, offset, reason) = (&self.segment, self.offset, &self.reason);
        if self.truncated {
            tracing::warn!(%segment, offset, %reason, "WAL tail is torn or corrupt; cutting it off");
        } else {
            tracing::warn!(%segment, offset, %reason, "corrupt record in an older WAL segment; its later records are skipped");
        }
    }
}

/// The WAL as found on open.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Segments with their readable length, oldest first.
    pub segments: Vec<SegmentFile>,
    /// Sequence number of the last event in the WAL (0 when empty).
    pub last_seq: u64,
    /// The highest origin mark per origin: those of deleted segments and
    /// those of the records found.
    pub marks: Marks,
    /// What had to be cut or skipped.
    pub problems: Vec<RecoveryProblem>,
}

/// Checks every segment in `dir` (creating it if needed) and repairs the tail.
pub(crate) fn recover(dir: &Path) -> Result<Recovered, StoreError> {
    fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let files = segment::list_segments(dir)
        .map_err(io_err(format!("listing WAL segments in {}", dir.display())))?;
    let newest = files.len().saturating_sub(1);
    let mut segments = Vec::with_capacity(files.len());
    let mut problems = Vec::new();
    let mut last_seq = 0;
    let mut marks = Marks::load(dir)?;
    for (i, mut seg) in files.into_iter().enumerate() {
        let name = file_name(&seg.path);
        let outcome = segment::scan(&seg.path).map_err(io_err(format!(
            "reading WAL segment {}",
            seg.path.display()
        )))?;
        seg.valid_len = outcome.valid_len;
        if let Some(seq) = outcome.last_seq {
            last_seq = last_seq.max(seq);
        }
        marks.merge(outcome.marks);
        let had_problem = outcome.problem.is_some();
        if let Some((offset, reason)) = outcome.problem {
            let truncated = i == newest;
            if truncated {
                truncate_file(&seg.path, offset)?;
            }
            let problem = RecoveryProblem {
                segment: name,
                offset,
                reason,
                truncated,
            };
            problem.report();
            problems.push(problem);
        }
        // An empty segment carries nothing (the writer starts a fresh one); an
        // older unreadable one is kept for inspection.
        if seg.valid_len == 0 && (i == newest || !had_problem) {
            fs::remove_file(&seg.path).map_err(io_err(format!(
                "removing empty segment {}",
                seg.path.display()
            )))?;
            continue;
        }
        segments.push(seg);
    }
    sync_dir(dir).map_err(io_err(format!("syncing {}", dir.display())))?;
    Ok(Recovered {
        segments,
        last_seq,
        marks,
        problems,
    })
}

fn truncate_file(path: &Path, len: u64) -> Result<(), StoreError> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err(format!("opening {} to truncate it", path.display())))?;
    f.set_len(len)
        .and_then(|_| f.sync_all())
        .map_err(io_err(format!("truncating {}", path.display())))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Total bytes of WAL segment files in `dir`.
pub(crate) fn total_bytes(segments: &[SegmentFile]) -> u64 {
    segments.iter().map(|s| s.valid_len).sum()
}
