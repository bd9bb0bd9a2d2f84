//! What can go wrong talking to the directory, one variant per cause a
//! reader of the log must tell apart.

use std::path::PathBuf;
use std::time::Duration;

/// Why a login, a revalidation or the directory's setup failed.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    /// A file named in `[auth.ldap]` cannot be used.
    #[error("auth.ldap.{key} {path}: {reason}")]
    File {
        /// The configuration key (`bind_password_file`, `tls_ca`).
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No TCP connection to the directory.
    #[error("cannot reach the directory at {address}: {reason}")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// The system's answer.
        reason: String,
    },
    /// The TLS handshake (LDAPS or StartTLS) failed.
    #[error("TLS with the directory at {address} failed: {reason}")]
    Tls {
        /// `host:port`.
        address: String,
        /// The handshake's error, with what to check.
        reason: String,
    },
    /// The directory did not answer in time.
    #[error("the directory at {address} did not answer {operation} within {after:?}")]
    Timeout {
        /// `host:port`.
        address: String,
        /// What was waited for (`connect`, `bind`, `search`).
        operation: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The directory refused the service account.
    #[error(
        "the directory refused the service account {bind_dn}: {message}; check \
         auth.ldap.bind_dn and the password in auth.ldap.bind_password_file"
    )]
    ServiceBind {
        /// `auth.ldap.bind_dn`.
        bind_dn: String,
        /// The server's answer.
        message: String,
    },
    /// Unknown user or wrong password; deliberately one answer for both.
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// The password is right but no role applies.
    #[error(
        "{username} is in no group of auth.ldap.roles and auth.ldap.default_role is \"none\": \
         refused"
    )]
    NoRole {
        /// The login name.
        username: String,
    },
    /// The user filter matched more than one entry.
    #[error(
        "auth.ldap.user_filter {filter} matches {entries} entries under {base}; it must find \
         exactly one user"
    )]
    Ambiguous {
        /// The filter as sent (login name escaped and filled in).
        filter: String,
        /// `auth.ldap.user_base`.
        base: String,
        /// How many entries came back (at least two).
        entries: usize,
    },
    /// The directory answered something other than expected.
    #[error("{operation} failed: {message}")]
    Protocol {
        /// What was attempted.
        operation: String,
        /// The server's answer or the client's error.
        message: String,
    },
}
