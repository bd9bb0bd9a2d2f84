//! A JSON file in the data directory that several processes share: read
//! again whenever it changes on disk, written atomically (temporary file,
//! fsync, rename, fsync of the directory), readable by its owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Reading or writing a shared file failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The OS refused.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is not what it should be.
    #[error("{}: not a valid {what} file: {source}", path.display())]
    Parse {
        /// What the file holds (`token`, `user`, `session`).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
}

/// Identifies one version of the file: a rename gives a new inode, so even a
/// rewrite within the mtime granularity is noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        }
    }
}

/// The file's content as last read or written.
#[derive(Debug, Default)]
pub struct Cached<T> {
    /// Version of the file the value was read from; `None` when it did not exist.
    stamp: Option<Stamp>,
    /// The content (the default when the file does not exist or cannot be read).
    pub value: T,
    /// Set when the last read failed; the value is then the default (fail closed).
    broken: bool,
}

/// A shared JSON file holding a `T`.
#[derive(Debug)]
pub struct JsonFile<T> {
    path: PathBuf,
    /// What it holds, for messages.
    what: &'static str,
    cache: Mutex<Cached<T>>,
}

impl<T: Serialize + DeserializeOwned + Default + Clone> JsonFile<T> {
    /// Opens (reads) `path`, which need not exist.
    pub fn open(path: PathBuf, what: &'static str) -> Result<Self, FileError> {
        let file = JsonFile {
            path,
            what,
            cache: Mutex::new(Cached {
                stamp: None,
                value: T::default(),
                broken: false,
            }),
        };
        file.refresh(&mut file.lock())?;
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current content, read again if the file changed; errors reading it.
    pub fn current(&self) -> Result<MutexGuard<'_, Cached<T>>, FileError> {
        let mut cache = self.lock();
        self.refresh(&mut cache)?;
        Ok(cache)
    }

    /// The current content; when the file cannot be read, the default
    /// (which accepts no one) and an error in the log.
    pub fn current_or_default(&self) -> MutexGuard<'_, Cached<T>> {
        let mut cache = self.lock();
        if let Err(e) = self.refresh(&mut cache) {
            if !cache.broken {
                tracing::error!(error = %e, "{} file unreadable; accepting no one it names until it is fixed", self.what);
            }
            cache.value = T::default();
            cache.broken = true;
        }
        cache
    }

    /// Changes the content with `change` (on the newest version of the
    /// file) and writes it; nothing is written when `change` fails.
    pub fn update<R, E: From<FileError>>(
        &self,
        change: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut cache = self.lock();
        // Another process may have written the file since we last looked.
        self.refresh(&mut cache)?;
        let mut value = cache.value.clone();
        let out = change(&mut value)?;
        self.save(&mut cache, value)?;
        Ok(out)
    }

    /// Writes `value` as the content, without reading the file first (for
    /// files only this process writes).
    pub(crate) fn replace(&self, cache: &mut Cached<T>, value: T) -> Result<(), FileError> {
        self.save(cache, value)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Cached<T>> {
        // The cache is always left consistent, so a panic elsewhere does not spoil it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refresh(&self, cache: &mut Cached<T>) -> Result<(), FileError> {
        let stamp = match fs::metadata(&self.path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(self.io("reading", &self.path, source)),
        };
        if stamp == cache.stamp && !cache.broken {
            return Ok(());
        }
        let value = match stamp {
            None => T::default(),
            Some(_) => {
                let bytes = fs::read(&self.path).map_err(|e| self.io("reading", &self.path, e))?;
                serde_json::from_slice(&bytes).map_err(|source| FileError::Parse {
                    what: self.what,
                    path: self.path.clone(),
                    source,
                })?
            }
        };
        *cache = Cached {
            stamp,
            value,
            broken: false,
        };
        Ok(())
    }

    fn save(&self, cache: &mut Cached<T>, value: T) -> Result<(), FileError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io("creating", dir, e))?;
        let mut bytes = serde_json::to_vec_pretty(&value)
            .map_err(|e| self.io("encoding", &self.path, io::Error::other(e)))?;
        bytes.push(b'\n');
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        let written = write_private(&tmp, &bytes).and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.io("writing", &self.path, e));
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io("syncing", dir, e))?;
        let meta = fs::metadata(&self.path).map_err(|e| self.io("reading", &self.path, e))?;
        *cache = Cached {
            stamp: Some(Stamp::of(&meta)),
            value,
            broken: false,
        };
        Ok(())
    }

    fn io(&self, context: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError::Io {
            context,
            path: path.to_owned(),
            source,
        }
    }
}

/// Creates `path` readable by its owner only and writes `bytes` durably.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Whether `name` is 1 to 64 printable characters, not only spaces.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 64 && !name.chars().any(char::is_control)
}

/// Lower-case hex SHA-256 of `secret`.
pub fn hash_hex(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equality whose running time depends only on the lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
