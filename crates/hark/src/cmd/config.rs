//! `hark config check`.

use std::path::Path;

/// Validates a file and prints `ok`, or fails with the error (file:line:column: message).
pub fn check(file: &Path) -> anyhow::Result<()> {
    let cfg = hark_config::Config::load(file)?;
    let inputs = cfg.inputs.len() + cfg.file_inputs.len();
    println!("ok: {} ({inputs} inputs)", file.display());
    Ok(())
}

/// Loads the file when given, else the embedded defaults.
pub fn load(file: Option<&Path>) -> anyhow::Result<hark_config::Config> {
    Ok(match file {
        Some(f) => hark_config::Config::load(f)?,
        None => hark_config::Config::default(),
    })
}
