//! `/status`: the public status page. It lists only monitors configured
//! `public = true`, with their state and 90 days of availability bars, and
//! nothing internal: no output, no target, no address.

use askama::Template;
use axum::extract::{Extension, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use hark_monitor::history::Interval;

use super::monitors::{rank, sorted, state_class};
use super::svg::{self, Day};
use super::{Chrome, render};
use crate::Shared;
use crate::identity::Principal;

/// Days of availability bars.
const DAYS: i64 = 90;
const DAY_NS: i64 = 86_400 * 1_000_000_000;

struct PublicMonitor {
    name: String,
    rank: u8,
    state: &'static str,
    class: &'static str,
    bars: String,
    availability: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    overall: &'static str,
    overall_class: &'static str,
    monitors: Vec<PublicMonitor>,
    updated: String,
}

/// `GET /status`.
pub(crate) async fn page(
    State(app): State<Shared>,
    principal: Option<Extension<Principal>>,
) -> Response {
    let now = hark_event::now_nanos();
    let first_day = (now / DAY_NS - (DAYS - 1)) * DAY_NS;
    let monitors: Vec<PublicMonitor> = sorted(app.monitoring.list())
        .into_iter()
        .filter(|m| app.monitoring.is_public(&m.name))
        .map(|m| {
            let days = app
                .monitoring
                .history(&m.name, first_day, now)
                .map(|h| daily(&h.intervals, first_day, now))
                .unwrap_or_default();
            let observed: Vec<f64> = days.iter().filter_map(|d| d.availability).collect();
            let availability = if observed.is_empty() {
                "no data yet".to_owned()
            } else {
                format!(
                    "{:.2} % over {} days",
                    observed.iter().sum::<f64>() / observed.len() as f64,
                    observed.len()
                )
            };
            PublicMonitor {
                bars: svg::day_bars(&days, &format!("{} availability per day", m.name)),
                name: m.name,
                rank: rank(m.state),
                state: public_state(m.state),
                class: state_class(m.state),
                availability,
            }
        })
        .collect();
    let worst = monitors.iter().map(|m| m.rank).min();
    let (overall, overall_class) = match worst {
        None => ("No public monitors", "st-pending"),
        Some(0) => ("Major outage", "st-crit"),
        Some(1 | 2) => ("Partially degraded", "st-warn"),
        Some(3) => ("Waiting for first results", "st-pending"),
        Some(_) => ("All systems operational", "st-ok"),
    };
    render::ok(&StatusPage {
        chrome: Chrome::new(principal.map(|Extension(p)| p), "/status"),
        overall,
        overall_class,
        monitors,
        updated: super::format::time(now),
    })
}

/// The state as the public sees it.
fn public_state(state: hark_monitor::state::State) -> &'static str {
    use hark_monitor::state::State as S;
    match state {
        S::Ok | S::Up => "Operational",
        S::Warn => "Degraded",
        S::Crit | S::Down => "Down",
        S::Unknown | S::Unreachable => "Unknown",
        S::Pending => "Pending",
    }
}

/// Availability per UTC day from `first_day` (a midnight) to `now`:
/// the share of observed time, outside downtimes, in an available state.
pub(crate) fn daily(intervals: &[Interval], first_day: i64, now: i64) -> Vec<Day> {
    let mut days = Vec::new();
    let mut start = first_day;
    while start < now {
        let end = (start + DAY_NS).min(now);
        let (mut up, mut total) = (0i64, 0i64);
        for i in intervals {
            if i.in_downtime || i.state == hark_monitor::state::State::Pending {
                continue;
            }
            let (s, e) = (i.start.max(start), i.end.unwrap_or(now).min(end));
            if e > s {
                total += e - s;
                if i.state.is_available() {
                    up += e - s;
                }
            }
        }
        days.push(Day {
            date: DateTime::<Utc>::from_timestamp_nanos(start)
                .format("%Y-%m-%d")
                .to_string(),
            availability: (total > 0).then(|| 100.0 * up as f64 / total as f64),
        });
        start += DAY_NS;
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_monitor::state::State as S;

    #[test]
    fn days_count_only_observed_time_outside_downtimes() {
        let day0 = 10 * DAY_NS;
        let intervals = [
            Interval {
                start: day0,
                end: Some(day0 + DAY_NS / 2),
                state: S::Ok,
                in_downtime: false,
            },
            Interval {
                start: day0 + DAY_NS / 2,
                end: Some(day0 + DAY_NS * 3 / 4),
                state: S::Crit,
                in_downtime: false,
            },
            Interval {
                start: day0 + DAY_NS * 3 / 4,
                end: Some(day0 + DAY_NS + DAY_NS / 2),
                state: S::Crit,
                in_downtime: true,
            },
        ];
        let days = daily(&intervals, day0, day0 + 3 * DAY_NS);
        assert_eq!(days.len(), 3);
        let first = days[0].availability.unwrap();
        assert!((first - 100.0 * 2.0 / 3.0).abs() < 1e-9, "{first}");
        assert_eq!(days[1].availability, None);
        assert_eq!(days[2].availability, None);
        assert_eq!(days[0].date, "1970-01-11");
    }
}
