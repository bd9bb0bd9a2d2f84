//! Split lifecycle: sealing, merging, retention.

use std::time::Duration;

use super::*;
use crate::index::{SplitHandle, SplitManifest, active_settings, compact_split, sealed_settings};
use crate::retention::{self, RetentionPolicy};

const DAY: i64 = 86_400 * SEC;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn sealing_and_merging_keep_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 5;
    // No merging on the first run, so that the sealed splits can be seen.
    cfg.merge_trigger_splits = 1000;
    let store = Store::open(cfg.clone()).unwrap();
    for b in 0..15u64 {
        append(
            &store,
            (b * 4..b * 4 + 4)
                .map(|n| numbered(n, BASE + n as i64 * SEC))
                .collect(),
        )
        .await;
    }
    store.flush().unwrap();
    wait_settled(&store);
    let before = store.inner.shared.catalog.snapshot();
    let sealed: Vec<SplitManifest> = before
        .iter()
        .map(|s| s.manifest())
        .filter(|m| m.sealed)
        .collect();
    assert_eq!(sealed.len(), 12);
    assert!(sealed.iter().all(|m| m.docs == 5));
    // Sealed splits cover consecutive sequence ranges.
    for pair in sealed.windows(2) {
        assert_eq!(pair[1].first_seq, pair[0].last_seq + 1);
    }
    assert_exactly_once(&all_ns(&store, "", 7), 0..60);
    store.shutdown().unwrap();
    drop(store);

    // Keep copies of the splits about to be merged, to fake an interrupted cleanup later.
    let backups = tempfile::tempdir().unwrap();
    for s in &before {
        copy_dir(&s.dir, &backups.path().join(&s.id));
    }
    cfg.merge_trigger_splits = 3;
    let store = Store::open(cfg.clone()).unwrap();
    store.maintain().unwrap();
    let after = store.inner.shared.catalog.snapshot();
    assert!(
        after.len() < before.len(),
        "{} splits before, {} after",
        before.len(),
        after.len()
    );
    let merged: Vec<SplitManifest> = after
        .iter()
        .map(|s| s.manifest())
        .filter(|m| !m.replaces.is_empty())
        .collect();
    assert!(!merged.is_empty());
    assert_eq!(merged[0].docs, merged[0].replaces.len() as u64 * 5);
    assert_exactly_once(&all_ns(&store, "", 7), 0..60);
    assert_eq!(search(&store, "host:host2").total, 20);
    for gone in &merged[0].replaces {
        assert!(!dir.path().join("index").join(gone).exists());
    }
    store.shutdown().unwrap();

    // A crash after the merged split was in place but before the old ones were
    // removed leaves both on disk; opening removes the replaced ones.
    for id in &merged[0].replaces {
        copy_dir(&backups.path().join(id), &dir.path().join("index").join(id));
    }
    // A crash during a merge leaves a half-written directory; it is discarded.
    std::fs::create_dir_all(
        dir.path()
            .join("index")
            .join("00000000000000000001-ff.merging"),
    )
    .unwrap();
    let store = Store::open(cfg).unwrap();
    assert_exactly_once(&all_ns(&store, "", 9), 0..60);
    for id in &merged[0].replaces {
        assert!(!dir.path().join("index").join(id).exists());
    }
    assert!(
        !dir.path()
            .join("index")
            .join("00000000000000000001-ff.merging")
            .exists()
    );
    // New events still land after the merged ones.
    append(&store, vec![numbered(60, BASE)]).await;
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 50), 0..61);
}

#[tokio::test]
async fn retention_by_age_deletes_only_old_sealed_splits() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 4;
    let store = Store::open(cfg.clone()).unwrap();
    let now = hark_event::now_nanos();
    // Eight events 40 days old fill two splits; four recent ones a third; two more stay active.
    append(
        &store,
        (0..8)
            .map(|n| numbered(n, now - 40 * DAY + n as i64))
            .collect(),
    )
    .await;
    append(
        &store,
        (8..12).map(|n| numbered(n, now - DAY + n as i64)).collect(),
    )
    .await;
    append(
        &store,
        (12..14).map(|n| numbered(n, now - 50 * DAY)).collect(),
    )
    .await;
    store.flush().unwrap();
    wait_settled(&store);
    assert_eq!(store.inner.shared.catalog.len(), 4);
    store.shutdown().unwrap();

    cfg.retention_max_age = Some(Duration::from_secs(30 * 86_400));
    let store = Store::open(cfg).unwrap();
    store.maintain().unwrap();
    // The active split is kept even though its events are older still.
    assert_exactly_once(&all_ns(&store, "", 100), 8..14);
    assert_eq!(store.inner.shared.catalog.len(), 2);
}

#[tokio::test]
async fn retention_by_disk_deletes_oldest_sealed_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 4;
    let store = Store::open(cfg).unwrap();
    for b in 0..4u64 {
        // Split b holds days b; later splits hold newer events.
        append(
            &store,
            (b * 4..b * 4 + 4)
                .map(|n| numbered(n, BASE + b as i64 * DAY))
                .collect(),
        )
        .await;
    }
    append(&store, vec![numbered(16, BASE + 10 * DAY)]).await;
    store.flush().unwrap();
    wait_settled(&store);
    // Compaction rewrites sealed splits in the background; finish it so
    // that their sizes hold still.
    store.maintain().unwrap();
    let catalog = &store.inner.shared.catalog;
    let splits = catalog.snapshot();
    assert_eq!(splits.len(), 5);
    let total: u64 = splits.iter().map(|s| s.refresh_bytes()).sum();
    let oldest = splits[0].bytes();

    // Room for everything but the oldest split: exactly that one goes.
    let policy = RetentionPolicy {
        max_age: None,
        max_disk: Some(total - oldest),
    };
    let deleted = retention::apply(catalog, &policy, hark_event::now_nanos());
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].manifest.id, splits[0].id);
    assert_eq!(deleted[0].bytes, oldest);
    assert!(!splits[0].dir.exists());
    assert_exactly_once(&all_ns(&store, "", 100), 4..17);

    // No room at all: every sealed split goes, the active one stays.
    let policy = RetentionPolicy {
        max_age: None,
        max_disk: Some(1),
    };
    assert_eq!(
        retention::apply(catalog, &policy, hark_event::now_nanos()).len(),
        3
    );
    assert_exactly_once(&all_ns(&store, "", 100), [16]);
    assert_eq!(catalog.len(), 1);
    assert!(!catalog.snapshot()[0].manifest().sealed);
}

#[tokio::test]
async fn splits_seal_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_age = Duration::from_millis(1);
    let store = Store::open(cfg).unwrap();
    append(&store, vec![numbered(0, BASE)]).await;
    until_true("an age-based seal", || {
        store
            .inner
            .shared
            .catalog
            .snapshot()
            .iter()
            .any(|s| s.manifest().sealed)
    });
    store.flush().unwrap();
    assert_exactly_once(&all_ns(&store, "", 10), [0]);
}

#[tokio::test]
async fn sealed_splits_are_compacted_to_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 10;
    let store = Store::open(cfg).unwrap();
    // Three commits before the seal leave the split with several segments.
    append(
        &store,
        (0..3).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    append(
        &store,
        (3..6).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    append(
        &store,
        (6..12).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    wait_settled(&store);
    store.maintain().unwrap();
    let sealed = store.inner.shared.catalog.snapshot()[0].clone();
    assert!(sealed.manifest().sealed);
    assert_eq!(sealed.manifest().docs, 10);
    assert_eq!(sealed.reader.searcher().segment_readers().len(), 1);
    assert_eq!(
        docstore_compression(&sealed),
        sealed_settings().docstore_compression
    );
    let active = store.inner.shared.catalog.snapshot()[1].clone();
    assert_eq!(
        docstore_compression(&active),
        active_settings().docstore_compression
    );
    assert_exactly_once(&all_ns(&store, "", 5), 0..12);
    assert_eq!(search(&store, "host:host0").total, 4);
}

fn docstore_compression(split: &SplitHandle) -> tantivy::store::Compressor {
    split
        .index
        .load_metas()
        .unwrap()
        .index_settings
        .docstore_compression
}

#[tokio::test]
// The held lock is wanted only by the maintenance thread, never by a task.
#[allow(clippy::await_holding_lock)]
async fn a_sealed_split_of_one_segment_is_recompressed_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 5;
    let store = Store::open(cfg).unwrap();
    // Background maintenance would compact the split as soon as it settles.
    let held = store.inner.maintenance.hold();
    append(
        &store,
        (0..5).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    wait_settled(&store);
    let sealed = store.inner.shared.catalog.snapshot()[0].clone();
    assert!(sealed.manifest().sealed);
    assert_eq!(sealed.reader.searcher().segment_readers().len(), 1);
    assert_eq!(
        docstore_compression(&sealed),
        active_settings().docstore_compression
    );
    drop(held);
    store.maintain().unwrap();
    assert_eq!(
        docstore_compression(&sealed),
        sealed_settings().docstore_compression
    );
    assert!(!compact_split(&sealed).unwrap(), "compacted twice");
    // Every event read back from the recompressed docstore.
    assert_exactly_once(&all_ns(&store, "", 2), 0..5);
}
