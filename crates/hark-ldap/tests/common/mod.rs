//! What the LDAP tests share: a directory built from `[auth.ldap]` text
//! pointing at a slapd peer.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use hark_config::{Config, LdapConfig};
use hark_ldap::LdapDirectory;
use hark_testkit::peers::slapd::{self, Slapd};

/// `[auth.ldap]` lines mapping noc → operator and admins → admin.
pub const ROLES: &str = r#"roles = { "cn=noc,ou=groups,dc=example,dc=test" = "operator", "CN=Admins, OU=Groups, DC=example, DC=test" = "admin" }"#;

/// The slapd shared by the tests of this binary (killed when it exits).
pub fn shared() -> &'static Slapd {
    static SLAPD: OnceLock<Slapd> = OnceLock::new();
    SLAPD.get_or_init(Slapd::start_shared)
}

/// A file holding the service account's password.
pub fn password_file() -> PathBuf {
    static FILE: OnceLock<tempfile::NamedTempFile> = OnceLock::new();
    FILE.get_or_init(|| {
        let file = tempfile::NamedTempFile::new().expect("create a password file");
        std::fs::write(file.path(), format!("{}\n", slapd::SERVICE_PASSWORD))
            .expect("write the password file");
        file
    })
    .path()
    .to_owned()
}

/// `[auth.ldap]` for `url` with the service account, the seeded bases and
/// `extra` lines.
pub fn config(url: &str, extra: &str) -> LdapConfig {
    let text = format!(
        "[auth.ldap]\nurl = \"{url}\"\nbind_dn = \"{}\"\nbind_password_file = \"{}\"\n\
         user_base = \"{}\"\n{extra}\n",
        slapd::SERVICE_DN,
        password_file().display(),
        slapd::PEOPLE,
    );
    Config::from_toml_str("hark.toml", &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .auth
        .ldap
        .expect("an [auth.ldap] section")
}

/// The directory of [`config`].
pub fn directory(url: &str, extra: &str) -> LdapDirectory {
    LdapDirectory::new(&config(url, extra)).expect("a directory")
}
