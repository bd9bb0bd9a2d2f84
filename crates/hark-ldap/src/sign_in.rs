//! [`LdapDirectory`] as the [`hark_auth::login::Directory`] the
//! authenticator signs people in with.
//!
//! Unknown users and wrong passwords are [`DirectoryError::Rejected`]; a
//! user whose groups give no role signs in as a user without a role, which
//! the authenticator refuses with the same answer; every other failure
//! (unreachable, TLS, the service account, a timeout) is
//! [`DirectoryError::Unavailable`], so the login page says to try later
//! instead of blaming the password.

use futures_util::future::BoxFuture;
use hark_auth::login::{Directory, DirectoryError, DirectoryStep, DirectoryUser as SignedIn};

use crate::{DirectoryUser, LdapDirectory, LdapError};

impl Directory for LdapDirectory {
    fn login<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<SignedIn, DirectoryError>> {
        Box::pin(async move {
            match LdapDirectory::login(self, username, password).await {
                Ok(user) => Ok(signed_in(user)),
                Err(LdapError::NoRole { username }) => Ok(SignedIn {
                    username,
                    dn: String::new(),
                    role: None,
                }),
                Err(e) => Err(directory_error(e)),
            }
        })
    }

    fn revalidate<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<SignedIn>, DirectoryError>> {
        Box::pin(async move {
            LdapDirectory::revalidate(self, username)
                .await
                .map(|user| user.map(signed_in))
                .map_err(directory_error)
        })
    }

    fn test<'a>(
        &'a self,
        username: &'a str,
        password: Option<&'a str>,
    ) -> BoxFuture<'a, Vec<DirectoryStep>> {
        Box::pin(async move {
            LdapDirectory::test(self, username, password)
                .await
                .steps
                .into_iter()
                .map(|s| DirectoryStep {
                    name: s.name.to_owned(),
                    ok: s.ok,
                    detail: s.detail,
                })
                .collect()
        })
    }
}

fn signed_in(user: DirectoryUser) -> SignedIn {
    SignedIn {
        username: user.username,
        dn: user.dn,
        role: user.role,
    }
}

fn directory_error(e: LdapError) -> DirectoryError {
    match e {
        LdapError::InvalidCredentials => DirectoryError::Rejected,
        other => {
            tracing::warn!("LDAP sign-in: {other}");
            DirectoryError::Unavailable(other.to_string())
        }
    }
}
