//! The state of one monitor and how check results change it: soft and hard
//! states with attempts (Nagios semantics), UNREACHABLE behind a failing
//! parent, flapping, staleness and acknowledgements. Pure logic: no clock,
//! no I/O.
//!
//! # Use
//!
//! ```
//! use hark_monitor::state::{ApplyContext, MonitorState, State, StateType};
//! use hark_monitor::{CheckOutcome, Status};
//!
//! let mut m = MonitorState::new(); // PENDING
//! let ctx = ApplyContext {
//!     now: 1_000,
//!     host_check: false,
//!     max_attempts: 3,
//!     parent_problem: false,
//!     in_downtime: false,
//!     flap_start: 30.0,
//!     flap_stop: 25.0,
//! };
//! let applied = m.apply(&CheckOutcome::new(Status::Crit, "connection refused"), &ctx);
//! let change = applied.change.expect("PENDING -> CRIT is a change");
//! assert_eq!((change.state, change.state_type, change.attempt), (State::Crit, StateType::Soft, 1));
//! assert!(!change.hard); // soft: nothing to notify yet
//! assert!(applied.use_retry_interval); // re-check at retry_interval
//! ```
//!
//! [`ApplyContext::new`] fills the context from the monitor's configuration;
//! the caller sets `parent_problem` (the parent's [`State::is_failure`]) and
//! `in_downtime` (from [`crate::downtime::Downtimes::active`]).
//!
//! # Rules
//!
//! * A result maps to a state: services take the check status
//!   (OK/WARN/CRIT/UNKNOWN); host checks map OK and WARN to UP, CRIT and
//!   UNKNOWN to DOWN. A failing result (CRIT or UNKNOWN) while the parent is
//!   failing ([`State::is_failure`]: DOWN, UNREACHABLE, CRIT or UNKNOWN, soft
//!   or hard) is UNREACHABLE instead, for hosts and services alike. A WARN
//!   result stays WARN: the service answered.
//! * From PENDING the first OK/UP result is a hard OK/UP; the first problem is
//!   soft at attempt 1.
//! * From OK/UP a problem is soft at attempt 1; each further problem result
//!   adds an attempt (a different problem state too); at `max_attempts` the
//!   problem is hard. `max_attempts = 1` makes a problem hard at once.
//! * From a hard problem a different problem state is a hard change at once;
//!   the attempt stays at `max_attempts`.
//! * Recovery (a problem, then OK/UP) from a soft problem is a soft recovery
//!   (`hard == false`), from a hard problem a hard recovery. Either way the
//!   monitor is then in hard OK/UP at attempt 1, so that the next problem
//!   starts at soft attempt 1 again.
//! * A [`StateChange`] is reported when the state or the state type changed:
//!   soft CRIT → hard CRIT is a change, soft CRIT attempt 1 → attempt 2 is
//!   not. Its `hard` flag says whether it is a hard change, the only kind
//!   that should notify. PENDING → OK is a hard change too; a notifier that
//!   sends recoveries only after problems should skip `previous_state ==
//!   PENDING`.
//! * Changes while the monitor is in a downtime carry `in_downtime`.
//! * An acknowledgement can be set only on a problem. A normal one is cleared
//!   when the state value changes (CRIT → WARN, CRIT → OK; soft CRIT → hard
//!   CRIT keeps it); a sticky one only when the monitor recovers to OK/UP.
//! * Flapping: see [`crate::flapping`]. PENDING → first result is not counted
//!   as a state change.

use std::fmt;
use std::time::Duration;

use hark_config::monitor::{MonitorConfig, MonitoringConfig};
use serde::{Deserialize, Serialize};

use crate::flapping::{FlapTransition, Flapping};
use crate::outcome::{CheckOutcome, Perf, Status};
use crate::serde_time::{rfc3339, rfc3339_opt};

/// The state of a monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Service check: everything as expected.
    Ok,
    /// Service check: a warning threshold was crossed.
    Warn,
    /// Service check: a critical threshold was crossed or the target failed.
    Crit,
    /// Service check: the check could not decide.
    Unknown,
    /// Host check: the host answers.
    Up,
    /// Host check: the host does not answer.
    Down,
    /// The check failed while its parent was failing: the parent explains it.
    Unreachable,
    /// No result yet.
    Pending,
}

impl State {
    /// The name used in the API and in files: `OK`, `WARN`, …, `PENDING`.
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warn => "WARN",
            State::Crit => "CRIT",
            State::Unknown => "UNKNOWN",
            State::Up => "UP",
            State::Down => "DOWN",
            State::Unreachable => "UNREACHABLE",
            State::Pending => "PENDING",
        }
    }

    /// The state a check result means. `parent_failing` turns a failing
    /// result (CRIT or UNKNOWN, DOWN for hosts) into UNREACHABLE.
    pub fn from_result(status: Status, host_check: bool, parent_failing: bool) -> State {
        let failed = matches!(status, Status::Crit | Status::Unknown);
        if failed && parent_failing {
            return State::Unreachable;
        }
        match (host_check, status) {
            (true, Status::Ok | Status::Warn) => State::Up,
            (true, Status::Crit | Status::Unknown) => State::Down,
            (false, Status::Ok) => State::Ok,
            (false, Status::Warn) => State::Warn,
            (false, Status::Crit) => State::Crit,
            (false, Status::Unknown) => State::Unknown,
        }
    }

    /// WARN, CRIT, UNKNOWN, DOWN and UNREACHABLE: states that can be soft,
    /// hard and acknowledged.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            State::Warn | State::Crit | State::Unknown | State::Down | State::Unreachable
        )
    }

    /// CRIT, UNKNOWN, DOWN and UNREACHABLE (soft or hard): a parent in one of
    /// these makes its children's failures UNREACHABLE.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            State::Crit | State::Unknown | State::Down | State::Unreachable
        )
    }

    /// OK, UP and WARN: time in these counts as available.
    pub fn is_available(self) -> bool {
        matches!(self, State::Ok | State::Up | State::Warn)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a state is confirmed (hard) or still being re-checked (soft).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateType {
    /// A problem seen fewer than `max_attempts` times in a row.
    Soft,
    /// A confirmed state.
    Hard,
}

impl StateType {
    /// `soft` or `hard`.
    pub fn name(self) -> &'static str {
        match self {
            StateType::Soft => "soft",
            StateType::Hard => "hard",
        }
    }
}

impl fmt::Display for StateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything besides the result that [`MonitorState::apply`] needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApplyContext {
    /// When the result arrived, nanoseconds since the epoch.
    pub now: i64,
    /// A host check (UP/DOWN) rather than a service check.
    pub host_check: bool,
    /// Consecutive problem results before a problem is hard (at least 1).
    pub max_attempts: u32,
    /// The parent monitor is failing ([`State::is_failure`]).
    pub parent_problem: bool,
    /// The monitor is in a downtime now.
    pub in_downtime: bool,
    /// Flapping starts at this weighted change percentage.
    pub flap_start: f64,
    /// Flapping stops below this weighted change percentage.
    pub flap_stop: f64,
}

impl ApplyContext {
    /// The context for a monitor's configuration, with no parent problem and
    /// no downtime.
    pub fn new(now: i64, monitor: &MonitorConfig, monitoring: &MonitoringConfig) -> ApplyContext {
        ApplyContext {
            now,
            host_check: monitor.kind().is_host_check(),
            max_attempts: monitor.max_attempts,
            parent_problem: false,
            in_downtime: false,
            flap_start: monitoring.flap_start,
            flap_stop: monitoring.flap_stop,
        }
    }
}

/// A change of state or state type, the thing that becomes an event and,
/// when `hard`, a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    /// When the result arrived.
    #[serde(with = "rfc3339")]
    pub at: i64,
    /// The new state.
    pub state: State,
    /// The state before this result.
    pub previous_state: State,
    /// `hard` for a hard change, `soft` for a soft one (including a soft recovery).
    pub state_type: StateType,
    /// The attempt after this result (1 after a recovery).
    pub attempt: u32,
    /// The check's output.
    pub output: String,
    /// The check's performance data.
    pub perf: Vec<Perf>,
    /// A hard change: the one kind that notifies.
    pub hard: bool,
    /// The monitor was in a downtime (notifications skip these).
    pub in_downtime: bool,
    /// The monitor is flapping after this result.
    pub flapping: bool,
}

/// What [`MonitorState::apply`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The change, if the state or state type changed.
    pub change: Option<StateChange>,
    /// The next check should come after `retry_interval` (a soft problem)
    /// rather than `interval`.
    pub use_retry_interval: bool,
    /// Whether flapping started or stopped with this result.
    pub flapping: FlapTransition,
    /// The acknowledgement was cleared by this result.
    pub ack_cleared: bool,
}

impl Applied {
    /// The time until the next check of a monitor with this configuration.
    pub fn next_interval(&self, monitor: &MonitorConfig) -> Duration {
        if self.use_retry_interval {
            monitor.retry_interval
        } else {
            monitor.interval
        }
    }
}

/// Someone has seen a problem and is on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Who acknowledged.
    pub author: String,
    /// Why, or what is being done.
    pub comment: String,
    /// Kept through changes between problem states, until OK/UP.
    pub sticky: bool,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: i64,
}

/// Why an acknowledgement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// Only problems can be acknowledged.
    #[error("only a problem can be acknowledged; the monitor is {0}")]
    NotAProblem(State),
}

/// The state of one monitor, kept across restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorState {
    /// The state after the latest result (soft or hard).
    pub state: State,
    /// Whether `state` is confirmed.
    pub state_type: StateType,
    /// Consecutive problem results so far (1 while OK/UP/PENDING).
    pub attempt: u32,
    /// The latest hard state (PENDING before the first).
    pub last_hard_state: State,
    /// When the latest result arrived.
    #[serde(with = "rfc3339_opt")]
    pub last_check: Option<i64>,
    /// When the state or state type last changed.
    #[serde(with = "rfc3339_opt")]
    pub last_change: Option<i64>,
    /// When the latest hard change happened.
    #[serde(with = "rfc3339_opt")]
    pub last_hard_change: Option<i64>,
    /// The latest result's output.
    pub output: String,
    /// The latest result's performance data.
    pub perf: Vec<Perf>,
    /// Flap detection state.
    pub flap: Flapping,
    /// The current acknowledgement.
    pub ack: Option<Ack>,
}

impl Default for MonitorState {
    fn default() -> Self {
        MonitorState::new()
    }
}

impl MonitorState {
    /// A monitor without results: PENDING.
    pub fn new() -> MonitorState {
        MonitorState {
            state: State::Pending,
            state_type: StateType::Hard,
            attempt: 1,
            last_hard_state: State::Pending,
            last_check: None,
            last_change: None,
            last_hard_change: None,
            output: String::new(),
            perf: Vec::new(),
            flap: Flapping::default(),
            ack: None,
        }
    }

    /// Takes one check result into account.
    pub fn apply(&mut self, outcome: &CheckOutcome, ctx: &ApplyContext) -> Applied {
        let max = ctx.max_attempts.max(1);
        let new = State::from_result(outcome.status, ctx.host_check, ctx.parent_problem);
        let previous = self.state;
        let previous_type = self.state_type;
        let first_problem = || {
            if max <= 1 {
                (StateType::Hard, 1)
            } else {
                (StateType::Soft, 1)
            }
        };

        let (state_type, attempt) = match (previous, new.is_problem()) {
            // First result: OK/UP is hard at once, a problem starts its attempts.
            (State::Pending, false) => (StateType::Hard, 1),
            (State::Pending, true) => first_problem(),
            // Still fine, or recovered (soft or hard, reported below).
            (_, false) => (StateType::Hard, 1),
            // A new problem.
            (p, true) if !p.is_problem() => first_problem(),
            // A confirmed problem stays confirmed, whichever problem it is now.
            (_, true) if previous_type == StateType::Hard => (StateType::Hard, self.attempt),
            // A soft problem seen once more.
            (_, true) => {
                let attempt = self.attempt.saturating_add(1);
                if attempt >= max {
                    (StateType::Hard, max)
                } else {
                    (StateType::Soft, attempt)
                }
            }
        };

        let changed = new != previous || state_type != previous_type;
        let hard = changed
            && if previous.is_problem() && !new.is_problem() {
                previous_type == StateType::Hard
            } else {
                state_type == StateType::Hard
            };

        let flapping = if previous == State::Pending {
            FlapTransition::None
        } else {
            self.flap
                .record(new != previous, ctx.flap_start, ctx.flap_stop)
        };

        let ack_cleared = match &self.ack {
            Some(_) if !new.is_problem() => true,
            Some(ack) => !ack.sticky && new != previous,
            None => false,
        };
        if ack_cleared {
            self.ack = None;
        }

        self.state = new;
        self.state_type = state_type;
        self.attempt = attempt;
        self.last_check = Some(ctx.now);
        self.output.clone_from(&outcome.output);
        self.perf.clone_from(&outcome.perf);
        if state_type == StateType::Hard {
            self.last_hard_state = new;
        }
        if changed {
            self.last_change = Some(ctx.now);
        }
        if hard {
            self.last_hard_change = Some(ctx.now);
        }

        let change = changed.then(|| StateChange {
            at: ctx.now,
            state: new,
            previous_state: previous,
            state_type: if hard {
                StateType::Hard
            } else {
                StateType::Soft
            },
            attempt,
            output: outcome.output.clone(),
            perf: outcome.perf.clone(),
            hard,
            in_downtime: ctx.in_downtime,
            flapping: self.flap.flapping,
        });
        Applied {
            change,
            use_retry_interval: self.uses_retry_interval(),
            flapping,
            ack_cleared,
        }
    }

    /// The next check should come after `retry_interval`: the monitor is in
    /// a soft problem. Useful to schedule after a restart.
    pub fn uses_retry_interval(&self) -> bool {
        self.state_type == StateType::Soft && self.state.is_problem()
    }

    /// The latest result is older than 1.5 × `interval` (see [`is_stale`]).
    pub fn is_stale(&self, now: i64, interval: Duration) -> bool {
        is_stale(now, self.last_check, interval)
    }

    /// Whether the monitor is flapping.
    pub fn is_flapping(&self) -> bool {
        self.flap.flapping
    }

    /// The weighted state-change percentage over the last 20 results.
    pub fn flap_percent(&self) -> f64 {
        self.flap.percent
    }

    /// Acknowledges the current problem, replacing an earlier acknowledgement.
    pub fn acknowledge(&mut self, ack: Ack) -> Result<(), AckError> {
        if !self.state.is_problem() {
            return Err(AckError::NotAProblem(self.state));
        }
        self.ack = Some(ack);
        Ok(())
    }

    /// Removes the acknowledgement, returning it.
    pub fn remove_acknowledgement(&mut self) -> Option<Ack> {
        self.ack.take()
    }
}

/// A result taken at `last_check` is stale at `now` when it is older than
/// 1.5 × `interval` (the interval the monitor is currently checked at). A
/// monitor without results (PENDING) is not stale.
pub fn is_stale(now: i64, last_check: Option<i64>, interval: Duration) -> bool {
    let Some(last) = last_check else {
        return false;
    };
    let limit = i128::try_from(interval.as_nanos()).unwrap_or(i128::MAX) * 3 / 2;
    i128::from(now) - i128::from(last) > limit
}

#[cfg(test)]
mod tests;
