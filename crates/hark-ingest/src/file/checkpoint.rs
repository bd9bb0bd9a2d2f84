//! How far each file has been read, kept across restarts.
//!
//! One JSON file per input, `data_dir/files/<input>.json`, replaced
//! atomically (written to a temporary file, fsynced, renamed over the old
//! one, directory fsynced), so a crash leaves the old or the new version,
//! never a mix. A position is recorded only once the events before it are
//! durable in the sink, so what a crash loses is re-read, never skipped.
//!
//! A file is known by its device and inode **and** a fingerprint of its
//! first bytes (up to [`FINGERPRINT_BYTES`], fewer while the file or the
//! part read is shorter). Inodes are reused: after rotation a new file may
//! get the inode of a deleted one, and resuming it at the old offset would
//! skip its first lines. A saved position is used only when both match.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How many leading bytes of a file its fingerprint covers at most.
pub(crate) const FINGERPRINT_BYTES: usize = 256;

/// A file while it exists: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FileKey {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

impl FileKey {
    /// The key of the file `meta` describes.
    pub fn of(meta: &std::fs::Metadata) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// A digest of a file's first `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    /// How many bytes it covers.
    pub len: u64,
    /// The first 16 bytes of their SHA-256, in hex.
    pub sha256: String,
}

impl Fingerprint {
    /// The fingerprint of `head`, the first bytes of a file.
    pub fn of(head: &[u8]) -> Fingerprint {
        let digest = Sha256::digest(head);
        Fingerprint {
            len: head.len() as u64,
            sha256: hex::encode(&digest[..16]),
        }
    }
}

/// The position reached in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Mark {
    /// Device and inode.
    #[serde(flatten)]
    pub key: FileKey,
    /// The file's first bytes.
    pub fingerprint: Fingerprint,
    /// The byte offset reading resumes at.
    pub offset: u64,
    /// Where the file was last seen (for people reading the file).
    pub path: String,
}

/// The checkpoint file as written.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointFile {
    version: u32,
    files: Vec<Mark>,
}

/// The checkpoint file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// An I/O error on the file or its directory.
    #[error("checkpoint {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The positions of one input, in memory and in its file.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    path: PathBuf,
    files: HashMap<FileKey, Mark>,
    /// Changed since the last save.
    dirty: bool,
}

impl Checkpoints {
    /// Reads the checkpoints of `input` under `dir` (created if missing).
    /// The flag is true when there were none: the input's very first start.
    /// A file that does not parse is moved aside (`.corrupt`) and counts as
    /// a start without positions, but not as the first one: every file is
    /// then read again from its beginning.
    pub fn open(dir: &Path, input: &str) -> Result<(Checkpoints, bool), CheckpointError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CheckpointError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(format!("{}.json", file_name(input)));
        let mut cps = Checkpoints {
            path,
            files: HashMap::new(),
            dirty: false,
        };
        let text = match std::fs::read(&cps.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Saved even while empty, so the next start is not the first.
                cps.dirty = true;
                return Ok((cps, true));
            }
            Err(e) => return Err(io(&cps.path)(e)),
        };
        match serde_json::from_slice::<CheckpointFile>(&text) {
            Ok(f) => cps.files = f.files.into_iter().map(|m| (m.key, m)).collect(),
            Err(e) => {
                let aside = cps.path.with_extension("json.corrupt");
                tracing::error!(
                    "checkpoint {} is unreadable ({e}); moved to {} and reading every file from its beginning",
                    cps.path.display(),
                    aside.display()
                );
                std::fs::rename(&cps.path, &aside).map_err(io(&cps.path))?;
                cps.dirty = true;
            }
        }
        Ok((cps, false))
    }

    /// The saved position of the file `key`, if any.
    pub fn get(&self, key: &FileKey) -> Option<&Mark> {
        self.files.get(key)
    }

    /// Every file with a position.
    pub fn keys(&self) -> Vec<FileKey> {
        self.files.keys().copied().collect()
    }

    /// Records a position.
    pub fn set(&mut self, mark: Mark) {
        if self.files.get(&mark.key) != Some(&mark) {
            self.files.insert(mark.key, mark);
            self.dirty = true;
        }
    }

    /// Forgets a file that is gone.
    pub fn forget(&mut self, key: &FileKey) {
        if self.files.remove(key).is_some() {
            self.dirty = true;
        }
    }

    /// Whether there are changes not yet saved.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Writes the positions atomically, when they changed.
    pub fn save(&mut self) -> Result<(), CheckpointError> {
        if !self.dirty {
            return Ok(());
        }
        let mut files: Vec<Mark> = self.files.values().cloned().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path).then(a.key.ino.cmp(&b.key.ino)));
        let body =
            serde_json::to_vec_pretty(&CheckpointFile { version: 1, files }).map_err(|e| {
                CheckpointError::Io {
                    path: self.path.clone(),
                    source: std::io::Error::other(e),
                }
            })?;
        write_atomically(&self.path, &body)?;
        self.dirty = false;
        Ok(())
    }
}

/// Replaces `path` with `body`: temporary file, fsync, rename, directory fsync.
fn write_atomically(path: &Path, body: &[u8]) -> Result<(), CheckpointError> {
    let tmp = path.with_extension("json.tmp");
    let io = |p: &Path| {
        let p = p.to_owned();
        move |source| CheckpointError::Io { path: p, source }
    };
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(body).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// `input` as a file name: letters, digits, `-`, `_` and `.` stay, other
/// bytes become `%XX`.
fn file_name(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && !out.is_empty()) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(ino: u64, offset: u64) -> Mark {
        Mark {
            key: FileKey { dev: 1, ino },
            fingerprint: Fingerprint::of(b"first line\n"),
            offset,
            path: format!("/var/log/{ino}.log"),
        }
    }

    #[test]
    fn positions_survive_a_reopen_and_the_first_start_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cps, first) = Checkpoints::open(dir.path(), "app logs/x").unwrap();
        assert!(first);
        cps.set(mark(10, 42));
        cps.set(mark(11, 7));
        cps.forget(&FileKey { dev: 1, ino: 11 });
        cps.save().unwrap();
        assert!(!cps.is_dirty());
        let (again, first) = Checkpoints::open(dir.path(), "app logs/x").unwrap();
        assert!(!first);
        assert_eq!(again.get(&FileKey { dev: 1, ino: 10 }), Some(&mark(10, 42)));
        assert_eq!(again.keys().len(), 1);
        assert!(dir.path().join("app%20logs%2Fx.json").exists());
    }

    #[test]
    fn an_empty_set_is_still_saved_so_the_next_start_is_not_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let (mut cps, first) = Checkpoints::open(dir.path(), "in").unwrap();
        assert!(first);
        cps.save().unwrap();
        assert!(!Checkpoints::open(dir.path(), "in").unwrap().1);
    }

    #[test]
    fn an_unreadable_file_is_moved_aside_and_is_not_a_first_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("in.json"), b"{not json").unwrap();
        let (cps, first) = Checkpoints::open(dir.path(), "in").unwrap();
        assert!(!first);
        assert!(cps.keys().is_empty());
        assert!(dir.path().join("in.json.corrupt").exists());
    }

    #[test]
    fn fingerprints_differ_with_content_and_length() {
        assert_eq!(Fingerprint::of(b"abc"), Fingerprint::of(b"abc"));
        assert_ne!(Fingerprint::of(b"abc"), Fingerprint::of(b"abd"));
        assert_ne!(Fingerprint::of(b"ab"), Fingerprint::of(b"abc"));
    }
}
