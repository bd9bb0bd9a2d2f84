//! What each output is doing, for the admin page, and the metrics behind
//! `/metrics`. Every change goes through [`Reporter`], which updates both,
//! so the page and the metrics cannot disagree.
//!
//! Metrics, each labelled `output`:
//! * `hark_output_lag_events`: events in the WAL the output has not committed;
//! * `hark_output_delivered_total`: events the destination took;
//! * `hark_output_filtered_total`: events its `query` did not select (not a failure);
//! * `hark_output_failed_attempts_total`: delivery attempts that failed;
//! * `hark_output_up`: 1 after a delivery succeeded, 0 after one failed;
//! * `hark_output_last_error_timestamp_seconds`: when the last attempt failed;
//! * `hark_output_detached`: 1 once the output was detached for lagging
//!   beyond `storage.wal_max_retained` (it then stops).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Where an output stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputState {
    /// Delivering, or waiting for events.
    Running,
    /// The last attempt failed; it retries after a backoff.
    Retrying,
    /// Detached for lagging beyond the WAL cap; stopped.
    Detached,
    /// Stopped on an error it cannot retry (see `last_error`).
    Failed,
    /// Stopped at shutdown.
    Stopped,
}

impl OutputState {
    /// Lower-case name, as shown.
    pub fn name(self) -> &'static str {
        match self {
            OutputState::Running => "running",
            OutputState::Retrying => "retrying",
            OutputState::Detached => "detached",
            OutputState::Failed => "failed",
            OutputState::Stopped => "stopped",
        }
    }
}

/// One output's status.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutputStatus {
    /// Where it stands.
    pub state: OutputState,
    /// Events in the WAL not yet committed by it.
    pub lag_events: u64,
    /// Events delivered since the start.
    pub delivered: u64,
    /// Failed attempts since the start.
    pub failed_attempts: u64,
    /// The last failure, if any (cleared by nothing: it stays for the record).
    pub last_error: Option<String>,
}

impl Default for OutputStatus {
    fn default() -> Self {
        OutputStatus {
            state: OutputState::Running,
            lag_events: 0,
            delivered: 0,
            failed_attempts: 0,
            last_error: None,
        }
    }
}

/// The status of every output, by name; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    inner: Arc<Mutex<BTreeMap<String, OutputStatus>>>,
}

impl Statuses {
    /// A copy of every output's status, by name.
    pub fn snapshot(&self) -> BTreeMap<String, OutputStatus> {
        self.lock().clone()
    }

    /// Registers output `name` and returns the handle that reports for it.
    pub fn reporter(&self, name: &str) -> Reporter {
        self.lock().insert(name.to_owned(), OutputStatus::default());
        Reporter {
            name: name.to_owned(),
            statuses: self.clone(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, OutputStatus>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reports for one output: status and metrics together.
#[derive(Debug, Clone)]
pub struct Reporter {
    name: String,
    statuses: Statuses,
}

impl Reporter {
    /// The output's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn update(&self, f: impl FnOnce(&mut OutputStatus)) {
        let mut all = self.statuses.lock();
        let status = all.entry(self.name.clone()).or_default();
        f(status);
    }

    /// Events in the WAL the output has not committed.
    pub fn lag(&self, events: u64) {
        metrics::gauge!("hark_output_lag_events", "output" => self.name.clone()).set(events as f64);
        self.update(|s| s.lag_events = events);
    }

    /// The destination took `n` events.
    pub fn delivered(&self, n: usize) {
        if n > 0 {
            metrics::counter!("hark_output_delivered_total", "output" => self.name.clone())
                .increment(n as u64);
        }
        metrics::gauge!("hark_output_up", "output" => self.name.clone()).set(1.0);
        self.update(|s| {
            s.delivered += n as u64;
            s.state = OutputState::Running;
        });
    }

    /// The query left out `n` events.
    pub fn filtered(&self, n: usize) {
        if n > 0 {
            metrics::counter!("hark_output_filtered_total", "output" => self.name.clone())
                .increment(n as u64);
        }
    }

    /// An attempt failed; the output retries.
    pub fn failed(&self, error: &str) {
        metrics::counter!("hark_output_failed_attempts_total", "output" => self.name.clone())
            .increment(1);
        metrics::gauge!("hark_output_up", "output" => self.name.clone()).set(0.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        metrics::gauge!("hark_output_last_error_timestamp_seconds", "output" => self.name.clone())
            .set(now);
        self.update(|s| {
            s.failed_attempts += 1;
            s.last_error = Some(error.to_owned());
            s.state = OutputState::Retrying;
        });
    }

    /// The output was detached and stops.
    pub fn detached(&self, error: &str) {
        metrics::gauge!("hark_output_detached", "output" => self.name.clone()).set(1.0);
        metrics::gauge!("hark_output_up", "output" => self.name.clone()).set(0.0);
        self.update(|s| {
            s.last_error = Some(error.to_owned());
            s.state = OutputState::Detached;
        });
    }

    /// The output stopped on an error it cannot retry.
    pub fn stopped_on(&self, error: &str) {
        metrics::gauge!("hark_output_up", "output" => self.name.clone()).set(0.0);
        self.update(|s| {
            s.last_error = Some(error.to_owned());
            s.state = OutputState::Failed;
        });
    }

    /// The output stopped at shutdown.
    pub fn stopped(&self) {
        self.update(|s| {
            if s.state != OutputState::Detached && s.state != OutputState::Failed {
                s.state = OutputState::Stopped;
            }
        });
    }

    /// Initialises the metrics so they show before the first event.
    pub(crate) fn started(&self) {
        metrics::gauge!("hark_output_detached", "output" => self.name.clone()).set(0.0);
        metrics::counter!("hark_output_delivered_total", "output" => self.name.clone())
            .increment(0);
        metrics::counter!("hark_output_failed_attempts_total", "output" => self.name.clone())
            .increment(0);
        metrics::counter!("hark_output_filtered_total", "output" => self.name.clone()).increment(0);
    }
}
