//! SMTP delivery against a real server (aiosmtpd): plain, STARTTLS with
//! AUTH, implicit TLS, refusals, a server that is down, restarts, grouping.

mod common;

use common::{DEADLINE, firing, path_str, record, start, wait_record, wait_sent};
use hark_e2e::smtp::{SMTP_PASSWORD, SMTP_USER, SmtpMode, SmtpServer};
use hark_notify::{DeliveryState, NotifyError};

/// A `[notify.mail]` table for `server`, logging in with `password` in the TLS modes.
fn mail_channel(server: &SmtpServer, dir: &std::path::Path, password: &str, extra: &str) -> String {
    let mut t = format!(
        "[notify.mail]\ntype = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Hark <hark@example.test>\"\nto = [\"ops@example.test\"]\n{extra}\n",
        server.port
    );
    match server.mode {
        SmtpMode::Plain => t.push_str("tls = \"none\"\n"),
        mode => {
            let pass = dir.join("smtp.pass");
            std::fs::write(&pass, format!("{password}\n")).unwrap();
            t.push_str(&format!(
                "tls = \"{}\"\nusername = \"{SMTP_USER}\"\npassword_file = {}\nca_file = {}\n",
                if mode == SmtpMode::Tls {
                    "tls"
                } else {
                    "starttls"
                },
                path_str(&pass),
                path_str(server.ca_file().unwrap()),
            ));
        }
    }
    t
}

const AT_ONCE: &str = "group_wait = \"0s\"\ngroup_interval = \"0s\"\n";

async fn delivers_one_mail(mode: SmtpMode) {
    let server = SmtpServer::start(mode);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &mail_channel(&server, dir.path(), SMTP_PASSWORD, AT_ONCE),
    );
    notifier.submit(firing("n1", "mail", "web1")).unwrap();
    let rec = wait_sent(&notifier, "n1").await;
    let mails = server.wait_for(1, DEADLINE);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(
        m.header("Subject"),
        Some("[FIRING] ssh_bruteforce host=web1")
    );
    assert_eq!(m.header("X-Hark-Notification-Id"), Some("n1"));
    assert!(
        m.header("Message-ID")
            .is_some_and(|id| id.ends_with("@hark>")),
        "{m:?}"
    );
    assert_eq!(m.rcpt_tos, ["ops@example.test"]);
    assert!(m.body.contains("Where: host=web1"), "{}", m.body);
    assert!(m.body.contains("Failed password for root"), "{}", m.body);
    assert_eq!(m.tls, mode != SmtpMode::Plain);
    let expected_user = (mode != SmtpMode::Plain).then(|| SMTP_USER.to_owned());
    assert_eq!(m.authenticated_as, expected_user);
    assert_eq!(rec.attempts.len(), 1);
    let answer = rec.attempts[0].answer.as_deref().unwrap();
    assert!(
        answer.starts_with("250 2.0.0 Ok queued as hark-test-"),
        "{answer}"
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_smtp_delivers() {
    delivers_one_mail(SmtpMode::Plain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_auth_delivers() {
    delivers_one_mail(SmtpMode::Starttls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_with_auth_delivers() {
    delivers_one_mail(SmtpMode::Tls).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_recorded_with_the_answer_and_retried() {
    let server = SmtpServer::start(SmtpMode::Starttls);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &mail_channel(&server, dir.path(), "wrong", AT_ONCE),
    );
    notifier.submit(firing("n1", "mail", "web1")).unwrap();
    let rec = wait_record(&notifier, "n1", "tried twice", |r| r.attempts.len() >= 2).await;
    assert_eq!(rec.state, DeliveryState::Pending);
    for a in &rec.attempts {
        let error = a.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("535"), "{error}");
        assert!(a.answer.is_none());
    }
    assert!(server.messages().is_empty());
    // The direct test through the same channel fails with the same answer.
    let e = notifier.test("mail").await.unwrap_err();
    assert!(
        matches!(&e, NotifyError::Send { answer, .. } if answer.starts_with("535")),
        "{e}"
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_gets_the_notification_once_it_is_up() {
    let port = hark_testkit::free_tcp_port();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[notify.mail]\ntype = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"hark@example.test\"\nto = [\"ops@example.test\"]\n{AT_ONCE}"
    );
    let notifier = start(dir.path(), &toml);
    notifier.submit(firing("n1", "mail", "web1")).unwrap();
    let rec = wait_record(&notifier, "n1", "refused twice", |r| r.attempts.len() >= 2).await;
    assert_eq!(rec.state, DeliveryState::Pending);
    assert!(rec.attempts.iter().all(|a| a.error.is_some()), "{rec:?}");

    let server = SmtpServer::start_on(port, SmtpMode::Plain);
    let rec = wait_sent(&notifier, "n1").await;
    assert!(rec.attempts.last().unwrap().answer.is_some());
    let mails = server.wait_for(1, DEADLINE);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].header("X-Hark-Notification-Id"), Some("n1"));
    notifier.shutdown().await;
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_notifier_does_not_resend_and_ignores_known_ids() {
    let server = SmtpServer::start(SmtpMode::Plain);
    let dir = tempfile::tempdir().unwrap();
    let toml = mail_channel(&server, dir.path(), "", AT_ONCE);
    let first = start(dir.path(), &toml);
    first.submit(firing("n1", "mail", "web1")).unwrap();
    wait_sent(&first, "n1").await;
    first.shutdown().await;

    let second = start(dir.path(), &toml);
    assert_eq!(record(&second, "n1").unwrap().state, DeliveryState::Sent);
    second.submit(firing("n1", "mail", "web1")).unwrap();
    second.submit(firing("n2", "mail", "web2")).unwrap();
    wait_sent(&second, "n2").await;
    let ids: Vec<String> = server
        .wait_for(2, DEADLINE)
        .iter()
        .filter_map(|m| m.header("X-Hark-Notification-Id").map(str::to_owned))
        .collect();
    assert_eq!(ids, ["n1", "n2"]);
    assert_eq!(record(&second, "n1").unwrap().attempts.len(), 1);
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_notifications_within_group_wait_make_one_digest() {
    let server = SmtpServer::start(SmtpMode::Plain);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &mail_channel(&server, dir.path(), "", "group_wait = \"10s\"\n"),
    );
    for i in 0..50 {
        notifier
            .submit(firing(&format!("n{i:02}"), "mail", &format!("web{i}")))
            .unwrap();
    }
    for i in 0..50 {
        wait_sent(&notifier, &format!("n{i:02}")).await;
    }
    let mails = server.wait_for(1, DEADLINE);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.header("Subject"), Some("[50 alerts] ssh_bruteforce"));
    for i in 0..50 {
        assert!(
            m.body.contains(&format!("Id: n{i:02}\n")),
            "n{i:02} missing"
        );
        assert!(
            m.body.contains(&format!("Where: host=web{i}\n")),
            "web{i} missing"
        );
    }
    assert!(
        m.header("X-Hark-Notification-Id")
            .is_some_and(|k| k.starts_with("digest-"))
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_spaced_by_group_interval() {
    let server = SmtpServer::start(SmtpMode::Plain);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &mail_channel(
            &server,
            dir.path(),
            "",
            "group_wait = \"0s\"\ngroup_interval = \"2s\"\n",
        ),
    );
    notifier.submit(firing("n1", "mail", "web1")).unwrap();
    let first = wait_sent(&notifier, "n1").await;
    notifier.submit(firing("n2", "mail", "web2")).unwrap();
    notifier.submit(firing("n3", "mail", "web3")).unwrap();
    let second = wait_sent(&notifier, "n2").await;
    let third = wait_sent(&notifier, "n3").await;
    let gap = second.attempts[0].at - first.attempts[0].at;
    assert!(
        gap >= 2_000_000_000,
        "second message {gap} ns after the first"
    );
    // n2 and n3 waited together and went as one digest.
    assert_eq!(second.attempts, third.attempts);
    let mails = server.wait_for(2, DEADLINE);
    assert_eq!(mails.len(), 2);
    assert_eq!(
        mails[1].header("Subject"),
        Some("[2 alerts] ssh_bruteforce")
    );
    notifier.shutdown().await;
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_message_is_sent_at_once_and_listed() {
    let server = SmtpServer::start(SmtpMode::Plain);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &mail_channel(&server, dir.path(), "", "group_wait = \"1h\"\n"),
    );
    let answer = notifier.test("mail").await.unwrap();
    assert!(answer.starts_with("250 "), "{answer}");
    let mails = server.wait_for(1, DEADLINE);
    assert_eq!(mails[0].header("Subject"), Some("[TEST] test"));
    let records = notifier.records(10);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].state, DeliveryState::Sent);
    assert_eq!(
        records[0].attempts[0].answer.as_deref(),
        Some(answer.as_str())
    );
    let e = notifier.submit(firing("x", "nowhere", "h")).unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown notification channel `nowhere`"),
        "{e}"
    );
    notifier.shutdown().await;
}
