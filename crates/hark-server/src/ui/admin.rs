//! `/admin` (users, all tokens, the LDAP test, the audit log, server
//! health, forwarders and their groups' configurations) and `/account`
//! (one's own tokens). Users and tokens are listed
//! and changed by `static/js/admin.js` through the users and tokens API;
//! the audit log and health are read here.

use askama::Template;
use axum::extract::{Extension, State};
use axum::response::Response;
use hark_event::sink::Health;
use hark_store::SearchRequest;

use super::{Chrome, format, render};
use crate::Shared;
use crate::identity::Principal;

/// The `app` of audit events.
pub(crate) const AUDIT_APP: &str = "hark-audit";
/// Audit events listed.
const AUDIT_EVENTS: usize = 200;
const SECOND: i64 = 1_000_000_000;

struct AuditRow {
    time: String,
    host: String,
    message: String,
}

/// One forwarder in the Forwarders section.
struct ForwarderRow {
    name: String,
    group: String,
    status: &'static str,
    version: String,
    group_config: String,
    /// Events buffered, bytes of the cap and the overflow mode.
    buffer: String,
    /// Events lost: buffer drops and input drops.
    dropped: String,
    last_seen: String,
}

/// One group's central configuration, edited in a textarea.
struct GroupRow {
    name: String,
    version: String,
    text: String,
}

/// What the Forwarders section shows; `None` when the uplink is off.
struct Fleet {
    forwarders: Vec<ForwarderRow>,
    groups: Vec<GroupRow>,
}

/// The forwarders and every group that has forwarders or a configuration.
fn fleet_section(fleet: &hark_uplink::fleet::Fleet) -> Fleet {
    let views = fleet.views();
    let configs = fleet.group_configs();
    let mut names: Vec<String> = configs.groups().unwrap_or_default();
    names.extend(views.iter().map(|v| v.group.clone()));
    names.sort();
    names.dedup();
    let groups = names
        .into_iter()
        .map(|name| {
            let doc = configs.get(&name).ok().flatten();
            GroupRow {
                version: doc.as_ref().map(|d| d.version.clone()).unwrap_or_default(),
                text: doc.map(|d| d.text).unwrap_or_default(),
                name,
            }
        })
        .collect();
    let dash = || "-".to_owned();
    let forwarders = views
        .into_iter()
        .map(|v| {
            let health = v.health.as_ref();
            let running = health
                .map(|h| h.group_config_version.clone())
                .filter(|r| !r.is_empty());
            let group_config = match (running, v.group_config) {
                (None, None) => dash(),
                (Some(r), Some(c)) if r == c => r,
                (r, c) => format!(
                    "{} (center {})",
                    r.unwrap_or_else(dash),
                    c.unwrap_or_else(dash)
                ),
            };
            ForwarderRow {
                status: v.status,
                version: health.map_or_else(dash, |h| h.version.clone()),
                buffer: health.map_or_else(dash, |h| {
                    format!(
                        "{} events, {} of {} ({})",
                        format::count(h.buffer_events),
                        format::bytes(h.buffer_bytes),
                        format::bytes(h.buffer_max),
                        h.overflow.replace('_', " ")
                    )
                }),
                dropped: health.map_or_else(dash, |h| {
                    let inputs: u64 = h.inputs.values().map(|i| i.drops).sum();
                    format::count(h.dropped + inputs)
                }),
                last_seen: v.last_seen.unwrap_or_else(dash),
                group_config,
                group: v.group,
                name: v.name,
            }
        })
        .collect();
    Fleet { forwarders, groups }
}

/// What the health section shows, label and value.
type Facts = Vec<(String, String)>;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    audit: Vec<AuditRow>,
    audit_search: String,
    audit_error: Option<String>,
    health: Facts,
    healthy: bool,
    /// Detached outputs, name and path segment, each with a Re-attach button.
    detached_outputs: Vec<(String, String)>,
    fleet: Option<Fleet>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
}

/// `GET /account`: the signed-in principal's own tokens.
pub(crate) async fn account(Extension(p): Extension<Principal>) -> Response {
    render::ok(&AccountPage {
        chrome: Chrome::new(Some(p), ""),
    })
}

/// `GET /admin`.
pub(crate) async fn page(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
) -> Response {
    let store = app.store.clone();
    let forwarders = app.forwarders.clone();
    let now = hark_event::now_nanos();
    let read = tokio::task::spawn_blocking(move || {
        let mut audit = SearchRequest::new(format!("app:{AUDIT_APP}"));
        audit.limit = AUDIT_EVENTS;
        let audit = store.search(&audit);
        let rate = |secs: i64| {
            let mut r = SearchRequest::new("*");
            r.from = Some(now - secs * SECOND);
            r.to = Some(now);
            r.limit = 1;
            store
                .search(&r)
                .map(|found| found.total as f64 / secs as f64)
        };
        let fleet = forwarders.as_ref().map(fleet_section);
        (
            audit,
            rate(60),
            rate(900),
            store.stats(),
            store.health(),
            fleet,
        )
    })
    .await;
    let chrome = Chrome::new(Some(p), "/admin");
    let Ok((audit, rate_1m, rate_15m, stats, health, fleet)) = read else {
        return render::error(
            chrome,
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the store could not be read".to_owned(),
        );
    };
    let (audit, audit_error) = match audit {
        Ok(found) => (
            found
                .hits
                .iter()
                .map(|e| AuditRow {
                    time: format::time(e.timestamp),
                    host: e.host.clone().unwrap_or_default(),
                    message: e.message.clone(),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let rate = |r: Result<f64, hark_store::QueryError>| match r {
        Ok(v) => format!("{v:.1} events/s"),
        Err(e) => e.to_string(),
    };
    let (healthy, wal_state) = match &health {
        Health::Ready => (true, "writing".to_owned()),
        Health::Unavailable { cause, since_unix } => (
            false,
            format!(
                "unavailable since {}: {cause}",
                format::time(*since_unix as i64 * SECOND)
            ),
        ),
    };
    let health: Vec<(&str, String)> = vec![
        ("Storage", wal_state),
        ("Ingest, last minute", rate(rate_1m)),
        ("Ingest, last 15 minutes", rate(rate_15m)),
        ("Write-ahead log", format::bytes(stats.wal_bytes)),
        (
            "Index lag",
            format!(
                "{} events, {:.1} s",
                format::count(stats.appended_seq.saturating_sub(stats.indexed_seq)),
                stats.index_lag_seconds
            ),
        ),
        (
            "Index on disk",
            format!(
                "{} in {} splits",
                format::bytes(stats.index_bytes),
                stats.splits
            ),
        ),
        (
            "Disk used by data",
            format::bytes(stats.index_bytes + stats.wal_bytes),
        ),
    ];
    let mut health: Facts = health
        .into_iter()
        .map(|(label, value)| (label.to_owned(), value))
        .collect();
    let statuses = app.outputs.statuses();
    let (outputs, outputs_ok) = output_facts(&statuses);
    health.extend(outputs);
    let healthy = healthy && outputs_ok;
    let detached_outputs = statuses
        .snapshot()
        .into_iter()
        .filter(|(_, s)| s.state == hark_output::OutputState::Detached)
        .map(|(name, _)| {
            let path = format::segment(&name);
            (name, path)
        })
        .collect();
    render::ok(&AdminPage {
        chrome,
        audit,
        audit_search: format!(
            "/search?q={}",
            format::url_encode(&format!("app:{AUDIT_APP}"))
        ),
        audit_error,
        health,
        healthy,
        detached_outputs,
        fleet,
    })
}

/// One row per output: its state, lag and counts, and its last error; and
/// whether every output is running (a detached or failed one is a problem).
fn output_facts(outputs: &hark_output::Statuses) -> (Facts, bool) {
    use hark_output::OutputState;
    let mut ok = true;
    let rows = outputs
        .snapshot()
        .into_iter()
        .map(|(name, s)| {
            ok &= !matches!(s.state, OutputState::Detached | OutputState::Failed);
            let mut value = format!(
                "{}, lag {} events, {} delivered, {} failed attempts",
                s.state.name(),
                format::count(s.lag_events),
                format::count(s.delivered),
                format::count(s.failed_attempts)
            );
            if let Some(e) = &s.last_error
                && s.state != OutputState::Running
            {
                value.push_str(": ");
                value.push_str(e);
            }
            (format!("Output {name}"), value)
        })
        .collect();
    (rows, ok)
}

#[cfg(test)]
mod tests {
    use super::output_facts;

    #[test]
    fn each_output_has_a_row_and_a_detached_one_is_a_problem() {
        let statuses = hark_output::Statuses::default();
        let (rows, ok) = output_facts(&statuses);
        assert!(rows.is_empty() && ok);
        statuses.reporter("siem").lag(3);
        let (rows, ok) = output_facts(&statuses);
        assert!(ok);
        assert_eq!(rows[0].0, "Output siem");
        assert!(rows[0].1.starts_with("running, lag 3 events"), "{rows:?}");
        let relay = statuses.reporter("relay");
        relay.failed("cannot connect to relay:2514: refused");
        let (rows, ok) = output_facts(&statuses);
        assert!(ok, "retrying is not a problem yet");
        assert!(
            rows[0].1.contains("retrying") && rows[0].1.contains("refused"),
            "{rows:?}"
        );
        relay.detached("WAL reader `output-relay` was detached");
        let (rows, ok) = output_facts(&statuses);
        assert!(!ok);
        assert!(rows[0].1.starts_with("detached"), "{rows:?}");
    }
}
