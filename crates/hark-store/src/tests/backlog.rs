//! The live tail's backlog: history from the index and the WAL, then live
//! batches, with nothing missed or repeated at the seam.

use std::collections::BTreeSet;

use super::*;
use crate::{Backlog, Tail, TailError};

/// The `n` of every live event matching `query`, in order of arrival,
/// until `until` has been seen.
async fn live_ns(tail: &mut Tail, store: &Store, query: &str, until: u64) -> Vec<u64> {
    let filter = store.compile_filter(query).unwrap();
    let mut out = Vec::new();
    loop {
        match tail.recv().await {
            Ok(batch) => {
                for i in filter.matching(&batch) {
                    let n = n_of(&batch[i]);
                    out.push(n);
                    if n == until {
                        return out;
                    }
                }
            }
            Err(TailError::Lagged(n)) => panic!("the test subscriber lagged by {n}"),
            Err(e) => panic!("tail ended: {e}"),
        }
    }
}

async fn subscribe(store: &Store, query: &str, n: usize) -> Backlog {
    let store = store.clone();
    let query = query.to_owned();
    tokio::task::spawn_blocking(move || store.subscribe_with_backlog("test", &query, n))
        .await
        .unwrap()
        .unwrap()
}

/// Subscribes with a backlog of 300 again and again while four tasks
/// append; all events share one timestamp, so the store's order is the
/// order of appending. History and live events together must be exactly
/// the stored events (matching `query`) from the history's first on.
async fn seamless_under_concurrent_appends(query: &str, matches: fn(u64) -> bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    // Commits happen while backlogs are read, so history comes from both
    // the index and the WAL.
    cfg.commit_interval = std::time::Duration::from_millis(5);
    cfg.split_max_events = 2_000;
    let store = Store::open(cfg).unwrap();
    append(&store, (0..2_000).map(|n| numbered(n, BASE)).collect()).await;

    // 560 batches of 50 and at most 200 markers: fewer batches than the
    // live queue keeps, so a test subscriber can never lag, however slowly
    // it runs.
    let (writers, end, batch, max_rounds) = (4u64, 30_000u64, 50u64, 200);
    let mut handles = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut n = 2_000 + w * batch;
            while n < end {
                append(&store, (n..n + batch).map(|m| numbered(m, BASE)).collect()).await;
                n += batch * writers;
            }
        }));
    }
    let mut rounds = Vec::new();
    let mut marker = 1_000_000;
    while rounds.is_empty()
        || (rounds.len() < max_rounds && !handles.iter().all(|h| h.is_finished()))
    {
        let Backlog { history, mut tail } = subscribe(&store, query, 300).await;
        let hist: Vec<u64> = history.iter().map(n_of).collect();
        assert_eq!(hist.len(), 300);
        assert!(hist.iter().all(|&n| matches(n)), "{hist:?}");
        // A marker appended now ends the live part to check.
        marker += 3;
        append(&store, vec![numbered(marker, BASE)]).await;
        let live = live_ns(&mut tail, &store, query, marker).await;
        rounds.push(hist.into_iter().chain(live).collect::<Vec<u64>>());
    }
    for h in handles {
        h.await.unwrap();
    }
    store.flush().unwrap();
    // Oldest first: the order of appending.
    let mut stored = all_ns(&store, query, 10_000);
    stored.reverse();
    for seen in &rounds {
        let unique: BTreeSet<u64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "an event came twice");
        let start = stored.iter().position(|&n| n == seen[0]).unwrap();
        assert_eq!(
            seen[..],
            stored[start..start + seen.len()],
            "history and live part do not join"
        );
    }
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_then_live_misses_nothing_during_concurrent_appends() {
    // The marker (1 000 003, …) matches host1 too: 1_000_003 % 3 == 1.
    seamless_under_concurrent_appends("", |_| true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_applies_to_history_and_live_events() {
    seamless_under_concurrent_appends("host:host1", |n| n % 3 == 1).await;
}

#[tokio::test]
async fn history_includes_events_not_yet_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    append(
        &store,
        (0..50).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    // These stay in the WAL only: the test configuration commits on flush.
    append(
        &store,
        (50..100).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    assert_eq!(search(&store, "").total, 50);
    let Backlog { history, .. } = subscribe(&store, "", 80).await;
    assert_eq!(
        history.iter().map(n_of).collect::<Vec<_>>(),
        (20..100).collect::<Vec<_>>()
    );
    let Backlog { history, .. } = subscribe(&store, "host:host2", 20).await;
    let want: Vec<u64> = (0..100).filter(|n| n % 3 == 2).collect();
    assert_eq!(
        history.iter().map(n_of).collect::<Vec<_>>(),
        want[want.len() - 20..]
    );
    store.shutdown().unwrap();
}

#[tokio::test]
async fn a_backlog_larger_than_the_store_returns_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    // Appended newest first: history is ordered by time, not by arrival.
    append(
        &store,
        (0..10)
            .rev()
            .map(|n| numbered(n, BASE + n as i64))
            .collect(),
    )
    .await;
    store.flush().unwrap();
    let Backlog { history, .. } = subscribe(&store, "", crate::MAX_BACKLOG).await;
    assert_eq!(
        history.iter().map(n_of).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    let Backlog { history, .. } = subscribe(&store, "", 0).await;
    assert!(history.is_empty());
    store.shutdown().unwrap();
}
