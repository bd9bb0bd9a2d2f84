//! One split: a tantivy index in its own directory, with its manifest.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

use tantivy::index::SegmentId;
use tantivy::schema::Schema;
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, SegmentMeta};

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
    /// The reader's current state and the searchers handed out that may
    /// still be in use: their segments' files must stay.
    leases: Mutex<Leases>,
}

/// The leases of a split's searchers.
struct Leases {
    /// The reader's current generation: new searches get it.
    current: Arc<SearcherLease>,
    /// Leases handed out before, perhaps still held by a search.
    older: Vec<Weak<SearcherLease>>,
}

/// Keeps the files of a searcher's segments on disk while a search uses
/// it: it holds their segment metas, which tantivy's own collection also
/// keeps, and the store's collection of a settled split honours it.
#[derive(Debug)]
pub(crate) struct SearcherLease {
    /// Generation of the searcher the lease covers.
    generation: u64,
    /// The metas of the segments that searcher reads.
    metas: Vec<SegmentMeta>,
}

/// The leases of a split, locked: no searcher is handed out and the reader
/// does not reload while it is held.
pub(crate) struct LeaseGuard<'a>(MutexGuard<'a, Leases>);

impl LeaseGuard<'_> {
    /// Segments read by the current searcher and by searchers that may still be in use.
    pub fn leased_segments(&self) -> HashSet<SegmentId> {
        let older = self.0.older.iter().filter_map(Weak::upgrade);
        std::iter::once(self.0.current.clone())
            .chain(older)
            .flat_map(|l| l.metas.iter().map(SegmentMeta::id).collect::<Vec<_>>())
            .collect()
    }
}

/// A lease on the segments of `searcher`, whose metas are `metas` (those of
/// other segments are left out).
fn lease_for(searcher: &Searcher, metas: Vec<SegmentMeta>) -> SearcherLease {
    let segments = searcher.generation().segments();
    let mut seen = HashSet::new();
    SearcherLease {
        generation: searcher.generation().generation_id(),
        metas: metas
            .into_iter()
            .filter(|m| segments.contains_key(&m.id()) && seen.insert(m.id()))
            .collect(),
    }
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

    /// A searcher on the split's current state, with the lease that keeps
    /// its segments' files on disk: hold the lease as long as the searcher.
    pub fn searcher(&self) -> (Searcher, Arc<SearcherLease>) {
        let mut leases = self.lock_leases();
        let searcher = self.reader.searcher();
        if searcher.generation().generation_id() != leases.0.current.generation {
            // Only reached when the reader moved on without `reload`.
            let metas = self.index.searchable_segment_metas().unwrap_or_default();
            self.replace_current(&mut leases, lease_for(&searcher, metas));
        }
        (searcher, leases.0.current.clone())
    }

    /// Moves the reader to the split's last commit. The searchers handed out
    /// before keep their leases.
    pub fn reload(&self) -> Result<(), StoreError> {
        let mut leases = self.lock_leases();
        let ctx = || format!("reloading split {}", self.id);
        // A merge of the writer may commit while the reader reloads: the
        // metas read before and after name every segment the reader sees.
        let mut metas = self
            .index
            .searchable_segment_metas()
            .map_err(index_err(ctx()))?;
        self.reader.reload().map_err(index_err(ctx()))?;
        metas.extend(
            self.index
                .searchable_segment_metas()
                .map_err(index_err(ctx()))?,
        );
        let lease = lease_for(&self.reader.searcher(), metas);
        self.replace_current(&mut leases, lease);
        Ok(())
    }

    fn replace_current(&self, leases: &mut LeaseGuard<'_>, lease: SearcherLease) {
        let old = std::mem::replace(&mut leases.0.current, Arc::new(lease));
        leases.0.older.retain(|l| l.strong_count() > 0);
        leases.0.older.push(Arc::downgrade(&old));
    }

    /// Locks the leases: while the guard lives no searcher is handed out.
    pub fn lock_leases(&self) -> LeaseGuard<'_> {
        LeaseGuard(match self.leases.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        })
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
        leases: Mutex::new(Leases {
            current: Arc::new(SearcherLease {
                generation: u64::MAX,
                metas: Vec::new(),
            }),
            older: Vec::new(),
        }),
    };
    handle.reload()?;
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
    let (searcher, _lease) = handle.searcher();
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
