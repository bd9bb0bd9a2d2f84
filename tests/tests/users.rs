//! Users of the web UI: `hark user add|list|passwd|remove` on a running
//! server's data directory, signing in through the API, and the first
//! start's `admin` user.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use hark_e2e::{Hark, hark_bin};
use serde_json::{Value, json};

/// Runs `hark user ARGS --config <the server's>` with `stdin` as input.
fn user(hark: &Hark, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(hark_bin())
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(hark.config_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hark user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    child.wait_with_output().expect("hark user ends")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Signs in; the session id of the cookie, or the status and body.
fn login(hark: &Hark, name: &str, password: &str) -> Result<String, (u16, String)> {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/login", hark.api_url()))
        .json(&json!({"username": name, "password": password}))
        .send()
        .expect("login request");
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.text().unwrap_or_default();
    match (status, cookie) {
        (200, Some(c)) => {
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            let pair = c.split(';').next().unwrap_or_default();
            Ok(pair.trim_start_matches("hark_session=").to_owned())
        }
        _ => Err((status, body)),
    }
}

/// `GET /api/v1/me` with the session: status and body.
fn me(hark: &Hark, session: &str) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/me", hark.api_url()))
        .header("cookie", format!("hark_session={session}"))
        .send()
        .expect("me request");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

#[test]
fn users_added_and_removed_while_the_server_runs() {
    let hark = Hark::start("");
    ok(
        &user(
            &hark,
            &["add", "e2e-alice", "--role", "operator"],
            "alice's password\n",
        ),
        "hark user add",
    );
    let listed = ok(&user(&hark, &["list"], ""), "hark user list");
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("e2e-alice") && l.contains("operator")),
        "{listed}"
    );

    let session = login(&hark, "e2e-alice", "alice's password").expect("alice signs in");
    let (status, who) = me(&hark, &session);
    assert_eq!(status, 200, "{who}");
    assert_eq!(
        who,
        json!({"kind": "user", "name": "e2e-alice", "role": "operator"})
    );
    assert_eq!(
        login(&hark, "e2e-alice", "not her password").unwrap_err().0,
        401
    );

    // A new password ends the session; the new one works.
    ok(
        &user(&hark, &["passwd", "e2e-alice"], "alice's new password\n"),
        "hark user passwd",
    );
    assert_eq!(me(&hark, &session).0, 401);
    let session = login(&hark, "e2e-alice", "alice's new password").expect("new password");
    assert_eq!(me(&hark, &session).0, 200);

    ok(
        &user(&hark, &["remove", "e2e-alice"], ""),
        "hark user remove",
    );
    assert_eq!(
        me(&hark, &session).0,
        401,
        "the removed user's session ends"
    );
    assert_eq!(
        login(&hark, "e2e-alice", "alice's new password")
            .unwrap_err()
            .0,
        401
    );
    let again = user(&hark, &["remove", "e2e-alice"], "");
    assert!(!again.status.success(), "removing a missing user fails");
}

#[test]
fn first_start_prints_the_admin_password_and_ui() {
    let hark = Hark::start("");
    let output = hark.output();
    let line = output
        .lines()
        .find(|l| l.contains("admin user: admin"))
        .unwrap_or_else(|| panic!("no admin user line:\n{output}"));
    let password = line
        .split_whitespace()
        .skip_while(|w| *w != "password:")
        .nth(1)
        .expect("a password");
    assert!(password.len() >= 20, "{line}");
    assert!(
        output.lines().any(|l| l
            .trim_start_matches("[out] ")
            .starts_with("ui http://127.0.0.1:")),
        "{output}"
    );
    let session = login(&hark, "admin", password).expect("admin signs in");
    let (status, who) = me(&hark, &session);
    assert_eq!((status, &who["role"]), (200, &json!("admin")), "{who}");
}
