//! `hark auth test-ldap`: the steps printed, the password never, and the
//! exit code, against a real slapd.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use hark_testkit::peers::slapd::{self, Slapd, password};

fn directory() -> &'static Slapd {
    static SLAPD: OnceLock<Slapd> = OnceLock::new();
    SLAPD.get_or_init(Slapd::start_shared)
}

/// A configuration file whose [auth.ldap] points at `url` (clear text).
fn config(dir: &tempfile::TempDir, url: &str) -> PathBuf {
    let pw = dir.path().join("ldap.pass");
    std::fs::write(&pw, format!("{}\n", slapd::SERVICE_PASSWORD)).unwrap();
    let path = dir.path().join("hark.toml");
    std::fs::write(
        &path,
        format!(
            "[auth.ldap]\nurl = \"{url}\"\nstarttls = false\nbind_dn = \"{}\"\n\
             bind_password_file = \"{}\"\nuser_base = \"{}\"\n\
             roles = {{ \"{}\" = \"operator\" }}\n",
            slapd::SERVICE_DN,
            pw.display(),
            slapd::PEOPLE,
            slapd::group_dn("noc"),
        ),
    )
    .unwrap();
    path
}

/// Runs `hark auth test-ldap` with `args`, writing `stdin`.
fn test_ldap(args: &[&str], stdin: &str) -> (Output, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(["auth", "test-ldap"])
        .args(args)
        .env_remove("HARK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hark runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn a_good_login_passes_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir, &directory().url());
    let cfg = cfg.to_str().unwrap();
    let (out, text) = test_ldap(
        &["alice", "--config", cfg, "--password-stdin"],
        &format!("{}\n", password("alice")),
    );
    assert!(out.status.success(), "{text}");
    for step in [
        "connect",
        "tls",
        "service bind",
        "user search",
        "groups",
        "role",
        "user bind",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok") && l.contains(step)),
            "{step}: {text}"
        );
    }
    assert!(
        text.contains(&slapd::user_dn("alice")) && text.contains("operator"),
        "{text}"
    );
    assert!(!text.contains(&password("alice")), "{text}");
    assert!(!text.contains(slapd::SERVICE_PASSWORD), "{text}");

    let (out, text) = test_ldap(&["bob", "--config", cfg], "");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("viewer (default_role"), "{text}");
    assert!(text.contains("--password-stdin"), "{text}");
}

#[test]
fn a_failed_step_is_shown_and_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir, &directory().url());
    let cfg = cfg.to_str().unwrap();
    let (out, text) = test_ldap(
        &["alice", "--config", cfg, "--password-stdin"],
        "not-her-password\n",
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("user bind")),
        "{text}"
    );
    assert!(!text.contains("not-her-password"), "{text}");

    let (out, text) = test_ldap(&["nobody-here", "--config", cfg], "");
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("(uid=nobody-here)"), "{text}");

    let port = hark_testkit::free_tcp_port();
    let down = config(&dir, &format!("ldap://127.0.0.1:{port}"));
    let (out, text) = test_ldap(&["alice", "--config", down.to_str().unwrap()], "");
    assert!(!out.status.success(), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("connect")),
        "{text}"
    );
}

#[test]
fn a_configuration_without_ldap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hark.toml");
    std::fs::write(&path, "").unwrap();
    let (out, text) = test_ldap(&["alice", "--config", path.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(text.contains("[auth.ldap]"), "{text}");
}
