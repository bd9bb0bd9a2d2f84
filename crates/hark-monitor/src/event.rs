//! State changes as log events, so one search shows a host's logs and its
//! check history together.

use hark_config::monitor::MonitorConfig;
use hark_event::{Event, FieldValue, Severity};

use crate::state::{State, StateChange};

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
    let mut ev = Event::new(hark_event::now_nanos(), INPUT);
    ev.timestamp = change.at;
    ev.host = Some(monitor.target().to_owned());
    ev.app = Some(APP.to_owned());
    ev.severity = Some(severity(change.state));
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
    ev.message = format!(
        "{name} {} ({stage}) was {}: {}",
        change.state, change.previous_state, change.output
    );
    ev.push_field("monitor", name);
    ev.push_field("type", monitor.kind().name());
    ev.push_field("state", change.state.name());
    ev.push_field("previous_state", change.previous_state.name());
    ev.push_field("state_type", change.state_type.name());
    ev.push_field("attempt", FieldValue::from(i64::from(change.attempt)));
    ev.push_field("output", change.output.as_str());
    ev.push_field(
        "in_downtime",
        if change.in_downtime { "true" } else { "false" },
    );
    ev.push_field("flapping", if change.flapping { "true" } else { "false" });
    for p in &change.perf {
        ev.push_field(format!("perf.{}", p.label), FieldValue::Float(p.value));
    }
    ev
}
