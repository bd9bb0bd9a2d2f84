//! Durable WAL readers: cursors that survive restarts and keep segments.

use super::*;
use crate::{LaggingReader, StoreError};

/// Six batches of 50 events, each in its own WAL segment (the segment
/// limit is below one batch): sequence numbers 1–300, `n` = seq − 1.
async fn append_six_batches(store: &Store) {
    for b in 0..6u64 {
        append(
            store,
            (b * 50..b * 50 + 50)
                .map(|n| numbered(n, BASE + n as i64))
                .collect(),
        )
        .await;
    }
}

fn small_segments(dir: &Path) -> StoreConfig {
    let mut cfg = config(dir);
    cfg.wal_segment_bytes = 1024;
    cfg
}

/// First sequence number of the oldest WAL segment on disk.
fn oldest_wal_seq(data: &Path) -> Option<u64> {
    std::fs::read_dir(data.join("wal"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wal")?.parse::<u64>().ok()
        })
        .min()
}

#[tokio::test]
async fn a_lagging_reader_keeps_wal_segments_and_catches_up_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_segments(dir.path());
    let store = Store::open(cfg.clone()).unwrap();
    let mut reader = store.wal_reader("alerts").unwrap();
    assert_eq!(reader.committed(), 0);
    append_six_batches(&store).await;
    store.flush().unwrap();
    store.inner.truncate_wal();
    // The index has committed everything, the reader nothing: all stays.
    assert_eq!(oldest_wal_seq(dir.path()), Some(1));

    let first = reader.next_batch().await.unwrap();
    assert_eq!((first.first_seq, first.last_seq()), (1, 50));
    let second = reader.next_batch().await.unwrap();
    assert_eq!(second.first_seq, 51);
    reader.commit(first.last_seq()).unwrap();
    store.inner.truncate_wal();
    // The segment of the committed batch went, the next one stays.
    assert_eq!(oldest_wal_seq(dir.path()), Some(51));
    drop(reader);
    store.shutdown().unwrap();
    drop(store);

    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("alerts").unwrap();
    assert_eq!(reader.committed(), 50);
    let mut ns = Vec::new();
    while reader.position() < 300 {
        let batch = reader.next_batch().await.unwrap();
        ns.extend(batch.events.iter().map(n_of));
    }
    assert_exactly_once(&ns, 50..300);
    // It follows what is appended from now on.
    append(&store, vec![numbered(300, BASE + 300)]).await;
    let batch = reader.next_batch().await.unwrap();
    assert_eq!(batch.first_seq, 301);
    assert_eq!(batch.events.iter().map(n_of).collect::<Vec<_>>(), [300]);
    reader.commit(301).unwrap();
    store.flush().unwrap();
    store.inner.truncate_wal();
    assert!(oldest_wal_seq(dir.path()).is_none_or(|s| s > 301));
}

#[tokio::test]
async fn the_slowest_of_two_readers_holds_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_segments(dir.path())).unwrap();
    let mut fast = store.wal_reader("fast").unwrap();
    let mut slow = store.wal_reader("slow").unwrap();
    assert!(matches!(
        store.wal_reader("slow"),
        Err(StoreError::Reader(_))
    ));
    append_six_batches(&store).await;
    store.flush().unwrap();
    while fast.position() < 300 {
        fast.next_batch().await.unwrap();
    }
    fast.commit(300).unwrap();
    store.inner.truncate_wal();
    assert_eq!(oldest_wal_seq(dir.path()), Some(1));

    let mut read = 0;
    while read < 150 {
        read = slow.next_batch().await.unwrap().last_seq();
    }
    slow.commit(150).unwrap();
    store.inner.truncate_wal();
    assert_eq!(oldest_wal_seq(dir.path()), Some(151));

    // A removed reader holds nothing.
    drop(slow);
    assert!(store.remove_wal_reader("slow").unwrap());
    store.inner.truncate_wal();
    assert!(oldest_wal_seq(dir.path()).is_none_or(|s| s > 300));
    assert!(!dir.path().join("readers/slow.json").exists());
}

#[tokio::test]
async fn a_reader_beyond_the_cap_is_detached_when_the_policy_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_segments(dir.path());
    // Room for about two of the six segments.
    cfg.wal_max_retained = Some(2 * segment_bytes_of_one_batch().await);
    cfg.wal_lagging_reader = LaggingReader::Detach;
    let store = Store::open(cfg.clone()).unwrap();
    let mut slow = store.wal_reader("slow").unwrap();
    append_six_batches(&store).await;
    store.flush().unwrap();
    store.inner.truncate_wal();
    // The WAL shrank to the cap, and the reader is told it was detached.
    let oldest = oldest_wal_seq(dir.path()).unwrap();
    assert!(oldest > 1, "oldest segment {oldest}");
    match slow.next_batch().await {
        Err(StoreError::ReaderDetached { reader, position }) => {
            assert_eq!((reader.as_str(), position), ("slow", 0));
        }
        other => panic!("expected a detached reader, got {other:?}"),
    }
    drop(slow);
    store.shutdown().unwrap();
    drop(store);
    // It stays detached across a restart, until it is removed.
    let store = Store::open(cfg).unwrap();
    assert!(matches!(
        store.wal_reader("slow"),
        Err(StoreError::ReaderDetached { .. })
    ));
    assert!(store.remove_wal_reader("slow").unwrap());
    let again = store.wal_reader("slow").unwrap();
    assert_eq!(again.committed(), 300);
}

#[tokio::test]
async fn under_the_keep_policy_a_reader_beyond_the_cap_keeps_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_segments(dir.path());
    cfg.wal_max_retained = Some(2 * segment_bytes_of_one_batch().await);
    cfg.wal_lagging_reader = LaggingReader::Keep;
    let store = Store::open(cfg).unwrap();
    let mut slow = store.wal_reader("slow").unwrap();
    append_six_batches(&store).await;
    store.flush().unwrap();
    store.inner.truncate_wal();
    assert_eq!(oldest_wal_seq(dir.path()), Some(1));
    let batch = slow.next_batch().await.unwrap();
    assert_eq!(batch.first_seq, 1);
}

/// Bytes of the WAL segment holding one batch of [`append_six_batches`].
async fn segment_bytes_of_one_batch() -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(small_segments(dir.path())).unwrap();
    let _keep = store.wal_reader("measure").unwrap();
    append_six_batches(&store).await;
    store.shutdown().unwrap();
    let path = dir.path().join("wal").join(format!("{:020}.wal", 1));
    std::fs::metadata(path).unwrap().len()
}
