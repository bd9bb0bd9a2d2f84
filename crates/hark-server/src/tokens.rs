//! API tokens: random secrets shown once, kept only as SHA-256 hashes in
//! `tokens.json` under the data directory.
//!
//! The file is re-read whenever it changes on disk, so a token created by
//! `hark token create` in another process is accepted by a running server
//! without a restart.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::identity::Role;
use crate::identity::{Principal, PrincipalKind};

/// File name of the token file inside the data directory.
pub const TOKENS_FILE: &str = "tokens.json";

/// Prefix of every secret, so leaked tokens are easy to recognise.
pub const SECRET_PREFIX: &str = "hark_";

/// What is known about a token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The name given at creation (a label; several tokens may share it).
    pub name: String,
    /// Its role.
    pub role: Role,
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

/// One token as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    name: String,
    role: Role,
    created_at: DateTime<Utc>,
    /// Lower-case hex SHA-256 of the secret.
    sha256: String,
}

impl TokenInfo {
    /// The principal this token stands for.
    pub fn principal(&self) -> Principal {
        Principal {
            kind: PrincipalKind::Token,
            name: self.name.clone(),
            role: self.role,
        }
    }
}

impl TokenRecord {
    fn info(&self) -> TokenInfo {
        TokenInfo {
            name: self.name.clone(),
            role: self.role,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
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

#[derive(Debug, Default)]
struct Cache {
    /// Version of the file the records were read from; `None` when it did not exist.
    stamp: Option<Stamp>,
    records: Vec<TokenRecord>,
    /// Set when the last read failed; the records are then empty (fail closed).
    broken: bool,
}

/// The set of API tokens, backed by `tokens.json`.
#[derive(Debug)]
pub struct TokenStore {
    path: PathBuf,
    cache: Mutex<Cache>,
}

impl TokenStore {
    /// Opens the token file in `data_dir` (which need not exist yet: the file
    /// is created by the first [`TokenStore::create`]).
    pub fn open(data_dir: &Path) -> Result<TokenStore, TokenError> {
        let store = TokenStore {
            path: data_dir.join(TOKENS_FILE),
            cache: Mutex::new(Cache::default()),
        };
        store.refresh(&mut store.lock())?;
        Ok(store)
    }

    /// Path of the token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a token and returns its secret, which is not kept and cannot be shown again.
    pub fn create(&self, role: Role, name: &str) -> Result<String, TokenError> {
        validate_name(name)?;
        let mut cache = self.lock();
        // Another process may have written the file since we last looked.
        self.refresh(&mut cache)?;
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
        let mut records = cache.records.clone();
        records.push(TokenRecord {
            name: name.to_owned(),
            role,
            created_at: Utc::now(),
            sha256: hash_hex(&secret),
        });
        self.save(&mut cache, records)?;
        Ok(secret)
    }

    /// Deletes every token named `name`; returns whether there was one.
    pub fn revoke(&self, name: &str) -> Result<bool, TokenError> {
        let mut cache = self.lock();
        self.refresh(&mut cache)?;
        let before = cache.records.len();
        let records: Vec<TokenRecord> = cache
            .records
            .iter()
            .filter(|r| r.name != name)
            .cloned()
            .collect();
        if records.len() == before {
            return Ok(false);
        }
        self.save(&mut cache, records)?;
        Ok(true)
    }

    /// The token whose secret this is, if any.
    ///
    /// Every stored hash is compared in constant time, so the answer's timing
    /// says nothing about how close a guess was.
    pub fn verify(&self, secret: &str) -> Option<TokenInfo> {
        let mut cache = self.lock();
        self.refresh_quietly(&mut cache);
        let presented = hash_hex(secret);
        let mut found = None;
        for record in &cache.records {
            if ct_eq(presented.as_bytes(), record.sha256.as_bytes()) {
                found = Some(record.info());
            }
        }
        found
    }

    /// Whether no token exists.
    pub fn is_empty(&self) -> bool {
        let mut cache = self.lock();
        self.refresh_quietly(&mut cache);
        cache.records.is_empty()
    }

    /// All tokens, oldest first.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let mut cache = self.lock();
        self.refresh(&mut cache)?;
        Ok(cache.records.iter().map(TokenRecord::info).collect())
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // The cache is always left consistent, so a panic elsewhere does not spoil it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-reads the file if it changed; on failure no token is accepted until it is fixed.
    fn refresh_quietly(&self, cache: &mut Cache) {
        if let Err(e) = self.refresh(cache) {
            if !cache.broken {
                tracing::error!(error = %e, "token file unreadable; rejecting every token until it is fixed");
            }
            cache.records.clear();
            cache.broken = true;
        }
    }

    fn refresh(&self, cache: &mut Cache) -> Result<(), TokenError> {
        let stamp = match fs::metadata(&self.path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(self.io("reading", source)),
        };
        if stamp == cache.stamp && !cache.broken {
            return Ok(());
        }
        let records = match stamp {
            None => Vec::new(),
            Some(_) => {
                let bytes = fs::read(&self.path).map_err(|e| self.io("reading", e))?;
                let file: TokenFile =
                    serde_json::from_slice(&bytes).map_err(|source| TokenError::Parse {
                        path: self.path.clone(),
                        source,
                    })?;
                file.tokens
            }
        };
        *cache = Cache {
            stamp,
            records,
            broken: false,
        };
        Ok(())
    }

    /// Writes `records` atomically (temporary file, fsync, rename, fsync of the directory).
    fn save(&self, cache: &mut Cache, records: Vec<TokenRecord>) -> Result<(), TokenError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.io_at("creating", dir, e))?;
        let file = TokenFile { tokens: records };
        let mut bytes = serde_json::to_vec_pretty(&file)
            .map_err(|e| self.io("encoding", io::Error::other(e)))?;
        bytes.push(b'\n');
        let tmp = dir.join(format!(
            ".{TOKENS_FILE}.{}.{}.tmp",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        let written = write_private(&tmp, &bytes).and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(self.io("writing", e));
        }
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io_at("syncing", dir, e))?;
        let meta = fs::metadata(&self.path).map_err(|e| self.io("reading", e))?;
        *cache = Cache {
            stamp: Some(Stamp::of(&meta)),
            records: file.tokens,
            broken: false,
        };
        Ok(())
    }

    fn io(&self, context: &'static str, source: io::Error) -> TokenError {
        self.io_at(context, &self.path, source)
    }

    fn io_at(&self, context: &'static str, path: &Path, source: io::Error) -> TokenError {
        TokenError::Io {
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

fn validate_name(name: &str) -> Result<(), TokenError> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(TokenError::BadName(name.to_owned()))
    }
}

fn hash_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equality whose running time depends only on the lengths.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
