//! One split: a tantivy index in its own directory, with its manifest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tantivy::schema::Schema;
use tantivy::{Index, IndexReader, ReloadPolicy};

use super::manifest::SplitManifest;
use super::schema::{active_settings, names};
use crate::fsutil::{dir_size, io_err, sync_dir};
use crate::{StoreError, index_err};

/// Decompressed docstore blocks kept per segment: a page of newest hits
/// falls in one or two blocks.
const DOC_STORE_CACHE_BLOCKS: usize = 4;

/// An open split, shared by the indexer, searches and maintenance.
pub(crate) struct SplitHandle {
    /// The split id (directory name).
    pub id: String,
    /// Its directory.
    pub dir: PathBuf,
    /// The tantivy index.
    pub index: Index,
    /// Reader, reloaded by whoever changes the index.
    pub reader: IndexReader,
    /// What the split holds, as committed.
    meta: RwLock<SplitManifest>,
    /// Bytes on disk, as last measured.
    bytes: AtomicU64,
    /// True once no writer can change the split's files any more.
    settled: AtomicBool,
}

impl SplitHandle {
    /// A copy of the split's manifest.
    pub fn manifest(&self) -> SplitManifest {
        match self.meta.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Changes the in-memory manifest.
    pub fn update_manifest(&self, f: impl FnOnce(&mut SplitManifest)) {
        match self.meta.write() {
            Ok(mut m) => f(&mut m),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Bytes on disk, as last measured.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Measures the bytes on disk again.
    pub fn refresh_bytes(&self) -> u64 {
        let n = dir_size(&self.dir);
        self.bytes.store(n, Ordering::Relaxed);
        n
    }

    /// Whether no writer can change the split's files any more.
    pub fn is_settled(&self) -> bool {
        self.settled.load(Ordering::Acquire)
    }

    /// Marks the split's files as final.
    pub fn set_settled(&self) {
        self.settled.store(true, Ordering::Release);
    }
}

/// A new split id; ids sort by the first sequence number they may hold.
pub(crate) fn new_split_id(first_seq: u64) -> String {
    format!("{first_seq:020}-{:x}", hark_event::now_nanos())
}

/// Creates an empty, unsealed split below `root` for events from `first_seq` on.
pub(crate) fn create_split(
    root: &Path,
    schema: &Schema,
    first_seq: u64,
) -> Result<Arc<SplitHandle>, StoreError> {
    let id = new_split_id(first_seq);
    let dir = root.join(&id);
    std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let manifest = SplitManifest {
        id: id.clone(),
        min_ts: None,
        max_ts: None,
        docs: 0,
        created_at: hark_event::now_nanos(),
        sealed: false,
        first_seq,
        last_seq: first_seq.saturating_sub(1),
        replaces: Vec::new(),
    };
    // The manifest goes first so that a directory without one is never a split.
    manifest.write(&dir)?;
    let index = Index::builder()
        .schema(schema.clone())
        .settings(active_settings())
        .create_in_dir(&dir)
        .map_err(index_err(format!("creating split {id}")))?;
    sync_dir(root).map_err(io_err(format!("syncing {}", root.display())))?;
    let handle = from_parts(dir, manifest, index, false)?;
    Ok(Arc::new(handle))
}

/// Opens the split in `dir`, whose manifest is `manifest`.
pub(crate) fn open_split(dir: &Path, manifest: SplitManifest) -> Result<SplitHandle, StoreError> {
    let index =
        Index::open_in_dir(dir).map_err(index_err(format!("opening split {}", manifest.id)))?;
    let settled = manifest.sealed;
    from_parts(dir.to_path_buf(), manifest, index, settled)
}

fn from_parts(
    dir: PathBuf,
    manifest: SplitManifest,
    index: Index,
    settled: bool,
) -> Result<SplitHandle, StoreError> {
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
        .try_into()
        .map_err(index_err(format!(
            "opening a reader on split {}",
            manifest.id
        )))?;
    let handle = SplitHandle {
        id: manifest.id.clone(),
        dir,
        index,
        reader,
        meta: RwLock::new(manifest),
        bytes: AtomicU64::new(0),
        settled: AtomicBool::new(settled),
    };
    handle.refresh_bytes();
    Ok(handle)
}

/// What the committed state of an index says about its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommittedStats {
    /// Documents.
    pub docs: u64,
    /// Oldest and newest timestamps (ns), when not empty.
    pub ts_range: Option<(i64, i64)>,
    /// The sequence number recorded with the last commit.
    pub payload_seq: Option<u64>,
}

/// Reads document count, timestamp range and commit payload from the index itself.
pub(crate) fn committed_stats(handle: &SplitHandle) -> Result<CommittedStats, StoreError> {
    let ctx = || format!("reading split {}", handle.id);
    let metas = handle.index.load_metas().map_err(index_err(ctx()))?;
    let payload_seq = metas.payload.as_deref().and_then(|p| p.trim().parse().ok());
    let searcher = handle.reader.searcher();
    let mut ts_range: Option<(i64, i64)> = None;
    for seg in searcher.segment_readers() {
        if seg.num_docs() == 0 {
            continue;
        }
        let col = seg
            .fast_fields()
            .date(names::TS)
            .map_err(index_err(ctx()))?;
        let lo = col.min_value().into_timestamp_nanos();
        let hi = col.max_value().into_timestamp_nanos();
        ts_range = Some(match ts_range {
            Some((a, b)) => (a.min(lo), b.max(hi)),
            None => (lo, hi),
        });
    }
    Ok(CommittedStats {
        docs: searcher.num_docs(),
        ts_range,
        payload_seq,
    })
}
