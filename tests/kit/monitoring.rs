//! Monitors of a server under test: their API views, waiting for a state,
//! and the state-change events they leave in the store.

use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::Hark;
use crate::{field_str, str_of};

/// How long a monitor may take to reach a state the test waits for.
pub const MONITOR_WAIT: Duration = Duration::from_secs(60);

/// What a monitor looked like once: state, state type and attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `OK`, `CRIT`, `UP`, …
    pub state: String,
    /// `soft` or `hard`.
    pub state_type: String,
    /// The attempt.
    pub attempt: u64,
}

impl Snapshot {
    /// The snapshot of an API view of a monitor.
    pub fn of(view: &Value) -> Snapshot {
        Snapshot {
            state: str_of(view, "state").unwrap_or("").to_owned(),
            state_type: str_of(view, "state_type").unwrap_or("").to_owned(),
            attempt: view.get("attempt").and_then(Value::as_u64).unwrap_or(0),
        }
    }
}

/// One state-change event, as the fields a test compares.
#[derive(Clone, PartialEq, Eq)]
pub struct Change {
    /// `previous_state`.
    pub previous: String,
    /// `state`.
    pub state: String,
    /// `state_type`.
    pub state_type: String,
    /// `attempt`.
    pub attempt: u64,
}

impl Change {
    /// A change from `previous` to `state` of type `state_type` at `attempt`.
    pub fn new(previous: &str, state: &str, state_type: &str, attempt: u64) -> Change {
        Change {
            previous: previous.to_owned(),
            state: state.to_owned(),
            state_type: state_type.to_owned(),
            attempt,
        }
    }

    /// The change an event records.
    pub fn of(event: &Value) -> Change {
        let f = |name: &str| field_str(event, name).unwrap_or_default();
        Change {
            previous: f("previous_state"),
            state: f("state"),
            state_type: f("state_type"),
            attempt: f("attempt").parse().unwrap_or(0),
        }
    }
}

impl fmt::Debug for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}->{} {} {}",
            self.previous, self.state, self.state_type, self.attempt
        )
    }
}

impl Hark {
    /// GET /api/v1/monitors/NAME; panics unless 200.
    pub fn monitor(&self, name: &str) -> Value {
        self.api_json(&format!("/api/v1/monitors/{name}"))
    }

    /// GET `path` as admin and parse the JSON; panics unless 200.
    pub fn api_json(&self, path: &str) -> Value {
        let (status, body) = self.get_as(path, Some(self.token()));
        assert_eq!(status, 200, "GET {path}: {body}\n{}", self.output());
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: body is not JSON ({e}): {body}"))
    }

    /// Polls monitor `name` until `done` holds for its view (panics after
    /// [`MONITOR_WAIT`], saying it waited for `what`); returns the last view
    /// and every distinct snapshot seen on the way, oldest first.
    pub fn watch_monitor(
        &self,
        name: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> (Value, Vec<Snapshot>) {
        let deadline = Instant::now() + MONITOR_WAIT;
        let mut seen: Vec<Snapshot> = Vec::new();
        loop {
            let view = self.monitor(name);
            let snap = Snapshot::of(&view);
            if seen.last() != Some(&snap) {
                seen.push(snap);
            }
            if done(&view) {
                return (view, seen);
            }
            assert!(
                Instant::now() < deadline,
                "monitor {name} did not become {what} within {MONITOR_WAIT:?}; last view {view}, seen {seen:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls monitor `name` until `done` holds for its view; returns it.
    pub fn wait_monitor(&self, name: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        self.watch_monitor(name, what, done).0
    }

    /// Polls until monitor `name` is in `state` of type `state_type`.
    pub fn wait_state(&self, name: &str, state: &str, state_type: &str) -> Value {
        self.wait_monitor(name, &format!("{state} ({state_type})"), |v| {
            str_of(v, "state") == Some(state) && str_of(v, "state_type") == Some(state_type)
        })
    }

    /// Polls until monitor `name` has been checked after `after` (its
    /// `last_check`, RFC 3339); returns the view.
    pub fn wait_checked_after(&self, name: &str, after: &str) -> Value {
        let after =
            rfc3339_nanos(after).unwrap_or_else(|| panic!("{after:?} is not an RFC 3339 time"));
        self.wait_monitor(name, "checked again", |v| {
            str_of(v, "last_check")
                .and_then(rfc3339_nanos)
                .is_some_and(|t| t > after)
        })
    }

    /// Waits for the next check of monitor `name` and returns the view after it.
    pub fn wait_next_check(&self, name: &str) -> Value {
        let now = self.monitor(name);
        match str_of(&now, "last_check") {
            Some(last) => self.wait_checked_after(name, last),
            None => self.wait_monitor(name, "checked", |v| str_of(v, "last_check").is_some()),
        }
    }

    /// The state-change events of monitor `name` in the store, oldest first.
    pub fn state_changes(&self, name: &str) -> Vec<Value> {
        let mut events = self.hits(&format!("app:hark-monitor AND monitor:{name}"), 1000);
        events.sort_by_key(|e| str_of(e, "timestamp").and_then(rfc3339_nanos));
        events
    }

    /// Polls until monitor `name` has at least `n` state-change events in
    /// the store; returns them, oldest first.
    pub fn wait_state_changes(&self, name: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + MONITOR_WAIT;
        loop {
            let events = self.state_changes(name);
            if events.len() >= n {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "monitor {name}: {} state-change events within {MONITOR_WAIT:?}, expected {n}: {:?}\n{}",
                events.len(),
                events.iter().map(Change::of).collect::<Vec<_>>(),
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Nanoseconds since the epoch of an RFC 3339 time in UTC
/// (`2026-11-22T09:37:34.203990754Z`, `+00:00` accepted too).
pub fn rfc3339_nanos(s: &str) -> Option<i128> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    let secs = days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_what_the_server_writes() {
        assert_eq!(rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_nanos("1970-01-02T00:00:01.5Z"),
            Some(86_401_500_000_000)
        );
        assert_eq!(
            rfc3339_nanos("2026-11-22T09:37:34.203990754Z"),
            Some(1_795_340_254_203_990_754)
        );
        assert_eq!(rfc3339_nanos("2026-11-22T09:37:34"), None);
    }
}
