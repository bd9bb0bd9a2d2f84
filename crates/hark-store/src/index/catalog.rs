//! The set of splits, and how it is rebuilt from disk on open.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::schema::Schema;

use super::garbage::collect_dead_files;
use super::manifest::{MANIFEST_FILE, SplitManifest};
use super::split::{SplitHandle, committed_stats, open_split};
use crate::StoreError;
use crate::fsutil::{io_err, sync_dir};

/// Suffix of a directory a merge is still writing.
pub(crate) const MERGING_SUFFIX: &str = ".merging";

/// All splits, ordered by the first sequence number they hold.
pub(crate) struct Catalog {
    root: PathBuf,
    splits: RwLock<Vec<Arc<SplitHandle>>>,
}

impl Catalog {
    /// The directory holding the splits.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The current splits.
    pub fn snapshot(&self) -> Vec<Arc<SplitHandle>> {
        match self.splits.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn with_list<R>(&self, f: impl FnOnce(&mut Vec<Arc<SplitHandle>>) -> R) -> R {
        let mut guard = match self.splits.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let r = f(&mut guard);
        guard.sort_by_key(|s| (s.manifest().first_seq, s.id.clone()));
        r
    }

    /// Adds a split.
    pub fn add(&self, split: Arc<SplitHandle>) {
        self.with_list(|l| l.push(split));
    }

    /// Removes a split from the set (its files stay).
    pub fn remove(&self, id: &str) -> Option<Arc<SplitHandle>> {
        self.with_list(|l| {
            let pos = l.iter().position(|s| s.id == id)?;
            Some(l.remove(pos))
        })
    }

    /// Swaps `old` splits for `new` in one step, so a search sees either.
    pub fn replace(&self, old: &[String], new: Arc<SplitHandle>) {
        self.with_list(|l| {
            l.retain(|s| !old.contains(&s.id));
            l.push(new);
        });
    }

    /// Number of splits.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Bytes on disk of all splits, as last measured.
    pub fn total_bytes(&self) -> u64 {
        self.snapshot().iter().map(|s| s.bytes()).sum()
    }
}

/// The catalog as found on open.
pub(crate) struct OpenedCatalog {
    /// Every split, the active one included.
    pub catalog: Catalog,
    /// The split to keep writing to, if an unsealed one was found.
    pub active: Option<Arc<SplitHandle>>,
    /// Highest sequence number the index holds durably.
    pub committed_seq: u64,
}

/// Rebuilds the split set from `root`: finishes interrupted merges, seals all
/// but the newest unsealed split, removes the files of segments sealed splits
/// no longer use, and works out the committed sequence number.
pub(crate) fn open_catalog(root: &Path, schema: &Schema) -> Result<OpenedCatalog, StoreError> {
    fs::create_dir_all(root).map_err(io_err(format!("creating {}", root.display())))?;
    let mut found: Vec<(PathBuf, SplitManifest)> = Vec::new();
    for entry in fs::read_dir(root).map_err(io_err(format!("listing {}", root.display())))? {
        let entry = entry.map_err(io_err(format!("listing {}", root.display())))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(MERGING_SUFFIX) {
            tracing::info!(dir = %path.display(), "removing an unfinished merge");
            remove_dir(&path);
            continue;
        }
        if !path.join(MANIFEST_FILE).exists() {
            tracing::warn!(dir = %path.display(), "ignoring a directory without a split manifest");
            continue;
        }
        match SplitManifest::read(&path) {
            Ok(m) => found.push((path, m)),
            Err(e) => {
                tracing::error!(dir = %path.display(), error = %e, "ignoring a split with an unreadable manifest")
            }
        }
    }

    // A merged split names the splits it replaces: any still here are leftovers.
    let replaced: HashSet<String> = found
        .iter()
        .flat_map(|(_, m)| m.replaces.iter().cloned())
        .collect();
    found.retain(|(path, m)| {
        if replaced.contains(&m.id) {
            tracing::info!(split = %m.id, "removing a split already merged into another");
            remove_dir(path);
            false
        } else {
            true
        }
    });
    found.sort_by_key(|(_, m)| (m.first_seq, m.id.clone()));

    let newest_unsealed = found.iter().rposition(|(_, m)| !m.sealed);
    let mut splits = Vec::new();
    let mut active = None;
    let mut committed_seq = 0u64;
    for (i, (path, manifest)) in found.into_iter().enumerate() {
        let sealed = manifest.sealed;
        let id = manifest.id.clone();
        let handle = match open_split(&path, manifest) {
            Ok(h) => Arc::new(h),
            Err(e) if !sealed && !path.join("meta.json").exists() => {
                tracing::info!(split = %id, error = %e, "removing a split that was never written to");
                remove_dir(&path);
                continue;
            }
            Err(e) => {
                tracing::error!(split = %id, error = %e, "ignoring a split that cannot be opened");
                continue;
            }
        };
        if !sealed {
            let stats = committed_stats(&handle)?;
            handle.update_manifest(|m| {
                m.docs = stats.docs;
                m.min_ts = stats.ts_range.map(|r| r.0);
                m.max_ts = stats.ts_range.map(|r| r.1);
                m.last_seq = stats
                    .payload_seq
                    .unwrap_or(m.first_seq.saturating_sub(1))
                    .max(m.first_seq.saturating_sub(1));
            });
            // A split written with an older schema takes no more events.
            let older_schema = handle.index.schema() != *schema;
            if Some(i) != newest_unsealed || older_schema {
                if stats.docs == 0 {
                    tracing::info!(split = %id, "removing an empty unsealed split");
                    remove_dir(&path);
                    continue;
                }
                seal_on_open(&handle)?;
            }
        }
        let m = handle.manifest();
        if m.sealed {
            // Files of segments merged before a restart, which no writer
            // will collect any more.
            if let Err(e) = collect_dead_files(&handle) {
                tracing::warn!(split = %id, error = %e, "could not remove the files of merged segments");
            }
        }
        committed_seq = committed_seq.max(m.last_seq);
        if !m.sealed {
            active = Some(handle.clone());
        }
        splits.push(handle);
    }
    sync_dir(root).map_err(io_err(format!("syncing {}", root.display())))?;
    Ok(OpenedCatalog {
        catalog: Catalog {
            root: root.to_path_buf(),
            splits: RwLock::new(splits),
        },
        active,
        committed_seq,
    })
}

/// Seals a split left unsealed by an interrupted run (its committed state is final).
fn seal_on_open(handle: &SplitHandle) -> Result<(), StoreError> {
    handle.update_manifest(|m| m.sealed = true);
    handle.manifest().write(&handle.dir)?;
    handle.set_settled();
    tracing::info!(split = %handle.id, "sealed a split left open by an earlier run");
    Ok(())
}

/// Removes a directory tree, logging rather than failing.
pub(crate) fn remove_dir(path: &Path) {
    if let Err(e) = fs::remove_dir_all(path) {
        tracing::warn!(dir = %path.display(), error = %e, "could not remove directory");
    }
}
