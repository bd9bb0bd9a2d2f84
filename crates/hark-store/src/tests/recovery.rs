//! Durability: what survives a crash, a clean shutdown and a dropped handle.

use std::fs::OpenOptions;
use std::io::Write;

use super::*;
use crate::StoreError;

#[tokio::test]
async fn appended_events_are_searchable_after_flush_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let last = append(
        &store,
        (0..5).map(|n| numbered(n, BASE + n as i64 * SEC)).collect(),
    )
    .await;
    assert_eq!(last, 5);
    let last = append(
        &store,
        (5..8).map(|n| numbered(n, BASE + n as i64 * SEC)).collect(),
    )
    .await;
    assert_eq!(last, 8);
    store.flush().unwrap();
    assert_eq!(search(&store, "").total, 8);
    let stats = store.stats();
    assert_eq!(stats.appended_seq, 8);
    assert_eq!(stats.indexed_seq, 8);
    assert!(stats.index_bytes > 0);
    store.shutdown().unwrap();

    let store = Store::open(config(dir.path())).unwrap();
    assert_exactly_once(&all_ns(&store, "*", 3), 0..8);
    // Sequence numbers continue across restarts.
    let last = append(&store, vec![numbered(8, BASE)]).await;
    assert_eq!(last, 9);
}

#[tokio::test]
async fn crash_replays_uncommitted_events_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    for b in 0..5u64 {
        append(
            &store,
            (b * 4..b * 4 + 4)
                .map(|n| numbered(n, BASE + n as i64))
                .collect(),
        )
        .await;
    }
    store.flush().unwrap();
    for b in 5..10u64 {
        append(
            &store,
            (b * 4..b * 4 + 4)
                .map(|n| numbered(n, BASE + n as i64))
                .collect(),
        )
        .await;
    }
    assert_eq!(store.stats().indexed_seq, 20);
    store.crash();
    drop(store);

    let store = Store::open(config(dir.path())).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 7), 0..40);
    assert_eq!(store.stats().indexed_seq, 40);
    store.crash();
    drop(store);

    // A second crash with nothing new replays nothing twice.
    let store = Store::open(config(dir.path())).unwrap();
    store.flush().unwrap();
    assert_eq!(search(&store, "").total, 40);
}

#[tokio::test]
async fn a_batch_committed_in_part_is_replayed_from_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 7;
    let store = Store::open(cfg.clone()).unwrap();
    append(
        &store,
        (0..10).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    // Sealing at 7 events commits the first 7 of the batch; 8..10 stay uncommitted.
    until_true("the seal commit", || store.stats().indexed_seq == 7);
    store.crash();
    drop(store);

    let store = Store::open(cfg).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 4), 0..10);
    let splits = store.inner.shared.catalog.snapshot();
    assert_eq!(splits.len(), 2);
    assert_eq!(splits[0].manifest().docs, 7);
    assert!(splits[0].manifest().sealed);
    assert_eq!(splits[1].manifest().docs, 3);
}

#[tokio::test]
async fn dropping_the_last_handle_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let other = store.clone();
    append(&store, (0..6).map(|n| numbered(n, BASE)).collect()).await;
    drop(store);
    drop(other);
    let store = Store::open(config(dir.path())).unwrap();
    // Nothing left to replay: the drop committed everything.
    assert_eq!(store.stats().indexed_seq, 6);
    assert_exactly_once(&all_ns(&store, "", 4), 0..6);
}

#[tokio::test]
async fn torn_wal_tail_after_a_crash_keeps_earlier_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    append(&store, (0..3).map(|n| numbered(n, BASE)).collect()).await;
    append(&store, (3..6).map(|n| numbered(n, BASE)).collect()).await;
    store.crash();
    drop(store);
    let wal_dir = dir.path().join("wal");
    let seg = std::fs::read_dir(&wal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6]).unwrap();
    drop(f);

    let store = Store::open(config(dir.path())).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 10), 0..6);
    // The repaired WAL takes new appends after the good records.
    assert_eq!(append(&store, vec![numbered(6, BASE)]).await, 7);
    store.crash();
    drop(store);
    let store = Store::open(config(dir.path())).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 10), 0..7);
}

#[tokio::test]
async fn a_data_directory_is_opened_by_one_store_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    assert!(matches!(
        Store::open(config(dir.path())),
        Err(StoreError::Io { .. })
    ));
    drop(store);
    Store::open(config(dir.path())).unwrap();
}

#[tokio::test]
async fn appends_after_shutdown_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    append(&store, vec![numbered(0, BASE)]).await;
    store.shutdown().unwrap();
    assert!(matches!(
        store.append(vec![numbered(1, BASE)]).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(store.flush(), Err(StoreError::Closed)));
    // A second shutdown is harmless, and searching still works.
    store.shutdown().unwrap();
    assert_eq!(search(&store, "").total, 1);
}

#[tokio::test]
async fn wal_segments_are_deleted_once_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.wal_segment_bytes = 600;
    let store = Store::open(cfg.clone()).unwrap();
    for b in 0..20u64 {
        append(
            &store,
            (b * 5..b * 5 + 5).map(|n| numbered(n, BASE)).collect(),
        )
        .await;
    }
    let segments = || std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert!(
        segments() > 5,
        "expected rotation, got {} segments",
        segments()
    );
    store.flush().unwrap();
    // The next group lets the writer see the commit and drop covered segments.
    append(&store, vec![numbered(100, BASE)]).await;
    until_true("WAL truncation", || {
        segments() <= 2 && store.stats().wal_bytes < 4 * 600
    });
    store.crash();
    drop(store);
    let store = Store::open(cfg).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 50), (0..100).chain([100]));
}

#[tokio::test]
async fn a_quiet_store_keeps_no_committed_wal_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let store = Store::open(cfg.clone()).unwrap();
    append(&store, (0..50).map(|n| numbered(n, BASE)).collect()).await;
    assert!(store.stats().wal_bytes > 0);
    store.flush().unwrap();
    until_true("the committed WAL segment to be retired", || {
        store.stats().wal_bytes == 0
    });
    let wal_files = std::fs::read_dir(dir.path().join("wal")).unwrap().count();
    assert_eq!(wal_files, 1, "one empty segment stays open for appends");
    append(&store, vec![numbered(50, BASE)]).await;
    store.crash();
    drop(store);
    let store = Store::open(cfg).unwrap();
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 20), 0..51);
}

#[tokio::test]
async fn live_subscribers_see_appended_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let mut rx = store.subscribe("test");
    append(&store, vec![numbered(1, BASE), numbered(2, BASE)]).await;
    let batch = rx.recv().await.unwrap();
    assert_eq!(batch.iter().map(n_of).collect::<Vec<_>>(), vec![1, 2]);
}

#[tokio::test]
async fn a_live_subscriber_that_falls_behind_is_told_what_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let mut rx = store.subscribe("slow");
    // More one-event batches than the broadcast keeps, none received meanwhile.
    for n in 0..1100u64 {
        append(&store, vec![numbered(n, BASE + n as i64)]).await;
    }
    let missed = match rx.recv().await {
        Err(crate::TailError::Lagged(missed)) => missed,
        other => panic!("expected a gap, got {other:?}"),
    };
    assert_eq!(rx.dropped(), missed);
    let mut seen = Vec::new();
    while let Ok(batch) = rx.try_recv() {
        seen.extend(batch.iter().map(n_of));
    }
    // Every event is either missed or seen, in order, and the gap is at the start.
    assert_eq!(missed + seen.len() as u64, 1100);
    assert_eq!(seen, (missed..1100).collect::<Vec<_>>());
}
