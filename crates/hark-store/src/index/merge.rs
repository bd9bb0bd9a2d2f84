//! Merging small sealed splits into bigger ones, and compacting a sealed
//! split's segments into one.
//!
//! The merged split is written under `<id>.merging`, given a manifest naming
//! the splits it replaces, and renamed into place; only then are the old
//! directories removed. A crash before the rename leaves the old splits (the
//! `.merging` directory is removed on open); a crash after it leaves both,
//! and opening removes the replaced ones. No event is lost or counted twice.

use std::sync::Arc;

use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::{IndexWriterOptions, merge_indices};
use tantivy::store::Compressor;
use tantivy::{IndexWriter, SegmentMeta, TantivyDocument};

use super::catalog::{Catalog, MERGING_SUFFIX, remove_dir};
use super::garbage::collect_dead_files;
use super::manifest::SplitManifest;
use super::schema::with_sealed_settings;
use super::split::{SplitHandle, new_split_id, open_split};
use crate::fsutil::{io_err, sync_dir};
use crate::{StoreError, index_err, telemetry};

/// Most splits merged into one.
const MAX_FAN_IN: usize = 10;

/// Groups of adjacent small sealed splits to merge, oldest first.
///
/// Nothing is merged until there are more than `trigger` small splits. A group
/// never holds more than `max_docs` events, so a merged split that reaches the
/// limit is left alone from then on.
pub(crate) fn plan_merges(
    splits: &[Arc<SplitHandle>],
    max_docs: u64,
    trigger: usize,
) -> Vec<Vec<Arc<SplitHandle>>> {
    let is_small = |s: &SplitHandle| {
        let m = s.manifest();
        m.sealed && s.is_settled() && m.docs < max_docs
    };
    let small = splits.iter().filter(|s| is_small(s)).count();
    if small <= trigger {
        return Vec::new();
    }
    let mut groups = Vec::new();
    let mut current: Vec<Arc<SplitHandle>> = Vec::new();
    let mut docs = 0u64;
    let close = |current: &mut Vec<Arc<SplitHandle>>, groups: &mut Vec<Vec<Arc<SplitHandle>>>| {
        if current.len() >= 2 {
            groups.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for s in splits {
        if !is_small(s) {
            close(&mut current, &mut groups);
            docs = 0;
            continue;
        }
        let n = s.manifest().docs;
        // Splits written with different schemas cannot be merged.
        let other_schema = current
            .first()
            .is_some_and(|first| first.index.schema() != s.index.schema());
        if current.len() == MAX_FAN_IN || docs + n > max_docs || other_schema {
            close(&mut current, &mut groups);
            docs = 0;
        }
        current.push(s.clone());
        docs += n;
    }
    close(&mut current, &mut groups);
    groups
}

/// Merges `sources` (adjacent sealed splits) into one new split.
pub(crate) fn merge_splits(
    catalog: &Catalog,
    sources: &[Arc<SplitHandle>],
) -> Result<Arc<SplitHandle>, StoreError> {
    let manifests: Vec<SplitManifest> = sources.iter().map(|s| s.manifest()).collect();
    let first_seq = manifests.iter().map(|m| m.first_seq).min().unwrap_or(1);
    let id = new_split_id(first_seq);
    let root = catalog.root();
    let tmp = root.join(format!("{id}{MERGING_SUFFIX}"));
    std::fs::create_dir_all(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
    let result = write_merged(&tmp, &id, sources, &manifests);
    if let Err(e) = result {
        remove_dir(&tmp);
        return Err(e);
    }
    let dir = root.join(&id);
    std::fs::rename(&tmp, &dir).map_err(io_err(format!("renaming {}", tmp.display())))?;
    sync_dir(root).map_err(io_err(format!("syncing {}", root.display())))?;
    let merged = SplitManifest::read(&dir)?;
    let handle = Arc::new(open_split(&dir, merged)?);
    let old_ids: Vec<String> = manifests.iter().map(|m| m.id.clone()).collect();
    catalog.replace(&old_ids, handle.clone());
    for s in sources {
        remove_dir(&s.dir);
    }
    let m = handle.manifest();
    tracing::info!(split = %id, from = ?old_ids, docs = m.docs, "merged splits");
    Ok(handle)
}

fn write_merged(
    tmp: &std::path::Path,
    id: &str,
    sources: &[Arc<SplitHandle>],
    manifests: &[SplitManifest],
) -> Result<(), StoreError> {
    let indices: Vec<tantivy::Index> = sources
        .iter()
        .map(|s| with_sealed_settings(&s.index))
        .collect();
    let dir = MmapDirectory::open(tmp)
        .map_err(|e| StoreError::Index(format!("opening {}: {e}", tmp.display())))?;
    let merged = merge_indices(&indices, dir).map_err(index_err(format!("merging into {id}")))?;
    let docs = merged
        .reader()
        .map_err(index_err(format!("reading merged split {id}")))?
        .searcher()
        .num_docs();
    let expected: u64 = manifests.iter().map(|m| m.docs).sum();
    if docs != expected {
        return Err(StoreError::Index(format!(
            "merged split {id} holds {docs} events, its sources {expected}"
        )));
    }
    let manifest = SplitManifest {
        id: id.to_owned(),
        min_ts: manifests.iter().filter_map(|m| m.min_ts).min(),
        max_ts: manifests.iter().filter_map(|m| m.max_ts).max(),
        docs,
        created_at: hark_event::now_nanos(),
        sealed: true,
        first_seq: manifests.iter().map(|m| m.first_seq).min().unwrap_or(1),
        last_seq: manifests.iter().map(|m| m.last_seq).max().unwrap_or(0),
        replaces: manifests.iter().map(|m| m.id.clone()).collect(),
    };
    manifest.write(tmp)?;
    sync_dir(tmp).map_err(io_err(format!("syncing {}", tmp.display())))?;
    Ok(())
}

/// Whether compacting `split` would change it: it has several segments, or
/// one whose docstore is not yet compressed with zstd.
pub(crate) fn needs_compaction(split: &SplitHandle) -> Result<bool, StoreError> {
    Ok(compaction_plan(split)?.is_some())
}

/// The segments to merge, when compaction would change the split.
fn compaction_plan(split: &SplitHandle) -> Result<Option<Vec<SegmentId>>, StoreError> {
    // The committed metadata lists the segments and names the docstore
    // compression of the writer that made them.
    let meta = split
        .index
        .load_metas()
        .map_err(index_err(format!("reading the metadata of {}", split.id)))?;
    let ids: Vec<SegmentId> = meta.segments.iter().map(SegmentMeta::id).collect();
    let zstd = matches!(
        meta.index_settings.docstore_compression,
        Compressor::Zstd(_)
    );
    if ids.is_empty() || (ids.len() == 1 && zstd) {
        return Ok(None);
    }
    Ok(Some(ids))
}

/// Merges the segments of a sealed split into one, its docstore recompressed
/// with zstd: it then takes less disk (one term dictionary, a denser
/// docstore) and less time to search. The merged segments' files are removed
/// once the split's reader has moved to the new one. Returns whether it did.
pub(crate) fn compact_split(split: &SplitHandle) -> Result<bool, StoreError> {
    let Some(ids) = compaction_plan(split)? else {
        return Ok(false);
    };
    let options = IndexWriterOptions::builder()
        .num_worker_threads(1)
        .num_merge_threads(1)
        .build();
    let mut writer: IndexWriter<TantivyDocument> = with_sealed_settings(&split.index)
        .writer_with_options(options)
        .map_err(index_err(format!("opening a writer on {}", split.id)))?;
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let started = std::time::Instant::now();
    writer
        .merge(&ids)
        .wait()
        .map_err(index_err(format!("compacting {}", split.id)))?;
    writer
        .wait_merging_threads()
        .map_err(index_err(format!("compacting {}", split.id)))?;
    split.reload()?;
    // The compaction stands either way; the next maintenance round retries.
    if let Err(e) = collect_dead_files(split) {
        tracing::warn!(split = %split.id, error = %e, "could not remove the files of merged segments");
    }
    let bytes = split.refresh_bytes();
    telemetry::compacted();
    tracing::info!(split = %split.id, segments = ids.len(), bytes, took_ms = started.elapsed().as_millis() as u64, "compacted split");
    Ok(true)
}
