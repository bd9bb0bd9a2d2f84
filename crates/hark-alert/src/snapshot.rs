//! The engine's state on disk: one JSON file replaced atomically (write a
//! temporary file, fsync it, rename it over the old one, fsync the directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::AlertError;
use crate::engine::EngineState;

/// The state file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Reads the saved state; none saved yet is the empty state.
pub fn load(dir: &Path) -> Result<EngineState, AlertError> {
    let file = path(dir);
    match fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AlertError::state(&file, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EngineState::default()),
        Err(e) => Err(AlertError::state(&file, e)),
    }
}

/// Saves `state` durably.
pub fn save(dir: &Path, state: &EngineState) -> Result<(), AlertError> {
    let file = path(dir);
    let tmp = dir.join("state.json.tmp");
    let bytes = serde_json::to_vec(state).map_err(|e| AlertError::state(&file, e))?;
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &file)?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| AlertError::state(&file, e))
}
