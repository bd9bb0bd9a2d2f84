//! Removing the files of segments a settled split no longer uses.
//!
//! Compaction merges a sealed split's segments into one; tantivy collects the
//! files of the merged segments only while the split's reader no longer holds
//! them, which is never true at the end of the merge, and a sealed split never
//! gets a writer again to collect them later. So the store collects them: after
//! a compaction, on every maintenance round and when a split is opened.
//!
//! A segment file is kept while the split's committed metadata (`meta.json`)
//! names its segment or a searcher that may still be in use reads it (see
//! [`SplitHandle::searcher`]); collection holds the split's leases, so no
//! searcher on an older state is handed out meanwhile, and tantivy's meta
//! lock, so no reader opens the old segments meanwhile. Files that are not
//! segment files (`meta.json`, `.managed.json`, the lock files, Hark's
//! `manifest.json`) are never touched.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tantivy::index::SegmentId;

use super::split::SplitHandle;
use crate::fsutil::io_err;
use crate::{StoreError, index_err};

/// Files of a split's directory that belong to no live segment.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// Files removed.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Removes the segment files of `split` that neither its committed metadata
/// nor a live searcher uses, and measures the split again. Only for a split
/// no writer can change (settled).
pub(crate) fn collect_dead_files(split: &SplitHandle) -> Result<Collected, StoreError> {
    let leases = split.lock_leases();
    let metas = split
        .index
        .load_metas()
        .map_err(index_err(format!("reading the metadata of {}", split.id)))?;
    let mut live: HashSet<SegmentId> = metas.segments.iter().map(|s| s.id()).collect();
    live.extend(leases.leased_segments());
    let dead = dead_files(&split.dir, &live)?;
    if dead.is_empty() {
        return Ok(Collected::default());
    }
    let bytes: u64 = dead
        .iter()
        .filter_map(|p| std::fs::metadata(split.dir.join(p)).ok())
        .map(|m| m.len())
        .sum();
    // tantivy's collection removes the files it manages and drops them from
    // `.managed.json`, under its meta lock.
    let mut index = split.index.clone();
    let directory = index.directory_mut();
    let living: HashSet<PathBuf> = directory
        .list_managed_files()
        .into_iter()
        .filter(|p| !dead.contains(p))
        .collect();
    let result = directory
        .garbage_collect(|| living)
        .map_err(index_err(format!("collecting the files of {}", split.id)))?;
    if !result.failed_to_delete_files.is_empty() {
        return Err(StoreError::Index(format!(
            "could not remove {} dead files of split {}",
            result.failed_to_delete_files.len(),
            split.id
        )));
    }
    // A dead segment file tantivy does not list (its list was lost) goes too.
    for path in &dead {
        let full = split.dir.join(path);
        match std::fs::remove_file(&full) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("removing {}", full.display()))(e)),
        }
    }
    drop(leases);
    split.refresh_bytes();
    let collected = Collected {
        files: dead.len(),
        bytes,
    };
    tracing::info!(split = %split.id, files = collected.files, bytes = collected.bytes, "removed the files of merged segments");
    Ok(collected)
}

/// Whether `split` has segment files that its committed metadata does not name.
pub(crate) fn has_dead_files(split: &SplitHandle) -> Result<bool, StoreError> {
    let metas = split
        .index
        .load_metas()
        .map_err(index_err(format!("reading the metadata of {}", split.id)))?;
    let live: HashSet<SegmentId> = metas.segments.iter().map(|s| s.id()).collect();
    Ok(!dead_files(&split.dir, &live)?.is_empty())
}

/// Segment files in `dir` whose segment is not in `live`, as paths relative to `dir`.
fn dead_files(dir: &Path, live: &HashSet<SegmentId>) -> Result<HashSet<PathBuf>, StoreError> {
    let ctx = || format!("listing {}", dir.display());
    let mut dead = HashSet::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(ctx()))? {
        let entry = entry.map_err(io_err(ctx()))?;
        let name = entry.file_name();
        let Some(segment) = name.to_str().and_then(segment_of) else {
            continue;
        };
        if !live.contains(&segment) {
            dead.insert(PathBuf::from(name));
        }
    }
    Ok(dead)
}

/// The segment a file belongs to: tantivy names segment files
/// `<32 hex digits of the segment id>.<component>`.
fn segment_of(file_name: &str) -> Option<SegmentId> {
    let (stem, _) = file_name.split_once('.')?;
    if stem.len() != 32 || !stem.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    SegmentId::from_uuid_string(stem).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_segment_files_have_a_segment() {
        let id = "a5c4dfcbdfe645089129e308e26d5523";
        assert!(segment_of(&format!("{id}.store")).is_some());
        assert!(segment_of(&format!("{id}.12.del")).is_some());
        assert_eq!(
            segment_of(&format!("{id}.idx")),
            SegmentId::from_uuid_string(id).ok()
        );
        for other in [
            "meta.json",
            ".managed.json",
            ".tantivy-meta.lock",
            "manifest.json",
            "manifest.tmp",
            "a5c4dfcb.store",
        ] {
            assert_eq!(segment_of(other), None, "{other}");
        }
    }
}
