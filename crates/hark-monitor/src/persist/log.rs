//! The store's files: numbered flush files replayed in order over a snapshot.
//!
//! * `flush-<n>.json`: a [`FlushFile`], the entries of flush `n` (what
//!   changed since the flush before), applied in the order they are listed.
//! * `snapshot.json`: a [`Snapshot`], everything up to and including flush
//!   `through`. Flush files up to `through` are stale and deleted.
//!
//! Every file is written to `<file>.tmp`, fsynced, renamed over its name and
//! the directory fsynced, so a file is either whole or absent. A file that
//! cannot be read or parsed anyway is set aside as `<file>.corrupt`; the
//! files after it are still applied, since each entry replaces one part of
//! one monitor whole.
//!
//! Flushes and compactions must not overlap: the caller runs one at a time.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{load_json, write_atomic};
use crate::downtime::Downtimes;
use crate::history::{IntervalsPart, SeriesPart};
use crate::state::MonitorState;

/// The snapshot's file name.
pub(super) const SNAPSHOT_FILE: &str = "snapshot.json";

/// Which part of a monitor an entry holds, in the order entries of one
/// monitor are written: forgetting first, so that parts queued after a
/// [`Entry::Forget`] survive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum PartKind {
    Forget,
    State,
    Intervals,
    Series,
}

/// One change in a flush file, as `{"<kind>": {...}}`. Externally tagged:
/// an internally tagged enum would buffer its content, and the buffer
/// cannot read the downtimes' map of numeric ids.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Entry {
    /// A monitor's state, whole.
    State {
        monitor: String,
        state: MonitorState,
    },
    /// A monitor's state intervals, whole.
    Intervals {
        monitor: String,
        intervals: IntervalsPart,
    },
    /// A monitor's response-time series, whole.
    Series { monitor: String, series: SeriesPart },
    /// All downtimes.
    Downtimes { downtimes: Downtimes },
    /// A monitor's data is deleted.
    Forget { monitor: String },
}

impl Entry {
    /// The monitor and part this entry replaces (`None` for the downtimes).
    pub(super) fn key(&self) -> Option<(String, PartKind)> {
        match self {
            Entry::State { monitor, .. } => Some((monitor.clone(), PartKind::State)),
            Entry::Intervals { monitor, .. } => Some((monitor.clone(), PartKind::Intervals)),
            Entry::Series { monitor, .. } => Some((monitor.clone(), PartKind::Series)),
            Entry::Forget { monitor } => Some((monitor.clone(), PartKind::Forget)),
            Entry::Downtimes { .. } => None,
        }
    }
}

/// The content of `flush-<n>.json`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct FlushFile {
    /// Its number, as in its name.
    pub(super) flush: u64,
    /// The changes, in order.
    pub(super) entries: Vec<Entry>,
}

/// What is saved of one monitor; a missing part starts empty.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) state: Option<MonitorState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) intervals: Option<IntervalsPart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) series: Option<SeriesPart>,
}

/// The content of `snapshot.json`: every monitor's saved data, configured or
/// not, and the downtimes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Snapshot {
    /// The last flush whose entries it holds.
    #[serde(default)]
    pub(super) through: u64,
    #[serde(default)]
    pub(super) downtimes: Downtimes,
    #[serde(default)]
    pub(super) monitors: BTreeMap<String, Stored>,
}

impl Snapshot {
    /// Applies one flush entry.
    pub(super) fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::State { monitor, state } => {
                self.monitors.entry(monitor).or_default().state = Some(state);
            }
            Entry::Intervals { monitor, intervals } => {
                self.monitors.entry(monitor).or_default().intervals = Some(intervals);
            }
            Entry::Series { monitor, series } => {
                self.monitors.entry(monitor).or_default().series = Some(series);
            }
            Entry::Downtimes { downtimes } => self.downtimes = downtimes,
            Entry::Forget { monitor } => {
                self.monitors.remove(&monitor);
            }
        }
    }
}

/// The store's directory as found: the snapshot with every later flush
/// applied.
#[derive(Debug, Default)]
pub(super) struct Replayed {
    /// The saved data.
    pub(super) snapshot: Snapshot,
    /// Whether `snapshot.json` exists (whole or set aside).
    pub(super) had_snapshot: bool,
    /// The size of `snapshot.json`.
    pub(super) snapshot_bytes: u64,
    /// The flush files applied, by number.
    pub(super) flushes: Vec<(u64, PathBuf)>,
    /// Their total size.
    pub(super) flush_bytes: u64,
    /// The highest flush number seen (in the snapshot or a file name).
    pub(super) last_flush: u64,
    /// Files of the per-monitor layout of earlier versions.
    pub(super) legacy: Vec<PathBuf>,
}

/// The number `n` of a file named `flush-<n>.json`.
fn flush_number(file_name: &str) -> Option<u64> {
    file_name
        .strip_prefix("flush-")?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// Whether a file belongs to the per-monitor layout of earlier versions.
fn is_legacy(file_name: &str) -> bool {
    file_name == super::legacy::DOWNTIMES_FILE
        || super::legacy::KINDS
            .iter()
            .any(|kind| file_name.ends_with(&format!(".{kind}.json")))
}

/// Reads the snapshot and the flush files after it, applying them in order.
/// Deletes leftovers (temporary files, flush files the snapshot holds) and
/// sets damaged files aside.
pub(super) fn replay(dir: &Path) -> io::Result<Replayed> {
    let mut out = Replayed::default();
    let mut flushes = Vec::new();
    for item in fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = item.path();
        if name.ends_with(".tmp") {
            remove_quietly(&path);
        } else if name == SNAPSHOT_FILE {
            out.had_snapshot = true;
        } else if let Some(n) = flush_number(name) {
            flushes.push((n, path));
        } else if is_legacy(name) {
            out.legacy.push(path);
        }
    }
    if out.had_snapshot {
        let path = dir.join(SNAPSHOT_FILE);
        out.snapshot_bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        out.snapshot = load_json::<Snapshot>(&path).unwrap_or_default();
    }
    out.last_flush = out.snapshot.through;
    flushes.sort_unstable_by_key(|(n, _)| *n);
    for (n, path) in flushes {
        if n <= out.snapshot.through {
            remove_quietly(&path);
            continue;
        }
        out.last_flush = n;
        out.flush_bytes += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if let Some(file) = load_json::<FlushFile>(&path) {
            for entry in file.entries {
                out.snapshot.apply(entry);
            }
        }
        out.flushes.push((n, path));
    }
    Ok(out)
}

/// Writes `flush-<n>.json` and fsyncs the directory. Returns its size.
pub(super) fn write_flush(dir: &Path, file: &FlushFile) -> io::Result<u64> {
    let bytes = serde_json::to_vec(file).map_err(io::Error::other)?;
    write_atomic(&dir.join(format!("flush-{}.json", file.flush)), &bytes)?;
    sync_dir(dir)?;
    Ok(bytes.len() as u64)
}

/// Writes `snapshot.json` and fsyncs the directory. Returns its size.
pub(super) fn write_snapshot(dir: &Path, snapshot: &Snapshot) -> io::Result<u64> {
    let bytes = serde_json::to_vec(snapshot).map_err(io::Error::other)?;
    write_atomic(&dir.join(SNAPSHOT_FILE), &bytes)?;
    sync_dir(dir)?;
    Ok(bytes.len() as u64)
}

/// Folds the flush files into a new snapshot and deletes them. Returns the
/// snapshot's size.
pub(super) fn compact(dir: &Path) -> io::Result<u64> {
    let mut replayed = replay(dir)?;
    replayed.snapshot.through = replayed.last_flush;
    let bytes = write_snapshot(dir, &replayed.snapshot)?;
    for (_, path) in &replayed.flushes {
        remove_quietly(path);
    }
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// Deletes a file that is no longer needed; failing only leaves it behind.
pub(super) fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot delete an old monitor state file");
    }
}
