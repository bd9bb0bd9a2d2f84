//! Signing in: [`Authenticator::login`] checks a local user first and then,
//! when one is configured, the [`Directory`] (LDAP); it keeps the
//! [`LoginThrottle`] and starts sessions. [`Authenticator::session`] turns a
//! session id from a cookie into the [`Principal`] of a request, ending
//! sessions whose user is gone or changed.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;

use crate::identity::{Principal, Role};
use crate::sessions::{Session, SessionError, SessionOrigin, SessionStore};
use crate::throttle::LoginThrottle;
use crate::users::{PasswordCheck, UserError, UserStore};

/// How often, at most, a directory user's session is checked against the directory.
pub const REVALIDATE_EVERY: Duration = Duration::from_secs(5 * 60);

/// The one message for an unknown user and a wrong password.
pub const INVALID_LOGIN: &str = "invalid user name or password";

/// A user as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The login name.
    pub username: String,
    /// The user's distinguished name.
    pub dn: String,
    /// The role the user's groups give; `None` refuses the user (no group
    /// maps to a role and `default_role = "none"`).
    pub role: Option<Role>,
}

/// Why the directory gave no user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// No such user, or the password is wrong (the directory's bind failed).
    #[error("the directory refused the user name or password")]
    Rejected,
    /// The directory cannot be reached or answered with an error.
    #[error("the directory is unavailable: {0}")]
    Unavailable(String),
}

/// A directory of users (LDAP, Active Directory) that Hark may sign people
/// in with. Implemented by the LDAP client; [`Authenticator`] calls it only
/// for names that are not local users.
pub trait Directory: Send + Sync {
    /// Checks `password` for `username` (a bind as the user): the user, or
    /// [`DirectoryError::Rejected`] for an unknown user or wrong password.
    fn login<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<DirectoryUser, DirectoryError>>;

    /// Looks `username` up again (with the service account, no password):
    /// `Ok(None)` when the user no longer exists or is disabled.
    fn revalidate<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<DirectoryUser>, DirectoryError>>;

    /// The steps of a sign-in one at a time, for an administrator's
    /// connection test; with `password`, the user's own bind too.
    fn test<'a>(
        &'a self,
        username: &'a str,
        password: Option<&'a str>,
    ) -> BoxFuture<'a, Vec<DirectoryStep>> {
        let _ = (username, password);
        Box::pin(async {
            vec![DirectoryStep {
                name: "test".into(),
                ok: false,
                detail: "this directory has no connection test".into(),
            }]
        })
    }
}

/// One step of [`Directory::test`]: what was tried, whether it worked, and
/// what was found or what the directory answered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryStep {
    /// `connect`, `tls`, `service bind`, `user search`, `groups`, `role`, `user bind`.
    pub name: String,
    /// Whether it worked.
    pub ok: bool,
    /// What was found, or the directory's message.
    pub detail: String,
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, or a directory user without a role:
    /// one answer for all, so it does not tell whether a user exists.
    #[error("invalid user name or password")]
    Invalid,
    /// Too many failures for this user name or from this address.
    #[error("too many failed logins; try again in {} s", retry_after.as_secs().max(1))]
    Throttled {
        /// When to try again.
        retry_after: Duration,
    },
    /// The directory could not answer.
    #[error("the user directory is unavailable; try again later")]
    DirectoryUnavailable,
    /// The session could not be stored, or the user file not read.
    #[error("cannot sign in: {0}")]
    Internal(String),
}

/// A successful login: who, and the new session.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The user (kind [`crate::identity::PrincipalKind::User`]).
    pub principal: Principal,
    /// The session id for the cookie (shown once).
    pub session_id: String,
    /// The session.
    pub session: Session,
}

/// Local users, the directory, sessions and the throttle together.
pub struct Authenticator {
    users: Arc<UserStore>,
    sessions: Arc<SessionStore>,
    throttle: LoginThrottle,
    directory: Option<Arc<dyn Directory>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("users", &self.users.path())
            .field("directory", &self.directory.is_some())
            .finish_non_exhaustive()
    }
}

/// Opening the user or session file failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The user file.
    #[error(transparent)]
    Users(#[from] UserError),
    /// The session file.
    #[error(transparent)]
    Sessions(#[from] SessionError),
}

impl Authenticator {
    /// Users and sessions from `data_dir`, sessions lasting as `auth` says,
    /// and the directory when there is one.
    pub fn open(
        data_dir: &Path,
        auth: &hark_config::AuthConfig,
        directory: Option<Arc<dyn Directory>>,
    ) -> Result<Authenticator, OpenError> {
        let users = Arc::new(UserStore::open(data_dir)?);
        let sessions = Arc::new(SessionStore::open(
            data_dir,
            auth.session_idle,
            auth.session_max,
        )?);
        Ok(Authenticator::new(users, sessions, directory))
    }

    /// From stores opened elsewhere.
    pub fn new(
        users: Arc<UserStore>,
        sessions: Arc<SessionStore>,
        directory: Option<Arc<dyn Directory>>,
    ) -> Authenticator {
        Authenticator {
            users,
            sessions,
            throttle: LoginThrottle::new(),
            directory,
        }
    }

    /// The directory users may also sign in with, when one is configured.
    pub fn directory(&self) -> Option<&Arc<dyn Directory>> {
        self.directory.as_ref()
    }

    /// The local users.
    pub fn users(&self) -> &Arc<UserStore> {
        &self.users
    }

    /// The sessions.
    pub fn sessions(&self) -> &Arc<SessionStore> {
        &self.sessions
    }

    /// Checks the password of `username` (a local user, else a directory
    /// user) and starts a session. `addr` is the client's address, for
    /// the throttle.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<LoggedIn, LoginError> {
        if let Err(retry_after) = self.throttle.check(username, addr, Instant::now()) {
            return Err(LoginError::Throttled { retry_after });
        }
        let found = self.check(username, password).await;
        let (principal, origin) = match found {
            Ok(found) => found,
            Err(LoginError::Invalid) => {
                self.throttle.failure(username, addr, Instant::now());
                return Err(LoginError::Invalid);
            }
            Err(e) => return Err(e),
        };
        self.throttle.success(username, addr);
        let (session_id, session) = self
            .sessions
            .create(&principal.name, principal.role, origin)
            .map_err(|e| LoginError::Internal(e.to_string()))?;
        Ok(LoggedIn {
            principal,
            session_id,
            session,
        })
    }

    /// Whose password this is, without the throttle or a session.
    async fn check(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(Principal, SessionOrigin), LoginError> {
        let users = self.users.clone();
        let (name, pass) = (username.to_owned(), password.to_owned());
        let local = tokio::task::spawn_blocking(move || users.check_password(&name, &pass))
            .await
            .map_err(|e| LoginError::Internal(format!("password check failed: {e}")))?;
        match local {
            PasswordCheck::Valid(user) => Ok((
                Principal {
                    kind: crate::identity::PrincipalKind::User,
                    id: user.name.clone(),
                    name: user.name,
                    role: user.role,
                },
                SessionOrigin::Local {
                    generation: user.generation,
                },
            )),
            PasswordCheck::Wrong => Err(LoginError::Invalid),
            PasswordCheck::NoSuchUser => {
                let Some(directory) = &self.directory else {
                    return Err(LoginError::Invalid);
                };
                match directory.login(username, password).await {
                    Ok(DirectoryUser {
                        username,
                        dn,
                        role: Some(role),
                    }) => Ok((
                        Principal {
                            kind: crate::identity::PrincipalKind::User,
                            id: username.clone(),
                            name: username,
                            role,
                        },
                        SessionOrigin::Ldap { dn },
                    )),
                    Ok(DirectoryUser { role: None, .. }) | Err(DirectoryError::Rejected) => {
                        Err(LoginError::Invalid)
                    }
                    Err(DirectoryError::Unavailable(why)) => {
                        tracing::warn!(user = username, "directory unavailable at login: {why}");
                        Err(LoginError::DirectoryUnavailable)
                    }
                }
            }
        }
    }

    /// The principal of the live session with this id, after checking its
    /// user: a local user must still exist with the same generation; a
    /// directory user is looked up again at most every
    /// [`REVALIDATE_EVERY`] (gone, disabled or without a role: the session
    /// ends). `None` when there is no such live session.
    pub async fn session(&self, id: &str) -> Option<(Principal, Session)> {
        let session = self.sessions.check(id)?;
        match &session.origin {
            SessionOrigin::Local { generation } => match self.users.lookup(&session.user) {
                Some(user) if user.generation == *generation => {
                    let mut session = session;
                    session.role = user.role;
                    Some((session.principal(), session))
                }
                _ => {
                    self.sessions.end(id);
                    None
                }
            },
            SessionOrigin::Ldap { .. } => {
                let due = Utc::now() - session.revalidated_at
                    >= chrono::TimeDelta::from_std(REVALIDATE_EVERY).unwrap_or_default();
                if !due {
                    return Some((session.principal(), session));
                }
                let Some(directory) = &self.directory else {
                    // The directory was removed from the configuration.
                    self.sessions.end(id);
                    return None;
                };
                match directory.revalidate(&session.user).await {
                    Ok(Some(DirectoryUser {
                        role: Some(role),
                        dn,
                        ..
                    })) => {
                        let session = self.sessions.update(id, |s| {
                            s.role = role;
                            s.origin = SessionOrigin::Ldap { dn };
                            s.revalidated_at = Utc::now();
                        })?;
                        Some((session.principal(), session))
                    }
                    Ok(_) => {
                        self.sessions.end(id);
                        None
                    }
                    Err(e) => {
                        // Keep the session; ask again after another interval.
                        tracing::warn!(user = %session.user, "cannot confirm a directory user's session: {e}");
                        let session = self
                            .sessions
                            .update(id, |s| s.revalidated_at = Utc::now())?;
                        Some((session.principal(), session))
                    }
                }
            }
        }
    }

    /// Changes the password of local user `name` after checking `current`;
    /// the user's other sessions end, the one with id `keep` stays.
    pub async fn change_password(
        &self,
        name: &str,
        current: &str,
        new: &str,
        keep: Option<&str>,
    ) -> Result<(), PasswordChangeError> {
        let users = self.users.clone();
        let (user, cur, new) = (name.to_owned(), current.to_owned(), new.to_owned());
        let changed =
            tokio::task::spawn_blocking(move || match users.check_password(&user, &cur) {
                PasswordCheck::Valid(_) => users
                    .set_password(&user, &new)
                    .map_err(PasswordChangeError::from),
                PasswordCheck::Wrong => Err(PasswordChangeError::WrongCurrent),
                PasswordCheck::NoSuchUser => Err(PasswordChangeError::NotLocal),
            })
            .await
            .map_err(|e| PasswordChangeError::Internal(e.to_string()))??;
        if let Some(keep) = keep {
            self.sessions.update(keep, |s| {
                s.origin = SessionOrigin::Local {
                    generation: changed.generation,
                }
            });
            self.sessions.end_others_of(name, keep);
        } else {
            self.sessions.end_all_of(name);
        }
        Ok(())
    }
}

/// Why a password was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    /// The current password given is wrong.
    #[error("the current password is wrong")]
    WrongCurrent,
    /// Not a local user (directory users change their password in the directory).
    #[error("only local users have a password here; change it in the directory")]
    NotLocal,
    /// The new password cannot be used, or the file not written.
    #[error(transparent)]
    User(#[from] UserError),
    /// The worker failed.
    #[error("cannot change the password: {0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A directory holding users in memory, as the LDAP client would answer.
    #[derive(Default)]
    struct Users {
        users: Mutex<Vec<(String, String, Option<Role>)>>,
        down: Mutex<bool>,
    }

    impl Directory for Users {
        fn login<'a>(
            &'a self,
            username: &'a str,
            password: &'a str,
        ) -> BoxFuture<'a, Result<DirectoryUser, DirectoryError>> {
            Box::pin(async move {
                if *self.down.lock().unwrap() {
                    return Err(DirectoryError::Unavailable("connection refused".into()));
                }
                let users = self.users.lock().unwrap();
                let (name, _, role) = users
                    .iter()
                    .find(|(n, p, _)| n == username && p == password)
                    .ok_or(DirectoryError::Rejected)?;
                Ok(DirectoryUser {
                    username: name.clone(),
                    dn: format!("uid={name},ou=people,dc=example,dc=org"),
                    role: *role,
                })
            })
        }

        fn revalidate<'a>(
            &'a self,
            username: &'a str,
        ) -> BoxFuture<'a, Result<Option<DirectoryUser>, DirectoryError>> {
            Box::pin(async move {
                let users = self.users.lock().unwrap();
                Ok(users
                    .iter()
                    .find(|(n, _, _)| n == username)
                    .map(|(name, _, role)| DirectoryUser {
                        username: name.clone(),
                        dn: format!("uid={name},ou=people,dc=example,dc=org"),
                        role: *role,
                    }))
            })
        }
    }

    fn authenticator(dir: &Path, directory: Option<Arc<dyn Directory>>) -> Authenticator {
        Authenticator::open(dir, &hark_config::AuthConfig::default(), directory).unwrap()
    }

    #[tokio::test]
    async fn local_login_starts_a_session_that_ends_with_the_user() {
        let dir = tempfile::tempdir().unwrap();
        let auth = authenticator(dir.path(), None);
        auth.users()
            .add("alice", Role::Operator, "alice's secret")
            .unwrap();
        let ok = auth.login("alice", "alice's secret", None).await.unwrap();
        assert_eq!(ok.principal.role, Role::Operator);
        let (p, _) = auth.session(&ok.session_id).await.unwrap();
        assert_eq!(p, ok.principal);
        // The role changes: the session ends.
        auth.users().set_role("alice", Role::Viewer).unwrap();
        assert!(auth.session(&ok.session_id).await.is_none());
        // Removal ends a new one too.
        let again = auth.login("alice", "alice's secret", None).await.unwrap();
        assert_eq!(again.principal.role, Role::Viewer);
        assert!(auth.users().remove("alice").unwrap());
        assert!(auth.session(&again.session_id).await.is_none());
    }

    #[tokio::test]
    async fn unknown_user_and_wrong_password_fail_alike_and_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let auth = authenticator(dir.path(), None);
        auth.users()
            .add("bob", Role::Viewer, "bob's secret")
            .unwrap();
        let wrong = auth.login("bob", "nope", None).await.unwrap_err();
        let unknown = auth.login("mallory", "nope", None).await.unwrap_err();
        assert_eq!(wrong.to_string(), INVALID_LOGIN);
        assert_eq!(unknown.to_string(), INVALID_LOGIN);
        let addr = Some(IpAddr::from([192, 0, 2, 7]));
        for _ in 0..5 {
            assert!(matches!(
                auth.login("ghost", "guess", addr).await,
                Err(LoginError::Invalid)
            ));
        }
        assert!(matches!(
            auth.login("ghost", "guess", addr).await,
            Err(LoginError::Throttled { .. })
        ));
        // The address is refused, even with the right password of another user.
        assert!(matches!(
            auth.login("bob", "bob's secret", addr).await,
            Err(LoginError::Throttled { .. })
        ));
        assert!(auth.login("bob", "bob's secret", None).await.is_ok());
    }

    #[tokio::test]
    async fn directory_users_sign_in_and_are_revalidated() {
        let dir = tempfile::tempdir().unwrap();
        let directory = Arc::new(Users::default());
        directory.users.lock().unwrap().extend([
            (
                "dana".to_owned(),
                "dana's pw".to_owned(),
                Some(Role::Operator),
            ),
            ("nobody".to_owned(), "nobody's pw".to_owned(), None),
        ]);
        let auth = authenticator(dir.path(), Some(directory.clone()));
        let ok = auth.login("dana", "dana's pw", None).await.unwrap();
        assert_eq!(ok.principal.role, Role::Operator);
        assert!(
            matches!(ok.session.origin, SessionOrigin::Ldap { ref dn } if dn.starts_with("uid=dana,"))
        );
        assert!(matches!(
            auth.login("dana", "wrong", None).await,
            Err(LoginError::Invalid)
        ));
        assert!(matches!(
            auth.login("nobody", "nobody's pw", None).await,
            Err(LoginError::Invalid)
        ));
        // A local user shadows a directory user of the same name.
        auth.users()
            .add("dana", Role::Viewer, "local password")
            .unwrap();
        assert!(matches!(
            auth.login("dana", "dana's pw", None).await,
            Err(LoginError::Invalid)
        ));
        auth.users().remove("dana").unwrap();

        // Within the interval the directory is not asked; once due, a user
        // removed from the directory loses the session.
        directory
            .users
            .lock()
            .unwrap()
            .retain(|(n, _, _)| n != "dana");
        assert!(auth.session(&ok.session_id).await.is_some());
        auth.sessions().update(&ok.session_id, |s| {
            s.revalidated_at -= chrono::TimeDelta::minutes(6)
        });
        assert!(auth.session(&ok.session_id).await.is_none());
        assert!(auth.session(&ok.session_id).await.is_none());

        *directory.down.lock().unwrap() = true;
        assert!(matches!(
            auth.login("erin", "pw", None).await,
            Err(LoginError::DirectoryUnavailable)
        ));
    }

    #[tokio::test]
    async fn password_change_keeps_this_session_only() {
        let dir = tempfile::tempdir().unwrap();
        let auth = authenticator(dir.path(), None);
        auth.users()
            .add("fay", Role::Viewer, "first password")
            .unwrap();
        let here = auth.login("fay", "first password", None).await.unwrap();
        let there = auth.login("fay", "first password", None).await.unwrap();
        assert!(matches!(
            auth.change_password("fay", "wrong", "second password", Some(&here.session_id))
                .await,
            Err(PasswordChangeError::WrongCurrent)
        ));
        auth.change_password(
            "fay",
            "first password",
            "second password",
            Some(&here.session_id),
        )
        .await
        .unwrap();
        assert!(auth.session(&here.session_id).await.is_some());
        assert!(auth.session(&there.session_id).await.is_none());
        assert!(matches!(
            auth.login("fay", "first password", None).await,
            Err(LoginError::Invalid)
        ));
        assert!(auth.login("fay", "second password", None).await.is_ok());
    }
}
