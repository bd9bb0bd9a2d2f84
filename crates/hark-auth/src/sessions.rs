//! Sessions of people who signed in: a random id in a cookie, only its
//! SHA-256 kept, in memory and in `sessions.json` (so a restart does not
//! sign everyone out).
//!
//! A session ends when unused for `session_idle`, `session_max` after its
//! login in any case, when ended (sign-out), and when its user's
//! `generation` changes (see [`crate::users`]). Every method that looks at
//! time has an `_at` form taking the time, for tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::{Principal, PrincipalKind, Role};
use crate::jsonfile::{Cached, FileError, JsonFile, hash_hex};

/// File name of the session file inside the data directory.
pub const SESSIONS_FILE: &str = "sessions.json";

/// How often, at most, a session's `last_seen` alone is written to disk.
const TOUCH_WRITE_INTERVAL: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Where a session's user comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SessionOrigin {
    /// A local user (`users.json`) at this generation.
    Local {
        /// The user's generation at login; a different one ends the session.
        generation: u64,
    },
    /// A user of the LDAP directory.
    Ldap {
        /// The user's distinguished name.
        dn: String,
    },
}

/// One session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's name.
    pub user: String,
    /// What the user may do.
    pub role: Role,
    /// Local or directory user.
    pub origin: SessionOrigin,
    /// The login.
    pub created_at: DateTime<Utc>,
    /// The last request.
    pub last_seen: DateTime<Utc>,
    /// When the user was last confirmed (the login, or the directory's
    /// latest answer).
    pub revalidated_at: DateTime<Utc>,
}

impl Session {
    /// The principal of requests made in this session.
    pub fn principal(&self) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: self.user.clone(),
            name: self.user.clone(),
            role: self.role,
        }
    }
}

/// Errors from the session store.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Reading or writing the session file failed.
    #[error(transparent)]
    File(#[from] FileError),
}

/// `sessions.json`: sessions by the SHA-256 (hex) of their id.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct SessionFile {
    sessions: BTreeMap<String, Session>,
}

/// The sessions, backed by `sessions.json`.
#[derive(Debug)]
pub struct SessionStore {
    file: JsonFile<SessionFile>,
    idle: chrono::TimeDelta,
    max: chrono::TimeDelta,
    max_std: Duration,
    /// When the file was last written.
    written: Mutex<DateTime<Utc>>,
}

impl SessionStore {
    /// Opens the session file in `data_dir`; sessions end after `idle`
    /// without a request and `max` after their login.
    pub fn open(
        data_dir: &Path,
        idle: Duration,
        max: Duration,
    ) -> Result<SessionStore, SessionError> {
        let delta = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
        let store = SessionStore {
            file: JsonFile::open(data_dir.join(SESSIONS_FILE), "session")?,
            idle: delta(idle),
            max: delta(max),
            max_std: max,
            written: Mutex::new(DateTime::<Utc>::MIN_UTC),
        };
        store.sweep_at(Utc::now());
        Ok(store)
    }

    /// How long a session may last at most (the cookie's `Max-Age`).
    pub fn max_age(&self) -> Duration {
        self.max_std
    }

    /// Starts a session; returns its id (256 random bits, base64url; shown
    /// once, to the client) and the session.
    pub fn create(
        &self,
        user: &str,
        role: Role,
        origin: SessionOrigin,
    ) -> Result<(String, Session), SessionError> {
        self.create_at(Utc::now(), user, role, origin)
    }

    /// [`SessionStore::create`] at `now`.
    pub fn create_at(
        &self,
        now: DateTime<Utc>,
        user: &str,
        role: Role,
        origin: SessionOrigin,
    ) -> Result<(String, Session), SessionError> {
        let id = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let session = Session {
            user: user.to_owned(),
            role,
            origin,
            created_at: now,
            last_seen: now,
            revalidated_at: now,
        };
        let mut cache = self.file.lock();
        let mut value = cache.value.clone();
        value.sessions.retain(|_, s| !self.expired(s, now));
        value.sessions.insert(hash_hex(&id), session.clone());
        self.file.replace(&mut cache, value)?;
        self.wrote(now);
        Ok((id, session))
    }

    /// The live session with this id, marked as used now; `None` when there
    /// is none or it expired (it is then removed).
    pub fn check(&self, id: &str) -> Option<Session> {
        self.check_at(Utc::now(), id)
    }

    /// [`SessionStore::check`] at `now`.
    pub fn check_at(&self, now: DateTime<Utc>, id: &str) -> Option<Session> {
        let key = hash_hex(id);
        let mut cache = self.file.lock();
        let session = cache.value.sessions.get_mut(&key)?;
        if self.expired(session, now) {
            cache.value.sessions.remove(&key);
            self.persist(&mut cache, now);
            return None;
        }
        session.last_seen = now;
        let session = session.clone();
        if now - self.last_written() >= TOUCH_WRITE_INTERVAL {
            cache.value.sessions.retain(|_, s| !self.expired(s, now));
            self.persist(&mut cache, now);
        }
        Some(session)
    }

    /// Changes the session with this id (after the user was confirmed
    /// again, or their password changed); returns it as changed.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Session)) -> Option<Session> {
        let mut cache = self.file.lock();
        let session = cache.value.sessions.get_mut(&hash_hex(id))?;
        change(session);
        let session = session.clone();
        self.persist(&mut cache, Utc::now());
        Some(session)
    }

    /// Ends the session with this id; returns whether there was one.
    pub fn end(&self, id: &str) -> bool {
        let mut cache = self.file.lock();
        let found = cache.value.sessions.remove(&hash_hex(id)).is_some();
        if found {
            self.persist(&mut cache, Utc::now());
        }
        found
    }

    /// Ends every session of `user`; returns how many there were.
    pub fn end_all_of(&self, user: &str) -> usize {
        self.end_where(|_, s| s.user == user)
    }

    /// Ends every session of `user` but the one with id `keep`.
    pub fn end_others_of(&self, user: &str, keep: &str) -> usize {
        let keep = hash_hex(keep);
        self.end_where(|key, s| s.user == user && *key != keep)
    }

    fn end_where(&self, doomed: impl Fn(&String, &Session) -> bool) -> usize {
        let mut cache = self.file.lock();
        let before = cache.value.sessions.len();
        cache.value.sessions.retain(|k, s| !doomed(k, s));
        let ended = before - cache.value.sessions.len();
        if ended > 0 {
            self.persist(&mut cache, Utc::now());
        }
        ended
    }

    /// Removes expired sessions.
    pub fn sweep_at(&self, now: DateTime<Utc>) {
        let mut cache = self.file.lock();
        let before = cache.value.sessions.len();
        cache.value.sessions.retain(|_, s| !self.expired(s, now));
        if cache.value.sessions.len() != before {
            self.persist(&mut cache, now);
        }
    }

    /// How many sessions are live at `now`.
    pub fn count_at(&self, now: DateTime<Utc>) -> usize {
        let cache = self.file.lock();
        cache
            .value
            .sessions
            .values()
            .filter(|s| !self.expired(s, now))
            .count()
    }

    fn expired(&self, s: &Session, now: DateTime<Utc>) -> bool {
        now - s.last_seen >= self.idle || now - s.created_at >= self.max
    }

    /// Writes what is in memory; a failure is logged (memory stays right,
    /// the file catches up at the next write).
    fn persist(&self, cache: &mut Cached<SessionFile>, now: DateTime<Utc>) {
        let value = cache.value.clone();
        match self.file.replace(cache, value) {
            Ok(()) => self.wrote(now),
            Err(e) => tracing::error!(error = %e, "cannot write the session file"),
        }
    }

    fn wrote(&self, now: DateTime<Utc>) {
        *self.written.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    fn last_written(&self) -> DateTime<Utc> {
        *self.written.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    const IDLE: Duration = Duration::from_secs(8 * 3600);
    const MAX: Duration = Duration::from_secs(7 * 86_400);

    fn local() -> SessionOrigin {
        SessionOrigin::Local { generation: 7 }
    }

    #[test]
    fn ids_are_random_and_only_hashes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        let (a, _) = store.create("alice", Role::Viewer, local()).unwrap();
        let (b, _) = store.create("alice", Role::Viewer, local()).unwrap();
        assert_ne!(a, b, "a new id at every login");
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        let text = std::fs::read_to_string(dir.path().join(SESSIONS_FILE)).unwrap();
        assert!(!text.contains(&a) && !text.contains(&b));
        assert!(text.contains(&hash_hex(&a)));
        assert_eq!(store.check(&a).unwrap().principal().name, "alice");
        assert!(store.check("not-a-session").is_none());
    }

    #[test]
    fn idle_expiry_and_use_extends() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        let t0 = Utc::now();
        let (id, _) = store.create_at(t0, "bob", Role::Operator, local()).unwrap();
        let hours = |h| t0 + TimeDelta::hours(h);
        // Used every 7 hours, it lives past 8 hours.
        assert!(store.check_at(hours(7), &id).is_some());
        assert!(store.check_at(hours(14), &id).is_some());
        // Then 8 hours without a request end it.
        assert!(store.check_at(hours(22), &id).is_none());
        assert!(
            store.check_at(hours(14), &id).is_none(),
            "it is gone, not just late"
        );
    }

    #[test]
    fn absolute_expiry_although_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        let t0 = Utc::now();
        let (id, _) = store.create_at(t0, "carol", Role::Admin, local()).unwrap();
        let mut t = t0;
        while t - t0 < TimeDelta::days(7) - TimeDelta::hours(4) {
            t += TimeDelta::hours(4);
            assert!(store.check_at(t, &id).is_some(), "at {}", t - t0);
        }
        assert!(store.check_at(t0 + TimeDelta::days(7), &id).is_none());
    }

    #[test]
    fn survive_a_restart_and_end_server_side() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = {
            let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
            let (a, _) = store.create("dave", Role::Viewer, local()).unwrap();
            let (b, _) = store.create("dave", Role::Viewer, local()).unwrap();
            let (c, _) = store.create("erin", Role::Viewer, local()).unwrap();
            (a, b, c)
        };
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        assert_eq!(store.check(&a).unwrap().user, "dave");
        assert!(store.end(&a));
        assert!(!store.end(&a));
        assert!(store.check(&a).is_none());
        assert_eq!(store.end_all_of("dave"), 1);
        assert!(store.check(&b).is_none());
        assert!(store.check(&c).is_some());
        let reopened = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        assert!(reopened.check(&a).is_none() && reopened.check(&b).is_none());
        assert!(reopened.check(&c).is_some());
    }

    #[test]
    fn expired_sessions_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        let t0 = Utc::now();
        store.create_at(t0, "old", Role::Viewer, local()).unwrap();
        let (keep, _) = store
            .create_at(t0 + TimeDelta::hours(5), "new", Role::Viewer, local())
            .unwrap();
        store.sweep_at(t0 + TimeDelta::hours(9));
        assert_eq!(store.count_at(t0 + TimeDelta::hours(5)), 1);
        assert!(store.check_at(t0 + TimeDelta::hours(9), &keep).is_some());
        let text = std::fs::read_to_string(dir.path().join(SESSIONS_FILE)).unwrap();
        assert!(!text.contains("\"old\""), "{text}");
    }

    #[test]
    fn other_sessions_of_a_user_end() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), IDLE, MAX).unwrap();
        let (mine, _) = store.create("fay", Role::Viewer, local()).unwrap();
        let (other, _) = store.create("fay", Role::Viewer, local()).unwrap();
        assert_eq!(store.end_others_of("fay", &mine), 1);
        assert!(store.check(&mine).is_some());
        assert!(store.check(&other).is_none());
    }
}
