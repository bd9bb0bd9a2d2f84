//! `GET /api/v1/sources`: every host that sent events in a time range,
//! with its inputs, count, last event and a per-minute histogram.
//!
//! One search lists the hosts (top values of `host`, asking one more than
//! [`MAX_HOSTS`] to tell when the list is cut); then one search per host
//! gives its exact count, newest event, inputs and histogram in a single
//! pass over its events. A host that is an IP address gets its reverse
//! DNS name when the shared resolver knows it already (it never waits).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use hark_event::{format_rfc3339_nanos, now_nanos};
use hark_store::{HistogramInterval, QueryError, SearchRequest, Store};

use crate::Shared;
use crate::api::{SourceActivity, SourceView, SourcesResponse};
use crate::error::ApiError;
use crate::params::RangeParams;

/// Most hosts listed; more make `truncated` true.
pub(crate) const MAX_HOSTS: usize = 1_000;
/// Most histogram buckets per host: a range longer than this many minutes
/// gets wider buckets (a whole number of minutes).
pub(crate) const MAX_BUCKETS: i64 = 1_440;
/// Most inputs listed per host.
const MAX_INPUTS: usize = 100;
const MINUTE: i64 = 60_000_000_000;

/// `GET /api/v1/sources?since=24h`.
pub(crate) async fn get(
    State(app): State<Shared>,
    query: Result<Query<RangeParams>, QueryRejection>,
) -> Result<Json<SourcesResponse>, ApiError> {
    let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let now = now_nanos();
    let (from, to) = p
        .resolve(now)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let store = app.store.clone();
    let mut answer =
        tokio::task::spawn_blocking(move || sources(&store, from, to.unwrap_or(now))).await??;
    for host in &mut answer.hosts {
        host.name = reverse_name(&app.reverse_dns, &host.host);
    }
    Ok(Json(answer))
}

/// The reverse DNS name of `host` when it is an IP address and the name is
/// known now; otherwise a lookup is scheduled and there is none yet.
pub(crate) fn reverse_name(rdns: &hark_ingest::rdns::ReverseDns, host: &str) -> Option<String> {
    let ip: std::net::IpAddr = host.parse().ok()?;
    rdns.cached(ip).map(|name| name.to_string())
}

/// Quotes a value for a query: `"…"` with `\` before `"` and `\`.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The bucket width for `[from, to)`: a minute, or whole minutes such that
/// there are at most [`MAX_BUCKETS`].
fn bucket_width(from: i64, to: i64) -> i64 {
    let minutes = (to.saturating_sub(from) + MINUTE - 1) / MINUTE;
    let per_bucket = ((minutes + MAX_BUCKETS - 1) / MAX_BUCKETS).max(1);
    per_bucket * MINUTE
}

fn sources(store: &Store, from: i64, to: i64) -> Result<SourcesResponse, QueryError> {
    let mut req = SearchRequest::new("");
    req.from = Some(from);
    req.to = Some(to);
    req.limit = 1;
    req.top = vec!["host".into()];
    req.top_size = MAX_HOSTS + 1;
    let mut hosts = store.search(&req)?.top.remove("host").unwrap_or_default();
    let truncated = hosts.len() > MAX_HOSTS;
    hosts.truncate(MAX_HOSTS);

    let width = bucket_width(from, to);
    let mut out = Vec::with_capacity(hosts.len());
    for host in hosts {
        let mut req = SearchRequest::new(format!("host:{}", quoted(&host.value)));
        req.from = Some(from);
        req.to = Some(to);
        req.limit = 1;
        req.histogram = Some(HistogramInterval::Fixed(width));
        req.top = vec!["input".into()];
        req.top_size = MAX_INPUTS;
        let mut resp = store.search(&req)?;
        let Some(last_ts) = resp.hits.first().map(|ev| ev.timestamp) else {
            continue;
        };
        let buckets = resp.histogram.take().unwrap_or_default();
        out.push((
            last_ts,
            SourceView {
                host: host.value,
                name: None,
                inputs: resp
                    .top
                    .remove("input")
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| v.value)
                    .collect(),
                count: resp.total,
                last_seen: format_rfc3339_nanos(last_ts),
                per_minute: SourceActivity {
                    start: format_rfc3339_nanos(buckets.first().map_or(from, |b| b.start)),
                    bucket_secs: width / 1_000_000_000,
                    counts: buckets.iter().map(|b| b.count).collect(),
                },
            },
        ));
    }
    out.sort_by_key(|(last_ts, _)| std::cmp::Reverse(*last_ts));
    Ok(SourcesResponse {
        hosts: out.into_iter().map(|(_, v)| v).collect(),
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_bucket_width() {
        assert_eq!(quoted(r#"fw "1"\x"#), r#""fw \"1\"\\x""#);
        assert_eq!(bucket_width(0, 24 * 60 * MINUTE), MINUTE);
        assert_eq!(bucket_width(0, 30 * MINUTE), MINUTE);
        assert_eq!(bucket_width(0, 7 * 24 * 60 * MINUTE), 7 * MINUTE);
        assert_eq!(bucket_width(0, 24 * 60 * MINUTE + 1), 2 * MINUTE);
    }
}
