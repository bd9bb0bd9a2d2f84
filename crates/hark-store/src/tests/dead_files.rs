//! A settled split's directory holds the files of the segments its
//! `meta.json` names and nothing of the segments merged away.

use std::collections::BTreeSet;

use tantivy::indexer::NoMergePolicy;
use tantivy::{IndexWriter, TantivyDocument};

use super::*;
use crate::index::{
    SplitHandle, build_doc, build_schema, collect_dead_files, compact_split, create_split,
    has_dead_files,
};

/// Files that are no segment's: tantivy's metadata and Hark's manifest.
const METADATA: [&str; 3] = ["meta.json", ".managed.json", "manifest.json"];

/// The names of the files in `split`'s directory.
fn files_of(split: &SplitHandle) -> BTreeSet<String> {
    std::fs::read_dir(&split.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        // Lock files exist only while a lock is held.
        .filter(|n| !n.ends_with(".lock"))
        .collect()
}

/// What the split's directory should hold: the metadata files and the
/// files of each segment `meta.json` names (tantivy prefixes them with the
/// segment's id).
fn expected_files(split: &SplitHandle) -> BTreeSet<String> {
    let metas = split.index.load_metas().unwrap();
    let live: Vec<String> = metas
        .segments
        .iter()
        .map(|s| s.id().uuid_string())
        .collect();
    let mut expected: BTreeSet<String> = METADATA.iter().map(|s| s.to_string()).collect();
    for name in files_of(split) {
        if live.iter().any(|id| name.starts_with(&format!("{id}."))) {
            expected.insert(name);
        }
    }
    assert!(expected.len() > METADATA.len(), "no segment files");
    expected
}

/// Bytes of the regular files below `dir`, as `du --apparent-size` counts
/// them without the directories themselves.
fn du(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let meta = std::fs::symlink_metadata(entry.unwrap().path()).unwrap();
        assert!(meta.is_file(), "a split holds only files");
        total += meta.len();
    }
    total
}

/// Writes a split of three segments (three commits, no merging) of 30 events.
fn split_of_three_segments(root: &Path) -> std::sync::Arc<SplitHandle> {
    let (schema, fields) = build_schema();
    let split = create_split(root, &schema, 1).unwrap();
    let mut writer: IndexWriter<TantivyDocument> = split.index.writer(20_000_000).unwrap();
    writer.set_merge_policy(Box::new(NoMergePolicy));
    for c in 0..3u64 {
        for n in c * 10..c * 10 + 10 {
            let doc = build_doc(&fields, &numbered(n, BASE + n as i64), n + 1, None).unwrap();
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
    }
    writer.wait_merging_threads().unwrap();
    split.reload().unwrap();
    split.set_settled();
    assert_eq!(split.index.load_metas().unwrap().segments.len(), 3);
    split
}

#[test]
fn compaction_leaves_only_the_files_of_the_merged_segment() {
    let dir = tempfile::tempdir().unwrap();
    let split = split_of_three_segments(dir.path());
    let before = files_of(&split);
    assert!(compact_split(&split).unwrap());
    let metas = split.index.load_metas().unwrap();
    assert_eq!(metas.segments.len(), 1);
    let after = files_of(&split);
    assert_eq!(after, expected_files(&split));
    assert!(
        after
            .iter()
            .all(|f| METADATA.contains(&f.as_str()) || !before.contains(f)),
        "files of merged segments left: {after:?}"
    );
    assert!(!has_dead_files(&split).unwrap());
    // What Hark reports is what the directory holds.
    assert_eq!(split.bytes(), du(&split.dir));
    assert_eq!(split.searcher().0.num_docs(), 30);
}

#[test]
fn files_a_live_searcher_reads_stay_until_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let split = split_of_three_segments(dir.path());
    let (old, lease) = split.searcher();
    assert!(compact_split(&split).unwrap());
    // The search that started before the compaction still reads its segments.
    assert!(has_dead_files(&split).unwrap());
    assert_eq!(old.segment_readers().len(), 3);
    let hits = old
        .search(&tantivy::query::AllQuery, &tantivy::collector::Count)
        .unwrap();
    assert_eq!(hits, 30);
    assert_eq!(collect_dead_files(&split).unwrap().files, 0);
    drop(old);
    drop(lease);
    let collected = collect_dead_files(&split).unwrap();
    assert!(collected.files > 0);
    assert_eq!(files_of(&split), expected_files(&split));
    assert_eq!(split.bytes(), du(&split.dir));
}

#[tokio::test]
async fn the_store_reports_the_bytes_its_split_directories_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 10;
    let store = Store::open(cfg).unwrap();
    // Three commits before the seal leave the split with several segments.
    for range in [0..3u64, 3..6, 6..12] {
        append(
            &store,
            range.map(|n| numbered(n, BASE + n as i64)).collect(),
        )
        .await;
        store.flush().unwrap();
    }
    wait_settled(&store);
    store.maintain().unwrap();
    let splits = store.inner.shared.catalog.snapshot();
    let sealed = splits[0].clone();
    assert!(sealed.manifest().sealed);
    assert_eq!(files_of(&sealed), expected_files(&sealed));
    for split in &splits {
        assert_eq!(split.refresh_bytes(), du(&split.dir), "split {}", split.id);
    }
    assert_eq!(sealed.bytes(), du(&sealed.dir));
    assert_exactly_once(&all_ns(&store, "", 5), 0..12);
}

#[tokio::test]
async fn opening_the_store_removes_files_of_segments_merged_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 10;
    let store = Store::open(cfg.clone()).unwrap();
    append(
        &store,
        (0..10).map(|n| numbered(n, BASE + n as i64)).collect(),
    )
    .await;
    store.flush().unwrap();
    wait_settled(&store);
    store.maintain().unwrap();
    let sealed = store.inner.shared.catalog.snapshot()[0].clone();
    let sealed_dir = sealed.dir.clone();
    let expected = expected_files(&sealed);
    drop(sealed);
    store.shutdown().unwrap();
    drop(store);

    // What an earlier version left behind: the files of a segment the
    // split's meta.json no longer names, still listed as tantivy's.
    let dead_id = "0123456789abcdef0123456789abcdef";
    let mut planted = Vec::new();
    for name in &expected {
        if let Some((_, component)) = name.split_once('.')
            && !METADATA.contains(&name.as_str())
        {
            let dead = format!("{dead_id}.{component}");
            std::fs::copy(sealed_dir.join(name), sealed_dir.join(&dead)).unwrap();
            planted.push(dead);
        }
    }
    assert!(!planted.is_empty());
    let managed_path = sealed_dir.join(".managed.json");
    let mut managed: Vec<String> =
        serde_json::from_slice(&std::fs::read(&managed_path).unwrap()).unwrap();
    managed.extend(planted.iter().cloned());
    std::fs::write(&managed_path, serde_json::to_vec(&managed).unwrap()).unwrap();

    let store = Store::open(cfg).unwrap();
    let sealed = store.inner.shared.catalog.snapshot()[0].clone();
    assert_eq!(sealed.dir, sealed_dir);
    assert_eq!(files_of(&sealed), expected);
    let managed: Vec<String> =
        serde_json::from_slice(&std::fs::read(&managed_path).unwrap()).unwrap();
    assert!(
        planted.iter().all(|p| !managed.contains(p)),
        "still listed: {managed:?}"
    );
    assert_eq!(sealed.bytes(), du(&sealed.dir));
    assert_exactly_once(&all_ns(&store, "", 5), 0..10);
}
