//! Small file helpers: private and public files written durably, and the
//! lock that serialises changes to the uplink's files between `hark serve`
//! and the `hark forwarder` commands.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::UplinkError;

/// Writes `bytes` to `path` (temporary file, fsync, rename), readable by its owner only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), UplinkError> {
    write_with_mode(path, bytes, 0o600)
}

/// Writes `bytes` to `path` (temporary file, fsync, rename), readable by all.
pub(crate) fn write_public(path: &Path, bytes: &[u8]) -> Result<(), UplinkError> {
    write_with_mode(path, bytes, 0o644)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), UplinkError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| UplinkError::file(dir, "creating", e))?;
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| UplinkError::file(path, "writing", e))
}

/// An exclusive lock on `dir/LOCK`, held until dropped: one process at a
/// time changes the tokens and the forwarder registry.
pub(crate) struct DirLock(File);

impl DirLock {
    /// Waits for the lock.
    pub fn take(dir: &Path) -> Result<DirLock, UplinkError> {
        std::fs::create_dir_all(dir).map_err(|e| UplinkError::file(dir, "creating", e))?;
        let path = dir.join("LOCK");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| UplinkError::file(&path, "opening", e))?;
        file.lock()
            .map_err(|e| UplinkError::file(&path, "locking", e))?;
        Ok(DirLock(file))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
