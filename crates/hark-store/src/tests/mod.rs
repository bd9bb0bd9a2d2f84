//! Store-level tests: recovery, search semantics, split lifecycle.

mod backlog;
mod buffer;
mod dead_files;
mod full_disk;
mod lifecycle;
mod readers;
mod recovery;
mod schema_change;
mod search;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use hark_event::{Event, FieldValue, Severity};
use hark_testkit::wait::until_true;

use crate::{FsyncPolicy, SearchRequest, SearchResponse, Store, StoreConfig};

/// 2026-01-01T00:00:00Z in ns.
pub(crate) const BASE: i64 = 1_767_225_600_000_000_000;
pub(crate) const SEC: i64 = 1_000_000_000;

/// A configuration for tests: commits only when asked, small writer budget.
pub(crate) fn config(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::new(dir);
    c.fsync = FsyncPolicy::Always;
    c.commit_interval = Duration::from_secs(3600);
    c.retention_max_age = None;
    c.index_threads = 1;
    c.index_memory = 20_000_000;
    c.search_threads = 2;
    c
}

/// Event number `n` at `ts`, with `n` in its message and in `fields.n`.
pub(crate) fn numbered(n: u64, ts: i64) -> Event {
    let mut e = Event::new(ts, "test-input");
    e.timestamp = ts;
    e.host = Some(format!("host{}", n % 3));
    e.severity = Severity::from_code((n % 8) as u8);
    e.message = format!("event number {n}");
    e.push_field("n", FieldValue::Int(n as i64));
    e
}

/// The `n` field of a hit.
pub(crate) fn n_of(e: &Event) -> u64 {
    match e.field("n") {
        Some(FieldValue::Int(n)) => *n as u64,
        other => panic!("event without n: {other:?}"),
    }
}

/// Appends `events` as one batch and waits until durable.
pub(crate) async fn append(store: &Store, events: Vec<Event>) -> u64 {
    store.append(events).await.unwrap().wait().await.unwrap()
}

pub(crate) fn search(store: &Store, query: &str) -> SearchResponse {
    let mut req = SearchRequest::new(query);
    req.limit = 10_000;
    store.search(&req).unwrap()
}

/// The `n` of every event matching `query`, across all pages of `page` hits.
pub(crate) fn all_ns(store: &Store, query: &str, page: usize) -> Vec<u64> {
    let mut req = SearchRequest::new(query);
    req.limit = page;
    let mut out = Vec::new();
    let mut last_key: Option<(i64, u64)> = None;
    loop {
        let res = store.search(&req).unwrap();
        for h in &res.hits {
            let key = (h.timestamp, n_of(h));
            if let Some(prev) = last_key {
                assert!(key.0 <= prev.0, "hits out of order: {key:?} after {prev:?}");
            }
            last_key = Some(key);
            out.push(n_of(h));
        }
        match res.next {
            Some(c) => req.cursor = Some(c),
            None => return out,
        }
    }
}

/// Asserts every number in `expected` appears exactly once in `got`.
pub(crate) fn assert_exactly_once(got: &[u64], expected: impl IntoIterator<Item = u64>) {
    let expected: Vec<u64> = expected.into_iter().collect();
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "duplicates in {got:?}");
    assert_eq!(unique, expected.into_iter().collect::<BTreeSet<_>>());
}

/// Waits until every sealed split's writer has finished.
pub(crate) fn wait_settled(store: &Store) {
    until_true("sealed splits to settle", || {
        store
            .inner
            .shared
            .catalog
            .snapshot()
            .iter()
            .all(|s| !s.manifest().sealed || s.is_settled())
    });
}
