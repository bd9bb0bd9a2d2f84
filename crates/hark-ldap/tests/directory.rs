//! Logins, roles and revalidation against a real slapd (clear-text LDAP;
//! tls.rs covers TLS).

mod common;

use common::{ROLES, directory, shared};
use hark_config::Role;
use hark_ldap::{LdapDirectory, LdapError};
use hark_testkit::peers::slapd::{self, group_dn, password, user_dn};

/// Clear text, memberOf, the role map, and `extra` lines.
fn memberof(extra: &str) -> LdapDirectory {
    directory(
        &shared().url(),
        &format!("starttls = false\n{ROLES}\n{extra}"),
    )
}

/// Clear text, a group search under ou=groups, the role map.
fn group_search(extra: &str) -> LdapDirectory {
    directory(
        &shared().url(),
        &format!(
            "starttls = false\ngroup_base = \"{}\"\ngroup_filter = \
             \"(&(objectClass=groupOfNames)(member={{dn}}))\"\n{ROLES}\n{extra}",
            slapd::GROUPS
        ),
    )
}

async fn login(d: &LdapDirectory, uid: &str) -> Result<hark_ldap::DirectoryUser, LdapError> {
    d.login(uid, &password(uid)).await
}

#[tokio::test]
async fn group_members_get_their_role_both_ways() {
    for d in [memberof(""), group_search("")] {
        let alice = login(&d, "alice").await.unwrap();
        assert_eq!(alice.role, Some(Role::Operator));
        assert_eq!(alice.dn, user_dn("alice"));
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.groups.len(), 1, "{:?}", alice.groups);
        assert!(alice.groups[0].eq_ignore_ascii_case(&group_dn("noc")));
        let bob = login(&d, "bob").await.unwrap();
        assert_eq!(bob.role, Some(Role::Admin), "{bob:?}");
    }
}

#[tokio::test]
async fn the_highest_role_of_several_groups_wins() {
    let dir = shared();
    dir.add_user("grace");
    dir.add_member("noc", "grace");
    dir.add_member("admins", "grace");
    for d in [memberof(""), group_search("")] {
        let grace = login(&d, "grace").await.unwrap();
        assert_eq!(grace.role, Some(Role::Admin), "{grace:?}");
        assert_eq!(grace.groups.len(), 2, "{grace:?}");
    }
}

#[tokio::test]
async fn users_in_no_mapped_group_get_the_default_role_or_are_refused() {
    let carol = login(&memberof("default_role = \"viewer\""), "carol")
        .await
        .unwrap();
    assert_eq!(carol.role, Some(Role::Viewer));
    assert!(carol.groups.is_empty());
    for d in [
        memberof("default_role = \"none\""),
        group_search("default_role = \"none\""),
    ] {
        let e = login(&d, "carol").await.unwrap_err();
        assert!(
            matches!(e, LdapError::NoRole { ref username } if username == "carol"),
            "{e}"
        );
        assert!(e.to_string().contains("default_role"), "{e}");
        // Mapped users still get in.
        assert_eq!(login(&d, "alice").await.unwrap().role, Some(Role::Operator));
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let d = memberof("");
    let wrong = d.login("alice", "not her password").await.unwrap_err();
    let unknown = d.login("mallory", "whatever").await.unwrap_err();
    assert!(matches!(wrong, LdapError::InvalidCredentials), "{wrong}");
    assert!(
        matches!(unknown, LdapError::InvalidCredentials),
        "{unknown}"
    );
    assert_eq!(wrong.to_string(), unknown.to_string());
    // Another user's password is not alice's.
    let e = d.login("alice", &password("bob")).await.unwrap_err();
    assert!(matches!(e, LdapError::InvalidCredentials), "{e}");
}

#[tokio::test]
async fn an_empty_password_is_refused_before_anything_is_sent() {
    let d = memberof("");
    let e = d.login("alice", "").await.unwrap_err();
    assert!(matches!(e, LdapError::InvalidCredentials), "{e}");
    // Nothing listens on this port: an attempt to connect would say so.
    let port = hark_testkit::free_tcp_port();
    let nowhere = directory(&format!("ldap://127.0.0.1:{port}"), "starttls = false");
    let e = nowhere.login("alice", "").await.unwrap_err();
    assert!(matches!(e, LdapError::InvalidCredentials), "{e}");
    let e = nowhere.login("alice", "x").await.unwrap_err();
    assert!(matches!(e, LdapError::Unreachable { .. }), "{e}");
}

#[tokio::test]
async fn filter_injection_logs_nobody_in() {
    let d = memberof("");
    for name in ["*)(uid=*", "*", "alice)(|(uid=*", "al*"] {
        for pw in [password("alice"), "x".to_owned()] {
            let e = d.login(name, &pw).await.unwrap_err();
            assert!(matches!(e, LdapError::InvalidCredentials), "{name}: {e}");
        }
        assert_eq!(d.revalidate(name).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn a_filter_matching_several_users_is_an_error_naming_it() {
    let d = directory(
        &shared().url(),
        &format!("starttls = false\nuser_filter = \"(|(uid={{username}})(sn=Example))\"\n{ROLES}"),
    );
    let e = login(&d, "alice").await.unwrap_err();
    assert!(matches!(e, LdapError::Ambiguous { .. }), "{e}");
    assert!(e.to_string().contains("(|(uid=alice)(sn=Example))"), "{e}");
}

#[tokio::test]
async fn a_wrong_service_password_names_the_config_keys() {
    let pw = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pw.path(), "not the service password\n").unwrap();
    let text = format!(
        "[auth.ldap]\nurl = \"{}\"\nstarttls = false\nbind_dn = \"{}\"\nbind_password_file = \
         \"{}\"\nuser_base = \"{}\"\n",
        shared().url(),
        slapd::SERVICE_DN,
        pw.path().display(),
        slapd::PEOPLE
    );
    let cfg = hark_config::Config::from_toml_str("hark.toml", &text).unwrap();
    let d = LdapDirectory::new(cfg.auth.ldap.as_ref().unwrap()).unwrap();
    let e = login(&d, "alice").await.unwrap_err();
    assert!(matches!(e, LdapError::ServiceBind { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("bind_password_file") && text.contains(slapd::SERVICE_DN),
        "{text}"
    );
    assert!(!text.contains("not the service password"), "{text}");
}

#[tokio::test]
async fn revalidation_follows_group_changes_and_deletions() {
    let dir = shared();
    dir.add_user("rita");
    dir.add_member("noc", "rita");
    let viewer_default = memberof("default_role = \"viewer\"");
    let refusing = group_search("default_role = \"none\"");
    for d in [&viewer_default, &refusing] {
        let rita = d.revalidate("rita").await.unwrap().expect("rita is valid");
        assert_eq!(rita.role, Some(Role::Operator));
        assert_eq!(rita.dn, user_dn("rita"));
    }
    dir.remove_member("noc", "rita");
    let rita = viewer_default
        .revalidate("rita")
        .await
        .unwrap()
        .expect("rita is valid");
    assert_eq!(rita.role, Some(Role::Viewer));
    assert!(rita.groups.is_empty(), "{rita:?}");
    assert_eq!(refusing.revalidate("rita").await.unwrap(), None);
    // The role is computed afresh at login too.
    assert_eq!(
        login(&viewer_default, "rita").await.unwrap().role,
        Some(Role::Viewer)
    );
    dir.delete_user("rita");
    assert_eq!(viewer_default.revalidate("rita").await.unwrap(), None);
    assert_eq!(refusing.revalidate("rita").await.unwrap(), None);
    let e = login(&viewer_default, "rita").await.unwrap_err();
    assert!(matches!(e, LdapError::InvalidCredentials), "{e}");
}

#[tokio::test]
async fn the_test_report_walks_through_a_login() {
    let d = memberof("");
    let report = d.test("alice", Some(&password("alice"))).await;
    assert!(report.ok(), "{report}");
    let names: Vec<&str> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "connect",
            "tls",
            "service bind",
            "user search",
            "groups",
            "role",
            "user bind"
        ]
    );
    let text = report.to_string();
    assert!(
        text.contains(&user_dn("alice")) && text.contains("operator"),
        "{text}"
    );
    assert!(text.contains("mail: alice@example.test"), "{text}");
    assert!(!text.contains(&password("alice")), "{text}");

    let report = d.test("alice", Some("wrong")).await;
    assert!(!report.ok());
    let last = report.steps.last().unwrap();
    assert_eq!(last.name, "user bind");
    assert!(last.detail.contains("49"), "{report}");

    let report = d.test("nobody-here", None).await;
    let last = report.steps.last().unwrap();
    assert_eq!((last.name, last.ok), ("user search", false), "{report}");
    assert!(last.detail.contains("(uid=nobody-here)"), "{report}");

    let report = memberof("default_role = \"none\"")
        .test("carol", None)
        .await;
    let last = report.steps.last().unwrap();
    assert_eq!((last.name, last.ok), ("role", false), "{report}");
}

#[tokio::test]
async fn a_group_inside_a_mapped_group_gives_its_role() {
    let dir = shared();
    dir.add_user("nina");
    dir.add_group("nina-team", &["nina"]);
    // `noc` is mapped to operator; nina-team is one of its members.
    dir.add_group_member("noc", "nina-team");
    let d = group_search("default_role = \"none\"");
    let nina = login(&d, "nina").await.unwrap();
    assert_eq!(nina.role, Some(Role::Operator));
    let groups: Vec<String> = nina.groups.iter().map(|g| g.to_lowercase()).collect();
    assert_eq!(groups, [group_dn("nina-team"), group_dn("noc")]);
    let again = d.revalidate("nina").await.unwrap().expect("nina is valid");
    assert_eq!(again.role, Some(Role::Operator));
}

#[tokio::test]
async fn nested_groups_in_a_cycle_are_each_followed_once() {
    let dir = shared();
    dir.add_user("nico");
    dir.add_group("loop-a", &["nico"]);
    dir.add_group_of_groups("loop-b", &["loop-a"]);
    dir.add_group_member("loop-a", "loop-b");
    let d = group_search("default_role = \"viewer\"");
    let nico = login(&d, "nico").await.unwrap();
    assert_eq!(nico.role, Some(Role::Viewer));
    let groups: Vec<String> = nico.groups.iter().map(|g| g.to_lowercase()).collect();
    assert_eq!(groups, [group_dn("loop-a"), group_dn("loop-b")]);
}

#[tokio::test]
async fn nesting_is_followed_at_most_max_nesting_levels_up() {
    let dir = shared();
    dir.add_user("nadia");
    // depth-0 holds nadia, depth-1 holds depth-0, … up to MAX_NESTING + 1.
    dir.add_group("depth-0", &["nadia"]);
    for level in 1..=hark_ldap::MAX_NESTING + 1 {
        let below = format!("depth-{}", level - 1);
        dir.add_group_of_groups(&format!("depth-{level}"), &[below.as_str()]);
    }
    let deepest_followed = group_dn(&format!("depth-{}", hark_ldap::MAX_NESTING));
    let one_too_far = group_dn(&format!("depth-{}", hark_ldap::MAX_NESTING + 1));
    let d = directory(
        &dir.url(),
        &format!(
            "starttls = false\ngroup_base = \"{}\"\ngroup_filter = \
             \"(&(objectClass=groupOfNames)(member={{dn}}))\"\nroles = {{ \"{deepest_followed}\" \
             = \"operator\", \"{one_too_far}\" = \"admin\" }}\ndefault_role = \"none\"\n",
            slapd::GROUPS
        ),
    );
    let nadia = login(&d, "nadia").await.unwrap();
    assert_eq!(nadia.role, Some(Role::Operator));
    assert_eq!(
        nadia.groups.len(),
        hark_ldap::MAX_NESTING + 1,
        "{:?}",
        nadia.groups
    );
}

#[tokio::test]
async fn a_user_in_more_groups_than_one_search_returns_gets_them_all() {
    let dir = shared();
    dir.add_user("paula");
    // The directory answers one search with at most 100 entries.
    let many: Vec<String> = (0..150).map(|i| format!("paula-{i:03}")).collect();
    dir.add_groups(&many, &["paula"]);
    dir.add_member("admins", "paula");
    let paula = login(&group_search("default_role = \"none\""), "paula")
        .await
        .unwrap();
    assert_eq!(paula.groups.len(), 151, "{:?}", paula.groups.len());
    assert_eq!(paula.role, Some(Role::Admin));
}
