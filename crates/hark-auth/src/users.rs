//! Local users: name, role and argon2id password hash in `users.json`
//! under the data directory.
//!
//! Like the token file, it is re-read whenever it changes on disk, so
//! `hark user add` or `hark user remove` in another process takes effect in
//! a running server at its next request. Each user has a `generation` that
//! changes with the password or the role (and is gone with the user):
//! sessions remember the generation they started with and end when it no
//! longer matches.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::Role;
use crate::jsonfile::{FileError, JsonFile, valid_name};
use crate::password::{self, PasswordError};

/// File name of the user file inside the data directory.
pub const USERS_FILE: &str = "users.json";

/// What is known about a user (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The name used to sign in.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
    /// Changes whenever the password or the role changes.
    pub generation: u64,
}

/// Errors from the user store.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Reading or writing the user file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// The name is empty, too long or has control characters.
    #[error("invalid user name {0:?}: use 1 to 64 printable characters")]
    BadName(String),
    /// A user by that name exists.
    #[error("user `{0}` exists already")]
    Exists(String),
    /// No user by that name.
    #[error("no user named `{0}`")]
    NotFound(String),
    /// The password cannot be used.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// One user as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct UserRecord {
    name: String,
    role: Role,
    /// PHC string (`$argon2id$…`).
    password: String,
    created_at: DateTime<Utc>,
    generation: u64,
}

impl UserRecord {
    fn info(&self) -> UserInfo {
        UserInfo {
            name: self.name.clone(),
            role: self.role,
            created_at: self.created_at,
            generation: self.generation,
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct UserFile {
    users: Vec<UserRecord>,
}

/// The answer of [`UserStore::check_password`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The password is the user's.
    Valid(UserInfo),
    /// The user exists; the password is not theirs.
    Wrong,
    /// No local user by that name.
    NoSuchUser,
}

/// The local users, backed by `users.json`.
#[derive(Debug)]
pub struct UserStore {
    file: JsonFile<UserFile>,
}

/// A generation no earlier one equals: random, so that removing a user and
/// adding one by the same name does not revive the old user's sessions.
fn new_generation() -> u64 {
    rand::random::<u64>()
}

impl UserStore {
    /// Opens the user file in `data_dir` (which need not exist yet).
    pub fn open(data_dir: &Path) -> Result<UserStore, UserError> {
        Ok(UserStore {
            file: JsonFile::open(data_dir.join(USERS_FILE), "user")?,
        })
    }

    /// Path of the user file.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Adds a user; fails when the name is taken. Hashes the password
    /// (slow: call off the async runtime).
    pub fn add(&self, name: &str, role: Role, password: &str) -> Result<UserInfo, UserError> {
        if !valid_name(name) {
            return Err(UserError::BadName(name.to_owned()));
        }
        if self.get(name)?.is_some() {
            return Err(UserError::Exists(name.to_owned()));
        }
        let record = UserRecord {
            name: name.to_owned(),
            role,
            password: password::hash(password)?,
            created_at: Utc::now(),
            generation: new_generation(),
        };
        let info = record.info();
        self.file.update(|f: &mut UserFile| {
            if f.users.iter().any(|u| u.name == name) {
                return Err(UserError::Exists(name.to_owned()));
            }
            f.users.push(record);
            Ok(())
        })?;
        Ok(info)
    }

    /// Sets a user's password (slow: call off the async runtime); the
    /// user's sessions end.
    pub fn set_password(&self, name: &str, password: &str) -> Result<UserInfo, UserError> {
        let hash = password::hash(password)?;
        self.change(name, |u| u.password = hash)
    }

    /// Sets a user's role; the user's sessions end (when the role changes).
    pub fn set_role(&self, name: &str, role: Role) -> Result<UserInfo, UserError> {
        if self.get(name)?.is_some_and(|u| u.role == role) {
            return self
                .get(name)?
                .ok_or_else(|| UserError::NotFound(name.to_owned()));
        }
        self.change(name, |u| u.role = role)
    }

    fn change(
        &self,
        name: &str,
        edit: impl FnOnce(&mut UserRecord),
    ) -> Result<UserInfo, UserError> {
        self.file.update(|f: &mut UserFile| {
            let user = f
                .users
                .iter_mut()
                .find(|u| u.name == name)
                .ok_or_else(|| UserError::NotFound(name.to_owned()))?;
            edit(user);
            user.generation = new_generation();
            Ok(user.info())
        })
    }

    /// Removes a user; returns whether there was one.
    pub fn remove(&self, name: &str) -> Result<bool, UserError> {
        if self.get(name)?.is_none() {
            return Ok(false);
        }
        self.file.update(|f: &mut UserFile| {
            let before = f.users.len();
            f.users.retain(|u| u.name != name);
            Ok::<_, UserError>(f.users.len() != before)
        })
    }

    /// The user named `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<UserInfo>, UserError> {
        Ok(self
            .file
            .current()?
            .value
            .users
            .iter()
            .find(|u| u.name == name)
            .map(UserRecord::info))
    }

    /// The user named `name` as the server sees it now: `None` when there
    /// is none or the file cannot be read (fail closed).
    pub fn lookup(&self, name: &str) -> Option<UserInfo> {
        self.file
            .current_or_default()
            .value
            .users
            .iter()
            .find(|u| u.name == name)
            .map(UserRecord::info)
    }

    /// Whether `password` is the user's. An unknown name costs as much
    /// time as a wrong password. Slow: call off the async runtime.
    pub fn check_password(&self, name: &str, password: &str) -> PasswordCheck {
        let record = self
            .file
            .current_or_default()
            .value
            .users
            .iter()
            .find(|u| u.name == name)
            .cloned();
        match record {
            Some(r) if password::verify(password, &r.password) => PasswordCheck::Valid(r.info()),
            Some(_) => PasswordCheck::Wrong,
            None => {
                password::verify_unknown(password);
                PasswordCheck::NoSuchUser
            }
        }
    }

    /// Whether no user exists.
    pub fn is_empty(&self) -> bool {
        self.file.current_or_default().value.users.is_empty()
    }

    /// All users, oldest first.
    pub fn list(&self) -> Result<Vec<UserInfo>, UserError> {
        Ok(self
            .file
            .current()?
            .value
            .users
            .iter()
            .map(UserRecord::info)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_check_and_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        assert!(store.is_empty());
        let alice = store
            .add("alice", Role::Operator, "alice's password")
            .unwrap();
        assert!(matches!(
            store.add("alice", Role::Viewer, "another password"),
            Err(UserError::Exists(_))
        ));
        assert!(matches!(
            store.add("a\nb", Role::Viewer, "a password"),
            Err(UserError::BadName(_))
        ));
        assert!(matches!(
            store.add("bob", Role::Viewer, "short"),
            Err(UserError::Password(PasswordError::TooShort))
        ));
        assert_eq!(
            store.check_password("alice", "alice's password"),
            PasswordCheck::Valid(alice.clone())
        );
        assert_eq!(store.check_password("alice", "wrong"), PasswordCheck::Wrong);
        assert_eq!(
            store.check_password("nobody", "wrong"),
            PasswordCheck::NoSuchUser
        );

        let changed = store.set_password("alice", "a new password").unwrap();
        assert_ne!(changed.generation, alice.generation);
        assert_eq!(
            store.check_password("alice", "alice's password"),
            PasswordCheck::Wrong
        );
        let promoted = store.set_role("alice", Role::Admin).unwrap();
        assert_ne!(promoted.generation, changed.generation);
        assert_eq!(promoted.role, Role::Admin);
        let same = store.set_role("alice", Role::Admin).unwrap();
        assert_eq!(
            same.generation, promoted.generation,
            "no change, same generation"
        );
        assert!(matches!(
            store.set_role("nobody", Role::Admin),
            Err(UserError::NotFound(_))
        ));
    }

    #[test]
    fn file_keeps_hashes_only_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        store
            .add("carol", Role::Viewer, "carol's password")
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join(USERS_FILE)).unwrap();
        assert!(!text.contains("carol's password"));
        assert!(text.contains("$argon2id$"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(USERS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn sees_users_written_by_another_process() {
        let dir = tempfile::tempdir().unwrap();
        let server = UserStore::open(dir.path()).unwrap();
        assert!(server.lookup("dave").is_none());
        // The CLI opens its own store on the same directory.
        let cli = UserStore::open(dir.path()).unwrap();
        let dave = cli.add("dave", Role::Viewer, "dave's password").unwrap();
        assert_eq!(server.lookup("dave"), Some(dave.clone()));
        assert_eq!(
            server.check_password("dave", "dave's password"),
            PasswordCheck::Valid(dave)
        );
        assert!(cli.remove("dave").unwrap());
        assert!(!cli.remove("dave").unwrap());
        assert!(server.lookup("dave").is_none());
        // A user added again under the same name is another generation.
        let first = cli.add("erin", Role::Viewer, "erin's password").unwrap();
        cli.remove("erin").unwrap();
        let second = cli.add("erin", Role::Viewer, "erin's password").unwrap();
        assert_ne!(first.generation, second.generation);
    }

    #[test]
    fn corrupt_file_accepts_no_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        store.add("fay", Role::Admin, "fay's password").unwrap();
        std::fs::write(dir.path().join(USERS_FILE), b"{not json").unwrap();
        assert!(store.lookup("fay").is_none());
        assert_eq!(
            store.check_password("fay", "fay's password"),
            PasswordCheck::NoSuchUser
        );
        assert!(matches!(
            UserStore::open(dir.path()),
            Err(UserError::File(FileError::Parse { .. }))
        ));
    }
}
