//! The configuration the center keeps per forwarder group: one TOML
//! document per group in `DATA_DIR/uplink/groups/GROUP.toml`, holding
//! `[inputs.*]` and the buffer settings of `[forward]`
//! ([`hark_config::GroupConfig`]). Documents are validated before they are
//! written, and read from disk on every request, so `hark forwarder config
//! set` works whether or not the server runs.
//!
//! A forwarder keeps the last document it received in
//! `DATA_DIR/forwarder/group.toml` ([`cached_path`]), so it starts with it
//! when the center cannot be reached.

use std::path::{Path, PathBuf};

use hark_config::GroupConfig;
use hark_config::forward::valid_name;
use serde::{Deserialize, Serialize};

use crate::UplinkError;
use crate::enroll::UPLINK_DIR;
use crate::files::{DirLock, write_private};

/// The directory of the groups' documents under the uplink's directory.
const GROUPS_DIR: &str = "groups";
/// The forwarder's copy of its group's document, under its data directory.
const CACHED_FILE: &str = "forwarder/group.toml";

/// A group's document and its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDocument {
    /// The group.
    pub group: String,
    /// The first 16 hex digits of the SHA-256 of `text`.
    pub version: String,
    /// The TOML text.
    pub text: String,
}

impl GroupDocument {
    /// The document `text` of `group`, with its version.
    pub fn new(group: &str, text: String) -> GroupDocument {
        GroupDocument {
            group: group.to_owned(),
            version: version(&text),
            text,
        }
    }

    /// The parsed, validated settings.
    pub fn parse(&self) -> Result<GroupConfig, hark_config::ConfigError> {
        GroupConfig::from_toml_str(&format!("{}.toml", self.group), &self.text)
    }
}

/// The first 16 hex digits of the SHA-256 of `text`.
pub fn version(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// Why a group's document was not stored.
#[derive(Debug, thiserror::Error)]
pub enum GroupConfigError {
    /// The group's name is not one a forwarder can have.
    #[error("group `{0}` must be 1 to 64 letters, digits, `-`, `_` or `.`")]
    BadName(String),
    /// The document is not a valid group configuration.
    #[error(transparent)]
    Invalid(#[from] hark_config::ConfigError),
    /// The file could not be read or written.
    #[error(transparent)]
    Uplink(#[from] UplinkError),
}

/// The groups' documents of the center whose data directory is given.
#[derive(Debug, Clone)]
pub struct GroupConfigs {
    uplink_dir: PathBuf,
}

impl GroupConfigs {
    /// The documents under `data_dir/uplink/groups`.
    pub fn new(data_dir: &Path) -> GroupConfigs {
        GroupConfigs {
            uplink_dir: data_dir.join(UPLINK_DIR),
        }
    }

    fn path(&self, group: &str) -> Result<PathBuf, GroupConfigError> {
        if !valid_name(group) {
            return Err(GroupConfigError::BadName(group.to_owned()));
        }
        Ok(self
            .uplink_dir
            .join(GROUPS_DIR)
            .join(format!("{group}.toml")))
    }

    /// The document of `group`; `None` when it has none.
    pub fn get(&self, group: &str) -> Result<Option<GroupDocument>, GroupConfigError> {
        let path = self.path(group)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(GroupDocument::new(group, text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(UplinkError::file(&path, "reading", e).into()),
        }
    }

    /// The groups that have a document, by name.
    pub fn groups(&self) -> Result<Vec<String>, GroupConfigError> {
        let dir = self.uplink_dir.join(GROUPS_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(UplinkError::file(&dir, "listing", e).into()),
        };
        let mut groups: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let group = name.strip_suffix(".toml")?;
                valid_name(group).then(|| group.to_owned())
            })
            .collect();
        groups.sort();
        Ok(groups)
    }

    /// Validates `text` and stores it as the document of `group`.
    pub fn put(&self, group: &str, text: String) -> Result<GroupDocument, GroupConfigError> {
        let path = self.path(group)?;
        let document = GroupDocument::new(group, text);
        document.parse()?;
        let _lock = DirLock::take(&self.uplink_dir)?;
        write_private(&path, document.text.as_bytes())?;
        Ok(document)
    }
}

/// Where a forwarder whose data directory is `data_dir` keeps its group's document.
pub fn cached_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CACHED_FILE)
}

/// The group document a forwarder received last; `None` when there is none.
pub fn read_cached(data_dir: &Path) -> Result<Option<GroupDocument>, UplinkError> {
    let path = cached_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UplinkError::file(&path, "reading", e)),
    };
    Ok(Some(GroupDocument::new("group", text)))
}

/// Keeps `document` (or removes the copy, for `None`) for the next start.
pub fn write_cached(data_dir: &Path, document: Option<&GroupDocument>) -> Result<(), UplinkError> {
    let path = cached_path(data_dir);
    match document {
        Some(d) => write_private(&path, d.text.as_bytes()),
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(UplinkError::file(&path, "removing", e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_validated_before_they_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let groups = GroupConfigs::new(dir.path());
        assert_eq!(groups.get("web").unwrap(), None);
        let text =
            "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10601\"\n";
        let stored = groups.put("web", text.to_owned()).unwrap();
        assert_eq!(stored.version, version(text));
        assert_eq!(stored.version.len(), 16);
        assert_eq!(groups.get("web").unwrap(), Some(stored.clone()));
        assert_eq!(groups.groups().unwrap(), ["web"]);

        let bad = "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = 12\n";
        let e = groups.put("web", bad.to_owned()).unwrap_err();
        assert!(matches!(e, GroupConfigError::Invalid(_)), "{e}");
        assert!(e.to_string().starts_with("web.toml:4:"), "{e}");
        assert_eq!(groups.get("web").unwrap(), Some(stored));

        let e = groups.put("../x", text.to_owned()).unwrap_err();
        assert!(matches!(e, GroupConfigError::BadName(_)), "{e}");
    }

    #[test]
    fn the_forwarders_copy_is_kept_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_cached(dir.path()).unwrap(), None);
        let doc = GroupDocument::new("web", "[forward]\nbatch_events = 10\n".into());
        write_cached(dir.path(), Some(&doc)).unwrap();
        let read = read_cached(dir.path()).unwrap().unwrap();
        assert_eq!(read.version, doc.version);
        assert_eq!(read.parse().unwrap().buffer.batch_events, Some(10));
        write_cached(dir.path(), None).unwrap();
        assert_eq!(read_cached(dir.path()).unwrap(), None);
    }
}
