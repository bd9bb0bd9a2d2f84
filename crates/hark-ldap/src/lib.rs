//! Signing in to Hark through an LDAP directory or Active Directory.
//!
//! [`LdapDirectory`] is built from `[auth.ldap]` and does three things:
//!
//! - [`LdapDirectory::login`]: search-then-bind. It finds the user's entry
//!   as the service account, binds as that entry with the password, reads
//!   the groups (a group search or `memberOf`) and maps them to a role.
//! - [`LdapDirectory::revalidate`]: the same search without the password,
//!   to end the sessions of users who were deleted, disabled or left their
//!   groups.
//! - [`LdapDirectory::test`]: the steps of a login one at a time, for
//!   `hark auth test-ldap`.
//!
//! Connections use TLS through rustls (ring): `ldaps://`, or StartTLS on
//! `ldap://` unless `starttls = false`. Every step has a timeout
//! ([`DEFAULT_TIMEOUT`]), so a hung directory fails a login instead of
//! holding it. docs/internals/ldap.md describes the flow.
//!
//! ```no_run
//! # async fn demo(config: &hark_config::LdapConfig) -> Result<(), hark_ldap::LdapError> {
//! let directory = hark_ldap::LdapDirectory::new(config)?;
//! let user = directory.login("alice", "her password").await?;
//! println!("{} ({}) signs in as {:?}", user.username, user.dn, user.role);
//! # Ok(())
//! # }
//! ```

mod connection;
mod directory;
mod dn;
mod error;
mod filter;
mod report;
mod sign_in;
mod tls;

pub use directory::{DEFAULT_TIMEOUT, DirectoryUser, LdapDirectory, MAX_NESTING};
pub use dn::normalize as normalize_dn;
pub use error::LdapError;
pub use report::{LdapReport, ReportStep};
