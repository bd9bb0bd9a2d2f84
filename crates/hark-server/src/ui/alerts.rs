//! `/alerts`: firing and resolved alerts, the event console's problems,
//! the notification log, silences and rules.

use askama::Template;
use axum::extract::{Extension, State};
use axum::response::Response;
use hark_alert::{Alert, AlertStatus, Phase, Problem, RuleSource};

use super::{Chrome, format, render};
use crate::Shared;
use crate::identity::Principal;

/// Notifications listed.
const NOTIFICATIONS: usize = 100;

/// `k=v, k=v` of a group key.
fn pairs(group: &[(String, String)]) -> String {
    group
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct AlertRow {
    id: String,
    rule: String,
    group: String,
    severity: &'static str,
    summary: String,
    since: String,
    resolved: String,
    count: u64,
    acknowledged: String,
    silenced: bool,
    search: Option<String>,
}

impl AlertRow {
    fn of(a: &Alert) -> AlertRow {
        AlertRow {
            id: a.id.clone(),
            rule: a.rule.clone(),
            group: pairs(&a.group),
            severity: a.severity.name(),
            summary: a.summary.clone(),
            since: format::time(a.since),
            resolved: a.resolved_at.map(format::time).unwrap_or_default(),
            count: a.count,
            acknowledged: a
                .acknowledged
                .as_ref()
                .map(|k| format!("{} at {}", k.by, format::time(k.at)))
                .unwrap_or_default(),
            silenced: a.silenced,
            search: a
                .query
                .as_ref()
                .map(|q| format!("/search?q={}", format::url_encode(q))),
        }
    }
}

struct ProblemRow {
    id: String,
    rule: String,
    key: String,
    state: &'static str,
    class: &'static str,
    phase: &'static str,
    count: u64,
    first: String,
    last: String,
    host: String,
    text: String,
    acknowledged: String,
    closed: String,
    open: bool,
}

impl ProblemRow {
    fn of(p: &Problem) -> ProblemRow {
        ProblemRow {
            id: p.id.clone(),
            rule: p.rule.clone(),
            key: pairs(&p.key),
            state: p.state.name(),
            class: match p.state {
                hark_config::ConsoleState::Crit => "st-crit",
                hark_config::ConsoleState::Warn => "st-warn",
                hark_config::ConsoleState::Unknown => "st-unknown",
                hark_config::ConsoleState::Ok => "st-ok",
            },
            phase: match p.phase {
                Phase::Open => "open",
                Phase::Acknowledged => "acknowledged",
                Phase::Closed => "closed",
            },
            count: p.count,
            first: format::time(p.first),
            last: format::time(p.last),
            host: p.host.clone().unwrap_or_default(),
            text: p.text.clone(),
            acknowledged: p
                .acknowledged
                .as_ref()
                .map(|k| format!("{} at {}", k.by, format::time(k.at)))
                .unwrap_or_default(),
            closed: match (&p.closed_at, &p.closed_reason) {
                (Some(at), Some(why)) => format!("{} ({why})", format::time(*at)),
                (Some(at), None) => format::time(*at),
                _ => String::new(),
            },
            open: p.phase != Phase::Closed,
        }
    }
}

struct NotificationRow {
    created: String,
    channel: String,
    rule: String,
    kind: &'static str,
    summary: String,
    state: &'static str,
    attempts: Vec<String>,
}

struct SilenceRow {
    id: String,
    matchers: String,
    starts: String,
    ends: String,
    comment: String,
    created_by: String,
    api: String,
}

struct RuleRow {
    name: String,
    editable: bool,
    api: String,
    json: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    firing: Vec<AlertRow>,
    resolved: Vec<AlertRow>,
    problems: Vec<ProblemRow>,
    notifications: Vec<NotificationRow>,
    has_notifier: bool,
    silences: Vec<SilenceRow>,
    rules: Vec<RuleRow>,
}

/// `GET /alerts`.
pub(crate) async fn page(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
) -> Response {
    let alerts = app.alerting.alerts();
    let (firing, resolved): (Vec<_>, Vec<_>) =
        alerts.iter().partition(|a| a.status == AlertStatus::Firing);
    let notifications = app
        .notifier
        .as_ref()
        .map(|n| n.records(NOTIFICATIONS))
        .unwrap_or_default()
        .into_iter()
        .map(|r| NotificationRow {
            created: format::time(r.created),
            channel: r.channel,
            rule: r.rule,
            kind: r.kind.label(),
            summary: r.summary,
            state: r.state.name(),
            attempts: r
                .attempts
                .iter()
                .map(|a| {
                    let what = a.answer.as_deref().or(a.error.as_deref()).unwrap_or("");
                    format!("{}: {what}", format::time(a.at))
                })
                .collect(),
        })
        .collect();
    let silences = app
        .alerting
        .silences()
        .into_iter()
        .map(|s| SilenceRow {
            api: format!("/api/v1/silences/{}", format::segment(&s.id)),
            matchers: s
                .matchers
                .iter()
                .map(|m| format!("{}={}", m.name, m.value))
                .collect::<Vec<_>>()
                .join(", "),
            starts: format::time(s.starts_at),
            ends: format::time(s.ends_at),
            comment: s.comment,
            created_by: s.created_by,
            id: s.id,
        })
        .collect();
    let rules = app
        .alerting
        .rules()
        .into_iter()
        .map(|r| RuleRow {
            api: format!("/api/v1/rules/{}", format::segment(&r.name)),
            editable: r.source == RuleSource::Api,
            json: serde_json::to_string_pretty(&r.rule).unwrap_or_default(),
            name: r.name,
        })
        .collect();
    render::ok(&AlertsPage {
        chrome: Chrome::new(Some(p), "/alerts"),
        firing: firing.into_iter().map(AlertRow::of).collect(),
        resolved: resolved.into_iter().map(AlertRow::of).collect(),
        problems: app.alerting.problems().iter().map(ProblemRow::of).collect(),
        notifications,
        has_notifier: app.notifier.is_some(),
        silences,
        rules,
    })
}
