//! A directory that is down or hung fails a login instead of holding it.

mod common;

use std::time::Duration;

use common::directory;
use hark_ldap::LdapError;
use hark_testkit::peers::slapd::{Slapd, password};

#[tokio::test]
async fn a_stopped_directory_is_unreachable() {
    let mut d = Slapd::start();
    let url = d.url();
    let dir = directory(&url, "starttls = false");
    assert!(dir.login("alice", &password("alice")).await.is_ok());
    d.stop();
    let e = dir.login("alice", &password("alice")).await.unwrap_err();
    match &e {
        LdapError::Unreachable { address, .. } => {
            assert_eq!(address, &format!("127.0.0.1:{}", d.port()))
        }
        other => panic!("expected Unreachable, got {other}"),
    }
    let e = dir.revalidate("alice").await.unwrap_err();
    assert!(matches!(e, LdapError::Unreachable { .. }), "{e}");
    let report = dir.test("alice", None).await;
    assert_eq!(report.steps.len(), 1, "{report}");
    assert!(!report.ok());
}

#[tokio::test]
async fn a_hung_directory_times_out() {
    let d = Slapd::start();
    let dir = directory(&d.url(), "starttls = false").with_timeout(Duration::from_millis(500));
    d.pause();
    let e = dir.login("alice", &password("alice")).await.unwrap_err();
    d.resume();
    assert!(matches!(e, LdapError::Timeout { .. }), "{e}");
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{}", d.port())),
        "{e}"
    );
    // Once it answers again, so does the login.
    assert!(dir.login("alice", &password("alice")).await.is_ok());
}
