//! The event console: `[event_rules.*]` turn matching events into problems
//! with a state, a count and a lifecycle (open → acknowledged → closed by
//! a cancelling event, by expiry or by hand). Each change is also an event
//! in the store (`input:event-console`).

use std::collections::{BTreeMap, VecDeque};

use hark_config::{ConsoleState, EventRuleConfig, ProblemStateSource};
use hark_event::{Event, Severity};
use hark_store::{BatchIndex, EventFilter, Store};
use serde::{Deserialize, Serialize};

use crate::AlertError;
use crate::engine::{Acknowledgement, Alert, AlertStatus, Notice, NoticeKind, Sample, alert_id};
use crate::rule::{group_key, group_search};
use crate::window::CountWindow;

/// The `input` of the events the console writes about its problems.
pub const CONSOLE_INPUT: &str = "event-console";
/// The `app` of those events.
pub const CONSOLE_APP: &str = "hark-events";
/// Closed problems kept for the API.
const MAX_CLOSED: usize = 500;
const NANOS: i64 = 1_000_000_000;

/// An event rule ready to run.
pub struct ConsoleRule {
    /// Its name, from `[event_rules.NAME]`.
    pub name: String,
    /// Its configuration.
    pub config: EventRuleConfig,
    matches: EventFilter,
    cancel: Option<EventFilter>,
}

impl ConsoleRule {
    /// Compiles rule `name`; a bad query is an error naming the rule and key.
    pub fn compile(
        name: &str,
        config: &EventRuleConfig,
        store: &Store,
    ) -> Result<ConsoleRule, AlertError> {
        let compile = |key: &'static str, query: &str| {
            store.compile_filter(query).map_err(|e| AlertError::Rule {
                rule: format!("event_rules.{name}"),
                key,
                message: e.to_string(),
            })
        };
        Ok(ConsoleRule {
            name: name.to_owned(),
            config: config.clone(),
            matches: compile("match", &config.matches)?,
            cancel: config
                .cancel
                .as_deref()
                .map(|q| compile("cancel", q))
                .transpose()?,
        })
    }
}

/// Where a problem is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Open, nobody has taken it.
    Open,
    /// Someone has taken it.
    Acknowledged,
    /// Over.
    Closed,
}

/// One problem of the event console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable identifier.
    pub id: String,
    /// The event rule.
    pub rule: String,
    /// The `key` fields and their values.
    pub key: Vec<(String, String)>,
    /// Its state.
    pub state: ConsoleState,
    /// Where it is in its life.
    pub phase: Phase,
    /// Matching events since it opened.
    pub count: u64,
    /// When it opened (ns).
    pub first: i64,
    /// The last matching event (ns).
    pub last: i64,
    /// The last matching event's host.
    pub host: Option<String>,
    /// The last matching event's message.
    pub text: String,
    /// Who acknowledged it.
    pub acknowledged: Option<Acknowledgement>,
    /// When it closed (ns).
    pub closed_at: Option<i64>,
    /// Why: `cancelled: <message>`, `expired`, `closed by <name>`.
    pub closed_reason: Option<String>,
}

/// The console's state that survives restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Book {
    /// Open (and acknowledged) problems by rule and key.
    open: BTreeMap<String, Problem>,
    /// Matches counted toward opening, by rule and key.
    counting: BTreeMap<String, CountWindow>,
    closed: VecDeque<Problem>,
    /// Events about changes, for the store; not saved.
    #[serde(skip)]
    events: Vec<Event>,
}

impl Book {
    /// Drops the state of rules that no longer exist; their open problems close.
    pub fn retain_rules(&mut self, rules: &[ConsoleRule], now: i64) {
        let known = |slot: &str| rules.iter().any(|r| slot_rule(slot) == r.name);
        let gone: Vec<String> = self.open.keys().filter(|k| !known(k)).cloned().collect();
        for slot in gone {
            if let Some(p) = self.open.remove(&slot) {
                self.close(p, now, "the rule was removed".into());
            }
        }
        self.counting.retain(|k, _| known(k));
    }

    /// Open and acknowledged problems, newest first, then closed ones.
    pub fn problems(&self) -> Vec<Problem> {
        let mut open: Vec<Problem> = self.open.values().cloned().collect();
        open.sort_by_key(|p| std::cmp::Reverse(p.first));
        open.extend(self.closed.iter().rev().cloned());
        open
    }

    /// Events describing changes since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Evaluates a batch at WAL positions `first_seq..`, skipping `done`
    /// and before, and the console's own events.
    pub fn apply(
        &mut self,
        rules: &[ConsoleRule],
        first_seq: u64,
        events: &[Event],
        index: &BatchIndex,
        done: u64,
    ) -> Vec<Notice> {
        let mut notices = Vec::new();
        for rule in rules {
            let matched = rule.matches.matching_in(index);
            let cancelled = rule
                .cancel
                .as_ref()
                .map(|c| c.matching_in(index))
                .unwrap_or_default();
            let (mut m, mut c) = (matched.iter().peekable(), cancelled.iter().peekable());
            for (i, event) in events.iter().enumerate() {
                let is_match = m.next_if_eq(&&i).is_some();
                let is_cancel = c.next_if_eq(&&i).is_some();
                let seq = first_seq + i as u64;
                if seq <= done || event.input == CONSOLE_INPUT || !(is_match || is_cancel) {
                    continue;
                }
                // A cancelling event wins when it matches both.
                if is_cancel {
                    notices.extend(self.cancel(rule, event));
                } else {
                    notices.extend(self.matched(rule, event, seq));
                }
            }
        }
        notices
    }

    fn matched(&mut self, rule: &ConsoleRule, event: &Event, seq: u64) -> Option<Notice> {
        let key = group_key(event, &rule.config.key);
        let slot = slot(&rule.name, &key);
        let at = event.received_at;
        if let Some(p) = self.open.get_mut(&slot) {
            p.count += 1;
            p.last = at;
            p.text.clone_from(&event.message);
            p.host.clone_from(&event.host);
            return None;
        }
        let state = match rule.config.state {
            ProblemStateSource::Fixed(s) => s,
            ProblemStateSource::Syslog => match event.severity {
                Some(s) if s <= Severity::Err => ConsoleState::Crit,
                Some(Severity::Warning) => ConsoleState::Warn,
                _ => ConsoleState::Ok,
            },
        };
        if state == ConsoleState::Ok {
            return None;
        }
        if let Some(spec) = &rule.config.count {
            let span = spec.window.as_secs().max(1) as i64;
            let window = self.counting.entry(slot.clone()).or_default();
            let second = at.div_euclid(NANOS);
            window.add(second, 1);
            if window.count(second, span) < spec.n {
                return None;
            }
            self.counting.remove(&slot);
        }
        let problem = Problem {
            id: alert_id(&rule.name, &key, seq),
            rule: rule.name.clone(),
            key,
            state,
            phase: Phase::Open,
            count: rule.config.count.as_ref().map_or(1, |c| c.n),
            first: at,
            last: at,
            host: event.host.clone(),
            text: event.message.clone(),
            acknowledged: None,
            closed_at: None,
            closed_reason: None,
        };
        tracing::info!(rule = %rule.name, problem = %problem.id, "problem opened");
        self.events.push(change_event(&problem, "opened", at));
        let notice = notice(rule, &problem, NoticeKind::ProblemOpened, at);
        self.open.insert(slot, problem);
        notice
    }

    fn cancel(&mut self, rule: &ConsoleRule, event: &Event) -> Option<Notice> {
        let key = group_key(event, &rule.config.key);
        let slot = slot(&rule.name, &key);
        self.counting.remove(&slot);
        let problem = self.open.remove(&slot)?;
        let at = event.received_at;
        let closed = self.close(problem, at, format!("cancelled: {}", event.message));
        notice(rule, &closed, NoticeKind::ProblemClosed, at)
    }

    /// Closes problems that saw no match for their rule's `expire`.
    pub fn tick(&mut self, rules: &[ConsoleRule], now: i64) -> Vec<Notice> {
        let mut notices = Vec::new();
        for rule in rules {
            let Some(expire) = rule.config.expire else {
                continue;
            };
            let expire = i64::try_from(expire.as_nanos()).unwrap_or(i64::MAX);
            let due: Vec<String> = self
                .open
                .iter()
                .filter(|(slot, p)| slot_rule(slot) == rule.name && now - p.last >= expire)
                .map(|(slot, _)| slot.clone())
                .collect();
            for slot in due {
                if let Some(p) = self.open.remove(&slot) {
                    let closed = self.close(p, now, "expired".into());
                    notices.extend(notice(rule, &closed, NoticeKind::ProblemClosed, now));
                }
            }
        }
        notices
    }

    /// Acknowledges open problem `id`; false when there is none.
    pub fn acknowledge(&mut self, id: &str, by: &str, now: i64) -> bool {
        let Some(p) = self.open.values_mut().find(|p| p.id == id) else {
            return false;
        };
        p.phase = Phase::Acknowledged;
        p.acknowledged = Some(Acknowledgement {
            by: by.to_owned(),
            at: now,
        });
        let event = change_event(p, "acknowledged", now);
        self.events.push(event);
        true
    }

    /// Closes open problem `id` by hand; the closed problem, or none.
    pub fn close_by_hand(
        &mut self,
        rules: &[ConsoleRule],
        id: &str,
        by: &str,
        now: i64,
    ) -> Option<(Problem, Option<Notice>)> {
        let slot = self.open.iter().find(|(_, p)| p.id == id)?.0.clone();
        let problem = self.open.remove(&slot)?;
        let closed = self.close(problem, now, format!("closed by {by}"));
        let notice = rules
            .iter()
            .find(|r| r.name == closed.rule)
            .and_then(|r| notice(r, &closed, NoticeKind::ProblemClosed, now));
        Some((closed, notice))
    }

    fn close(&mut self, mut p: Problem, at: i64, reason: String) -> Problem {
        p.phase = Phase::Closed;
        p.closed_at = Some(at);
        p.closed_reason = Some(reason);
        tracing::info!(rule = %p.rule, problem = %p.id, reason = ?p.closed_reason, "problem closed");
        self.events.push(change_event(&p, "closed", at));
        self.closed.push_back(p.clone());
        while self.closed.len() > MAX_CLOSED {
            self.closed.pop_front();
        }
        p
    }
}

fn slot(rule: &str, key: &[(String, String)]) -> String {
    let mut s = rule.to_owned();
    for (k, v) in key {
        s.push('\0');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

fn slot_rule(slot: &str) -> &str {
    slot.split('\0').next().unwrap_or(slot)
}

/// The notice for a problem's change, when the rule notifies.
fn notice(rule: &ConsoleRule, p: &Problem, kind: NoticeKind, at: i64) -> Option<Notice> {
    if rule.config.notify.is_empty() {
        return None;
    }
    let suffix = if kind == NoticeKind::ProblemOpened {
        "opened"
    } else {
        "closed"
    };
    let query = group_search(&rule.config.matches, &p.key);
    let key: Vec<String> = p.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut summary = format!(
        "{} {}: {} ({})",
        rule.name,
        p.state.name(),
        p.text,
        key.join(" ")
    );
    if let Some(reason) = &p.closed_reason {
        summary.push_str(&format!(", {reason}"));
    }
    Some(Notice {
        id: format!("{}/{suffix}", p.id),
        channels: rule.config.notify.clone(),
        kind,
        alert: Alert {
            id: p.id.clone(),
            rule: p.rule.clone(),
            group: p.key.clone(),
            status: if p.phase == Phase::Closed {
                AlertStatus::Resolved
            } else {
                AlertStatus::Firing
            },
            severity: match p.state {
                ConsoleState::Crit => hark_config::AlertSeverity::Critical,
                ConsoleState::Warn | ConsoleState::Unknown => hark_config::AlertSeverity::Warning,
                ConsoleState::Ok => hark_config::AlertSeverity::Info,
            },
            summary,
            since: p.first,
            last_held: p.last,
            resolved_at: p.closed_at,
            count: p.count,
            samples: vec![Sample {
                timestamp: p.last,
                host: p.host.clone(),
                app: None,
                message: p.text.clone(),
            }],
            query: Some(query),
            acknowledged: p.acknowledged.clone(),
            silenced: false,
            last_notified: at,
            reminders: 0,
        },
        at,
    })
}

/// The event recording a change of `p`: `app:hark-events`, fields
/// `problem`, `rule`, `change`, `state`, `phase`, `count` and the key.
fn change_event(p: &Problem, change: &str, at: i64) -> Event {
    let mut ev = Event::new(at, CONSOLE_INPUT);
    ev.app = Some(CONSOLE_APP.to_owned());
    ev.host.clone_from(&p.host);
    ev.severity = Some(match p.state {
        ConsoleState::Crit => Severity::Crit,
        ConsoleState::Warn => Severity::Warning,
        ConsoleState::Unknown => Severity::Err,
        ConsoleState::Ok => Severity::Info,
    });
    ev.message = format!("problem {} {change}: {} {}", p.id, p.state.name(), p.text);
    ev.push_field("problem", p.id.as_str());
    ev.push_field("rule", p.rule.as_str());
    ev.push_field("change", change);
    ev.push_field("state", p.state.name());
    ev.push_field(
        "phase",
        match p.phase {
            Phase::Open => "open",
            Phase::Acknowledged => "acknowledged",
            Phase::Closed => "closed",
        },
    );
    ev.push_field("count", hark_event::FieldValue::Int(p.count as i64));
    for (k, v) in &p.key {
        ev.push_field(format!("key.{k}"), v.as_str());
    }
    ev
}
