//! The engine against a real store's query compiler and batch index, and
//! the runner against a real store's WAL.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hark_config::Config;
use hark_event::Event;
use hark_store::{FsyncPolicy, Store, StoreConfig};

use crate::engine::{AlertStatus, Engine, EngineState, Notice, NoticeKind};
use crate::rule::Rule;
use crate::silence::{Matcher, Silence};
use crate::{Alerting, NewSilence, Outbox};

const S: i64 = 1_000_000_000;
/// A start time well after the epoch.
const T0: i64 = 1_800_000_000 * S;

fn store(dir: &Path) -> Store {
    let mut c = StoreConfig::new(dir);
    c.fsync = FsyncPolicy::Always;
    c.commit_interval = Duration::from_secs(3600);
    c.retention_max_age = None;
    c.index_threads = 1;
    c.index_memory = 20_000_000;
    Store::open(c).unwrap()
}

/// Channels the rules of these tests notify.
const CHANNELS: &str = r#"
[notify.mail]
type = "smtp"
host = "127.0.0.1"
tls = "none"
from = "hark@example.test"
to = ["ops@example.test"]

[notify.chat]
type = "webhook"
url = "http://127.0.0.1:9/hook"
"#;

fn config(alerts: &str) -> Config {
    Config::from_toml_str("test.toml", &format!("{CHANNELS}{alerts}")).unwrap()
}

fn engine(store: &Store, alerts: &str, state: EngineState) -> Engine {
    let cfg = config(alerts);
    let rules = cfg
        .alerts
        .iter()
        .map(|(n, r)| Rule::compile(n, r, store).unwrap())
        .collect();
    let console = cfg
        .event_rules
        .iter()
        .map(|(n, r)| crate::console::ConsoleRule::compile(n, r, store).unwrap())
        .collect();
    Engine::new(rules, console, state, T0)
}

fn sshd(host: &str, at: i64, user: &str) -> Event {
    let mut e = Event::new(at, "syslog_udp");
    e.host = Some(host.into());
    e.app = Some("sshd".into());
    e.message = format!("Failed password for {user} from 10.0.0.9 port 22 ssh2");
    e.push_field("user", user);
    e
}

fn other(host: &str, at: i64) -> Event {
    let mut e = Event::new(at, "syslog_udp");
    e.host = Some(host.into());
    e.app = Some("cron".into());
    e.message = "job done".into();
    e
}

/// Feeds `events` as one batch at WAL positions from `first_seq`.
fn feed(store: &Store, engine: &mut Engine, first_seq: u64, events: &[Event]) -> Vec<Notice> {
    let index = store.index_batch(events).unwrap();
    let now = events.iter().map(|e| e.received_at).max().unwrap_or(T0);
    engine.apply(first_seq, events, Some(&index), now);
    engine.take_pending()
}

fn tick(engine: &mut Engine, at: i64) -> Vec<Notice> {
    engine.tick(at);
    engine.take_pending()
}

fn kinds(notices: &[Notice]) -> Vec<(NoticeKind, String)> {
    notices
        .iter()
        .map(|n| {
            (
                n.kind,
                n.alert
                    .group
                    .iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            )
        })
        .collect()
}

const SSH: &str = r#"
[alerts.ssh]
type = "log"
query = 'app:sshd AND "Failed password"'
group_by = ["host"]
window = "60s"
condition = "count > 3"
notify = ["mail"]
"#;

#[test]
fn a_log_rule_fires_once_per_group_and_resolves_after_a_quiet_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut e = engine(&store, SSH, EngineState::default());
    // Three from web1 and some noise: below the threshold.
    let batch: Vec<Event> = (0..3)
        .map(|i| sshd("web1", T0 + i * S, "root"))
        .chain([other("web1", T0 + 3 * S)])
        .collect();
    assert!(feed(&store, &mut e, 1, &batch).is_empty());
    // The fourth crosses it: one notice for web1, naming it.
    let n = feed(&store, &mut e, 5, &[sshd("web1", T0 + 4 * S, "root")]);
    assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "web1".into())]);
    assert_eq!(n[0].channels, vec!["mail".to_owned()]);
    assert!(
        n[0].alert.summary.contains("host=web1"),
        "{}",
        n[0].alert.summary
    );
    assert_eq!(n[0].alert.samples.len(), 4);
    assert!(
        n[0].alert
            .query
            .as_deref()
            .unwrap()
            .contains("host:\"web1\"")
    );
    // More from web1 while firing: no second notice.
    let more: Vec<Event> = (5..10).map(|i| sshd("web1", T0 + i * S, "root")).collect();
    assert!(feed(&store, &mut e, 6, &more).is_empty());
    // web2 crossing later is its own alert.
    let web2: Vec<Event> = (20..24).map(|i| sshd("web2", T0 + i * S, "x")).collect();
    let n = feed(&store, &mut e, 11, &web2);
    assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "web2".into())]);
    // Ticking each second: web1 (events at 0-2 and 4-9 s) holds `count > 3`
    // in a 60 s window until 65 s and resolves a window later; web2
    // (20-23 s) holds until 79 s.
    let mut ends = Vec::new();
    for s in 10..200 {
        for n in tick(&mut e, T0 + s * S) {
            ends.push((s, kinds(&[n])));
        }
    }
    assert_eq!(
        ends,
        vec![
            (125, vec![(NoticeKind::Resolved, "web1".to_owned())]),
            (139, vec![(NoticeKind::Resolved, "web2".to_owned())]),
        ]
    );
    let alerts = e.alerts();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a.status == AlertStatus::Resolved));
}

#[test]
fn a_count_below_rule_fires_when_a_sending_host_goes_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rules = r#"
[alerts.silent]
type = "log"
query = "*"
group_by = ["host"]
window = "60s"
condition = "count < 1"
notify = ["mail"]
"#;
    let mut e = engine(&store, rules, EngineState::default());
    feed(&store, &mut e, 1, &[other("a", T0), other("b", T0)]);
    // b keeps sending, a does not.
    for s in (10..200).step_by(10) {
        feed(&store, &mut e, 1 + s as u64, &[other("b", T0 + s * S)]);
        let n = tick(&mut e, T0 + s * S);
        if s < 60 {
            assert!(n.is_empty(), "at {s}: {n:?}");
        } else if s == 60 {
            assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "a".into())], "at {s}");
        } else {
            assert!(n.is_empty(), "at {s}: {n:?}");
        }
    }
    // a comes back and keeps sending; b stops. a last held at 190 s and
    // resolves a window later; b, last seen at 190 s, fires then too.
    let mut seen = Vec::new();
    for s in (200..=300).step_by(10) {
        feed(&store, &mut e, 1000 + s as u64, &[other("a", T0 + s * S)]);
        for n in tick(&mut e, T0 + s * S) {
            seen.push((s, kinds(&[n])));
        }
    }
    assert_eq!(
        seen,
        vec![
            (250, vec![(NoticeKind::Resolved, "a".to_owned())]),
            (250, vec![(NoticeKind::Firing, "b".to_owned())]),
        ]
    );
}

#[test]
fn a_distinct_rule_counts_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rules = r#"
[alerts.spray]
type = "log"
query = "app:sshd"
window = "1m"
condition = "distinct(user) > 2"
notify = ["mail"]
"#;
    let mut e = engine(&store, rules, EngineState::default());
    let same: Vec<Event> = (0..10).map(|i| sshd("h", T0 + i * S, "root")).collect();
    assert!(feed(&store, &mut e, 1, &same).is_empty());
    let two = [
        sshd("h", T0 + 11 * S, "admin"),
        sshd("h", T0 + 12 * S, "guest"),
    ];
    let n = feed(&store, &mut e, 11, &two);
    assert_eq!(n.len(), 1);
    assert!(
        n[0].alert.summary.contains("distinct(user) 3 > 2"),
        "{}",
        n[0].alert.summary
    );
}

fn monitor_event(name: &str, state: &str, hard: bool, at: i64, flags: (bool, bool)) -> Event {
    let mut e = Event::new(at, crate::MONITOR_INPUT);
    e.app = Some(crate::MONITOR_APP.into());
    e.host = Some("10.0.0.1".into());
    e.message = format!("{name} {state}");
    e.push_field("monitor", name);
    e.push_field("state", state);
    e.push_field("state_type", if hard { "hard" } else { "soft" });
    e.push_field("output", "connection refused");
    e.push_field("in_downtime", if flags.0 { "true" } else { "false" });
    e.push_field("flapping", if flags.1 { "true" } else { "false" });
    e
}

const PROBLEMS: &str = r#"
[alerts.problems]
type = "monitor"
monitors = ["web*"]
notify = ["mail"]
"#;

#[test]
fn a_monitor_rule_follows_hard_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut e = engine(&store, PROBLEMS, EngineState::default());
    let plain = (false, false);
    let mut seq = 0;
    let mut step = |e: &mut Engine, ev: Event| {
        seq += 1;
        let at = ev.received_at;
        e.apply(seq, &[ev], None, at);
        e.take_pending()
    };
    assert!(step(&mut e, monitor_event("web", "CRIT", false, T0, plain)).is_empty());
    let n = step(&mut e, monitor_event("web", "CRIT", true, T0 + S, plain));
    assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "web".into())]);
    assert!(n[0].alert.summary.contains("web is CRIT"));
    // Not matched by the glob, and UNREACHABLE never notifies.
    assert!(step(&mut e, monitor_event("db", "CRIT", true, T0, plain)).is_empty());
    assert!(
        step(
            &mut e,
            monitor_event("web2", "UNREACHABLE", true, T0, plain)
        )
        .is_empty()
    );
    // CRIT → WARN is news; OK resolves.
    let n = step(
        &mut e,
        monitor_event("web", "WARN", true, T0 + 2 * S, plain),
    );
    assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "web".into())]);
    let n = step(&mut e, monitor_event("web", "OK", true, T0 + 3 * S, plain));
    assert_eq!(kinds(&n), vec![(NoticeKind::Resolved, "web".into())]);
    // In downtime: neither the problem nor its end.
    assert!(
        step(
            &mut e,
            monitor_event("web", "CRIT", true, T0 + 4 * S, (true, false))
        )
        .is_empty()
    );
    assert!(
        step(
            &mut e,
            monitor_event("web", "OK", true, T0 + 5 * S, (false, false))
        )
        .is_empty()
    );
    // Flapping: one notice when it starts, none for the changes meanwhile, one when it stops.
    let n = step(
        &mut e,
        monitor_event("web", "CRIT", true, T0 + 6 * S, (false, true)),
    );
    assert_eq!(kinds(&n), vec![(NoticeKind::FlappingStarted, "web".into())]);
    assert!(
        step(
            &mut e,
            monitor_event("web", "OK", true, T0 + 7 * S, (false, true))
        )
        .is_empty()
    );
    let n = step(
        &mut e,
        monitor_event("web", "OK", true, T0 + 8 * S, (false, false)),
    );
    assert_eq!(kinds(&n), vec![(NoticeKind::FlappingStopped, "web".into())]);
    // Flapping that starts without a change of state (the monitor writes
    // it as a soft change to the same state) is only that.
    let mut flap = monitor_event("web", "CRIT", false, T0 + 9 * S, (false, true));
    flap.push_field("previous_state", "CRIT");
    let n = step(&mut e, flap);
    assert_eq!(kinds(&n), vec![(NoticeKind::FlappingStarted, "web".into())]);
}

#[test]
fn silences_suppress_firing_and_its_end_and_acks_stop_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rules = format!("{SSH}repeat = \"10m\"\n");
    let mut e = engine(&store, &rules, EngineState::default());
    e.add_silence(Silence {
        id: "s".into(),
        matchers: vec![Matcher {
            name: "host".into(),
            value: "web1".into(),
        }],
        starts_at: T0,
        ends_at: T0 + 3600 * S,
        comment: "maintenance".into(),
        created_by: "admin".into(),
    });
    let burst =
        |host: &str| -> Vec<Event> { (0..5).map(|i| sshd(host, T0 + i * S, "r")).collect() };
    assert!(feed(&store, &mut e, 1, &burst("web1")).is_empty());
    let n = feed(&store, &mut e, 10, &burst("web2"));
    assert_eq!(kinds(&n), vec![(NoticeKind::Firing, "web2".into())]);
    // The silenced alert is listed all the same.
    assert_eq!(e.alerts().len(), 2);
    // Keep both firing; a reminder comes for web2 only, after 10 minutes.
    for s in (60..=600).step_by(30) {
        let keep: Vec<Event> = ["web1", "web2"]
            .iter()
            .flat_map(|h| (0..4).map(move |i| sshd(h, T0 + (s + i) * S, "r")))
            .collect();
        feed(&store, &mut e, 100 + s as u64 * 10, &keep);
        let n = tick(&mut e, T0 + (s + 4) * S);
        if s + 4 >= 600 {
            assert_eq!(kinds(&n), vec![(NoticeKind::Reminder, "web2".into())]);
        } else {
            assert!(n.is_empty(), "at {s}: {n:?}");
        }
    }
    let web2 = e
        .alerts()
        .into_iter()
        .find(|a| a.group[0].1 == "web2")
        .unwrap();
    assert!(e.acknowledge(&web2.id, "alice", T0 + 700 * S));
    // Acknowledged: no more reminders; the end is still announced, web1's
    // (silenced) is not.
    let n = tick(&mut e, T0 + 1300 * S);
    assert_eq!(kinds(&n), vec![(NoticeKind::Resolved, "web2".into())]);
    let resolved = e
        .alerts()
        .into_iter()
        .filter(|a| a.status == AlertStatus::Resolved)
        .count();
    assert_eq!(resolved, 2);
}

#[test]
fn acknowledged_alerts_get_no_reminders_and_silenced_ones_no_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rules = format!("{SSH}repeat = \"10m\"\n");
    let mut e = engine(&store, &rules, EngineState::default());
    let burst = |host: &str, from: i64| -> Vec<Event> {
        (0..5)
            .map(|i| sshd(host, T0 + (from + i) * S, "r"))
            .collect()
    };
    feed(&store, &mut e, 1, &burst("web2", 0));
    let id = e.alerts()[0].id.clone();
    assert!(e.acknowledge(&id, "alice", T0 + 5 * S));
    assert!(!e.acknowledge("no-such-alert", "alice", T0));
    // Still firing at +11 min (kept alive), but acknowledged: no reminder.
    feed(&store, &mut e, 20, &burst("web2", 650));
    assert!(tick(&mut e, T0 + 655 * S).is_empty());
    // The end is announced all the same.
    let n = tick(&mut e, T0 + 800 * S);
    assert_eq!(kinds(&n), vec![(NoticeKind::Resolved, "web2".into())]);
    // A silenced alert's end is not.
    e.add_silence(Silence {
        id: "s".into(),
        matchers: vec![Matcher {
            name: "rule".into(),
            value: "ssh".into(),
        }],
        starts_at: T0,
        ends_at: T0 + 3600 * S,
        comment: String::new(),
        created_by: "admin".into(),
    });
    assert!(feed(&store, &mut e, 40, &burst("web3", 900)).is_empty());
    assert!(tick(&mut e, T0 + 1200 * S).is_empty());
    assert_eq!(
        e.alerts()
            .iter()
            .filter(|a| a.status == AlertStatus::Resolved)
            .count(),
        2
    );
}

#[test]
fn saved_state_skips_evaluated_events_and_resolves_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut e = engine(&store, SSH, EngineState::default());
    let batch: Vec<Event> = (0..5).map(|i| sshd("web1", T0 + i * S, "r")).collect();
    assert_eq!(feed(&store, &mut e, 1, &batch).len(), 1);
    let saved: EngineState =
        serde_json::from_slice(&serde_json::to_vec(e.state()).unwrap()).unwrap();
    assert_eq!(saved.seq, 5);
    // After a restart the same batch comes again (the reader had not
    // committed it): nothing new.
    let mut e = engine(&store, SSH, saved.clone());
    assert!(feed(&store, &mut e, 1, &batch).is_empty());
    // It was firing when saved and resolves by the clock after the restart.
    let n = tick(&mut e, T0 + 200 * S);
    assert_eq!(kinds(&n), vec![(NoticeKind::Resolved, "web1".into())]);
    // A changed rule starts afresh; its firing alert is kept as resolved.
    let changed = SSH.replace("count > 3", "count > 4");
    let e = engine(&store, &changed, saved);
    let alerts = e.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].status, AlertStatus::Resolved);
}

/// Keeps what it is given.
#[derive(Default)]
struct Collect(Mutex<Vec<Notice>>);

impl Outbox for Arc<Collect> {
    fn submit(&self, notice: &Notice) -> Result<(), String> {
        let mut seen = self.0.lock().unwrap();
        if !seen.iter().any(|n| n.id == notice.id) {
            seen.push(notice.clone());
        }
        Ok(())
    }
}

async fn wait_for(outbox: &Arc<Collect>, n: usize) -> Vec<Notice> {
    for _ in 0..300 {
        let got = outbox.0.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} notices, got {:?}", outbox.0.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_reads_the_wal_and_keeps_its_place_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = config(SSH);
    let outbox = Arc::new(Collect::default());
    let now = hark_event::now_nanos();
    let burst = |host: &str| -> Vec<Event> { (0..5).map(|i| sshd(host, now + i, "r")).collect() };
    {
        let store = store(&data);
        let alerting =
            Alerting::start(&store, &cfg, &data, &["mail"], Arc::new(outbox.clone())).unwrap();
        store.append(burst("web1")).await.unwrap();
        let got = wait_for(&outbox, 1).await;
        assert_eq!(kinds(&got), vec![(NoticeKind::Firing, "web1".into())]);
        let silence = alerting
            .add_silence(
                NewSilence {
                    matchers: vec![Matcher {
                        name: "host".into(),
                        value: "web3".into(),
                    }],
                    starts_at: None,
                    ends_at: now + 3600 * S,
                    comment: "planned".into(),
                },
                "admin",
            )
            .unwrap();
        assert_eq!(alerting.silences(), vec![silence]);
        alerting.shutdown().await;
        store.shutdown().unwrap();
    }
    let store = store(&data);
    let alerting =
        Alerting::start(&store, &cfg, &data, &["mail"], Arc::new(outbox.clone())).unwrap();
    // The silence and the firing alert survived; web1's events are not
    // evaluated again, web2's are new, web3 is silenced.
    assert_eq!(alerting.silences().len(), 1);
    assert_eq!(alerting.alerts().len(), 1);
    store.append(burst("web3")).await.unwrap();
    store.append(burst("web2")).await.unwrap();
    let got = wait_for(&outbox, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        kinds(&outbox.0.lock().unwrap()),
        vec![
            (NoticeKind::Firing, "web1".into()),
            (NoticeKind::Firing, "web2".into())
        ],
        "{got:?}"
    );
    assert_eq!(alerting.alerts().len(), 3);
    // An unknown channel is refused at start.
    alerting.shutdown().await;
    let err = Alerting::start(&store, &cfg, &data, &[], Arc::new(outbox.clone()))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("alerts.ssh.notify: no channel `mail`"),
        "{err}"
    );
    store.shutdown().unwrap();
}

fn trap(host: &str, name: &str, if_index: i64, at: i64) -> Event {
    let mut e = Event::new(at, "snmptrap");
    e.host = Some(host.into());
    e.app = Some("snmptrap".into());
    e.message = format!("{name} ifIndex.{if_index}={if_index}");
    let oid = if name == "linkDown" {
        "1.3.6.1.6.3.1.1.5.3"
    } else {
        "1.3.6.1.6.3.1.1.5.4"
    };
    e.push_field("snmp.trap_oid", oid);
    e.push_field("snmp.ifIndex", hark_event::FieldValue::Int(if_index));
    e
}

const LINK: &str = r#"
[event_rules.link]
match = 'snmp.trap_oid:"1.3.6.1.6.3.1.1.5.3"'
cancel = 'snmp.trap_oid:"1.3.6.1.6.3.1.1.5.4"'
key = ["host", "snmp.ifIndex"]
state = "CRIT"
expire = "1h"
notify = ["chat"]
"#;

#[test]
fn the_event_console_opens_counts_cancels_and_expires_problems() {
    use crate::console::Phase;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut e = engine(&store, LINK, EngineState::default());
    // linkDown on ifIndex 2 opens a problem; a second one counts.
    let n = feed(&store, &mut e, 1, &[trap("sw1", "linkDown", 2, T0)]);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].kind, NoticeKind::ProblemOpened);
    assert_eq!(n[0].channels, ["chat"]);
    assert!(feed(&store, &mut e, 2, &[trap("sw1", "linkDown", 2, T0 + S)]).is_empty());
    // Another interface is another problem.
    let n = feed(&store, &mut e, 3, &[trap("sw1", "linkDown", 3, T0 + 2 * S)]);
    assert_eq!(n.len(), 1);
    let problems = e.problems();
    assert_eq!(problems.len(), 2);
    let two = problems.iter().find(|p| p.key[1].1 == "2").unwrap();
    assert_eq!((two.count, two.phase), (2, Phase::Open));
    assert_eq!(two.state.name(), "CRIT");
    // linkUp for ifIndex 2 closes that one only.
    let n = feed(&store, &mut e, 4, &[trap("sw1", "linkUp", 2, T0 + 3 * S)]);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].kind, NoticeKind::ProblemClosed);
    assert!(
        n[0].alert.summary.contains("cancelled: linkUp"),
        "{}",
        n[0].alert.summary
    );
    let open: Vec<_> = e
        .problems()
        .into_iter()
        .filter(|p| p.phase != Phase::Closed)
        .collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].key[1].1, "3");
    // Acknowledged, then expired an hour after its last event.
    assert!(e.acknowledge_problem(&open[0].id, "bob", T0 + 4 * S));
    assert!(tick(&mut e, T0 + 3000 * S).is_empty());
    let n = tick(&mut e, T0 + 3602 * S);
    assert_eq!(n.len(), 1);
    assert!(n[0].alert.summary.contains("expired"));
    assert!(e.problems().iter().all(|p| p.phase == Phase::Closed));
    // Every change is an event for the store.
    let changes: Vec<String> = e
        .take_console_events()
        .iter()
        .map(|ev| crate::rule::field_text(ev, "change"))
        .collect();
    assert_eq!(
        changes,
        ["opened", "opened", "closed", "acknowledged", "closed"]
    );
}

#[test]
fn console_rules_count_before_opening_and_take_the_state_from_syslog() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let rules = r#"
[event_rules.disk]
match = '"I/O error"'
count = { n = 3, window = "1m" }
notify = ["chat"]
"#;
    let mut e = engine(&store, rules, EngineState::default());
    let line = |sev: hark_event::Severity, at: i64| {
        let mut ev = Event::new(at, "syslog_udp");
        ev.host = Some("db1".into());
        ev.severity = Some(sev);
        ev.message = "kernel: I/O error on sda".into();
        ev
    };
    use hark_event::Severity::{Err, Info};
    // Informational lines open nothing; two errors are not yet three.
    assert!(
        feed(
            &store,
            &mut e,
            1,
            &[line(Info, T0), line(Err, T0 + S), line(Err, T0 + 2 * S)]
        )
        .is_empty()
    );
    let n = feed(&store, &mut e, 4, &[line(Err, T0 + 3 * S)]);
    assert_eq!(n.len(), 1);
    assert_eq!(e.problems()[0].state.name(), "CRIT");
    assert_eq!(e.problems()[0].count, 3);
    // Closed by hand: announced.
    let id = e.problems()[0].id.clone();
    let closed = e.close_problem(&id, "alice", T0 + 10 * S).unwrap();
    assert_eq!(closed.closed_reason.as_deref(), Some("closed by alice"));
    assert_eq!(e.take_pending().len(), 1);
    assert!(e.close_problem(&id, "alice", T0 + 11 * S).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_made_through_the_api_run_at_once_and_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = config(SSH);
    let outbox = Arc::new(Collect::default());
    let now = hark_event::now_nanos();
    let db = store(&data);
    let alerting = Alerting::start(&db, &cfg, &data, &["mail"], Arc::new(outbox.clone())).unwrap();
    // The file's rule is read-only; a bad rule is refused as the file would refuse it.
    let body = serde_json::json!({"type": "log", "query": "app:cron", "condition": "count > 1", "notify": ["mail"]});
    let err = alerting.put_rule("ssh", body.clone()).unwrap_err();
    assert!(matches!(err, crate::AlertError::Conflict(_)), "{err}");
    let bad = serde_json::json!({"type": "log", "query": "*", "condition": "count = 1"});
    let err = alerting.put_rule("bad", bad).unwrap_err().to_string();
    assert!(
        err.contains("rule bad:2:") && err.contains("count > N"),
        "{err}"
    );
    let unknown = serde_json::json!({"type": "log", "query": "*", "condition": "count > 1", "notify": ["pager"]});
    assert!(alerting.put_rule("x", unknown).is_err());
    let query = serde_json::json!({"type": "log", "query": "host:(", "condition": "count > 1"});
    let err = alerting.put_rule("q", query).unwrap_err().to_string();
    assert!(err.contains("alerts.q.query"), "{err}");

    let view = alerting.put_rule("cron", body).unwrap();
    assert_eq!(view.source, crate::RuleSource::Api);
    let names: Vec<_> = alerting
        .rules()
        .into_iter()
        .map(|r| (r.name, r.source))
        .collect();
    assert_eq!(
        names,
        [
            ("ssh".to_owned(), crate::RuleSource::Config),
            ("cron".to_owned(), crate::RuleSource::Api)
        ]
    );
    // The rule as shown has the keys it is written with.
    let shown = serde_json::to_value(&alerting.rules()[1].rule).unwrap();
    assert_eq!(shown["type"], "log");
    assert_eq!(shown["condition"], "count > 1");
    assert_eq!(shown["window"], "5m");
    let cron = |at: i64| {
        let mut e = other("h1", at);
        e.app = Some("cron".into());
        e
    };
    db.append(vec![cron(now), cron(now + 1)]).await.unwrap();
    let got = wait_for(&outbox, 1).await;
    assert_eq!(got[0].alert.rule, "cron");
    alerting.shutdown().await;
    db.shutdown().unwrap();

    // Kept across a restart; removed through the API.
    let db = store(&data);
    let alerting = Alerting::start(&db, &cfg, &data, &["mail"], Arc::new(outbox.clone())).unwrap();
    assert_eq!(alerting.rules().len(), 2);
    assert!(alerting.remove_rule("cron").unwrap());
    assert!(!alerting.remove_rule("cron").unwrap());
    assert!(alerting.remove_rule("ssh").is_err());
    assert_eq!(alerting.rules().len(), 1);
    alerting.shutdown().await;
    db.shutdown().unwrap();
}

#[test]
fn an_alerts_search_finds_its_groups_events_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let events = [
        sshd("web1", T0, "root"),
        sshd("web2", T0, "root"),
        other("web1", T0),
    ];
    let index = store.index_batch(&events).unwrap();
    let key = vec![("host".to_owned(), "web1".to_owned())];
    for (query, expected) in [
        (r#"app:sshd AND "Failed password""#, vec![0]),
        ("*", vec![0, 2]),
        ("", vec![0, 2]),
    ] {
        let search = crate::rule::group_search(query, &key);
        let filter = store.compile_filter(&search).unwrap();
        assert_eq!(filter.matching_in(&index), expected, "{search}");
    }
    assert_eq!(crate::rule::group_search("*", &[]), "*");
}
