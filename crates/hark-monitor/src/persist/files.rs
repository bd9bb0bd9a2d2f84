//! File helpers of the monitor state store: atomic writes, tolerant loading,
//! and the escaped names of the per-monitor layout of earlier versions.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Escaped names longer than this are cut and completed with a hash.
pub(super) const MAX_STEM: usize = 120;

/// Writes a file whole: to `<file>.tmp`, fsynced, renamed over `path`. The
/// caller fsyncs the directory.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

/// The file name stem for a monitor name: ASCII letters, digits, `-` and `_`
/// as they are, every other byte as `%XX`, the empty name as `%`. A stem
/// longer than 120 bytes is cut and ends in `~` and a hash of the whole name.
/// Distinct names give distinct stems, except (with a 64-bit hash) long
/// ones; the files record the name, so a collision is detected on loading.
pub fn file_stem(name: &str) -> String {
    if name.is_empty() {
        return "%".into();
    }
    let mut stem = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            stem.push(char::from(b));
        } else {
            stem.push_str(&format!("%{b:02X}"));
        }
    }
    if stem.len() > MAX_STEM {
        let mut cut = MAX_STEM - 17;
        // Do not split an escape.
        while stem.as_bytes()[cut.saturating_sub(2)..cut].contains(&b'%') {
            cut -= 1;
        }
        stem.truncate(cut);
        stem.push_str(&format!("~{:016x}", fnv1a(name.as_bytes())));
    }
    stem
}

/// FNV-1a, 64 bits: stable across versions and platforms.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Renames a damaged file to `<file>.corrupt` so that it is neither loaded
/// nor lost.
pub(super) fn set_aside(path: &Path, why: &str) {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    let aside = PathBuf::from(aside);
    match fs::rename(path, &aside) {
        Ok(()) => tracing::warn!(
            path = %path.display(), kept_as = %aside.display(), error = why,
            "damaged monitor state file set aside; starting without it"
        ),
        Err(e) => tracing::warn!(
            path = %path.display(), error = why, rename_error = %e,
            "damaged monitor state file; starting without it"
        ),
    }
}

/// Reads and parses a JSON file: `None` when it is missing; `None` and set
/// aside when it is damaged.
pub(super) fn load_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read monitor state file; starting without it");
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            set_aside(path, &e.to_string());
            None
        }
    }
}
