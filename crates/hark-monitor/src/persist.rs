//! [`StateStore`]: the states, histories and downtimes of all monitors, in
//! memory and under `<data_dir>/monitors/`, so that they survive a restart.
//!
//! # Use
//!
//! ```no_run
//! # fn demo(data_dir: &std::path::Path, cfg: &hark_config::monitor::MonitorConfig,
//! #         monitoring: &hark_config::monitor::MonitoringConfig, outcome: hark_monitor::CheckOutcome) {
//! use hark_monitor::persist::StateStore;
//!
//! let now = hark_event::now_nanos();
//! let mut store = StateStore::open(data_dir, now).expect("data dir is writable");
//! store.set_monitors(["web", "db"], now); // the configured monitors
//! // After each check of "web":
//! let ctx = store.context("web", cfg, monitoring, now); // parent and downtime filled in
//! let applied = store.apply("web", &outcome, &ctx);
//! if let Some(change) = applied.change { /* an event; a notification if change.hard && !change.in_downtime */ }
//! // Every few seconds, and with prepare_flush_all at shutdown, one at a time:
//! let batch = store.prepare_flush(now); // cheap, under the lock
//! let mut report = batch.write();       // blocking I/O, without the lock
//! store.finish_flush(&mut report);      // requeues what was not written
//! # }
//! ```
//!
//! # Files
//!
//! Each flush writes one file, `flush-<n>.json`, with the parts that are due
//! (the format is in `persist/log.rs`), one entry per part:
//!
//! * a monitor's state (the [`MonitorState`], about 1 KB): at the next flush
//!   when the state, state type, attempt, flapping or acknowledgement
//!   changed; otherwise (a new `last_check` and output) at most every
//!   [`FlushPolicy::state_every`] (5 minutes);
//! * its state intervals, at the next flush after a new interval began, at
//!   most every [`FlushPolicy::intervals_every`] (1 minute);
//! * its response-time series (up to ~35 KB), at most every
//!   [`FlushPolicy::series_every`] (1 hour);
//! * all downtimes, at the next flush after a change;
//! * the deletion of a monitor's data ([`StateStore::forget`]).
//!
//! The file is written whole to `<file>.tmp`, fsynced, renamed and the
//! directory fsynced: one fsync pair per flush, however many monitors
//! changed. [`StateStore::prepare_flush_all`] (at shutdown) takes everything
//! that changed regardless of the periods. A crash loses at most those
//! periods of last-check times and response times, never a state change
//! that a completed flush saw.
//!
//! When the flush files together outgrow the snapshot (and at least 8 MiB),
//! or number [`FlushPolicy::snapshot_after_files`] (1 000), the flush that notices it also folds them
//! into `snapshot.json`, which holds every monitor, and deletes them: the
//! files written stay within about twice what changed.
//!
//! Lazy writes are spread over their period by a hash of the monitor name, so
//! 5 000 monitors checked every minute add about 17 states (~0.4 KB each)
//! and 1.4 series (~35 KB each) a second to the flushes, rather than one
//! burst.
//!
//! # Loading
//!
//! [`StateStore::open`] reads the snapshot and applies the flush files after
//! it in order. A monitor without saved data is new: PENDING, empty history.
//! A file that cannot be read or parsed is logged, renamed to
//! `<file>.corrupt` (kept for inspection, replaced by the next corrupt one)
//! and skipped: the monitors whose latest parts were in it start with the
//! parts of earlier files, or PENDING. The data of a monitor removed from
//! the configuration is kept, so that adding it back restores its state and
//! history; [`StateStore::forget`] deletes it.
//!
//! The per-monitor files of earlier versions (`<name>.state.json`,
//! `<name>.intervals.json`, `<name>.series.json`, `downtimes.json`) are read
//! once, written as a snapshot and then deleted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hark_config::monitor::{MonitorConfig, MonitoringConfig};

use crate::downtime::{Downtime, DowntimeError, DowntimeId, Downtimes, NewDowntime};
use crate::history::{Availability, History, RETENTION};
use crate::outcome::CheckOutcome;
use crate::state::{Ack, AckError, Applied, ApplyContext, MonitorState, State, StateType};

mod files;
mod flush;
mod legacy;
mod log;

pub use files::file_stem;
use files::fnv1a;
pub use flush::{FlushBatch, FlushReport};
use log::{Entry, PartKind, Stored};

/// Flush files smaller than this together never make a snapshot by size.
const MIN_SNAPSHOT_TRIGGER: u64 = 8 << 20;

/// How often lazily changed data is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// A state whose only news is the latest check (time, output, perf).
    pub state_every: Duration,
    /// State intervals after a new one began.
    pub intervals_every: Duration,
    /// The response-time series.
    pub series_every: Duration,
    /// How many flush files make the next flush fold them into a snapshot
    /// (it also does when they outgrow the snapshot).
    pub snapshot_after_files: usize,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        FlushPolicy {
            state_every: Duration::from_secs(300),
            intervals_every: Duration::from_secs(60),
            series_every: Duration::from_secs(3600),
            snapshot_after_files: 1000,
        }
    }
}

/// Why the store refused something or could not start.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory could not be created.
    #[error("cannot create the monitor state directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The directory could not be read.
    #[error("cannot read the monitor state directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// No such monitor.
    #[error("there is no monitor named {0:?}")]
    UnknownMonitor(String),
    /// The acknowledgement was refused.
    #[error(transparent)]
    Ack(#[from] AckError),
    /// The downtime was refused.
    #[error(transparent)]
    Downtime(#[from] DowntimeError),
}

/// How urgently a monitor's state needs writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dirty {
    Clean,
    /// Only the latest check is new: write when the lazy period is up.
    Checked,
    /// Something a person or a notifier cares about: write at the next flush.
    Changed,
}

struct Record {
    state: MonitorState,
    history: History,
    state_dirty: Dirty,
    intervals_dirty: bool,
    series_dirty: bool,
    /// When a `Checked` state may be written next.
    state_due: i64,
    /// When the intervals may be written next.
    intervals_due: i64,
    /// When the series may be written next.
    series_due: i64,
}

/// The sizes that decide when the flush files are folded into a snapshot.
#[derive(Debug, Default)]
struct LogSize {
    /// Flush files since the snapshot.
    files: usize,
    /// Their bytes.
    bytes: u64,
    /// The snapshot's bytes.
    snapshot_bytes: u64,
}

impl LogSize {
    fn snapshot_due(&self, max_files: usize) -> bool {
        self.files >= max_files || self.bytes > self.snapshot_bytes.max(MIN_SNAPSHOT_TRIGGER)
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// A point in `0..period` that depends only on the name.
fn stagger(name: &str, period: Duration) -> i64 {
    let p = nanos(period).max(1) as u64;
    (fnv1a(name.as_bytes()) % p) as i64
}

/// The states, histories and downtimes of all monitors.
pub struct StateStore {
    dir: PathBuf,
    policy: FlushPolicy,
    monitors: HashMap<String, Record>,
    /// The saved data of monitors not configured now, so that adding one
    /// back restores it.
    retired: HashMap<String, Stored>,
    downtimes: Downtimes,
    downtimes_dirty: bool,
    /// Entries waiting for the next flush: of removed and forgotten monitors
    /// and of failed flushes.
    pending: BTreeMap<(String, PartKind), Entry>,
    /// The number of the next flush file.
    next_flush: u64,
    log: LogSize,
}

impl StateStore {
    /// Opens (creating) `<data_dir>/monitors` with the default [`FlushPolicy`]
    /// and loads the saved data. Monitors come with [`StateStore::set_monitors`].
    pub fn open(data_dir: &Path, now: i64) -> Result<StateStore, StoreError> {
        StateStore::open_with(data_dir, now, FlushPolicy::default())
    }

    /// [`StateStore::open`] with a flush policy.
    pub fn open_with(
        data_dir: &Path,
        now: i64,
        policy: FlushPolicy,
    ) -> Result<StateStore, StoreError> {
        let dir = data_dir.join("monitors");
        fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let mut replayed = log::replay(&dir).map_err(|source| StoreError::ReadDir {
            path: dir.clone(),
            source,
        })?;
        if !replayed.legacy.is_empty() {
            if !replayed.had_snapshot {
                replayed =
                    upgrade(&dir, &replayed.legacy).map_err(|source| StoreError::ReadDir {
                        path: dir.clone(),
                        source,
                    })?;
            } else {
                // Left over from an upgrade interrupted after its snapshot.
                for path in &replayed.legacy {
                    log::remove_quietly(path);
                }
            }
        }
        let snapshot = replayed.snapshot;
        let mut store = StateStore {
            dir,
            policy,
            monitors: HashMap::new(),
            retired: snapshot.monitors.into_iter().collect(),
            downtimes: snapshot.downtimes,
            downtimes_dirty: false,
            pending: BTreeMap::new(),
            next_flush: replayed.last_flush + 1,
            log: LogSize {
                files: replayed.flushes.len(),
                bytes: replayed.flush_bytes,
                snapshot_bytes: replayed.snapshot_bytes,
            },
        };
        store.prune_downtimes(now);
        Ok(store)
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the configured monitors exactly `names`: new ones get their
    /// saved data (or start PENDING), removed ones leave memory after their
    /// unsaved changes are queued for the next flush; their data is kept.
    pub fn set_monitors<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, now: i64) {
        let wanted: HashSet<&str> = names.into_iter().collect();
        let gone: Vec<String> = self
            .monitors
            .keys()
            .filter(|n| !wanted.contains(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(mut record) = self.monitors.remove(&name) {
                serialize(
                    &name,
                    &mut record,
                    &self.policy,
                    i64::MAX,
                    true,
                    &mut self.pending,
                );
                let stored = Stored {
                    intervals: Some(record.history.intervals_part()),
                    series: Some(record.history.series_part()),
                    state: Some(record.state),
                };
                self.retired.insert(name, stored);
            }
        }
        for name in wanted {
            self.ensure(name, now);
        }
    }

    /// The configured monitor names, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.monitors.keys().map(String::as_str)
    }

    fn ensure(&mut self, name: &str, now: i64) -> &mut Record {
        let (retired, policy) = (&mut self.retired, &self.policy);
        self.monitors
            .entry(name.to_owned())
            .or_insert_with(|| restore(name, retired.remove(name).unwrap_or_default(), policy, now))
    }

    /// A monitor's state.
    pub fn state(&self, name: &str) -> Option<&MonitorState> {
        self.monitors.get(name).map(|r| &r.state)
    }

    /// A monitor's history.
    pub fn history(&self, name: &str) -> Option<&History> {
        self.monitors.get(name).map(|r| &r.history)
    }
    /// The context to apply a result of monitor `name` with: its
    /// configuration, whether its parent is failing and whether it is in a
    /// downtime at `now`.
    pub fn context(
        &self,
        name: &str,
        monitor: &MonitorConfig,
        monitoring: &MonitoringConfig,
        now: i64,
    ) -> ApplyContext {
        ApplyContext {
            parent_problem: monitor
                .parent
                .as_deref()
                .and_then(|p| self.state(p))
                .is_some_and(|s| s.state.is_failure()),
            in_downtime: self.downtimes.active(name, now),
            ..ApplyContext::new(now, monitor, monitoring)
        }
    }

    /// Applies a check result to monitor `name` (added if it is new) and
    /// records it in its history.
    pub fn apply(&mut self, name: &str, outcome: &CheckOutcome, ctx: &ApplyContext) -> Applied {
        let record = self.ensure(name, ctx.now);
        let before = significant(&record.state);
        let applied = record.state.apply(outcome, ctx);
        let new_interval = record.history.record(
            ctx.now,
            record.state.state,
            ctx.in_downtime,
            outcome.response_time(),
        );
        let dirty = if significant(&record.state) != before {
            Dirty::Changed
        } else {
            Dirty::Checked
        };
        record.state_dirty = record.state_dirty.max(dirty);
        record.intervals_dirty |= new_interval;
        record.series_dirty = true;
        applied
    }

    /// Acknowledges monitor `name`'s problem.
    pub fn acknowledge(&mut self, name: &str, ack: Ack) -> Result<(), StoreError> {
        let record = self
            .monitors
            .get_mut(name)
            .ok_or_else(|| StoreError::UnknownMonitor(name.to_owned()))?;
        record.state.acknowledge(ack)?;
        record.state_dirty = Dirty::Changed;
        Ok(())
    }

    /// Removes monitor `name`'s acknowledgement, returning it.
    pub fn remove_acknowledgement(&mut self, name: &str) -> Result<Option<Ack>, StoreError> {
        let record = self
            .monitors
            .get_mut(name)
            .ok_or_else(|| StoreError::UnknownMonitor(name.to_owned()))?;
        let ack = record.state.remove_acknowledgement();
        if ack.is_some() {
            record.state_dirty = Dirty::Changed;
        }
        Ok(ack)
    }

    /// All downtimes.
    pub fn downtimes(&self) -> &Downtimes {
        &self.downtimes
    }

    /// Adds a downtime.
    pub fn add_downtime(&mut self, new: NewDowntime, now: i64) -> Result<Downtime, StoreError> {
        let added = self.downtimes.add(new, now)?.clone();
        self.downtimes_dirty = true;
        Ok(added)
    }

    /// Removes a downtime.
    pub fn remove_downtime(&mut self, id: DowntimeId) -> Option<Downtime> {
        let removed = self.downtimes.remove(id);
        self.downtimes_dirty |= removed.is_some();
        removed
    }

    /// Whether monitor `name` is in a downtime at `now`.
    pub fn in_downtime(&self, name: &str, now: i64) -> bool {
        self.downtimes.active(name, now)
    }

    /// Monitor `name`'s availability over 24 h, 7 d and 30 d, leaving its
    /// downtimes out.
    pub fn availability(&self, name: &str, now: i64) -> Option<Availability> {
        let history = self.history(name)?;
        let windows = self
            .downtimes
            .windows(name, History::availability_from(now), now);
        Some(history.availability_summary(now, &windows))
    }

    fn prune_downtimes(&mut self, now: i64) {
        if self.downtimes.prune(now.saturating_sub(nanos(RETENTION))) > 0 {
            self.downtimes_dirty = true;
        }
    }

    /// Collects what is due at `now` (see the module docs) and marks it
    /// clean. Cheap: call it under the lock, then [`FlushBatch::write`]
    /// without, then [`StateStore::finish_flush`].
    pub fn prepare_flush(&mut self, now: i64) -> FlushBatch {
        self.collect(now, false)
    }

    /// Collects everything not yet written, due or not (at shutdown).
    pub fn prepare_flush_all(&mut self, now: i64) -> FlushBatch {
        self.collect(now, true)
    }

    /// Takes back what a flush could not write, for the next flush (unless
    /// newer data for the same part is queued by then), and notes the sizes
    /// of the files written.
    pub fn finish_flush(&mut self, report: &mut FlushReport) {
        if report.error.is_none() && report.entries > 0 {
            self.log.files += 1;
            self.log.bytes += report.bytes;
        }
        if report.compacted {
            // Also after a failed snapshot, so that a refusing disk is not
            // asked again at every flush.
            self.log.files = 0;
            self.log.bytes = 0;
            if let Some(bytes) = report.snapshot_bytes {
                self.log.snapshot_bytes = bytes;
            }
        }
        for entry in std::mem::take(&mut report.unsaved) {
            match entry.key() {
                Some(key) => {
                    self.pending.entry(key).or_insert(entry);
                }
                None => self.downtimes_dirty = true,
            }
        }
    }

    /// [`StateStore::prepare_flush`], write, and [`StateStore::finish_flush`].
    pub fn flush(&mut self, now: i64) -> FlushReport {
        let mut report = self.prepare_flush(now).write();
        self.finish_flush(&mut report);
        report
    }

    /// [`StateStore::prepare_flush_all`], write, and [`StateStore::finish_flush`].
    pub fn flush_all(&mut self, now: i64) -> FlushReport {
        let mut report = self.prepare_flush_all(now).write();
        self.finish_flush(&mut report);
        report
    }

    fn collect(&mut self, now: i64, all: bool) -> FlushBatch {
        self.prune_downtimes(now);
        let mut parts = std::mem::take(&mut self.pending);
        for (name, record) in self.monitors.iter_mut() {
            serialize(name, record, &self.policy, now, all, &mut parts);
        }
        let mut entries: Vec<Entry> = parts.into_values().collect();
        if self.downtimes_dirty {
            entries.push(Entry::Downtimes {
                downtimes: self.downtimes.clone(),
            });
            self.downtimes_dirty = false;
        }
        let compact = self.log.snapshot_due(self.policy.snapshot_after_files);
        let number = self.next_flush;
        if !entries.is_empty() {
            self.next_flush += 1;
        }
        FlushBatch {
            dir: self.dir.clone(),
            number,
            entries,
            compact,
        }
    }

    /// Removes monitor `name` from memory and deletes its saved data with
    /// the next flush.
    pub fn forget(&mut self, name: &str) {
        self.monitors.remove(name);
        self.retired.remove(name);
        self.pending.retain(|(monitor, _), _| monitor != name);
        self.pending.insert(
            (name.to_owned(), PartKind::Forget),
            Entry::Forget {
                monitor: name.to_owned(),
            },
        );
    }
}

/// Adds the parts of `r` due at `now` (all unsaved ones with `all`) to
/// `out`, marking them clean.
fn serialize(
    name: &str,
    r: &mut Record,
    policy: &FlushPolicy,
    now: i64,
    all: bool,
    out: &mut BTreeMap<(String, PartKind), Entry>,
) {
    let state_due = match r.state_dirty {
        Dirty::Changed => true,
        Dirty::Checked => all || now >= r.state_due,
        Dirty::Clean => false,
    };
    if state_due {
        out.insert(
            (name.to_owned(), PartKind::State),
            Entry::State {
                monitor: name.to_owned(),
                state: r.state.clone(),
            },
        );
        r.state_dirty = Dirty::Clean;
        r.state_due = now.saturating_add(nanos(policy.state_every));
    }
    if r.intervals_dirty && (all || now >= r.intervals_due) {
        out.insert(
            (name.to_owned(), PartKind::Intervals),
            Entry::Intervals {
                monitor: name.to_owned(),
                intervals: r.history.intervals_part(),
            },
        );
        r.intervals_dirty = false;
        r.intervals_due = now.saturating_add(nanos(policy.intervals_every));
    }
    if r.series_dirty && (all || now >= r.series_due) {
        out.insert(
            (name.to_owned(), PartKind::Series),
            Entry::Series {
                monitor: name.to_owned(),
                series: r.history.series_part(),
            },
        );
        r.series_dirty = false;
        r.series_due = now.saturating_add(nanos(policy.series_every));
    }
}

/// Reads the per-monitor files of earlier versions, writes them as a
/// snapshot, deletes them and replays the directory again. If the snapshot
/// cannot be written, the old files stay and are used as they are.
fn upgrade(dir: &Path, files: &[PathBuf]) -> io::Result<log::Replayed> {
    let snapshot = legacy::read(dir, files);
    tracing::info!(
        dir = %dir.display(), monitors = snapshot.monitors.len(),
        "monitor states of an earlier version read; writing them as one snapshot"
    );
    if let Err(error) = log::write_snapshot(dir, &snapshot) {
        tracing::warn!(
            dir = %dir.display(), %error,
            "cannot write the monitor state snapshot; reading the old files again at the next start"
        );
        return Ok(log::Replayed {
            snapshot,
            ..log::Replayed::default()
        });
    }
    for path in files {
        log::remove_quietly(path);
    }
    log::replay(dir)
}

/// A monitor's record from its saved data.
fn restore(name: &str, stored: Stored, policy: &FlushPolicy, now: i64) -> Record {
    let mut history = History::default();
    if let Some(part) = stored.intervals
        && let Err(error) = history.set_intervals_part(part)
    {
        tracing::warn!(monitor = name, %error, "damaged state intervals; starting without them");
    }
    if let Some(part) = stored.series
        && let Err(error) = history.set_series_part(part)
    {
        tracing::warn!(monitor = name, %error, "damaged response times; starting without them");
    }
    Record {
        state: stored.state.unwrap_or_default(),
        history,
        state_dirty: Dirty::Clean,
        intervals_dirty: false,
        series_dirty: false,
        state_due: now.saturating_add(stagger(name, policy.state_every)),
        intervals_due: now,
        series_due: now.saturating_add(stagger(name, policy.series_every)),
    }
}

/// What makes a state change worth writing at the next flush.
type Significant = (State, StateType, u32, bool, Option<Ack>);

fn significant(s: &MonitorState) -> Significant {
    (
        s.state,
        s.state_type,
        s.attempt,
        s.flap.flapping,
        s.ack.clone(),
    )
}

#[cfg(test)]
mod tests;
