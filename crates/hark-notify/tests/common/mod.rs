//! What the notification tests share: a configuration from TOML, a
//! notifier in a temporary directory, notifications, and waiting for
//! their records.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use hark_notify::{DeliveryState, Kind, Notification, NotificationRecord, Notifier, Sample};

/// Guards against a hang only; never reached when things work.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A configuration holding `toml` (channel tables and `[alerting]`).
pub fn config(toml: &str) -> hark_config::Config {
    hark_e2e::init_crypto();
    hark_config::Config::from_toml_str("test.toml", toml).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// A TOML string literal for a path.
pub fn path_str(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// A notifier on `dir` for `toml`.
pub fn start(dir: &Path, toml: &str) -> Notifier {
    Notifier::start(dir, &config(toml)).unwrap_or_else(|e| panic!("start: {e}"))
}

/// A firing notification `id` for `channel` about `host`.
pub fn firing(id: &str, channel: &str, host: &str) -> Notification {
    let now = 1_772_373_909_000_000_000;
    Notification {
        id: id.to_owned(),
        channel: channel.to_owned(),
        rule: "ssh_bruteforce".to_owned(),
        group: vec![("host".to_owned(), host.to_owned())],
        kind: Kind::Firing,
        severity: "critical".to_owned(),
        summary: format!("ssh_bruteforce: count 25 > 20 in 5m on host={host}"),
        since: now,
        at: now + 60_000_000_000,
        count: 25,
        samples: vec![Sample {
            timestamp: now,
            host: Some(host.to_owned()),
            app: Some("sshd".to_owned()),
            message: "Failed password for root from 192.0.2.7".to_owned(),
        }],
        query: Some("app:sshd AND \"Failed password\"".to_owned()),
    }
}

/// The record of `id`.
pub fn record(notifier: &Notifier, id: &str) -> Option<NotificationRecord> {
    notifier.records(100_000).into_iter().find(|r| r.id == id)
}

/// Waits until the record of `id` satisfies `ok`; that record.
pub async fn wait_record(
    notifier: &Notifier,
    id: &str,
    what: &str,
    ok: impl Fn(&NotificationRecord) -> bool,
) -> NotificationRecord {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(r) = record(notifier, id)
            && ok(&r)
        {
            return r;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "{id}: not {what} within {DEADLINE:?}: {:?}",
                record(notifier, id)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `id` is sent.
pub async fn wait_sent(notifier: &Notifier, id: &str) -> NotificationRecord {
    wait_record(notifier, id, "sent", |r| r.state == DeliveryState::Sent).await
}
