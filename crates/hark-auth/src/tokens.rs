//! API tokens: random secrets shown once, kept only as SHA-256 hashes in
//! `tokens.json` under the data directory.
//!
//! The file is re-read whenever it changes on disk, so a token created by
//! `hark token create` in another process is accepted by a running server
//! without a restart.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::identity::Role;
use crate::identity::{Principal, PrincipalKind};
use crate::jsonfile::{FileError, JsonFile, ct_eq, hash_hex, valid_name};

/// File name of the token file inside the data directory.
pub const TOKENS_FILE: &str = "tokens.json";

/// Prefix of every secret, so leaked tokens are easy to recognise.
pub const SECRET_PREFIX: &str = "hark_";

/// Hex digits of the secret's hash that make a token's id.
const ID_LEN: usize = 16;

/// What is known about a token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Names the token in the API (`DELETE /api/v1/tokens/{id}`); not secret.
    pub id: String,
    /// The name given at creation (a label; several tokens may share it).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The user (or token) that created it through the API; `None` for
    /// tokens made by `hark token create` or on the first start.
    pub owner: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Errors from the token store.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading or writing the token file failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The token file is not valid.
    #[error("{}: not a valid token file: {source}", path.display())]
    Parse {
        /// The token file.
        path: PathBuf,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// The name is empty, too long or has control characters.
    #[error("invalid token name {0:?}: use 1 to 64 printable characters")]
    BadName(String),
}

impl From<FileError> for TokenError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io {
                context,
                path,
                source,
            } => TokenError::Io {
                context,
                path,
                source,
            },
            FileError::Parse { path, source, .. } => TokenError::Parse { path, source },
        }
    }
}

/// One token as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    /// Absent in files of earlier versions: then the start of `sha256`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    name: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    created_at: DateTime<Utc>,
    /// Lower-case hex SHA-256 of the secret.
    sha256: String,
}

impl TokenInfo {
    /// The principal this token stands for.
    pub fn principal(&self) -> Principal {
        Principal {
            kind: PrincipalKind::Token,
            id: self.id.clone(),
            name: self.name.clone(),
            role: self.role,
        }
    }
}

impl TokenRecord {
    fn id(&self) -> String {
        if self.id.is_empty() {
            self.sha256.chars().take(ID_LEN).collect()
        } else {
            self.id.clone()
        }
    }

    fn info(&self) -> TokenInfo {
        TokenInfo {
            id: self.id(),
            name: self.name.clone(),
            role: self.role,
            owner: self.owner.clone(),
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// The set of API tokens, backed by `tokens.json`.
#[derive(Debug)]
pub struct TokenStore {
    file: JsonFile<TokenFile>,
}

impl TokenStore {
    /// Opens the token file in `data_dir` (which need not exist yet: the file
    /// is created by the first [`TokenStore::create`]).
    pub fn open(data_dir: &Path) -> Result<TokenStore, TokenError> {
        Ok(TokenStore {
            file: JsonFile::open(data_dir.join(TOKENS_FILE), "token")?,
        })
    }

    /// Path of the token file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Creates a token and returns its secret, which is not kept and cannot be shown again.
    pub fn create(&self, role: Role, name: &str) -> Result<String, TokenError> {
        self.create_for(role, name, None).map(|(secret, _)| secret)
    }

    /// Creates a token belonging to `owner`; returns its secret (not kept)
    /// and what is known about it.
    pub fn create_for(
        &self,
        role: Role,
        name: &str,
        owner: Option<&str>,
    ) -> Result<(String, TokenInfo), TokenError> {
        if !valid_name(name) {
            return Err(TokenError::BadName(name.to_owned()));
        }
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
        let sha256 = hash_hex(&secret);
        let record = TokenRecord {
            id: sha256[..ID_LEN].to_owned(),
            name: name.to_owned(),
            role,
            owner: owner.map(str::to_owned),
            created_at: Utc::now(),
            sha256,
        };
        let info = record.info();
        self.file.update(|f: &mut TokenFile| {
            f.tokens.push(record);
            Ok::<_, TokenError>(())
        })?;
        Ok((secret, info))
    }

    /// Deletes every token named `name`; returns whether there was one.
    pub fn revoke(&self, name: &str) -> Result<bool, TokenError> {
        self.remove_where(|r| r.name == name).map(|n| n > 0)
    }

    /// Deletes the token with this id; returns what it was.
    pub fn revoke_id(&self, id: &str) -> Result<Option<TokenInfo>, TokenError> {
        if !self.list()?.iter().any(|t| t.id == id) {
            return Ok(None);
        }
        let mut gone = None;
        self.file.update(|f: &mut TokenFile| {
            if let Some(i) = f.tokens.iter().position(|r| r.id() == id) {
                gone = Some(f.tokens.remove(i).info());
            }
            Ok::<_, TokenError>(())
        })?;
        Ok(gone)
    }

    fn remove_where(&self, doomed: impl Fn(&TokenRecord) -> bool) -> Result<usize, TokenError> {
        let matching = self
            .file
            .current()?
            .value
            .tokens
            .iter()
            .filter(|r| doomed(r))
            .count();
        if matching == 0 {
            return Ok(0);
        }
        self.file.update(|f: &mut TokenFile| {
            let before = f.tokens.len();
            f.tokens.retain(|r| !doomed(r));
            Ok::<_, TokenError>(before - f.tokens.len())
        })
    }

    /// The token whose secret this is, if any.
    ///
    /// Every stored hash is compared in constant time, so the answer's timing
    /// says nothing about how close a guess was.
    pub fn verify(&self, secret: &str) -> Option<TokenInfo> {
        let cache = self.file.current_or_default();
        let presented = hash_hex(secret);
        let mut found = None;
        for record in &cache.value.tokens {
            if ct_eq(presented.as_bytes(), record.sha256.as_bytes()) {
                found = Some(record.info());
            }
        }
        found
    }

    /// Whether no token exists.
    pub fn is_empty(&self) -> bool {
        self.file.current_or_default().value.tokens.is_empty()
    }

    /// All tokens, oldest first.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        Ok(self
            .file
            .current()?
            .value
            .tokens
            .iter()
            .map(TokenRecord::info)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn create_then_verify_with_role() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        assert!(store.is_empty());
        let admin = store.create(Role::Admin, "ops").unwrap();
        let viewer = store.create(Role::Viewer, "dashboard").unwrap();
        assert!(admin.starts_with("hark_"));
        assert_eq!(admin.len(), SECRET_PREFIX.len() + 64);
        assert_ne!(admin, viewer);

        let info = store.verify(&admin).unwrap();
        assert_eq!((info.name.as_str(), info.role), ("ops", Role::Admin));
        assert_eq!(store.verify(&viewer).unwrap().role, Role::Viewer);
        assert!(!Role::Viewer.can_ingest());
        assert!(store.verify("hark_0000").is_none());
        assert!(store.verify("").is_none());
        let mut altered = admin.clone();
        altered.pop();
        altered.push('x');
        assert!(store.verify(&altered).is_none());
        assert!(!store.is_empty());
    }

    #[test]
    fn file_keeps_hashes_only_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let secret = store.create(Role::Admin, "ops").unwrap();
        let text = fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!text.contains(&secret));
        assert!(!text.contains(&secret[SECRET_PREFIX.len()..]));
        assert!(text.contains(&hash_hex(&secret)));
        assert!(text.contains("\"admin\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(TOKENS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(TOKENS_FILE)]);
    }

    #[test]
    fn sees_tokens_written_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let server = TokenStore::open(dir.path()).unwrap();
        let first = server.create(Role::Viewer, "first").unwrap();

        // The CLI opens its own store on the same directory.
        let cli = TokenStore::open(dir.path()).unwrap();
        let second = cli.create(Role::Admin, "second").unwrap();
        assert_eq!(server.verify(&second).unwrap().name, "second");
        assert_eq!(server.verify(&first).unwrap().name, "first");

        assert!(cli.revoke("first").unwrap());
        assert!(!cli.revoke("first").unwrap());
        assert!(server.verify(&first).is_none());
        let names: Vec<String> = server.list().unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names, vec!["second".to_owned()]);
    }

    #[test]
    fn corrupt_file_rejects_every_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let secret = store.create(Role::Admin, "ops").unwrap();
        fs::write(dir.path().join(TOKENS_FILE), b"{not json").unwrap();
        assert!(store.verify(&secret).is_none());
        assert!(matches!(
            TokenStore::open(dir.path()),
            Err(TokenError::Parse { .. })
        ));
    }

    #[test]
    fn names_are_labels_and_sane() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(&dir.path().join("not-yet")).unwrap();
        let first = store.create(Role::Admin, "cli").unwrap();
        let second = store.create(Role::Viewer, "cli").unwrap();
        assert_eq!(store.verify(&first).unwrap().role, Role::Admin);
        assert_eq!(store.verify(&second).unwrap().role, Role::Viewer);
        assert!(store.revoke("cli").unwrap());
        assert!(store.is_empty());
        assert!(matches!(
            store.create(Role::Viewer, " "),
            Err(TokenError::BadName(_))
        ));
        assert!(matches!(
            store.create(Role::Viewer, "a\nb"),
            Err(TokenError::BadName(_))
        ));
        assert_eq!("Viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert!("root".parse::<Role>().is_err());
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
    }

    #[test]
    fn token_files_of_earlier_versions_keep_their_roles() {
        let dir = tempfile::tempdir().unwrap();
        let admin = "hark_admin-secret";
        let viewer = "hark_viewer-secret";
        let file = serde_json::json!({"tokens": [
            {"name": "ops", "role": "admin", "created_at": "2026-01-02T03:04:05Z", "sha256": hash_hex(admin)},
            {"name": "dash", "role": "viewer", "created_at": "2026-01-02T03:04:05Z", "sha256": hash_hex(viewer)},
        ]});
        fs::write(dir.path().join(TOKENS_FILE), file.to_string()).unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let ops = store.verify(admin).unwrap().principal();
        assert_eq!(
            ops,
            Principal {
                kind: PrincipalKind::Token,
                id: hash_hex(admin)[..ID_LEN].to_owned(),
                name: "ops".into(),
                role: Role::Admin
            }
        );
        assert_eq!(store.verify(viewer).unwrap().principal().role, Role::Viewer);
        let operator = store.create(Role::Operator, "oncall").unwrap();
        assert_eq!(store.verify(&operator).unwrap().role, Role::Operator);
        let text = fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(text.contains("\"operator\""), "{text}");
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn tokens_have_ids_and_owners_and_old_files_get_ids() {
        let dir = tempfile::tempdir().unwrap();
        let old = "hark_old-secret";
        let file = serde_json::json!({"tokens": [
            {"name": "ops", "role": "admin", "created_at": "2026-01-02T03:04:05Z", "sha256": hash_hex(old)},
        ]});
        fs::write(dir.path().join(TOKENS_FILE), file.to_string()).unwrap();
        let store = TokenStore::open(dir.path()).unwrap();
        let old_info = store.verify(old).unwrap();
        assert_eq!(old_info.id, &hash_hex(old)[..ID_LEN]);
        assert_eq!(old_info.owner, None);
        let (secret, info) = store
            .create_for(Role::Viewer, "dash", Some("alice"))
            .unwrap();
        assert_eq!(store.verify(&secret).unwrap(), info);
        assert_eq!(info.owner.as_deref(), Some("alice"));
        assert_ne!(info.id, old_info.id);
        // The old token keeps its derived id after the file is rewritten.
        assert_eq!(store.verify(old).unwrap().id, old_info.id);
        assert_eq!(store.revoke_id(&old_info.id).unwrap().unwrap().name, "ops");
        assert!(store.verify(old).is_none());
        assert!(store.revoke_id(&old_info.id).unwrap().is_none());
        assert!(store.verify(&secret).is_some());
    }
}
