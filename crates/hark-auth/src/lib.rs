//! Who may use Hark and how they prove it: [`identity`] (principals and
//! roles), API [`tokens`], local [`users`] with argon2id [`password`]
//! hashes, [`sessions`] of people who signed in, the [`throttle`] on failed
//! logins, and [`login`], which puts them together with an optional
//! [`login::Directory`] (LDAP).
//!
//! Everything here is independent of the HTTP server; the CLI uses the same
//! stores on the same files, so `hark user add` and `hark token create`
//! take effect in a running server.

pub mod identity;
pub mod jsonfile;
pub mod login;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use jsonfile::FileError;
pub use login::{Authenticator, Directory, DirectoryError, DirectoryUser, LoginError};
