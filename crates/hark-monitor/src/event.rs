//! State changes as log events, so one search shows a host's logs and its
//! check history together.

use hark_config::monitor::MonitorConfig;
use hark_event::{Event, FieldValue, Severity};

use crate::state::{State, StateChange, StateType};

/// The `app` of every state-change event.
pub const APP: &str = "hark-monitor";
/// The `input` of every state-change event.
pub const INPUT: &str = "monitors";

/// The severity a state is logged with.
pub fn severity(state: State) -> Severity {
    match state {
        State::Ok | State::Up | State::Pending => Severity::Info,
        State::Warn => Severity::Warning,
        State::Unknown | State::Unreachable => Severity::Err,
        State::Crit | State::Down => Severity::Crit,
    }
}

/// The event recording `change` of monitor `name`: `host` is the target,
/// fields `monitor`, `type`, `state`, `previous_state`, `state_type`,
/// `attempt`, `output`, `in_downtime`, `flapping` and one `perf.<label>`
/// per performance value.
pub fn change_event(name: &str, monitor: &MonitorConfig, change: &StateChange) -> Event {
    let stage = if change.state.is_problem() {
        format!(
            "{} {}/{}",
            change.state_type.name(),
            change.attempt,
            monitor.max_attempts
        )
    } else {
        change.state_type.name().to_owned()
    };
    let observed = Observed {
        monitor: name,
        kind: monitor.kind().name(),
        host: monitor.target(),
        state: change.state,
        previous: change.previous_state,
        output: &change.output,
        at: change.at,
    };
    let mut ev = state_event(
        &observed,
        &Stage {
            state_type: change.state_type,
            attempt: change.attempt,
            in_downtime: change.in_downtime,
            flapping: change.flapping,
            label: stage,
        },
    );
    for p in &change.perf {
        ev.push_field(format!("perf.{}", p.label), FieldValue::Float(p.value));
    }
    ev
}

/// A state change of something watched without a check of Hark's own,
/// such as a forwarder through its health reports.
pub struct Observed<'a> {
    /// The monitor's name, like `forwarder/edge1`.
    pub monitor: &'a str,
    /// Its `type` field, like `forwarder`.
    pub kind: &'a str,
    /// The host the state is about.
    pub host: &'a str,
    /// The new state.
    pub state: State,
    /// The state before.
    pub previous: State,
    /// What explains it.
    pub output: &'a str,
    /// When it changed (nanoseconds since the epoch).
    pub at: i64,
}

/// The event recording an observed change: the fields of [`change_event`],
/// as a hard change at the first attempt, outside downtime and not flapping.
pub fn observed_event(o: &Observed) -> Event {
    state_event(
        o,
        &Stage {
            state_type: StateType::Hard,
            attempt: 1,
            in_downtime: false,
            flapping: false,
            label: StateType::Hard.name().to_owned(),
        },
    )
}

/// Where a change stands in the state machine.
struct Stage {
    state_type: StateType,
    attempt: u32,
    in_downtime: bool,
    flapping: bool,
    /// How the message names it: `soft 2/3`, `hard`.
    label: String,
}

fn state_event(o: &Observed, stage: &Stage) -> Event {
    let flag = |b: bool| if b { "true" } else { "false" };
    let mut ev = Event::new(hark_event::now_nanos(), INPUT);
    ev.timestamp = o.at;
    ev.host = Some(o.host.to_owned());
    ev.app = Some(APP.to_owned());
    ev.severity = Some(severity(o.state));
    ev.message = format!(
        "{} {} ({}) was {}: {}",
        o.monitor, o.state, stage.label, o.previous, o.output
    );
    ev.push_field("monitor", o.monitor);
    ev.push_field("type", o.kind);
    ev.push_field("state", o.state.name());
    ev.push_field("previous_state", o.previous.name());
    ev.push_field("state_type", stage.state_type.name());
    ev.push_field("attempt", FieldValue::from(i64::from(stage.attempt)));
    ev.push_field("output", o.output);
    ev.push_field("in_downtime", flag(stage.in_downtime));
    ev.push_field("flapping", flag(stage.flapping));
    ev
}
