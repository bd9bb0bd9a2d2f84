//! The monitoring service's own metrics, one function each so names and
//! labels stay the same wherever they are emitted.
//!
//! Metrics (Prometheus names):
//! - `hark_monitor_checks_total{type,status}`: checks run, by result;
//! - `hark_monitor_check_duration_seconds{type}`: how long checks take;
//! - `hark_monitor_check_lateness_seconds{type}`: how long after its due
//!   time a check started (waiting for a free slot, or a busy runtime);
//! - `hark_monitor_state_changes_total{type,state,hard}`: state changes.

use std::time::Duration;

use crate::outcome::Status;
use crate::state::State;

/// A check of type `kind` started `lateness` after it was due.
pub fn lateness(kind: &'static str, lateness: Duration) {
    metrics::histogram!("hark_monitor_check_lateness_seconds", "type" => kind)
        .record(lateness.as_secs_f64());
}

/// A check of type `kind` finished with `status` after `took`.
pub fn checked(kind: &'static str, status: Status, took: Duration) {
    metrics::counter!("hark_monitor_checks_total", "type" => kind, "status" => status.name())
        .increment(1);
    metrics::histogram!("hark_monitor_check_duration_seconds", "type" => kind)
        .record(took.as_secs_f64());
}

/// A monitor of type `kind` changed to `state`.
pub fn state_change(kind: &'static str, state: State, hard: bool) {
    metrics::counter!(
        "hark_monitor_state_changes_total",
        "type" => kind,
        "state" => state.name(),
        "hard" => if hard { "true" } else { "false" }
    )
    .increment(1);
}
