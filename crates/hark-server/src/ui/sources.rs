//! `/sources`: every host that sent events in a time range, with its
//! inputs, event rate, last event and count; hosts silent for longer than a
//! threshold are flagged. [`load`] gathers the data from the store.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hark_store::{HistogramInterval, SearchRequest, Store};
use serde::{Deserialize, Serialize};

use super::{Chrome, format, render, svg};
use crate::Shared;
use crate::identity::Principal;
use crate::params::parse_duration;

/// Most hosts listed.
pub(crate) const MAX_HOSTS: usize = 1000;
const SECOND: i64 = 1_000_000_000;

/// One host that sent events in the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Source {
    /// The host name as the events carry it.
    pub(crate) host: String,
    /// The inputs its events came in on, most events first.
    pub(crate) inputs: Vec<String>,
    /// Its events in the range.
    pub(crate) count: u64,
    /// Its newest event's time stamp (ns).
    pub(crate) last_seen: i64,
    /// Its events per bucket, oldest first, from `first_bucket`.
    pub(crate) per_minute: Vec<u64>,
    /// Start of the first bucket (ns).
    pub(crate) first_bucket: i64,
    /// Bucket width in seconds.
    pub(crate) bucket_secs: i64,
}

/// Why the sources could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourcesError {
    /// The store refused a query.
    #[error("the store refused the query: {0}")]
    Query(#[from] hark_store::QueryError),
}

/// A bucket width giving 60–100 buckets over `range_ns`, at least a minute.
pub(crate) fn bucket_secs(range_ns: i64) -> i64 {
    const STEPS: [i64; 9] = [60, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200];
    let secs = range_ns / SECOND;
    STEPS
        .into_iter()
        .find(|step| secs / step <= 100)
        .unwrap_or(86_400)
}

/// Every host with events between `from` and `to` (ns), most events first.
pub(crate) fn load(store: &Store, from: i64, to: i64) -> Result<Vec<Source>, SourcesError> {
    let bucket = bucket_secs(to - from);
    let width = bucket * SECOND;
    let first_bucket = from.div_euclid(width) * width;
    let buckets = usize::try_from((to - first_bucket + width - 1) / width).unwrap_or(0);
    let mut all = SearchRequest::new("*");
    all.from = Some(from);
    all.to = Some(to);
    all.limit = 1;
    all.top = vec!["host".to_owned()];
    all.top_size = MAX_HOSTS;
    let hosts = store.search(&all)?.top.remove("host").unwrap_or_default();
    let mut sources = Vec::with_capacity(hosts.len());
    for h in hosts {
        let mut one = SearchRequest::new(format!("host:{}", format::quote_query(&h.value)));
        one.from = Some(from);
        one.to = Some(to);
        one.limit = 1;
        one.histogram = Some(HistogramInterval::Fixed(width));
        one.top = vec!["input".to_owned()];
        one.top_size = 20;
        let mut found = store.search(&one)?;
        let mut per_minute = vec![0u64; buckets];
        for b in found.histogram.take().unwrap_or_default() {
            if let Ok(i) = usize::try_from((b.start - first_bucket) / width)
                && let Some(slot) = per_minute.get_mut(i)
            {
                *slot += b.count;
            }
        }
        sources.push(Source {
            inputs: found
                .top
                .remove("input")
                .unwrap_or_default()
                .into_iter()
                .map(|v| v.value)
                .collect(),
            count: found.total,
            last_seen: found.hits.first().map_or(0, |e| e.timestamp),
            per_minute,
            first_bucket,
            bucket_secs: bucket,
            host: h.value,
        });
    }
    Ok(sources)
}

/// The query of `/sources`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SourcesQuery {
    /// The range: `1h`, `24h` (default), `7d` …
    #[serde(default)]
    since: Option<String>,
    /// Hosts without events for longer are flagged silent (default `1h`).
    #[serde(default)]
    silent: Option<String>,
}

struct SourceRow {
    host: String,
    /// The reverse DNS name of `host` when it is a known address.
    name: Option<String>,
    search: String,
    inputs: String,
    count: String,
    rate: String,
    spark: String,
    last_seen: String,
    last_seen_ago: String,
    silent: bool,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    chrome: Chrome,
    since: String,
    silent: String,
    ranges: Vec<(&'static str, bool)>,
    rows: Vec<SourceRow>,
    silent_count: usize,
}

const RANGES: [&str; 5] = ["1h", "6h", "24h", "7d", "30d"];

/// `GET /sources?since=24h&silent=1h`.
pub(crate) async fn page(
    State(app): State<Shared>,
    Extension(p): Extension<Principal>,
    query: Result<Query<SourcesQuery>, QueryRejection>,
) -> Response {
    let chrome = Chrome::new(Some(p), "/sources");
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let since = q.since.unwrap_or_else(|| "24h".to_owned());
    let silent = q.silent.unwrap_or_else(|| "1h".to_owned());
    let (Some(range), Some(threshold)) = (parse_duration(&since), parse_duration(&silent)) else {
        return render::error(
            chrome,
            StatusCode::BAD_REQUEST,
            "since and silent are durations like 15m, 24h or 7d.".to_owned(),
        );
    };
    let now = hark_event::now_nanos();
    let store = app.store.clone();
    let loaded = tokio::task::spawn_blocking(move || load(&store, now - range, now)).await;
    let sources = match loaded {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return render::error(chrome, StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => return render::error(chrome, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let rows: Vec<SourceRow> = sources
        .into_iter()
        .map(|s| {
            let minutes = (range / SECOND / 60).max(1) as f64;
            SourceRow {
                search: format!(
                    "/search?q={}",
                    format::url_encode(&format!("host:{}", format::quote_query(&s.host)))
                ),
                inputs: s.inputs.join(", "),
                count: format::count(s.count),
                rate: format!("{:.1}", s.count as f64 / minutes),
                spark: svg::sparkline(&s.per_minute, 160, 24, &format!("events of {}", s.host)),
                last_seen: format::time(s.last_seen),
                last_seen_ago: format::ago(s.last_seen, now),
                silent: now - s.last_seen > threshold,
                name: crate::routes::sources::reverse_name(&app.reverse_dns, &s.host),
                host: s.host,
            }
        })
        .collect();
    render::ok(&SourcesPage {
        chrome,
        silent_count: rows.iter().filter(|r| r.silent).count(),
        ranges: RANGES.iter().map(|r| (*r, *r == since)).collect(),
        since,
        silent,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_stay_between_60_and_100() {
        assert_eq!(bucket_secs(3600 * SECOND), 60);
        assert_eq!(bucket_secs(86_400 * SECOND), 900);
        assert_eq!(bucket_secs(7 * 86_400 * SECOND), 7200);
        for hours in [1, 6, 24, 168, 720] {
            let n = hours * 3600 / bucket_secs(hours * 3600 * SECOND);
            assert!(n <= 100, "{hours}h: {n}");
        }
    }
}
