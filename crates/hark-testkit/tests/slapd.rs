//! The slapd peer: seeded users, memberOf kept by the overlay, ACLs that
//! hide password hashes, run-time changes, TLS.

use std::process::Command;

use hark_testkit::peers::slapd::{self, SERVICE_DN, SERVICE_PASSWORD, Slapd};

/// `ldapsearch` as the service account (or anonymously) for `filter`,
/// returning its LDIF output and whether it succeeded.
fn search(url: &str, bind: bool, filter: &str, attrs: &[&str]) -> (bool, String) {
    let mut c = Command::new("ldapsearch");
    c.args(["-x", "-LLL", "-H", url, "-b", slapd::SUFFIX]);
    if bind {
        c.args(["-D", SERVICE_DN, "-w", SERVICE_PASSWORD]);
    }
    let out = c.arg(filter).args(attrs).output().expect("run ldapsearch");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn seeded_users_have_member_of_and_no_visible_password() {
    let d = Slapd::start();
    let (ok, text) = search(&d.url(), true, "(uid=alice)", &["memberOf", "userPassword"]);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("memberOf: {}", slapd::group_dn("noc"))),
        "{text}"
    );
    assert!(!text.contains("userPassword"), "{text}");
    let (_, anonymous) = search(&d.url(), false, "(uid=alice)", &[]);
    assert!(!anonymous.contains("uid=alice"), "{anonymous}");
    let (_, carol) = search(&d.url(), true, "(uid=carol)", &["memberOf"]);
    assert!(
        carol.contains("uid=carol") && !carol.contains("memberOf"),
        "{carol}"
    );
}

#[test]
fn users_and_memberships_change_at_run_time() {
    let d = Slapd::start();
    d.add_user("dave");
    d.add_member("admins", "dave");
    let (_, text) = search(&d.url(), true, "(uid=dave)", &["memberOf"]);
    assert!(text.contains(&slapd::group_dn("admins")), "{text}");
    d.remove_member("admins", "dave");
    let (_, text) = search(&d.url(), true, "(uid=dave)", &["memberOf"]);
    assert!(
        text.contains("uid=dave") && !text.contains("memberOf"),
        "{text}"
    );
    d.delete_user("dave");
    let (_, text) = search(&d.url(), true, "(uid=dave)", &[]);
    assert!(!text.contains("uid=dave"), "{text}");
}

#[test]
fn tls_listeners_present_the_test_ca_certificate() {
    let d = Slapd::start_with_tls();
    let ca = d.ca_pem().expect("a CA").to_owned();
    let ldaps = d.ldaps_url().expect("an LDAPS URL");
    let out = Command::new("ldapwhoami")
        .args([
            "-x",
            "-ZZ",
            "-H",
            &d.url(),
            "-D",
            SERVICE_DN,
            "-w",
            SERVICE_PASSWORD,
        ])
        .env("LDAPTLS_CACERT", &ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let wrong = slapd::unrelated_ca(d.dir());
    let out = Command::new("ldapwhoami")
        .args(["-x", "-H", &ldaps, "-D", SERVICE_DN, "-w", SERVICE_PASSWORD])
        .env("LDAPTLS_CACERT", &wrong)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
}
