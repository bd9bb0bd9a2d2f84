//! A small tmpfs for tests that need a disk to fill up: mounted on a
//! directory, resized in place, unmounted on drop. Mounting needs root, as
//! the test command runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a directory; unmounted (lazily) when dropped.
pub struct Tmpfs {
    path: PathBuf,
    /// The temporary directory it is mounted on, when [`Tmpfs::temp`] made it.
    _dir: Option<tempfile::TempDir>,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mib` MiB on `path`, creating the directory.
    pub fn mount(path: &Path, mib: u32) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        mount(
            &["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"],
            path,
        );
        Tmpfs {
            path: path.to_owned(),
            _dir: None,
        }
    }

    /// Mounts a tmpfs of `mib` MiB on a new temporary directory.
    pub fn temp(mib: u32) -> Tmpfs {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let mut fs = Tmpfs::mount(dir.path(), mib);
        // Dropped after the unmount in `Drop`, so the directory goes last.
        fs._dir = Some(dir);
        fs
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Grows (or shrinks) the file system in place, keeping its files.
    pub fn resize(&self, mib: u32) {
        mount(
            &["-o", &format!("remount,size={mib}m"), "tmpfs"],
            &self.path,
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn mount(args: &[&str], path: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(path)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "mount {args:?} {} failed (tests that fill a disk need root): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
