//! Password hashes: argon2id with the crate's default cost (19 MiB, two
//! passes) and a random salt from the OS, kept as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
//!
//! Hashing and verifying take tens of milliseconds of CPU on purpose; call
//! them off the async runtime (`tokio::task::spawn_blocking`).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;
use rand::distr::Alphanumeric;

/// Longest password accepted, in bytes (argon2 takes any length; this
/// bounds the work one request can cause).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;

/// A password that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_LEN`] characters.
    #[error("the password is too short: use at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_LEN`] bytes.
    #[error("the password is too long: use at most {MAX_PASSWORD_LEN} bytes")]
    TooLong,
    /// The hash function failed (it should not).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Hashes `password` with a fresh random salt; the PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`; a malformed hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        // Still do the work, so the answer's timing is that of any other.
        verify_unknown(password);
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Does the work of [`verify`] against a fixed hash of a random password,
/// for user names that do not exist, so the time taken does not tell
/// whether a user exists. Always `false`.
pub fn verify_unknown(password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    // Hashing a random password cannot fail in practice; if it did, the
    // empty string parses as no hash and only the timing guarantee is lost.
    let dummy = DUMMY.get_or_init(|| hash_unchecked(&generate(32)).unwrap_or_default());
    let bounded = &password.as_bytes()[..password.len().min(MAX_PASSWORD_LEN)];
    if let Ok(parsed) = PasswordHash::new(dummy) {
        let _ = Argon2::default().verify_password(bounded, &parsed);
    }
    false
}

/// A random password of `len` letters and digits (about 5.95 bits each).
pub fn generate(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("", &h));
        // A new salt each time.
        assert_ne!(h, hash("correct horse battery").unwrap());
        assert!(!verify("correct horse battery", "not a hash"));
    }

    #[test]
    fn unknown_users_never_match() {
        assert!(!verify_unknown("anything at all"));
        assert!(!verify_unknown(""));
    }

    #[test]
    fn length_limits() {
        assert_eq!(hash("short"), Err(PasswordError::TooShort));
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(hash(&long), Err(PasswordError::TooLong));
        let h = hash("eight ch").unwrap();
        assert!(!verify(&long, &h));
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate(24);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, generate(24));
    }
}
