//! `/monitors` (problems first, refreshed by htmx) and `/monitors/{name}`
//! (state timeline, response times, availability and the operators' actions).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hark_monitor::history::Interval;
use hark_monitor::service::MonitorView;
use hark_monitor::state::State as MonitorState;
use serde::Deserialize;

use super::svg::{self, Segment};
use super::{Chrome, format, render};
use crate::Shared;
use crate::identity::Principal;

/// How problems sort: CRIT/DOWN, WARN, UNKNOWN, the rest, then OK/UP.
pub(crate) fn rank(state: MonitorState) -> u8 {
    match state {
        MonitorState::Crit | MonitorState::Down => 0,
        MonitorState::Warn => 1,
        MonitorState::Unknown | MonitorState::Unreachable => 2,
        MonitorState::Pending => 3,
        MonitorState::Ok | MonitorState::Up => 4,
    }
}

/// The CSS class of a state's colour.
pub(crate) fn state_class(state: MonitorState) -> &'static str {
    match state {
        MonitorState::Crit | MonitorState::Down => "st-crit",
        MonitorState::Warn => "st-warn",
        MonitorState::Unknown | MonitorState::Unreachable => "st-unknown",
        MonitorState::Pending => "st-pending",
        MonitorState::Ok | MonitorState::Up => "st-ok",
    }
}

/// One row of the monitor table.
pub(crate) struct Row {
    name: String,
    href: String,
    kind: String,
    target: String,
    state: &'static str,
    class: &'static str,
    state_type: &'static str,
    attempt: String,
    duration: String,
    last_check: String,
    output: String,
    flags: Vec<&'static str>,
}

impl Row {
    fn of(m: &MonitorView, now: i64) -> Row {
        let mut flags = Vec::new();
        if m.flapping {
            flags.push("flapping");
        }
        if m.stale {
            flags.push("stale");
        }
        if m.in_downtime {
            flags.push("downtime");
        }
        if m.acknowledged {
            flags.push("acknowledged");
        }
        Row {
            name: m.name.clone(),
            href: format!("/monitors/{}", format::segment(&m.name)),
            kind: m.kind.clone(),
            target: m.target.clone(),
            state: m.state.name(),
            class: state_class(m.state),
            state_type: m.state_type.name(),
            attempt: format!("{}/{}", m.attempt, m.max_attempts),
            duration: m
                .last_change
                .map(|t| format::duration((now - t) / 1_000_000_000))
                .unwrap_or_default(),
            last_check: m
                .last_check
                .map(|t| format::ago(t, now))
                .unwrap_or_default(),
            output: m.output.clone(),
            flags,
        }
    }
}

/// Monitors sorted problems first, then by name.
pub(crate) fn sorted(mut monitors: Vec<MonitorView>) -> Vec<MonitorView> {
    monitors.sort_by(|a, b| (rank(a.state), &a.name).cmp(&(rank(b.state), &b.name)));
    monitors
}

#[derive(Template)]
#[template(path = "monitors.html")]
struct ListPage {
    chrome: Chrome,
    table: Table,
}

#[derive(Template)]
#[template(path = "monitors_table.html")]
struct Table {
    rows: Vec<Row>,
    counts: Vec<(&'static str, &'static str, usize)>,
}

fn table(app: &Shared) -> Table {
    let now = hark_event::now_nanos();
    let monitors = sorted(app.monitoring.list());
    let mut counts = vec![
        ("CRIT/DOWN", "st-crit", 0),
        ("WARN", "st-warn", 0),
        ("UNKNOWN", "st-unknown", 0),
        ("PENDING", "st-pending", 0),
        ("OK/UP", "st-ok", 0),
    ];
    for m in &monitors {
        counts[usize::from(rank(m.state))].2 += 1;
    }
    Table {
        rows: monitors.iter().map(|m| Row::of(m, now)).collect(),
        counts,
    }
}

/// `GET /monitors`: the whole page, or only the table for htmx's refresh.
pub(crate) async fn list(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
) -> Response {
    let table = table(&app);
    if headers.contains_key("hx-request") {
        return render::ok(&table);
    }
    render::ok(&ListPage {
        chrome: Chrome::new(Some(p), "/monitors"),
        table,
    })
}

/// The query of `/monitors/{name}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DetailQuery {
    /// The range of the timeline and graph: `24h` (default), `7d` or `30d`.
    #[serde(default)]
    range: Option<String>,
}

/// The ranges the detail page offers, with their length in seconds.
const RANGES: &[(&str, i64)] = &[
    ("6h", 6 * 3600),
    ("24h", 86_400),
    ("7d", 7 * 86_400),
    ("30d", 30 * 86_400),
];

#[derive(Template)]
#[template(path = "monitor.html")]
struct DetailPage {
    chrome: Chrome,
    row: Row,
    name: String,
    api: String,
    interval: String,
    parent: Option<String>,
    next_check: String,
    ack: Option<String>,
    perf: Vec<String>,
    range: String,
    ranges: Vec<(&'static str, String, bool)>,
    timeline: String,
    changes: Vec<(String, &'static str, &'static str, String)>,
    availability: [(&'static str, String); 3],
    series_json: String,
}

/// `GET /monitors/{name}`.
pub(crate) async fn detail(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
    query: Result<Query<DetailQuery>, QueryRejection>,
) -> Response {
    let chrome = Chrome::new(Some(p), "/monitors");
    let Some(m) = app.monitoring.get(&name) else {
        return render::error(
            chrome,
            StatusCode::NOT_FOUND,
            format!("There is no monitor named {name}."),
        );
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let (range, secs) = RANGES
        .iter()
        .find(|(r, _)| Some(*r) == q.range.as_deref())
        .copied()
        .unwrap_or(RANGES[1]);
    let now = hark_event::now_nanos();
    let from = now - secs * 1_000_000_000;
    let Some(history) = app.monitoring.history(&name, from, now) else {
        return render::error(
            chrome,
            StatusCode::NOT_FOUND,
            format!("There is no monitor named {name}."),
        );
    };
    let timeline = svg::timeline(&segments(&history.intervals, from, now), "State timeline");
    let changes: Vec<_> = history
        .intervals
        .iter()
        .rev()
        .take(50)
        .map(|i| {
            (
                format::time(i.start),
                i.state.name(),
                state_class(i.state),
                match i.end {
                    Some(end) => format::duration((end - i.start) / 1_000_000_000),
                    None => format!(
                        "{} (now)",
                        format::duration((now - i.start) / 1_000_000_000)
                    ),
                },
            )
        })
        .collect();
    let points: Vec<serde_json::Value> = history
        .response_times
        .points
        .iter()
        .map(|p| serde_json::json!([p.start / 1_000_000_000, p.min, p.avg, p.max]))
        .collect();
    let series = serde_json::json!({
        "step": history.response_times.step_secs,
        "from": from / 1_000_000_000,
        "to": now / 1_000_000_000,
        "points": points,
    });
    let a = history.availability;
    let row = Row::of(&m, now);
    render::ok(&DetailPage {
        chrome,
        api: format!("/api/v1/monitors/{}", format::segment(&m.name)),
        name: m.name.clone(),
        interval: format::duration(m.interval.round() as i64),
        parent: m.parent.clone(),
        next_check: m.next_check.map(format::time).unwrap_or_default(),
        ack: m.ack.as_ref().map(|a| {
            format!(
                "{} at {}{}: {}",
                a.author,
                format::time(a.at),
                if a.sticky { " (sticky)" } else { "" },
                a.comment
            )
        }),
        perf: m
            .perf
            .iter()
            .map(|p| format!("{}={}{}", p.label, p.value, p.unit))
            .collect(),
        range: range.to_owned(),
        ranges: RANGES
            .iter()
            .map(|(r, _)| (*r, format!("{}?range={r}", row.href), *r == range))
            .collect(),
        timeline,
        changes,
        availability: [
            ("24 hours", format::percent(a.last_24h)),
            ("7 days", format::percent(a.last_7d)),
            ("30 days", format::percent(a.last_30d)),
        ],
        series_json: format::script_json(&series),
        row,
    })
}

/// The timeline's segments between `from` and `to` (ns).
fn segments(intervals: &[Interval], from: i64, to: i64) -> Vec<Segment> {
    let span = (to - from).max(1) as f64;
    intervals
        .iter()
        .filter_map(|i| {
            let start = i.start.max(from);
            let end = i.end.unwrap_or(to).min(to);
            (end > start).then(|| Segment {
                from: (start - from) as f64 / span,
                to: (end - from) as f64 / span,
                class: if i.in_downtime {
                    "st-downtime"
                } else {
                    state_class(i.state)
                },
                title: format!(
                    "{} from {} for {}{}",
                    i.state.name(),
                    format::time(i.start),
                    format::duration((end - i.start) / 1_000_000_000),
                    if i.in_downtime { " (downtime)" } else { "" }
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_rank_before_ok() {
        let order = [
            MonitorState::Crit,
            MonitorState::Warn,
            MonitorState::Unknown,
            MonitorState::Pending,
            MonitorState::Ok,
        ];
        for pair in order.windows(2) {
            assert!(rank(pair[0]) < rank(pair[1]), "{pair:?}");
        }
        assert_eq!(rank(MonitorState::Down), rank(MonitorState::Crit));
        assert_eq!(rank(MonitorState::Up), rank(MonitorState::Ok));
    }

    #[test]
    fn segments_are_clipped_to_the_range() {
        let intervals = [
            Interval {
                start: 0,
                end: Some(50),
                state: MonitorState::Ok,
                in_downtime: false,
            },
            Interval {
                start: 50,
                end: None,
                state: MonitorState::Crit,
                in_downtime: false,
            },
        ];
        let s = segments(&intervals, 25, 125);
        assert_eq!(s.len(), 2);
        assert!((s[0].from - 0.0).abs() < 1e-9 && (s[0].to - 0.25).abs() < 1e-9);
        assert_eq!(s[1].class, "st-crit");
        assert!((s[1].to - 1.0).abs() < 1e-9);
    }
}
