//! Notification channels end to end: `hark notify test` against a real
//! SMTP server (aiosmtpd with STARTTLS and AUTH), and a server whose
//! channels appear in its communication matrix and notification list.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use hark_e2e::smtp::{SMTP_PASSWORD, SMTP_USER, SmtpMode, SmtpServer};
use hark_e2e::{Hark, hark_bin};
use serde_json::Value;

/// A `[notify.mail]` table for `server`, logging in with `password`.
fn mail_channel(server: &SmtpServer, dir: &Path, password: &str) -> String {
    let pass = dir.join("smtp.pass");
    std::fs::write(&pass, format!("{password}\n")).expect("write the password file");
    format!(
        "[notify.mail]\ntype = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\n\
         username = \"{SMTP_USER}\"\npassword_file = {:?}\nca_file = {:?}\n\
         from = \"Hark <hark@example.test>\"\nto = [\"ops@example.test\"]\n",
        server.port,
        pass.display().to_string(),
        server
            .ca_file()
            .expect("a TLS server has a CA")
            .display()
            .to_string(),
    )
}

fn notify_test(config: &Path, channel: &str) -> Output {
    Command::new(hark_bin())
        .args(["notify", "test", channel, "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .expect("run hark notify test")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn notify_test_prints_the_servers_answer() {
    let smtp = SmtpServer::start(SmtpMode::Starttls);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hark.toml");
    std::fs::write(&config, mail_channel(&smtp, dir.path(), SMTP_PASSWORD)).unwrap();
    let out = notify_test(&config, "mail");
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("250 2.0.0 Ok queued as hark-test-"),
        "{}",
        text(&out)
    );
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].header("Subject"), Some("[TEST] test"));
    assert_eq!(mails[0].authenticated_as.as_deref(), Some(SMTP_USER));
    assert!(mails[0].tls);
}

#[test]
fn notify_test_with_a_wrong_password_fails_with_the_535() {
    let smtp = SmtpServer::start(SmtpMode::Starttls);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hark.toml");
    std::fs::write(&config, mail_channel(&smtp, dir.path(), "not the password")).unwrap();
    let out = notify_test(&config, "mail");
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("channel `mail`: 535"), "{}", text(&out));
    assert!(smtp.messages().is_empty());

    let out = notify_test(&config, "pager");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("unknown notification channel `pager`; configured: mail"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_served_channel_is_in_the_matrix_and_the_notification_list() {
    let smtp = SmtpServer::start(SmtpMode::Starttls);
    let secrets = tempfile::tempdir().unwrap();
    let hark = Hark::builder()
        .extra(&mail_channel(&smtp, secrets.path(), SMTP_PASSWORD))
        .start();

    let (status, body) = hark.get_as("/api/v1/ports", Some(hark.token()));
    assert_eq!(status, 200, "{body}");
    let flows: Vec<Value> = serde_json::from_str(&body).unwrap();
    let row = flows
        .iter()
        .find(|f| f["component"] == "notify.mail")
        .unwrap_or_else(|| panic!("no notify.mail row in {body}"));
    assert_eq!(row["port"], smtp.port);
    assert_eq!(row["protocol"], "smtp");
    assert_eq!(row["security"], "tls");

    // `hark ports --check` reaches the SMTP server.
    let out = Command::new(hark_bin())
        .args(["ports", "--check", "--format", "json", "--config"])
        .arg(hark.config_path())
        .stdin(Stdio::null())
        .output()
        .expect("run hark ports --check");
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("ports --check JSON ({e}): {}", text(&out)));
    let smtp_check = checks
        .iter()
        .find(|c| c["component"] == "notify.mail")
        .unwrap_or_else(|| panic!("no notify.mail check: {}", text(&out)));
    assert_eq!(smtp_check["ok"], true, "{smtp_check}");

    let (status, body) = hark.get_as("/api/v1/notifications?limit=10", Some(hark.token()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), "[]");
    let (status, _) = hark.get_as("/api/v1/notifications", None);
    assert_eq!(status, 401);
}
