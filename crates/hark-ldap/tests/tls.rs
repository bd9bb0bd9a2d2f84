//! TLS with a slapd whose certificate comes from a test CA: StartTLS and
//! LDAPS trusting exactly that CA, and refusals when the CA is another.

mod common;

use std::sync::OnceLock;

use common::{ROLES, directory};
use hark_config::Role;
use hark_ldap::{LdapDirectory, LdapError};
use hark_testkit::peers::slapd::{self, Slapd, password};

/// The TLS slapd shared by this binary's tests.
fn tls_slapd() -> &'static Slapd {
    static SLAPD: OnceLock<Slapd> = OnceLock::new();
    SLAPD.get_or_init(Slapd::start_shared_with_tls)
}

fn trusting(url: &str, ca: &std::path::Path) -> LdapDirectory {
    directory(url, &format!("tls_ca = \"{}\"\n{ROLES}", ca.display()))
}

#[tokio::test]
async fn starttls_and_ldaps_trust_the_configured_ca() {
    let d = tls_slapd();
    let ca = d.ca_pem().unwrap();
    let urls = [d.url(), d.ldaps_url().unwrap()];
    for url in &urls {
        let dir = trusting(url, ca);
        let alice = dir.login("alice", &password("alice")).await.unwrap();
        assert_eq!(alice.role, Some(Role::Operator), "{url}");
    }
    let report = trusting(&urls[0], ca).test("bob", None).await;
    assert!(report.ok(), "{report}");
    assert!(report.steps[1].detail.starts_with("StartTLS"), "{report}");
    assert!(report.steps[1].detail.contains("tls_ca"), "{report}");
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let d = tls_slapd();
    let dir = tempfile::tempdir().unwrap();
    let wrong = slapd::unrelated_ca(dir.path());
    for url in [d.url(), d.ldaps_url().unwrap()] {
        let e = trusting(&url, &wrong)
            .login("alice", &password("alice"))
            .await
            .unwrap_err();
        assert!(matches!(e, LdapError::Tls { .. }), "{url}: {e}");
        assert!(e.to_string().contains("tls_ca"), "{e}");
        let report = trusting(&url, &wrong).test("alice", None).await;
        let last = report.steps.last().unwrap();
        assert_eq!((last.name, last.ok), ("tls", false), "{report}");
    }
}

#[tokio::test]
async fn the_system_roots_do_not_trust_a_test_ca() {
    let d = tls_slapd();
    let dir = directory(&d.ldaps_url().unwrap(), ROLES);
    let e = dir.login("alice", &password("alice")).await.unwrap_err();
    assert!(matches!(e, LdapError::Tls { .. }), "{e}");
}

#[test]
fn a_ca_file_that_is_not_pem_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let cfg = common::config(
        "ldaps://127.0.0.1:1",
        &format!("tls_ca = \"{}\"", ca.display()),
    );
    let e = LdapDirectory::new(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("tls_ca") && e.contains("ca.pem") && e.contains("no certificate"),
        "{e}"
    );
    let cfg = common::config(
        "ldaps://127.0.0.1:1",
        &format!("tls_ca = \"{}\"", dir.path().join("missing.pem").display()),
    );
    let e = LdapDirectory::new(&cfg).unwrap_err().to_string();
    assert!(
        e.contains("missing.pem") && e.contains("cannot be read"),
        "{e}"
    );
}
