//! The running monitoring service: the configured monitors, their states,
//! the scheduler that checks them, and the sink their state changes go to.
//!
//! ```no_run
//! # async fn demo(cfg: hark_config::Config) -> Result<(), hark_monitor::service::ServiceError> {
//! use hark_monitor::service::{Monitoring, NullSink};
//! let monitoring = Monitoring::start(&cfg, std::sync::Arc::new(NullSink))?;
//! for m in monitoring.list() {
//!     println!("{} {} {}", m.name, m.state, m.output);
//! }
//! monitoring.shutdown().await;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hark_config::Config;
use hark_config::monitor::{MonitorConfig, MonitoringConfig};
use hark_event::Event;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::checks::{CheckContext, ContextError, run_check};
use crate::downtime::{Downtime, DowntimeId, NewDowntime};
use crate::event::change_event;
use crate::flapping::FlapTransition;
use crate::history::{Availability, Interval, Series};
use crate::outcome::{CheckOutcome, Perf};
use crate::persist::{StateStore, StoreError};
use crate::scheduler::{self, Job, NextRun, Plan};
use crate::serde_time::{rfc3339, rfc3339_opt};
use crate::state::{Ack, State, StateChange, StateType};

use crate::telemetry;

/// Where state-change events go (the store, in a server).
pub trait EventSink: Send + Sync + 'static {
    /// Takes one event; must not block.
    fn emit(&self, event: Event);
}

/// A sink that drops events (for tests that do not look).
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: Event) {}
}

/// Why the service could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The shared check context could not be built.
    #[error("cannot prepare the checks: {0}")]
    Context(#[from] ContextError),
    /// No monitor has this name.
    #[error("no monitor named `{0}`")]
    NoSuchMonitor(String),
    /// The state store refused (an acknowledgement of no problem, a bad
    /// downtime) or could not open its directory.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One monitor as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorView {
    /// The configured name.
    pub name: String,
    /// Check type (`icmp`, `tcp`, `http`, `dns`, `snmp`, `metrics`).
    #[serde(rename = "type")]
    pub kind: String,
    /// What is checked.
    pub target: String,
    /// Current state.
    pub state: State,
    /// `soft` or `hard`.
    pub state_type: StateType,
    /// Current attempt.
    pub attempt: u32,
    /// Attempts before a problem is hard.
    pub max_attempts: u32,
    /// The latest output.
    pub output: String,
    /// When the latest check ran.
    #[serde(with = "rfc3339_opt")]
    pub last_check: Option<i64>,
    /// When the state or its type last changed.
    #[serde(with = "rfc3339_opt")]
    pub last_change: Option<i64>,
    /// When the next check is due.
    #[serde(with = "rfc3339_opt")]
    pub next_check: Option<i64>,
    /// Performance data of the latest check.
    pub perf: Vec<Perf>,
    /// The state changes too often to be trusted.
    pub flapping: bool,
    /// Weighted state-change percentage over the last 20 results.
    pub flap_percent: f64,
    /// The latest result is older than 1.5× the interval.
    pub stale: bool,
    /// A downtime covers the monitor now.
    pub in_downtime: bool,
    /// Someone acknowledged the problem.
    pub acknowledged: bool,
    /// The acknowledgement, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Ack>,
    /// The parent monitor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Seconds between checks.
    pub interval: f64,
}

/// A monitor's history over a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryView {
    /// The monitor.
    pub name: String,
    /// Start of the range.
    #[serde(with = "rfc3339")]
    pub from: i64,
    /// End of the range.
    #[serde(with = "rfc3339")]
    pub to: i64,
    /// State intervals overlapping the range.
    pub intervals: Vec<Interval>,
    /// Response times in the range, at the finest resolution kept for it.
    pub response_times: Series,
    /// Availability over the last 24 h, 7 d and 30 d, downtime excluded.
    pub availability: Availability,
}

struct Entry {
    name: String,
    config: MonitorConfig,
    /// When the next check is due (nanoseconds since the epoch).
    next_check: Mutex<Option<i64>>,
}

struct Inner {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    settings: MonitoringConfig,
    ctx: CheckContext,
    states: Mutex<StateStore>,
    /// Held through a flush, so that flush files are written one at a time
    /// and in the order of their numbers.
    flushing: tokio::sync::Mutex<()>,
    sink: Arc<dyn EventSink>,
    /// Wall-clock nanoseconds at `base`, to turn scheduler instants into times.
    wall_at_base: i64,
    base: Instant,
}

/// The monitoring service. Cheap to clone.
#[derive(Clone)]
pub struct Monitoring {
    inner: Arc<Inner>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stop: CancellationToken,
}

/// How often changed states are written to the data directory.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Monitoring {
    /// Loads the monitors' saved states from `<data_dir>/monitors` and starts
    /// checking them on schedule. Must run inside a Tokio runtime.
    pub fn start(cfg: &Config, sink: Arc<dyn EventSink>) -> Result<Monitoring, ServiceError> {
        let now = hark_event::now_nanos();
        let base = Instant::now();
        let mut states = StateStore::open(&cfg.data_dir, now)?;
        states.set_monitors(cfg.monitors.keys().map(String::as_str), now);
        let ctx = CheckContext::new()?;
        for note in ctx.notes() {
            tracing::warn!("monitoring: {note}");
        }
        let mut entries = Vec::with_capacity(cfg.monitors.len());
        let mut by_name = HashMap::new();
        for (i, (name, config)) in cfg.monitors.iter().enumerate() {
            by_name.insert(name.clone(), i);
            entries.push(Entry {
                name: name.clone(),
                config: config.clone(),
                next_check: Mutex::new(None),
            });
        }
        let inner = Arc::new(Inner {
            entries,
            by_name,
            settings: cfg.monitoring.clone(),
            ctx,
            states: Mutex::new(states),
            flushing: tokio::sync::Mutex::new(()),
            sink,
            wall_at_base: now,
            base,
        });
        let plans = inner.plans(now, base);
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        if !plans.is_empty() {
            tasks.push(tokio::spawn(scheduler::run(
                inner.clone(),
                plans,
                inner.settings.concurrency,
                stop.clone(),
            )));
        }
        let flusher = inner.clone();
        let flush_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = flush_stop.cancelled() => break,
                    _ = tick.tick() => flusher.flush(false).await,
                }
            }
        }));
        Ok(Monitoring {
            inner,
            tasks: Arc::new(Mutex::new(tasks)),
            stop,
        })
    }

    /// Stops scheduling, waits for checks in flight, and saves every state.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let tasks: Vec<_> = lock(&self.tasks).drain(..).collect();
        for t in tasks {
            let _ = t.await;
        }
        self.inner.flush(true).await;
    }

    /// Every monitor, in name order.
    pub fn list(&self) -> Vec<MonitorView> {
        let now = hark_event::now_nanos();
        let states = lock(&self.inner.states);
        (0..self.inner.entries.len())
            .map(|i| self.inner.view(&states, i, now))
            .collect()
    }

    /// One monitor.
    pub fn get(&self, name: &str) -> Option<MonitorView> {
        let i = *self.inner.by_name.get(name)?;
        let states = lock(&self.inner.states);
        Some(self.inner.view(&states, i, hark_event::now_nanos()))
    }

    /// Whether monitor `name` is configured `public = true` (shown on the
    /// status page that needs no login); false for an unknown name.
    pub fn is_public(&self, name: &str) -> bool {
        self.inner
            .by_name
            .get(name)
            .is_some_and(|&i| self.inner.entries[i].config.public)
    }

    /// The history of monitor `name` between `from` and `to` (nanoseconds).
    pub fn history(&self, name: &str, from: i64, to: i64) -> Option<HistoryView> {
        self.inner.by_name.get(name)?;
        let now = hark_event::now_nanos();
        let states = lock(&self.inner.states);
        let history = states.history(name)?;
        Some(HistoryView {
            name: name.to_owned(),
            from,
            to,
            intervals: history.intervals(from, to),
            response_times: history.series(from, to),
            availability: states.availability(name, now)?,
        })
    }

    /// Runs the check of monitor `name` now and returns its outcome without
    /// touching the monitor's state.
    pub async fn check_now(&self, name: &str) -> Result<CheckOutcome, ServiceError> {
        let e = &self.inner.entries[self.index(name)?];
        Ok(run_check(&e.name, &e.config, &self.inner.ctx).await)
    }

    /// Acknowledges the current problem of monitor `name`.
    pub async fn acknowledge(
        &self,
        name: &str,
        author: &str,
        comment: &str,
        sticky: bool,
    ) -> Result<MonitorView, ServiceError> {
        let i = self.index(name)?;
        let ack = Ack {
            author: author.to_owned(),
            comment: comment.to_owned(),
            sticky,
            at: hark_event::now_nanos(),
        };
        lock(&self.inner.states).acknowledge(name, ack)?;
        self.inner.flush(false).await;
        let states = lock(&self.inner.states);
        Ok(self.inner.view(&states, i, hark_event::now_nanos()))
    }

    /// Removes the acknowledgement of monitor `name`; false when there was none.
    pub async fn remove_acknowledgement(&self, name: &str) -> Result<bool, ServiceError> {
        self.index(name)?;
        let removed = lock(&self.inner.states)
            .remove_acknowledgement(name)?
            .is_some();
        self.inner.flush(false).await;
        Ok(removed)
    }

    /// Every downtime.
    pub fn downtimes(&self) -> Vec<Downtime> {
        lock(&self.inner.states)
            .downtimes()
            .list()
            .cloned()
            .collect()
    }

    /// Adds a downtime and saves it.
    pub async fn add_downtime(&self, new: NewDowntime) -> Result<Downtime, ServiceError> {
        for m in new.monitors.iter().filter(|m| m.as_str() != "*") {
            self.index(m)?;
        }
        let added = lock(&self.inner.states).add_downtime(new, hark_event::now_nanos())?;
        self.inner.flush(false).await;
        Ok(added)
    }

    /// Removes a downtime; false when no downtime has this id.
    pub async fn remove_downtime(&self, id: DowntimeId) -> bool {
        let removed = lock(&self.inner.states).remove_downtime(id).is_some();
        self.inner.flush(false).await;
        removed
    }

    fn index(&self, name: &str) -> Result<usize, ServiceError> {
        self.inner
            .by_name
            .get(name)
            .copied()
            .ok_or_else(|| ServiceError::NoSuchMonitor(name.to_owned()))
    }
}

impl Inner {
    /// The first run of each monitor: where it was checked before a restart
    /// it resumes on its old grid, otherwise at a random offset inside its
    /// interval so that the load is spread.
    fn plans(&self, now: i64, base: Instant) -> Vec<Plan> {
        let mut rng = rand::rng();
        let states = lock(&self.states);
        self.entries
            .iter()
            .map(|e| {
                let interval = e.config.interval;
                let step = u64::try_from(interval.as_nanos())
                    .unwrap_or(u64::MAX)
                    .max(1);
                let last = states.state(&e.name).and_then(|s| s.last_check);
                let offset = match last {
                    Some(last) if last <= now => {
                        let elapsed = u64::try_from(now - last).unwrap_or(0);
                        Duration::from_nanos(step - elapsed % step)
                    }
                    _ => Duration::from_nanos(rng.random_range(0..step)),
                };
                Plan {
                    interval,
                    retry_interval: e.config.retry_interval,
                    first_due: base + offset,
                }
            })
            .collect()
    }

    fn wall(&self, at: Instant) -> i64 {
        let d = at.saturating_duration_since(self.base).as_nanos();
        self.wall_at_base
            .saturating_add(i64::try_from(d).unwrap_or(i64::MAX))
    }

    fn view(&self, states: &StateStore, i: usize, now: i64) -> MonitorView {
        let e = &self.entries[i];
        let fresh = crate::state::MonitorState::new();
        let s = states.state(&e.name).unwrap_or(&fresh);
        MonitorView {
            name: e.name.clone(),
            kind: e.config.kind().name().to_owned(),
            target: e.config.target().to_owned(),
            state: s.state,
            state_type: s.state_type,
            attempt: s.attempt,
            max_attempts: e.config.max_attempts,
            output: s.output.clone(),
            last_check: s.last_check,
            last_change: s.last_change,
            next_check: *lock(&e.next_check),
            perf: s.perf.clone(),
            flapping: s.is_flapping(),
            flap_percent: s.flap_percent(),
            stale: s.last_check.is_some() && s.is_stale(now, e.config.interval),
            in_downtime: states.in_downtime(&e.name, now),
            acknowledged: s.ack.is_some(),
            ack: s.ack.clone(),
            parent: e.config.parent.clone(),
            interval: e.config.interval.as_secs_f64(),
        }
    }

    /// Writes what is due (or, with `all`, everything changed) without
    /// holding the lock during the I/O.
    async fn flush(self: &Arc<Self>, all: bool) {
        let _one_at_a_time = self.flushing.lock().await;
        let now = hark_event::now_nanos();
        let batch = {
            let mut states = lock(&self.states);
            if all {
                states.prepare_flush_all(now)
            } else {
                states.prepare_flush(now)
            }
        };
        if batch.is_empty() {
            return;
        }
        let mut report = match tokio::task::spawn_blocking(move || batch.write()).await {
            Ok(report) => report,
            Err(e) => {
                tracing::error!("saving monitor states failed: {e}");
                return;
            }
        };
        if report.error.is_some() {
            tracing::warn!("cannot save monitor states; retrying at the next flush");
        }
        lock(&self.states).finish_flush(&mut report);
    }
}

impl Job for Inner {
    async fn run(&self, index: usize, _due: Instant, lateness: Duration) -> NextRun {
        let e = &self.entries[index];
        let kind = e.config.kind().name();
        telemetry::lateness(kind, lateness);
        let outcome = run_check(&e.name, &e.config, &self.ctx).await;
        telemetry::checked(kind, outcome.status, outcome.duration);
        let now = hark_event::now_nanos();
        let (applied, flap_change) = {
            let mut states = lock(&self.states);
            let ctx = states.context(&e.name, &e.config, &self.settings, now);
            let applied = states.apply(&e.name, &outcome, &ctx);
            // Flapping that starts or stops without a state change is an
            // event too, so whoever follows the events (alert rules) sees it.
            let flap_change = match (&applied.change, applied.flapping) {
                (None, FlapTransition::Started | FlapTransition::Stopped) => {
                    states.state(&e.name).map(|st| StateChange {
                        at: now,
                        state: st.state,
                        previous_state: st.state,
                        // Not a hard change: only flapping changed.
                        state_type: StateType::Soft,
                        attempt: st.attempt,
                        output: st.output.clone(),
                        perf: st.perf.clone(),
                        hard: false,
                        in_downtime: ctx.in_downtime,
                        flapping: st.is_flapping(),
                    })
                }
                _ => None,
            };
            (applied, flap_change)
        };
        if let Some(change) = &applied.change {
            telemetry::state_change(kind, change.state, change.hard);
            self.sink.emit(change_event(&e.name, &e.config, change));
        }
        if let Some(change) = &flap_change {
            self.sink.emit(change_event(&e.name, &e.config, change));
        }
        if applied.use_retry_interval {
            NextRun::Retry
        } else {
            NextRun::Interval
        }
    }

    fn scheduled(&self, index: usize, due: Instant) {
        *lock(&self.entries[index].next_check) = Some(self.wall(due));
    }
}
