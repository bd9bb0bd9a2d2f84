//! Signing in to the web UI through LDAP, in a real Chromium, against a real
//! OpenLDAP `slapd` the test starts: group membership gives the role, a
//! user in no mapped group is refused when `default_role = "none"`, and a
//! wrong password is refused like an unknown user.

use std::sync::OnceLock;

use hark_e2e::browser::{Browser, SESSION_COOKIE};
use hark_e2e::reaper::reap_at_exit;
use hark_e2e::{Hark, Transport};
use hark_testkit::peers::slapd::{self, GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, Slapd};
use serde_json::{Value, json};

/// The directory and a server that signs people in through it.
struct Site {
    hark: Hark,
    _slapd: Slapd,
    _dir: tempfile::TempDir,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let slapd = Slapd::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let pass = dir.path().join("ldap.pass");
        std::fs::write(&pass, format!("{SERVICE_PASSWORD}\n")).expect("write the password file");
        let ldap = format!(
            "[auth.ldap]\nurl = {url:?}\nstarttls = false\nbind_dn = {SERVICE_DN:?}\n\
             bind_password_file = {pass:?}\nuser_base = {PEOPLE:?}\ngroup_base = {GROUPS:?}\n\
             default_role = \"none\"\n\
             roles = {{ {noc:?} = \"operator\", {admins:?} = \"admin\" }}\n",
            url = slapd.url(),
            pass = pass.display().to_string(),
            noc = slapd::group_dn("noc"),
            admins = slapd::group_dn("admins"),
        );
        let hark = reap_at_exit(
            Hark::builder()
                .input("udp", Transport::Udp)
                .extra(&ldap)
                .start(),
        );
        Site {
            hark,
            _slapd: slapd,
            _dir: dir,
        }
    })
}

/// Who the session of `browser` is, according to `GET /api/v1/me`.
fn me(browser: &Browser) -> Value {
    let fetched = browser.fetch("/api/v1/me", json!({"credentials": "same-origin"}));
    assert_eq!(fetched.status(), 200, "{fetched:?}");
    match fetched {
        hark_e2e::browser::Fetched::Response { body, .. } => {
            serde_json::from_str(&body).expect("JSON from /api/v1/me")
        }
        hark_e2e::browser::Fetched::Rejected(e) => panic!("{e}"),
    }
}

fn signs_in_as(uid: &str, role: &str) {
    let site = site();
    let browser = Browser::open(site.hark.api_url());
    browser.login(uid, &slapd::password(uid));
    browser.wait_until(&format!("{uid} to land on /search"), |b| {
        (b.path() == "/search").then_some(())
    });
    let who = me(&browser);
    assert_eq!(who["name"], uid, "{who}");
    assert_eq!(who["role"], role, "{uid}'s groups give {role}: {who}");
    browser.screenshot(&format!("ldap-{uid}-search"));
}

#[test]
fn a_noc_member_signs_in_as_operator() {
    signs_in_as("alice", "operator");
}

#[test]
fn an_admins_member_signs_in_as_admin() {
    signs_in_as("bob", "admin");
}

/// Stays on the login page with its error and no session cookie.
fn refused(uid: &str, password: &str) {
    let site = site();
    let browser = Browser::open(site.hark.api_url());
    browser.login(uid, password);
    assert_eq!(browser.path(), "/login", "{uid} stays on the login page");
    assert!(
        browser
            .body_text()
            .contains("invalid user name or password"),
        "the page says why: {}",
        browser.body_text()
    );
    assert_eq!(browser.cookie(SESSION_COOKIE), None, "no session for {uid}");
}

#[test]
fn a_user_in_no_mapped_group_is_refused_when_the_default_role_is_none() {
    refused("carol", &slapd::password("carol"));
}

#[test]
fn a_wrong_password_is_refused() {
    refused("alice", "not-alice-s-password");
}

#[test]
fn an_admin_tests_the_directory_through_the_api() {
    let site = site();
    let token = site.hark.token();
    let (status, body) = site.hark.post_as(
        "/api/v1/auth/ldap/test",
        Some(token),
        &json!({"username": "alice"}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(report["ok"], true, "{report}");
    let role = report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == "role"))
        .unwrap_or_else(|| panic!("a role step: {report}"));
    assert!(
        role["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("operator"),
        "{report}"
    );
    let (status, body) = site.hark.post_as(
        "/api/v1/auth/ldap/test",
        Some(token),
        &json!({"username": "alice", "password": "wrong"}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"ok\":false"),
        "a wrong password fails a step: {body}"
    );
}
