//! Local user accounts of a server under test, and requests made with a
//! browser session's cookie from outside the browser.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::browser::SESSION_COOKIE;
use crate::hark_bin;
use crate::server::Hark;

/// A local account: name, role and password.
#[derive(Debug, Clone, Copy)]
pub struct Account {
    /// The user name.
    pub name: &'static str,
    /// `admin`, `operator` or `viewer`.
    pub role: &'static str,
    /// The password.
    pub password: &'static str,
}

/// Runs `hark user add NAME --role ROLE --config FILE` with the password on
/// stdin; panics unless it succeeds.
pub fn add_user(hark: &Hark, account: &Account) {
    let mut child = Command::new(hark_bin())
        .args([
            "user",
            "add",
            account.name,
            "--role",
            account.role,
            "--config",
        ])
        .arg(hark.config_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hark user add");
    {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(format!("{}\n", account.password).as_bytes())
            .expect("write the password to hark user add");
    }
    let out = child.wait_with_output().expect("wait for hark user add");
    assert!(
        out.status.success(),
        "hark user add {} --role {} failed: {:?}\nstdout: {}\nstderr: {}",
        account.name,
        account.role,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// GET `path` with only the session cookie `session` (no token, no
/// origin): the status.
pub fn get_with_session(hark: &Hark, path: &str, session: &str) -> u16 {
    let url = format!("{}{path}", hark.api_url());
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build an HTTP client")
        .get(&url)
        .header("cookie", format!("{SESSION_COOKIE}={session}"))
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}\n{}", hark.output()))
        .status()
        .as_u16()
}
