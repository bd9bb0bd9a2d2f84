//! The store as a disk buffer: without an index, with origin marks, with a
//! byte cap that blocks or drops the oldest events.

use super::*;
use crate::{LaggingReader, Mark};

fn batch(from: u64, to: u64) -> Vec<Event> {
    (from..to).map(|n| numbered(n, BASE + n as i64)).collect()
}

fn mark(origin: &str, seq: u64) -> Mark {
    Mark {
        origin: origin.into(),
        seq,
    }
}

async fn append_marked(store: &Store, events: Vec<Event>, m: Mark) -> u64 {
    store
        .append_marked(events, m)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap()
}

/// A disk buffer's configuration: no index, segments of 1 KiB.
fn buffer_config(dir: &Path) -> StoreConfig {
    let mut cfg = config(dir);
    cfg.index = false;
    cfg.wal_segment_bytes = 1024;
    cfg
}

/// Appends events 0..600 in twelve batches, each durable before the next.
async fn append_600(store: &Store) {
    for b in 0..12 {
        append(store, batch(b * 50, b * 50 + 50)).await;
    }
}

/// Appends events 0..600 in twelve batches to a store capped at 4 KiB:
/// not all of them fit, and the last one is held, not refused. Its ticket.
async fn append_600_beyond_the_cap(store: &Store) -> crate::Ticket {
    let mut waiting = Vec::new();
    for b in 0..12 {
        waiting.push(store.append(batch(b * 50, b * 50 + 50)).await.unwrap());
    }
    let mut last = waiting.pop().unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut last.rx)
            .await
            .is_err(),
        "an append beyond the cap is held"
    );
    last
}

/// Reads and commits until the batch ending at 600; the numbers read.
async fn read_to_600(reader: &mut crate::WalReader) -> Vec<u64> {
    let mut seen = Vec::new();
    loop {
        let b = reader.next_batch().await.unwrap();
        seen.extend(b.events.iter().map(n_of));
        reader.commit(b.last_seq()).unwrap();
        if b.last_seq() == 600 {
            return seen;
        }
    }
}

fn wal_segments(data: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(data.join("wal"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".wal")?.parse::<u64>().ok()
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn marks_are_restored_by_replay_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    assert_eq!(store.mark("edge1"), None);
    append_marked(&store, batch(0, 10), mark("edge1", 10)).await;
    append_marked(&store, batch(10, 20), mark("edge2", 7)).await;
    append(&store, batch(20, 25)).await;
    append_marked(&store, batch(25, 30), mark("edge1", 15)).await;
    assert_eq!(store.mark("edge1"), Some(15));
    store.crash();
    drop(store);

    let store = Store::open(config(dir.path())).unwrap();
    assert_eq!(store.mark("edge1"), Some(15));
    assert_eq!(store.mark("edge2"), Some(7));
    assert_eq!(store.mark("edge3"), None);
    store.flush().unwrap();
    // The marked batches are ordinary events in the index.
    assert_eq!(search(&store, "*").total, 30);
}

#[tokio::test]
async fn marks_outlive_the_wal_segments_that_held_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.wal_segment_bytes = 1024;
    let store = Store::open(cfg.clone()).unwrap();
    append_marked(&store, batch(0, 50), mark("edge1", 500)).await;
    append_marked(&store, batch(50, 100), mark("edge2", 9)).await;
    append(&store, batch(100, 150)).await;
    store.flush().unwrap();
    store.inner.truncate_wal();
    // The segments of both marked batches are gone.
    assert!(wal_segments(dir.path()).iter().all(|s| *s > 100));
    store.crash();
    drop(store);

    let store = Store::open(cfg).unwrap();
    assert_eq!(store.mark("edge1"), Some(500));
    assert_eq!(store.mark("edge2"), Some(9));
}

#[tokio::test]
async fn without_an_index_only_the_readers_hold_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = buffer_config(dir.path());
    let store = Store::open(cfg.clone()).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    for b in 0..4 {
        append(&store, batch(b * 50, b * 50 + 50)).await;
    }
    store.flush().unwrap();
    store.inner.truncate_wal();
    assert_eq!(wal_segments(dir.path())[0], 1, "the reader holds the WAL");
    let first = reader.next_batch().await.unwrap();
    reader.commit(first.last_seq()).unwrap();
    store.inner.truncate_wal();
    assert_eq!(wal_segments(dir.path())[0], 51);
    assert!(
        !dir.path()
            .join("index")
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().path().is_dir() }),
        "no split is made"
    );
    drop(reader);
    store.crash();
    drop(store);

    // After a restart the reader goes on where it committed.
    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    let next = reader.next_batch().await.unwrap();
    assert_eq!(next.first_seq, 51);
    assert_eq!(store.stats().appended_seq, 200);
}

#[tokio::test]
async fn drop_oldest_moves_the_reader_on_and_counts_exactly_what_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = buffer_config(dir.path());
    cfg.wal_max_retained = Some(4096);
    cfg.wal_lagging_reader = LaggingReader::DropOldest;
    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    append_600(&store).await;
    store.inner.truncate_wal();
    let seen = read_to_600(&mut reader).await;
    let dropped = store.wal_reader_dropped("uplink");
    assert!(dropped > 0, "the cap is below what was appended");
    assert_eq!(seen.len() as u64 + dropped, 600);
    // What is left is the newest events, in order.
    let first = seen[0];
    assert_eq!(seen, (first..600).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_wal_at_its_cap_holds_appends_until_the_reader_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = buffer_config(dir.path());
    cfg.wal_block_at = Some(4096);
    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    let last = append_600_beyond_the_cap(&store).await;
    assert!(!matches!(store.health(), hark_event::sink::Health::Ready));
    let seen = read_to_600(&mut reader).await;
    assert_eq!(last.wait().await.unwrap(), 600);
    assert_eq!(seen, (0..600).collect::<Vec<_>>(), "nothing is lost");
    assert_eq!(store.wal_reader_dropped("uplink"), 0);
}

#[tokio::test]
async fn a_read_given_up_on_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    for b in 0..3 {
        append(&store, batch(b * 50, b * 50 + 50)).await;
    }
    let mut seen = Vec::new();
    while seen.len() < 150 {
        // A zero timeout gives up on most reads while the WAL is being read.
        match tokio::time::timeout(Duration::ZERO, reader.next_batch()).await {
            Ok(b) => seen.extend(b.unwrap().events.iter().map(n_of)),
            Err(_) => {
                let b = reader.next_batch().await.unwrap();
                seen.extend(b.events.iter().map(n_of));
            }
        }
    }
    assert_eq!(seen, (0..150).collect::<Vec<_>>());
}

#[tokio::test]
async fn raising_the_cap_at_run_time_releases_held_appends() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = buffer_config(dir.path());
    cfg.wal_block_at = Some(4096);
    let store = Store::open(cfg).unwrap();
    let _reader = store.wal_reader("uplink").unwrap();
    let last = append_600_beyond_the_cap(&store).await;
    // No reader commits: only the larger cap lets it in.
    store.set_wal_caps(None, LaggingReader::Keep, Some(1 << 20));
    assert_eq!(last.wait().await.unwrap(), 600);
}

#[tokio::test]
async fn a_cap_set_at_run_time_drops_the_oldest_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = buffer_config(dir.path());
    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    append_600(&store).await;
    store.inner.truncate_wal();
    assert_eq!(wal_segments(dir.path())[0], 1, "no cap yet: all is kept");
    store.set_wal_caps(Some(4096), LaggingReader::DropOldest, None);
    store.inner.truncate_wal();
    let seen = read_to_600(&mut reader).await;
    let dropped = store.wal_reader_dropped("uplink");
    assert!(dropped > 0, "the cap is below what was appended");
    assert_eq!(seen.len() as u64 + dropped, 600);
}

#[tokio::test]
async fn events_read_but_not_confirmed_when_dropped_count_as_dropped_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = buffer_config(dir.path());
    cfg.wal_max_retained = Some(4096);
    cfg.wal_lagging_reader = LaggingReader::DropOldest;
    let store = Store::open(cfg.clone()).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    append(&store, batch(0, 50)).await;
    // Read (on its way to a destination) but not committed.
    let in_flight = reader.next_batch().await.unwrap();
    assert_eq!(in_flight.last_seq(), 50);
    for b in 1..12 {
        append(&store, batch(b * 50, b * 50 + 50)).await;
    }
    store.inner.truncate_wal();
    let dropped_before = store.wal_reader_dropped("uplink");
    assert!(dropped_before > 0);
    // The store stops before the read events are confirmed: they are lost,
    // and counted once it opens again.
    drop(reader);
    store.crash();
    drop(store);
    let store = Store::open(cfg).unwrap();
    let mut reader = store.wal_reader("uplink").unwrap();
    let seen = read_to_600(&mut reader).await.len() as u64;
    // The count is since the store opened.
    assert_eq!(
        store.wal_reader_dropped("uplink"),
        50,
        "the 50 read events are counted once the store reopens"
    );
    assert_eq!(dropped_before + 50 + seen, 600);
}
