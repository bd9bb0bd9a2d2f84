//! The alert state machine: events and clock ticks in, alerts and notices
//! out. Pure logic, no I/O: the caller passes the time, the matching
//! events and gets the notices to deliver; [`EngineState`] is everything
//! that must survive a restart.

use std::collections::{BTreeMap, VecDeque};

use hark_config::{AlertSeverity, Comparison, Measure};
use hark_event::Event;
use hark_store::BatchIndex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::console::{Book, ConsoleRule, Problem};
use crate::rule::{Compiled, Rule, field_text, group_key, group_search};
use crate::silence::Silence;
use crate::window::{CountWindow, DistinctWindow};

/// Sample events kept per alert.
pub const MAX_SAMPLES: usize = 10;
/// Resolved alerts kept for the API.
const MAX_RESOLVED: usize = 500;
const NANOS: i64 = 1_000_000_000;

/// Whether an alert is firing or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// The condition holds (or held within the last window).
    Firing,
    /// The condition has not held for a whole window.
    Resolved,
}

/// What a notice announces: the notification kinds of `hark-notify`
/// (alerts never make `Test`).
pub use hark_notify::Kind as NoticeKind;

/// An event kept as an example of what made an alert fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it happened (ns since the epoch).
    pub timestamp: i64,
    /// Its host.
    pub host: Option<String>,
    /// Its application.
    pub app: Option<String>,
    /// Its message.
    pub message: String,
}

impl Sample {
    fn of(event: &Event) -> Sample {
        Sample {
            timestamp: event.timestamp,
            host: event.host.clone(),
            app: event.app.clone(),
            message: event.message.clone(),
        }
    }
}

/// Who acknowledged an alert, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The principal's name.
    pub by: String,
    /// When (ns since the epoch).
    pub at: i64,
}

/// One alert: a rule's condition for one group key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identifier (the rule, a hash of the group, the WAL position it fired at).
    pub id: String,
    /// The rule's name.
    pub rule: String,
    /// The group key: the `group_by` fields and their values, or `monitor`.
    pub group: Vec<(String, String)>,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// How serious.
    pub severity: AlertSeverity,
    /// One line saying what holds.
    pub summary: String,
    /// When it fired (ns).
    pub since: i64,
    /// When the condition last held (ns).
    pub last_held: i64,
    /// When it resolved (ns).
    pub resolved_at: Option<i64>,
    /// Matching events since it fired (log rules).
    pub count: u64,
    /// Up to [`MAX_SAMPLES`] recent matching events.
    pub samples: Vec<Sample>,
    /// The search that shows its events.
    pub query: Option<String>,
    /// Set when someone acknowledged it: no reminders.
    pub acknowledged: Option<Acknowledgement>,
    /// Its firing was silenced or suppressed, so its end is not announced either.
    pub silenced: bool,
    /// When a notice about it was last made (ns).
    pub last_notified: i64,
    /// Reminders sent so far.
    pub reminders: u32,
}

/// A notification to deliver to some channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable identifier: the same transition always has the same id.
    pub id: String,
    /// The `[notify.*]` channels.
    pub channels: Vec<String>,
    /// What it announces.
    pub kind: NoticeKind,
    /// The alert as it is at the transition.
    pub alert: Alert,
    /// When the transition happened (ns).
    pub at: i64,
}

/// A log rule's state for one group key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Group {
    key: Vec<(String, String)>,
    counts: CountWindow,
    distinct: DistinctWindow,
    /// First and last second an event of the group was seen.
    first_seen: i64,
    last_seen: i64,
    /// WAL position of its last event.
    last_seq: u64,
    samples: VecDeque<Sample>,
    alert: Option<Alert>,
}

/// A monitor rule's state for one monitor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MonitorTrack {
    flapping: bool,
    alert: Option<Alert>,
}

/// One rule's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleState {
    /// A hash of the rule's configuration: a changed rule starts afresh.
    fingerprint: String,
    groups: BTreeMap<String, Group>,
    monitors: BTreeMap<String, MonitorTrack>,
}

/// Everything the engine keeps across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EngineState {
    /// The last WAL position evaluated.
    pub seq: u64,
    rules: BTreeMap<String, RuleState>,
    resolved: VecDeque<Alert>,
    /// Silences, active or to come.
    pub silences: Vec<Silence>,
    /// Notices not yet accepted by the outbox.
    pub pending: Vec<Notice>,
    /// The event console's problems.
    #[serde(default)]
    console: Book,
}

/// The rules and their state.
pub struct Engine {
    rules: Vec<Rule>,
    console: Vec<ConsoleRule>,
    state: EngineState,
}

impl Engine {
    /// An engine for `rules`, going on from `state` (what a previous run
    /// saved; state of rules that are gone or changed is dropped, and their
    /// firing alerts are kept as resolved).
    pub fn new(
        rules: Vec<Rule>,
        console: Vec<ConsoleRule>,
        mut state: EngineState,
        now: i64,
    ) -> Engine {
        state.console.retain_rules(&console, now);
        let mut kept = BTreeMap::new();
        for rule in &rules {
            let fingerprint = fingerprint(rule);
            let rs = match state.rules.remove(&rule.name) {
                Some(rs) if rs.fingerprint == fingerprint => rs,
                other => {
                    // A changed rule's old state goes the way of a removed rule's.
                    if let Some(old) = other {
                        state.rules.insert(format!("{}\0changed", rule.name), old);
                    }
                    RuleState {
                        fingerprint,
                        ..RuleState::default()
                    }
                }
            };
            kept.insert(rule.name.clone(), rs);
        }
        for (_, gone) in std::mem::take(&mut state.rules) {
            let alerts = gone
                .groups
                .into_values()
                .filter_map(|g| g.alert)
                .chain(gone.monitors.into_values().filter_map(|m| m.alert));
            for mut alert in alerts {
                alert.status = AlertStatus::Resolved;
                alert.resolved_at = Some(now);
                alert.summary = format!("{} (the rule was changed or removed)", alert.summary);
                push_resolved(&mut state.resolved, alert);
            }
        }
        state.rules = kept;
        Engine {
            rules,
            console,
            state,
        }
    }

    /// Runs `rules` from now on, keeping the state of those that did not
    /// change (see [`Engine::new`]).
    pub fn replace_rules(&mut self, rules: Vec<Rule>, now: i64) {
        let state = std::mem::take(&mut self.state);
        let console = std::mem::take(&mut self.console);
        *self = Engine::new(rules, console, state, now);
    }

    /// The state to save.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// Whether any rule runs a query (log and event-console rules), so a
    /// batch index is worth building.
    pub fn needs_index(&self) -> bool {
        !self.console.is_empty()
            || self
                .rules
                .iter()
                .any(|r| matches!(r.kind, Compiled::Log(..)))
    }

    /// Whether there is any rule at all.
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty() || !self.console.is_empty()
    }

    /// The event console's problems: open ones newest first, then closed ones.
    pub fn problems(&self) -> Vec<Problem> {
        self.state.console.problems()
    }

    /// Acknowledges open problem `id`; false when there is none.
    pub fn acknowledge_problem(&mut self, id: &str, by: &str, now: i64) -> bool {
        self.state.console.acknowledge(id, by, now)
    }

    /// Closes open problem `id` by hand; the closed problem, or none.
    pub fn close_problem(&mut self, id: &str, by: &str, now: i64) -> Option<Problem> {
        let (problem, notice) = self
            .state
            .console
            .close_by_hand(&self.console, id, by, now)?;
        self.state.pending.extend(notice);
        Some(problem)
    }

    /// Events the console wrote about its problems since the last call.
    pub fn take_console_events(&mut self) -> Vec<Event> {
        self.state.console.take_events()
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Evaluates the events at WAL positions `first_seq..`; `index` is the
    /// batch indexed for the log rules' queries. Events at or before the
    /// saved position are skipped (they were evaluated before a restart).
    /// Silences are judged at `now` (ns).
    pub fn apply(
        &mut self,
        first_seq: u64,
        events: &[Event],
        index: Option<&BatchIndex>,
        now: i64,
    ) {
        let done = self.state.seq;
        let skip = |i: usize| first_seq + i as u64 <= done;
        for rule in &self.rules {
            let Some(rs) = self.state.rules.get_mut(&rule.name) else {
                continue;
            };
            let notices = match &rule.kind {
                Compiled::Log(log, filter) => {
                    let Some(index) = index else { continue };
                    let mut out = Vec::new();
                    for i in filter.matching_in(index) {
                        if skip(i) {
                            continue;
                        }
                        let Some(event) = events.get(i) else { continue };
                        let seq = first_seq + i as u64;
                        out.extend(on_log_event(
                            rule,
                            log,
                            rs,
                            event,
                            seq,
                            (&self.state.silences, now),
                        ));
                    }
                    out
                }
                Compiled::Monitor(m, globs) => {
                    let mut out = Vec::new();
                    for (i, event) in events.iter().enumerate() {
                        if skip(i) {
                            continue;
                        }
                        let Some(change) = MonitorChange::of(event) else {
                            continue;
                        };
                        if !globs.is_match(&change.monitor) {
                            continue;
                        }
                        let seq = first_seq + i as u64;
                        out.extend(on_monitor_change(
                            rule,
                            m,
                            rs,
                            &change,
                            seq,
                            (&self.state.silences, now),
                            &mut self.state.resolved,
                        ));
                    }
                    out
                }
            };
            self.state.pending.extend(notices);
        }
        if let Some(index) = index {
            let notices = self
                .state
                .console
                .apply(&self.console, first_seq, events, index, done);
            self.state.pending.extend(notices);
        }
        if let Some(last) = (events.len() as u64).checked_sub(1) {
            self.state.seq = self.state.seq.max(first_seq + last);
        }
    }

    /// Evaluates what depends on the clock at `now` (ns): windows that
    /// filled or emptied, silence rules (`count < N`), reminders.
    pub fn tick(&mut self, now: i64) {
        let silences = &self.state.silences;
        let mut resolved = Vec::new();
        for rule in &self.rules {
            let Some(rs) = self.state.rules.get_mut(&rule.name) else {
                continue;
            };
            let mut notices = Vec::new();
            match &rule.kind {
                Compiled::Log(log, _) => {
                    let span = log.window.as_secs().max(1) as i64;
                    let now_s = now.div_euclid(NANOS);
                    let upper = log.condition.op.is_upper_bound();
                    let mut forget = Vec::new();
                    for (key, group) in rs.groups.iter_mut() {
                        let value = measure(group, &log.condition.measure, now_s, span);
                        // A silence rule needs a whole window of watching first.
                        let eligible = !upper || group.first_seen <= now_s - span;
                        let holds =
                            eligible && log.condition.op.holds(value, log.condition.threshold);
                        if holds {
                            let firing = group
                                .alert
                                .as_ref()
                                .is_some_and(|a| a.status == AlertStatus::Firing);
                            if let Some(alert) = group.alert.as_mut().filter(|_| firing) {
                                alert.last_held = now;
                            } else {
                                let id = alert_id(&rule.name, &group.key, group.last_seq);
                                let alert = new_log_alert(rule, log, group, id, value, now);
                                notices.extend(fire(rule, alert, &mut group.alert, silences, now));
                            }
                        } else if let Some(alert) = group.alert.take() {
                            if now - alert.last_held >= span * NANOS {
                                let (notice, done) = resolve(rule, alert, now);
                                notices.extend(notice);
                                resolved.push(done);
                            } else {
                                group.alert = Some(alert);
                            }
                        }
                        if let Some(alert) = group.alert.as_mut() {
                            alert.summary = log_summary(&rule.name, log, &group.key, value);
                            notices.extend(remind(rule, alert, now));
                        } else if !upper && value == 0 {
                            forget.push(key.clone());
                        }
                    }
                    for key in forget {
                        rs.groups.remove(&key);
                    }
                }
                Compiled::Monitor(..) => {
                    for track in rs.monitors.values_mut() {
                        if let Some(alert) = track.alert.as_mut() {
                            notices.extend(remind(rule, alert, now));
                        }
                    }
                }
            }
            self.state.pending.extend(notices);
        }
        for alert in resolved {
            push_resolved(&mut self.state.resolved, alert);
        }
        let expired = self.state.console.tick(&self.console, now);
        self.state.pending.extend(expired);
        self.state.silences.retain(|s| s.ends_at > now);
    }

    /// Notices waiting for delivery, taken out; put back those not accepted with [`Engine::requeue`].
    pub fn take_pending(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.state.pending)
    }

    /// Puts notices back that the outbox did not accept.
    pub fn requeue(&mut self, mut notices: Vec<Notice>) {
        notices.append(&mut self.state.pending);
        self.state.pending = notices;
    }

    /// Firing alerts and then resolved ones, newest first.
    pub fn alerts(&self) -> Vec<Alert> {
        let mut firing: Vec<Alert> = self
            .state
            .rules
            .values()
            .flat_map(|rs| {
                rs.groups
                    .values()
                    .filter_map(|g| g.alert.clone())
                    .chain(rs.monitors.values().filter_map(|m| m.alert.clone()))
            })
            .collect();
        firing.sort_by_key(|a| std::cmp::Reverse(a.since));
        firing.extend(self.state.resolved.iter().rev().cloned());
        firing
    }

    /// Acknowledges the firing alert `id`; false when there is none.
    pub fn acknowledge(&mut self, id: &str, by: &str, now: i64) -> bool {
        for rs in self.state.rules.values_mut() {
            let alerts = rs
                .groups
                .values_mut()
                .filter_map(|g| g.alert.as_mut())
                .chain(rs.monitors.values_mut().filter_map(|m| m.alert.as_mut()));
            for alert in alerts {
                if alert.id == id {
                    alert.acknowledged = Some(Acknowledgement {
                        by: by.to_owned(),
                        at: now,
                    });
                    return true;
                }
            }
        }
        false
    }

    /// Adds a silence.
    pub fn add_silence(&mut self, silence: Silence) {
        self.state.silences.push(silence);
    }

    /// Removes silence `id`; false when there is none.
    pub fn remove_silence(&mut self, id: &str) -> bool {
        let before = self.state.silences.len();
        self.state.silences.retain(|s| s.id != id);
        self.state.silences.len() != before
    }
}

fn on_log_event(
    rule: &Rule,
    log: &hark_config::LogRule,
    rs: &mut RuleState,
    event: &Event,
    seq: u64,
    (silences, now): (&[Silence], i64),
) -> Vec<Notice> {
    let key = group_key(event, &log.group_by);
    let key_text = key_text(&key);
    let second = event.received_at.div_euclid(NANOS);
    let group = rs.groups.entry(key_text).or_insert_with(|| Group {
        key: key.clone(),
        first_seen: second,
        ..Group::default()
    });
    group.last_seen = group.last_seen.max(second);
    group.last_seq = seq;
    group.counts.add(second, 1);
    if let Measure::Distinct(field) = &log.condition.measure {
        let value = field_text(event, field);
        if !value.is_empty() {
            group.distinct.add(second, &value);
        }
    }
    group.samples.push_back(Sample::of(event));
    if group.samples.len() > MAX_SAMPLES {
        group.samples.pop_front();
    }
    if let Some(alert) = group.alert.as_mut() {
        alert.count += 1;
        alert.samples = group.samples.iter().cloned().collect();
    }
    // Silence rules (`count < N`) are decided by the clock alone.
    if log.condition.op.is_upper_bound() {
        return Vec::new();
    }
    let span = log.window.as_secs().max(1) as i64;
    let value = measure(group, &log.condition.measure, second, span);
    if !log.condition.op.holds(value, log.condition.threshold) {
        return Vec::new();
    }
    let at = event.received_at;
    if let Some(alert) = group.alert.as_mut() {
        alert.last_held = alert.last_held.max(at);
        alert.summary = log_summary(&rule.name, log, &group.key, value);
        return Vec::new();
    }
    let id = alert_id(&rule.name, &group.key, seq);
    let alert = new_log_alert(rule, log, group, id, value, at);
    fire(rule, alert, &mut group.alert, silences, now.max(at))
        .into_iter()
        .collect()
}

fn new_log_alert(
    rule: &Rule,
    log: &hark_config::LogRule,
    group: &Group,
    id: String,
    value: u64,
    at: i64,
) -> Alert {
    Alert {
        id,
        rule: rule.name.clone(),
        group: group.key.clone(),
        status: AlertStatus::Firing,
        severity: rule.severity(None),
        summary: log_summary(&rule.name, log, &group.key, value),
        since: at,
        last_held: at,
        resolved_at: None,
        count: value,
        samples: group.samples.iter().cloned().collect(),
        query: Some(group_search(&log.query, &group.key)),
        acknowledged: None,
        silenced: false,
        last_notified: at,
        reminders: 0,
    }
}

/// A monitor's state change, read from its event.
struct MonitorChange {
    monitor: String,
    state: String,
    /// A hard change (a change of flapping alone is written as soft).
    hard: bool,
    in_downtime: bool,
    flapping: bool,
    output: String,
    at: i64,
    host: Option<String>,
    message: String,
    timestamp: i64,
}

impl MonitorChange {
    fn of(event: &Event) -> Option<MonitorChange> {
        if event.input != crate::MONITOR_INPUT || event.app.as_deref() != Some(crate::MONITOR_APP) {
            return None;
        }
        let text = |name: &str| field_text(event, name);
        let monitor = text("monitor");
        if monitor.is_empty() {
            return None;
        }
        Some(MonitorChange {
            monitor,
            hard: text("state_type") == "hard",
            state: text("state"),
            in_downtime: text("in_downtime") == "true",
            flapping: text("flapping") == "true",
            output: text("output"),
            at: event.received_at,
            host: event.host.clone(),
            message: event.message.clone(),
            timestamp: event.timestamp,
        })
    }
}

fn on_monitor_change(
    rule: &Rule,
    m: &hark_config::MonitorRule,
    rs: &mut RuleState,
    change: &MonitorChange,
    seq: u64,
    (silences, now): (&[Silence], i64),
    resolved: &mut VecDeque<Alert>,
) -> Vec<Notice> {
    let track = rs.monitors.entry(change.monitor.clone()).or_default();
    let group = vec![("monitor".to_owned(), change.monitor.clone())];
    let mut out = Vec::new();
    let at = change.at;
    let sample = Sample {
        timestamp: change.timestamp,
        host: change.host.clone(),
        app: Some(crate::MONITOR_APP.to_owned()),
        message: change.message.clone(),
    };
    let base = |id: String, summary: String| Alert {
        id,
        rule: rule.name.clone(),
        group: group.clone(),
        status: AlertStatus::Firing,
        severity: rule.severity(Some(&change.state)),
        summary,
        since: at,
        last_held: at,
        resolved_at: None,
        count: 1,
        samples: vec![sample.clone()],
        query: Some(group_search("", &group)),
        acknowledged: None,
        silenced: false,
        last_notified: at,
        reminders: 0,
    };
    if change.flapping != track.flapping {
        track.flapping = change.flapping;
        let kind = if change.flapping {
            NoticeKind::FlappingStarted
        } else {
            NoticeKind::FlappingStopped
        };
        let what = if change.flapping {
            "started"
        } else {
            "stopped"
        };
        let alert = base(
            format!("{}-flap", alert_id(&rule.name, &group, seq)),
            format!("{} {what} flapping ({})", change.monitor, change.state),
        );
        if !change.in_downtime && !silenced(silences, &alert, now.max(at)) {
            out.extend(notice(rule, kind, alert, at));
        }
    }
    if !change.hard {
        return out;
    }
    let problem = m.states.iter().any(|s| s.name() == change.state);
    let recovered = matches!(change.state.as_str(), "OK" | "UP");
    let summary = format!("{} is {}: {}", change.monitor, change.state, change.output);
    if problem {
        let quiet = change.flapping || change.in_downtime;
        match track.alert.as_mut() {
            Some(alert) => {
                // Another problem state (WARN → CRIT) is news; the same is not.
                if alert
                    .summary
                    .starts_with(&format!("{} is {}:", change.monitor, change.state))
                {
                    return out;
                }
                alert.summary = summary;
                alert.severity = rule.severity(Some(&change.state));
                alert.last_held = at;
                alert.count += 1;
                alert.samples.push(sample);
                if alert.samples.len() > MAX_SAMPLES {
                    alert.samples.remove(0);
                }
                if !quiet && !alert.silenced {
                    alert.last_notified = at;
                    let id = format!("{}/changed-{seq}", alert.id);
                    out.extend(notice_with_id(
                        rule,
                        NoticeKind::Firing,
                        alert.clone(),
                        at,
                        id,
                    ));
                }
            }
            None => {
                let mut alert = base(alert_id(&rule.name, &group, seq), summary);
                if quiet {
                    alert.silenced = true;
                    track.alert = Some(alert);
                } else {
                    out.extend(fire(rule, alert, &mut track.alert, silences, now.max(at)));
                }
            }
        }
    } else if recovered && let Some(mut alert) = track.alert.take() {
        alert.summary = summary;
        alert.samples.push(sample);
        let (n, done) = resolve(rule, alert, at);
        out.extend(n);
        push_resolved(resolved, done);
    }
    out
}

/// The measure of a condition in `group` at second `now`.
fn measure(group: &mut Group, measure: &Measure, now: i64, span: i64) -> u64 {
    match measure {
        Measure::Count => group.counts.count(now, span),
        Measure::Distinct(_) => {
            group.counts.count(now, span);
            group.distinct.count(now, span)
        }
    }
}

/// Stores `alert` in `slot` and returns its firing notice, unless silenced.
fn fire(
    rule: &Rule,
    mut alert: Alert,
    slot: &mut Option<Alert>,
    silences: &[Silence],
    at: i64,
) -> Option<Notice> {
    metrics::counter!("hark_alerts_fired_total", "rule" => rule.name.clone()).increment(1);
    tracing::info!(rule = %rule.name, alert = %alert.id, summary = %alert.summary, "alert firing");
    if silenced(silences, &alert, at) {
        alert.silenced = true;
        *slot = Some(alert);
        return None;
    }
    let n = notice(rule, NoticeKind::Firing, alert.clone(), at);
    *slot = Some(alert);
    n
}

/// Ends `alert`: its resolved notice (unless its firing was silenced) and
/// the alert as it is kept.
fn resolve(rule: &Rule, mut alert: Alert, at: i64) -> (Option<Notice>, Alert) {
    alert.status = AlertStatus::Resolved;
    alert.resolved_at = Some(at);
    tracing::info!(rule = %rule.name, alert = %alert.id, "alert resolved");
    let n = if alert.silenced {
        None
    } else {
        notice(rule, NoticeKind::Resolved, alert.clone(), at)
    };
    (n, alert)
}

fn remind(rule: &Rule, alert: &mut Alert, now: i64) -> Option<Notice> {
    let every = rule.config.repeat?;
    if alert.status != AlertStatus::Firing || alert.acknowledged.is_some() || alert.silenced {
        return None;
    }
    let every = i64::try_from(every.as_nanos()).unwrap_or(i64::MAX);
    if now - alert.last_notified < every {
        return None;
    }
    alert.reminders += 1;
    alert.last_notified = now;
    let id = format!("{}/reminder-{}", alert.id, alert.reminders);
    notice_with_id(rule, NoticeKind::Reminder, alert.clone(), now, id)
}

fn notice(rule: &Rule, kind: NoticeKind, alert: Alert, at: i64) -> Option<Notice> {
    let suffix = match kind {
        NoticeKind::Firing => "firing",
        NoticeKind::Resolved => "resolved",
        NoticeKind::Reminder => "reminder",
        NoticeKind::FlappingStarted => "flapping-started",
        NoticeKind::FlappingStopped => "flapping-stopped",
        NoticeKind::ProblemOpened => "opened",
        NoticeKind::ProblemClosed => "closed",
        NoticeKind::Test => "test",
    };
    let id = format!("{}/{suffix}", alert.id);
    notice_with_id(rule, kind, alert, at, id)
}

fn notice_with_id(
    rule: &Rule,
    kind: NoticeKind,
    alert: Alert,
    at: i64,
    id: String,
) -> Option<Notice> {
    if rule.config.notify.is_empty() {
        return None;
    }
    Some(Notice {
        id,
        channels: rule.config.notify.clone(),
        kind,
        alert,
        at,
    })
}

fn silenced(silences: &[Silence], alert: &Alert, at: i64) -> bool {
    silences
        .iter()
        .any(|s| s.covers(&alert.rule, &alert.group, at))
}

fn push_resolved(resolved: &mut VecDeque<Alert>, alert: Alert) {
    resolved.push_back(alert);
    while resolved.len() > MAX_RESOLVED {
        resolved.pop_front();
    }
}

fn log_summary(
    rule: &str,
    log: &hark_config::LogRule,
    key: &[(String, String)],
    value: u64,
) -> String {
    let measure = match &log.condition.measure {
        Measure::Count => "count".to_owned(),
        Measure::Distinct(f) => format!("distinct({f})"),
    };
    let op = match log.condition.op {
        Comparison::Above => ">",
        Comparison::AtLeast => ">=",
        Comparison::Below => "<",
        Comparison::AtMost => "<=",
    };
    let mut s = format!(
        "{rule}: {measure} {value} {op} {} in {}",
        log.condition.threshold,
        humanize(log.window)
    );
    if !key.is_empty() {
        s.push_str(" for ");
        s.push_str(&key_text(key));
    }
    s
}

fn humanize(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `host=web1 app=sshd`.
fn key_text(key: &[(String, String)]) -> String {
    key.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `RULE.HASH.SEQ`: stable for the same rule, group and WAL position.
pub(crate) fn alert_id(rule: &str, key: &[(String, String)], seq: u64) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    for (k, v) in key {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
    }
    let digest = h.finalize();
    let safe: String = rule
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.{}.{seq}", hex::encode(&digest[..5]))
}

fn fingerprint(rule: &Rule) -> String {
    let mut h = Sha256::new();
    h.update(format!("{:?}", rule.config).as_bytes());
    hex::encode(&h.finalize()[..8])
}
