//! A data directory written before the IP fields existed: its splits stay
//! searchable, new events go to a split with the current schema, and the
//! two are never merged together.

use tantivy::{IndexWriter, TantivyDocument};

use super::*;
use crate::index::{build_doc, build_schema_with, create_split};

/// Event `n` from `ip`.
fn from_ip(n: u64, ip: &str) -> Event {
    let mut e = numbered(n, BASE + n as i64 * SEC);
    e.push_field("source.ip", ip);
    e
}

/// Writes an unsealed split with the schema of before, holding events 1 and 2.
fn older_split(root: &Path) {
    let (schema, fields) = build_schema_with(&[]);
    let split = create_split(root, &schema, 1).unwrap();
    let mut writer: IndexWriter<TantivyDocument> = split.index.writer(20_000_000).unwrap();
    for (seq, ip) in [(1, "10.0.0.5"), (2, "192.168.7.7")] {
        let mut stored = Vec::new();
        let doc = build_doc(&fields, &from_ip(seq, ip), seq, Some(&mut stored)).unwrap();
        writer.add_document(doc).unwrap();
    }
    let mut commit = writer.prepare_commit().unwrap();
    commit.set_payload("2");
    commit.commit().unwrap();
}

#[tokio::test]
async fn splits_of_an_older_schema_stay_searchable_and_apart() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("index")).unwrap();
    older_split(&dir.path().join("index"));
    let mut cfg = config(dir.path());
    cfg.split_max_events = 2;
    let store = Store::open(cfg).unwrap();
    // The older split takes no more events: a new one is active.
    let splits = store.inner.shared.catalog.snapshot();
    assert_eq!(splits.len(), 2);
    assert!(splits[0].manifest().sealed);
    assert!(!splits[1].manifest().sealed);

    append(&store, vec![from_ip(3, "10.0.0.5"), from_ip(4, "10.9.9.9")]).await;
    store.flush().unwrap();
    wait_settled(&store);
    // An exact address is found in both; a block only where addresses are typed.
    assert_eq!(all_ns(&store, "source.ip:10.0.0.5", 10), vec![3, 1]);
    assert_eq!(all_ns(&store, "source.ip:10.0.0.0/8", 10), vec![4, 3]);
    assert_eq!(
        all_ns(&store, "source.ip:[10.0.0.0 TO 10.0.0.9]", 10),
        vec![3]
    );
    assert_eq!(
        all_ns(&store, "host:host1 OR host:host2", 10),
        vec![4, 2, 1]
    );

    // Merging never mixes the two schemas: the two small sealed splits
    // (the older one, and the first new one, full at two events) stay apart.
    let splits = store.inner.shared.catalog.snapshot();
    let sealed = splits.iter().filter(|s| s.manifest().sealed).count();
    assert_eq!(
        sealed,
        2,
        "{:?}",
        splits.iter().map(|s| s.manifest()).collect::<Vec<_>>()
    );
    let groups = crate::index::plan_merges(&splits, u64::MAX, 0);
    assert!(groups.is_empty(), "planned a merge across schemas");
}
