//! Alerts end to end: rules over logs sent by `logger` and `hark send`,
//! over monitor states of real TCP and HTTP targets, the event console fed
//! by net-snmp's `snmptrap`, and mail delivered to a real SMTP server
//! (aiosmtpd) that is down, killed around and restarted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hark_e2e::smtp::{Mail, SmtpMode, SmtpServer};
use hark_e2e::webhook::WebhookReceiver;
use hark_e2e::{Hark, Transport, hark_bin, hostname};
use hark_testkit::peers::run_logger;
use hark_testkit::targets::{HttpTarget, TcpTarget};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// `[notify.mail]` for a plain SMTP server on `port`, sending each
/// notification at once unless `group_wait` says otherwise.
fn mail_channel(port: u16, group_wait: &str) -> String {
    format!(
        "[notify.mail]\ntype = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
         from = \"Hark <hark@example.test>\"\nto = [\"ops@example.test\"]\n\
         group_wait = \"{group_wait}\"\ngroup_interval = \"0s\"\n"
    )
}

fn subjects(mails: &[Mail]) -> Vec<String> {
    let mut s: Vec<String> = mails
        .iter()
        .map(|m| m.header("Subject").unwrap_or("").to_owned())
        .collect();
    s.sort();
    s
}

/// Sends `n` syslog lines as `host`/`app` through `hark send` over TCP.
fn send(hark: &Hark, host: &str, app: &str, n: u64, message: &str) {
    let out = Command::new(hark_bin())
        .args(["send", "--target"])
        .arg(hark.addr("tcp").to_string())
        .args([
            "--host",
            host,
            "--app",
            app,
            "-n",
            &n.to_string(),
            "--message",
            message,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run hark send");
    assert!(
        out.status.success(),
        "hark send: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until `smtp` has `n` mails, then a little longer to catch extra ones.
fn exactly(smtp: &SmtpServer, n: usize, hark: &Hark) -> Vec<Mail> {
    let mails = smtp.wait_for(n, WAIT);
    assert!(
        mails.len() >= n,
        "expected {n} mails, got {:?}\n{}",
        subjects(&mails),
        hark.output()
    );
    std::thread::sleep(Duration::from_secs(3));
    let mails = smtp.messages();
    assert_eq!(mails.len(), n, "{:?}", subjects(&mails));
    mails
}

#[test]
fn log_rules_mail_each_host_once_its_recovery_and_a_host_gone_quiet() {
    let smtp = SmtpServer::start(SmtpMode::Plain);
    let hark = Hark::builder()
        .input("udp", Transport::Udp)
        .input("tcp", Transport::Tcp)
        .extra(&mail_channel(smtp.port, "0s"))
        .extra(
            r#"
[alerts.ssh]
type = "log"
query = 'app:sshd AND "Failed password"'
group_by = ["host"]
window = "6s"
condition = "count > 20"
notify = ["mail"]

[alerts.quiet]
type = "log"
query = "app:heartbeat"
group_by = ["host"]
window = "4s"
condition = "count < 1"
notify = ["mail"]
"#,
        )
        .start();
    let me = hostname();
    // 25 failed logins from this host, by logger.
    let port = hark.port("udp").to_string();
    for i in 0..25 {
        let line = format!("Failed password for root from 10.0.0.{i} port 22 ssh2");
        run_logger(&["-n", "127.0.0.1", "-P", &port, "-d", "-t", "sshd", &line]);
    }
    let first = smtp.wait_for(1, WAIT);
    assert_eq!(
        first[0].header("Subject"),
        Some(format!("[FIRING] ssh host={me}").as_str()),
        "{}",
        hark.output()
    );
    assert!(
        first[0].body.contains("Failed password for root"),
        "{}",
        first[0].body
    );
    // A silenced host fires but mails no one; another host mails on its own.
    let out = hark.run_cli(&["silence", "add", "-m", "host=web3", "--comment", "test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    send(
        &hark,
        "web3",
        "sshd",
        25,
        "Failed password for admin from 10.0.0.3",
    );
    send(
        &hark,
        "web2",
        "sshd",
        25,
        "Failed password for admin from 10.0.0.2",
    );
    // The heartbeat host sends once, then goes quiet.
    send(&hark, "beat1", "heartbeat", 1, "alive");
    // Firing: me, web2, beat1; resolved: me, web2 (web3's are silenced).
    let mails = exactly(&smtp, 5, &hark);
    assert_eq!(
        subjects(&mails),
        [
            "[FIRING] quiet host=beat1".to_owned(),
            format!("[FIRING] ssh host={me}"),
            "[FIRING] ssh host=web2".to_owned(),
            format!("[RESOLVED] ssh host={me}"),
            "[RESOLVED] ssh host=web2".to_owned(),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // Every message carries its own id.
    let ids: std::collections::BTreeSet<_> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(ids.len(), 5);
    // The alerts list shows web3's silenced alert.
    let (status, body) = hark.get_as("/api/v1/alerts", Some(hark.token()));
    assert_eq!(status, 200);
    let alerts: Vec<Value> = serde_json::from_str(&body).unwrap();
    let web3 = alerts
        .iter()
        .find(|a| a["group"][0][1] == "web3")
        .unwrap_or_else(|| panic!("no web3 alert in {body}"));
    assert_eq!(web3["silenced"], true);
    let out = hark.run_cli(&["alerts", "--all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("quiet: count 0 < 1"), "{text}");
}

#[test]
fn monitor_rules_mail_hard_changes_flapping_once_and_nothing_in_downtime() {
    let smtp = SmtpServer::start(SmtpMode::Plain);
    let mut target = TcpTarget::up();
    let mut quiet = TcpTarget::up();
    // 200 and 500 in turn.
    let http = HttpTarget::start(|n| {
        if n % 2 == 1 {
            (200, String::new())
        } else {
            (500, String::new())
        }
    });
    let hark = Hark::builder()
        .extra(&mail_channel(smtp.port, "0s"))
        .extra(&format!(
            r#"
[monitors.shop]
type = "tcp"
host = "127.0.0.1"
port = {}
interval = "1s"
max_attempts = 2

[monitors.batch]
type = "tcp"
host = "127.0.0.1"
port = {}
interval = "1s"
max_attempts = 2

[monitors.flappy]
type = "http"
url = "{}"
interval = "300ms"
max_attempts = 1

[alerts.problems]
type = "monitor"
notify = ["mail"]
"#,
            target.port(),
            quiet.port(),
            http.url("/")
        ))
        .start();
    // batch is in downtime when it fails: no mail for it.
    let out = hark.run_cli(&["downtime", "add", "batch", "--duration", "1h"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    quiet.stop();
    // Let shop be checked OK, then stop it.
    std::thread::sleep(Duration::from_secs(2));
    target.stop();
    let deadline = Instant::now() + WAIT;
    let shop_mails = |smtp: &SmtpServer| -> Vec<String> {
        subjects(&smtp.messages())
            .into_iter()
            .filter(|s| s.contains("monitor=shop"))
            .collect()
    };
    while shop_mails(&smtp).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        shop_mails(&smtp),
        ["[FIRING] problems monitor=shop"],
        "{}",
        hark.output()
    );
    target.start();
    while shop_mails(&smtp).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        shop_mails(&smtp),
        [
            "[FIRING] problems monitor=shop",
            "[RESOLVED] problems monitor=shop"
        ]
    );
    let mails = smtp.messages();
    let firing = mails
        .iter()
        .find(|m| m.header("Subject") == Some("[FIRING] problems monitor=shop"))
        .unwrap();
    assert!(firing.body.contains("shop is CRIT"), "{}", firing.body);
    // flappy: one mail when it starts flapping; after it no problem is
    // announced, only (at most once) the end of the one announced before.
    let flappy: Vec<String> = mails
        .iter()
        .map(|m| m.header("Subject").unwrap_or("").to_owned())
        .filter(|s| s.contains("monitor=flappy"))
        .collect();
    let started = flappy
        .iter()
        .position(|s| s == "[FLAPPING] problems monitor=flappy")
        .unwrap_or_else(|| panic!("no flapping mail: {flappy:?}"));
    let after = &flappy[started + 1..];
    assert!(
        after.iter().all(|s| s.starts_with("[RESOLVED]")) && after.len() <= 1,
        "{flappy:?}"
    );
    assert_eq!(
        flappy
            .iter()
            .filter(|s| s.starts_with("[FLAPPING]"))
            .count(),
        1,
        "{flappy:?}"
    );
    // batch failed hard within its downtime.
    let (_, body) = hark.get_as("/api/v1/monitors/batch", Some(hark.token()));
    let batch: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(batch["state"], "CRIT", "{body}");
    assert!(
        subjects(&smtp.messages())
            .iter()
            .all(|s| !s.contains("monitor=batch"))
    );
}

#[test]
fn the_event_console_opens_and_closes_problems_from_snmp_traps() {
    let hark = Hark::builder()
        .typed_input(
            "traps",
            "snmptrap",
            None,
            true,
            "communities = [\"public\"]\n",
        )
        .extra(
            r#"
[event_rules.link]
match = 'snmp.trap_name:linkDown'
cancel = 'snmp.trap_name:linkUp'
key = ["host", "snmp.ifIndex"]
state = "CRIT"
"#,
        )
        .start();
    let port = hark.port("traps").to_string();
    let trap = |name: &str, index: &str| {
        let target = format!("udp:127.0.0.1:{port}");
        let oid = if name == "linkDown" {
            "1.3.6.1.6.3.1.1.5.3"
        } else {
            "1.3.6.1.6.3.1.1.5.4"
        };
        let if_index = format!("1.3.6.1.2.1.2.2.1.1.{index}");
        let if_descr = format!("1.3.6.1.2.1.2.2.1.2.{index}");
        let descr = format!("eth{index}");
        let out = Command::new("snmptrap")
            .args(["-v", "2c", "-c", "public", &target, "", oid])
            .args([
                if_index.as_str(),
                "i",
                index,
                if_descr.as_str(),
                "s",
                &descr,
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run snmptrap (package snmp)");
        assert!(out.status.success(), "{out:?}");
    };
    let problems = |hark: &Hark| -> Vec<Value> {
        let (_, body) = hark.get_as("/api/v1/problems", Some(hark.token()));
        serde_json::from_str(&body).unwrap()
    };
    let wait = |hark: &Hark, what: &dyn Fn(&[Value]) -> bool| {
        let deadline = Instant::now() + WAIT;
        loop {
            let p = problems(hark);
            if what(&p) {
                return p;
            }
            assert!(Instant::now() < deadline, "{p:?}\n{}", hark.output());
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let open = |p: &[Value]| p.iter().filter(|x| x["phase"] == "open").count();
    trap("linkDown", "2");
    let p = wait(&hark, &|p| open(p) == 1);
    assert_eq!(p[0]["key"][1][1], "2");
    assert_eq!(p[0]["state"], "CRIT");
    trap("linkDown", "3");
    wait(&hark, &|p| open(p) == 2);
    trap("linkUp", "2");
    let p = wait(&hark, &|p| open(p) == 1);
    let closed: Vec<&Value> = p.iter().filter(|x| x["phase"] == "closed").collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["key"][1][1], "2");
    assert!(
        closed[0]["closed_reason"]
            .as_str()
            .unwrap()
            .starts_with("cancelled: linkUp")
    );
    // The changes are events too.
    assert_eq!(
        hark.wait_total("app:hark-events AND change:opened", 2, WAIT),
        2
    );
    assert_eq!(
        hark.wait_total("app:hark-events AND change:closed", 1, WAIT),
        1
    );
    // Closed by hand through the CLI.
    let id = p.iter().find(|x| x["phase"] == "open").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = hark.run_cli(&["problems", "close", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait(&hark, &|p| open(p) == 0);
}

#[test]
fn a_notification_survives_a_dead_mail_server_and_a_kill_and_arrives_once() {
    let port = hark_testkit::free_tcp_port();
    let mut hark = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&mail_channel(port, "0s"))
        .extra(
            r#"
[alerts.ssh]
type = "log"
query = 'app:sshd'
group_by = ["host"]
window = "1h"
condition = "count > 2"
notify = ["mail"]
"#,
        )
        .start();
    send(&hark, "web1", "sshd", 5, "Failed password");
    // The mail server is down: the notification waits, with its attempts.
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, body) = hark.get_as("/api/v1/notifications", Some(hark.token()));
        let list: Vec<Value> = serde_json::from_str(&body).unwrap();
        if list.first().is_some_and(|n| {
            n["state"] == "pending" && n["attempts"].as_array().is_some_and(|a| !a.is_empty())
        }) {
            break;
        }
        assert!(Instant::now() < deadline, "{body}\n{}", hark.output());
        std::thread::sleep(Duration::from_millis(200));
    }
    hark.kill9();
    hark.restart();
    let smtp = SmtpServer::start_on(port, SmtpMode::Plain);
    let mails = exactly(&smtp, 1, &hark);
    assert_eq!(mails[0].header("Subject"), Some("[FIRING] ssh host=web1"));
    let (_, body) = hark.get_as("/api/v1/notifications", Some(hark.token()));
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(list[0]["state"], "sent", "{body}");
}

#[test]
fn a_webhook_that_fails_three_times_gets_the_notification_once() {
    let receiver = WebhookReceiver::start(3, Some("s3cret"));
    let hark_dir = tempfile::tempdir().unwrap();
    let secret = hark_dir.path().join("hook.secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let hark = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&format!(
            "[notify.hook]\ntype = \"webhook\"\nurl = \"{}\"\nsecret_file = {:?}\n\
             group_wait = \"0s\"\ngroup_interval = \"0s\"\n",
            receiver.url(),
            secret.display().to_string()
        ))
        .extra(
            r#"
[alerting]
give_up_after = "1h"

[alerts.ssh]
type = "log"
query = 'app:sshd'
window = "1h"
condition = "count > 2"
notify = ["hook"]
"#,
        )
        .start();
    send(&hark, "web1", "sshd", 5, "Failed password");
    let seen = receiver.wait_for_status(200, WAIT);
    assert_eq!(
        seen.iter().filter(|r| r.status == 200).count(),
        1,
        "{}",
        hark.output()
    );
    std::thread::sleep(Duration::from_secs(3));
    let all = receiver.requests();
    assert_eq!(all.len(), 4, "three failures and one success");
    assert_eq!(all.iter().filter(|r| r.status == 200).count(), 1);
    let (_, body) = hark.get_as("/api/v1/notifications", Some(hark.token()));
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(list[0]["state"], "sent", "{body}");
    assert_eq!(
        list[0]["attempts"].as_array().map(Vec::len),
        Some(4),
        "{body}"
    );
}

#[test]
fn fifty_hosts_crossing_together_make_one_digest_mail() {
    let smtp = SmtpServer::start(SmtpMode::Plain);
    let hark = Hark::builder()
        .extra(&mail_channel(smtp.port, "10s"))
        .extra(
            r#"
[alerts.errors]
type = "log"
query = 'app:disk'
group_by = ["host"]
window = "1h"
condition = "count > 2"
notify = ["mail"]
"#,
        )
        .start();
    let mut ndjson = String::new();
    for h in 1..=50 {
        for _ in 0..3 {
            ndjson.push_str(&format!(
                "{{\"message\":\"I/O error\",\"host\":\"host{h:02}\",\"app\":\"disk\"}}\n"
            ));
        }
    }
    let (status, body) = hark.post_as("/api/v1/ingest", Some(hark.token()), &ndjson);
    assert_eq!(status, 200, "{body}");
    let mails = exactly(&smtp, 1, &hark);
    assert_eq!(mails[0].header("Subject"), Some("[50 alerts] errors"));
    for h in 1..=50 {
        assert!(
            mails[0].body.contains(&format!("host=host{h:02}")),
            "host{h:02} missing"
        );
    }
}
