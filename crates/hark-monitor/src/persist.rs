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
//! // Every few seconds, and with flush_all at shutdown:
//! let batch = store.prepare_flush(now); // cheap, under the lock
//! let report = batch.write();           // blocking I/O, without the lock
//! store.requeue(report.failed);
//! # }
//! ```
//!
//! # Files
//!
//! Per monitor, with the name escaped (see [`file_stem`]):
//!
//! * `<name>.state.json`: the [`MonitorState`] (about 1 KB). Written at the
//!   next flush when the state, state type, attempt, flapping or
//!   acknowledgement changed; otherwise (a new `last_check` and output) at
//!   most every [`FlushPolicy::state_every`] (5 minutes).
//! * `<name>.intervals.json`: the state intervals, at the next flush after a
//!   new interval began, at most every [`FlushPolicy::intervals_every`] (1 minute).
//! * `<name>.series.json`: the response-time series (up to ~35 KB), at most
//!   every [`FlushPolicy::series_every`] (1 hour).
//!
//! and `downtimes.json` for all downtimes, at the next flush after a change.
//!
//! Each file is written whole to `<file>.tmp`, fsynced and renamed over the
//! old one; the directory is fsynced once per flush. [`StateStore::flush_all`]
//! (at shutdown) writes everything that changed regardless of the periods.
//! A crash loses at most those periods of last-check times and response
//! times, never a state change that a completed flush saw.
//!
//! Lazy writes are spread over their period by a hash of the monitor name, so
//! 5 000 monitors checked every minute cost about 17 state files (~0.4 KB
//! each) and 1.4 series files (~35 KB each) a second, some 55 KB/s, plus the
//! files of monitors whose state changed, rather than one burst. A flush at
//! shutdown writes every monitor checked since its last write: up to three
//! files per monitor (~40 KB).
//!
//! # Loading
//!
//! A missing file means a new monitor: PENDING, empty history. A file that
//! cannot be read or parsed is logged, renamed to `<file>.corrupt` (kept for
//! inspection, replaced by the next corrupt one) and the monitor starts
//! PENDING or with that part of its history empty. The files of a monitor
//! removed from the configuration are left alone, so that adding it back
//! restores its state and history; [`StateStore::forget`] deletes them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hark_config::monitor::{MonitorConfig, MonitoringConfig};
use serde::Serialize;

use crate::downtime::{Downtime, DowntimeError, DowntimeId, Downtimes, NewDowntime};
use crate::history::{Availability, History, IntervalsPart, RETENTION, SeriesPart};
use crate::outcome::CheckOutcome;
use crate::state::{Ack, AckError, Applied, ApplyContext, MonitorState, State, StateType};

mod files;

pub use files::{FailedWrite, FileWrite, FlushBatch, FlushReport, file_stem};
use files::{Named, fnv1a, load_json, load_named, set_aside};

const DOWNTIMES_FILE: &str = "downtimes.json";

/// How often lazily changed data is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushPolicy {
    /// A state whose only news is the latest check (time, output, perf).
    pub state_every: Duration,
    /// State intervals after a new one began.
    pub intervals_every: Duration,
    /// The response-time series.
    pub series_every: Duration,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        FlushPolicy {
            state_every: Duration::from_secs(300),
            intervals_every: Duration::from_secs(60),
            series_every: Duration::from_secs(3600),
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
    /// No such monitor.
    #[error("there is no monitor named {0:?}")]
    UnknownMonitor(String),
    /// The acknowledgement was refused.
    #[error(transparent)]
    Ack(#[from] AckError),
    /// The downtime was refused.
    #[error(transparent)]
    Downtime(#[from] DowntimeError),
    /// A file could not be deleted.
    #[error("cannot delete {path}: {source}")]
    Delete {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// How urgently a monitor's state file needs writing.
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
    downtimes: Downtimes,
    downtimes_dirty: bool,
    /// Serialized files waiting for a flush: from removed monitors and
    /// failed writes.
    pending: BTreeMap<PathBuf, Vec<u8>>,
}

impl StateStore {
    /// Opens (creating) `<data_dir>/monitors` with the default [`FlushPolicy`]
    /// and loads the downtimes. Monitors come with [`StateStore::set_monitors`].
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
        let downtimes = load_json::<Downtimes>(&dir.join(DOWNTIMES_FILE)).unwrap_or_default();
        let mut store = StateStore {
            dir,
            policy,
            monitors: HashMap::new(),
            downtimes,
            downtimes_dirty: false,
            pending: BTreeMap::new(),
        };
        store.prune_downtimes(now);
        Ok(store)
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the configured monitors exactly `names`: new ones are loaded
    /// from their files (or start PENDING), removed ones leave memory after
    /// their unsaved changes are queued for the next flush; their files stay.
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
                for w in self.serialize(&name, &mut record, i64::MAX, true) {
                    self.pending.insert(w.path, w.bytes);
                }
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
        let (dir, policy) = (&self.dir, &self.policy);
        self.monitors
            .entry(name.to_owned())
            .or_insert_with(|| load(dir, policy, name, now))
    }

    fn path(&self, name: &str, kind: &str) -> PathBuf {
        monitor_path(&self.dir, name, kind)
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

    /// Serializes what is due at `now` (see the module docs) and marks it
    /// clean. Cheap: call it under the lock, then [`FlushBatch::write`]
    /// without.
    pub fn prepare_flush(&mut self, now: i64) -> FlushBatch {
        self.collect(now, false)
    }

    /// Serializes everything not yet written, due or not (at shutdown).
    pub fn prepare_flush_all(&mut self, now: i64) -> FlushBatch {
        self.collect(now, true)
    }

    /// [`StateStore::prepare_flush`], write, and requeue what failed.
    pub fn flush(&mut self, now: i64) -> FlushReport {
        let mut report = self.prepare_flush(now).write();
        self.requeue(std::mem::take(&mut report.failed));
        report
    }

    /// [`StateStore::prepare_flush_all`], write, and requeue what failed.
    pub fn flush_all(&mut self, now: i64) -> FlushReport {
        let mut report = self.prepare_flush_all(now).write();
        self.requeue(std::mem::take(&mut report.failed));
        report
    }

    /// Queues failed writes for the next flush (unless newer content for the
    /// same file is queued by then).
    pub fn requeue(&mut self, failed: Vec<FailedWrite>) {
        for f in failed {
            self.pending.entry(f.write.path).or_insert(f.write.bytes);
        }
    }

    fn collect(&mut self, now: i64, all: bool) -> FlushBatch {
        self.prune_downtimes(now);
        let mut files = std::mem::take(&mut self.pending);
        if self.downtimes_dirty {
            match serde_json::to_vec_pretty(&self.downtimes) {
                Ok(bytes) => {
                    files.insert(self.dir.join(DOWNTIMES_FILE), bytes);
                    self.downtimes_dirty = false;
                }
                Err(error) => tracing::error!(%error, "cannot serialize the downtimes"),
            }
        }
        let mut records = std::mem::take(&mut self.monitors);
        for (name, record) in records.iter_mut() {
            for w in self.serialize(name, record, now, all) {
                files.insert(w.path, w.bytes);
            }
        }
        self.monitors = records;
        FlushBatch {
            dir: self.dir.clone(),
            writes: files
                .into_iter()
                .map(|(path, bytes)| FileWrite { path, bytes })
                .collect(),
        }
    }

    /// The files of `record` due at `now` (all unsaved ones with `all`),
    /// marking them clean.
    fn serialize(&self, name: &str, r: &mut Record, now: i64, all: bool) -> Vec<FileWrite> {
        let mut out = Vec::new();
        let state_due = match r.state_dirty {
            Dirty::Changed => true,
            Dirty::Checked => all || now >= r.state_due,
            Dirty::Clean => false,
        };
        if state_due && let Some(w) = self.named(name, "state", &r.state) {
            out.push(w);
            r.state_dirty = Dirty::Clean;
            r.state_due = now.saturating_add(nanos(self.policy.state_every));
        }
        if r.intervals_dirty
            && (all || now >= r.intervals_due)
            && let Some(w) = self.named(name, "intervals", &r.history.intervals_part())
        {
            out.push(w);
            r.intervals_dirty = false;
            r.intervals_due = now.saturating_add(nanos(self.policy.intervals_every));
        }
        if r.series_dirty
            && (all || now >= r.series_due)
            && let Some(w) = self.named(name, "series", &r.history.series_part())
        {
            out.push(w);
            r.series_dirty = false;
            r.series_due = now.saturating_add(nanos(self.policy.series_every));
        }
        out
    }

    fn named<T: Serialize>(&self, name: &str, kind: &str, data: &T) -> Option<FileWrite> {
        let file = Named {
            name: name.to_owned(),
            data,
        };
        match serde_json::to_vec(&file) {
            Ok(bytes) => Some(FileWrite {
                path: self.path(name, kind),
                bytes,
            }),
            Err(error) => {
                tracing::error!(monitor = name, kind, %error, "cannot serialize monitor data");
                None
            }
        }
    }

    /// Removes monitor `name` from memory and deletes its files.
    pub fn forget(&mut self, name: &str) -> Result<(), StoreError> {
        self.monitors.remove(name);
        for kind in ["state", "intervals", "series"] {
            let path = self.path(name, kind);
            self.pending.remove(&path);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Delete { path, source }),
            }
        }
        Ok(())
    }
}

fn monitor_path(dir: &Path, name: &str, kind: &str) -> PathBuf {
    dir.join(format!("{}.{kind}.json", file_stem(name)))
}

/// A monitor's state and history from its files.
fn load(dir: &Path, policy: &FlushPolicy, name: &str, now: i64) -> Record {
    let state =
        load_named::<MonitorState>(&monitor_path(dir, name, "state"), name).unwrap_or_default();
    let mut history = History::default();
    let path = monitor_path(dir, name, "intervals");
    if let Some(part) = load_named::<IntervalsPart>(&path, name)
        && let Err(e) = history.set_intervals_part(part)
    {
        set_aside(&path, &e);
    }
    let path = monitor_path(dir, name, "series");
    if let Some(part) = load_named::<SeriesPart>(&path, name)
        && let Err(e) = history.set_series_part(part)
    {
        set_aside(&path, &e);
    }
    Record {
        state,
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
