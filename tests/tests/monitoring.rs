//! Active monitoring end to end: a real `hark serve` checks targets the
//! test drives up and down (a TCP port, small HTTP servers, hosts in network
//! namespaces), and the test follows the states through the API, the
//! state-change events in the store and the CLI.
//!
//! Every scenario waits for the state it expects before it changes the
//! target again, so the sequences of states are exact; the ICMP test needs
//! root (network namespaces, raw sockets).

use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hark_e2e::monitoring::{Change, Snapshot, rfc3339_nanos};
use hark_e2e::{Hark, HarkBuilder, Transport, field_str, str_of};
use hark_testkit::netns::Netns;
use hark_testkit::targets::{HttpTarget, TcpTarget};
use serde_json::{Value, json};

/// A server with one syslog input (so the default inputs stay off).
fn server() -> HarkBuilder {
    Hark::builder().input("udp", Transport::Udp)
}

/// A `tcp` monitor of 127.0.0.1:`port` plus `extra` lines.
fn tcp_monitor(port: u16, extra: &str) -> String {
    format!("type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\ntimeout = \"2s\"\n{extra}")
}

fn changes(events: &[Value]) -> Vec<Change> {
    events.iter().map(Change::of).collect()
}

/// The events as lines (time, change, output) for failure messages.
fn dump(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "\n  {} {:?} {}",
                str_of(e, "timestamp").unwrap_or(""),
                Change::of(e),
                field_str(e, "output").unwrap_or_default()
            )
        })
        .collect()
}

fn field(event: &Value, name: &str) -> String {
    field_str(event, name).unwrap_or_else(|| panic!("no field {name} in {event}"))
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the CLI against the server; panics unless it succeeds; returns stdout.
fn cli_ok(hark: &Hark, args: &[&str]) -> String {
    let out = hark.run_cli(args);
    assert!(out.status.success(), "hark {args:?} failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the CLI against the server; panics if it succeeds; returns stderr.
fn cli_err(hark: &Hark, args: &[&str]) -> String {
    let out = hark.run_cli(args);
    assert!(
        !out.status.success(),
        "hark {args:?} should have failed: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn flag(view: &Value, key: &str) -> bool {
    view.get(key)
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("no boolean {key} in {view}"))
}

fn number(view: &Value, key: &str) -> f64 {
    view.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number {key} in {view}"))
}

fn time_of(view: &Value, key: &str) -> i128 {
    str_of(view, key)
        .and_then(rfc3339_nanos)
        .unwrap_or_else(|| panic!("no RFC 3339 {key} in {view}"))
}

/// The state intervals of a history: (state, in_downtime), oldest first.
fn interval_states(history: &Value) -> Vec<(String, bool)> {
    history["intervals"]
        .as_array()
        .unwrap_or_else(|| panic!("no intervals in {history}"))
        .iter()
        .map(|i| {
            (
                str_of(i, "state").unwrap_or("").to_owned(),
                flag(i, "in_downtime"),
            )
        })
        .collect()
}

/// Intervals follow each other without gaps and only the last is open.
fn assert_intervals_chain(history: &Value) {
    let intervals = history["intervals"].as_array().expect("intervals");
    for (i, pair) in intervals.windows(2).enumerate() {
        let end = time_of(&pair[0], "end");
        assert!(
            time_of(&pair[0], "start") <= end,
            "interval {i} ends before it starts: {history}"
        );
        assert_eq!(
            end,
            time_of(&pair[1], "start"),
            "interval {i} does not end where the next begins: {history}"
        );
    }
    let last = intervals.last().expect("at least one interval");
    assert!(
        last["end"].is_null(),
        "the last interval is open: {history}"
    );
}

/// Availability numbers are percentages, and all three windows agree when
/// everything happened within the last minutes.
fn assert_availability(history: &Value, strictly_between: bool) -> f64 {
    let a = &history["availability"];
    let day = number(a, "last_24h");
    for key in ["last_24h", "last_7d", "last_30d"] {
        let v = number(a, key);
        assert!((0.0..=100.0).contains(&v), "{key} = {v} in {history}");
        assert_eq!(v, day, "{key} differs from last_24h: {history}");
    }
    if strictly_between {
        assert!(day > 0.0 && day < 100.0, "availability {day}: {history}");
    }
    day
}

/// Soft and hard states: a TCP port refuses, the monitor goes soft CRIT at
/// attempt 1, stays soft through attempt 2 and turns hard at attempt 3;
/// the port answers again and the monitor recovers hard. A monitor with
/// many attempts sees the same outage as a soft problem and recovers soft.
/// Its history has the three intervals and response times.
#[test]
fn soft_and_hard_states_follow_the_attempts() {
    let mut target = TcpTarget::up();
    let port = target.port();
    let hark = server()
        .monitor(
            "svc",
            &tcp_monitor(
                port,
                "interval = \"1s\"\nretry_interval = \"300ms\"\nmax_attempts = 3",
            ),
        )
        .monitor(
            "patient",
            &tcp_monitor(
                port,
                "interval = \"500ms\"\nretry_interval = \"500ms\"\nmax_attempts = 1000",
            ),
        )
        .start();
    assert!(
        hark.output().contains("[out] monitors 2"),
        "hark serve did not say how many monitors it runs\n{}",
        hark.output()
    );

    let ok = hark.wait_state("svc", "OK", "hard");
    assert_eq!(str_of(&ok, "name"), Some("svc"));
    assert_eq!(str_of(&ok, "type"), Some("tcp"));
    assert_eq!(str_of(&ok, "target"), Some("127.0.0.1"));
    assert_eq!(ok["attempt"], 1);
    assert_eq!(ok["max_attempts"], 3);
    assert_eq!(number(&ok, "interval"), 1.0);
    let output = str_of(&ok, "output").unwrap_or("");
    assert!(
        output.starts_with(&format!("TCP 127.0.0.1:{port}: connected in")),
        "{ok}"
    );
    assert!(time_of(&ok, "last_check") >= time_of(&ok, "last_change"));
    // The next check is scheduled once the run is over.
    hark.wait_monitor("svc", "scheduled after its last check", |v| {
        time_of(v, "next_check") > time_of(v, "last_check")
    });
    for key in ["flapping", "stale", "in_downtime", "acknowledged"] {
        assert!(!flag(&ok, key), "{key} is set: {ok}");
    }
    let flap = number(&ok, "flap_percent");
    assert!(
        flap == 0.0 && flap.is_sign_positive(),
        "flap_percent {flap}: {ok}"
    );
    assert!(ok.get("parent").is_none(), "{ok}");
    hark.wait_state("patient", "OK", "hard");

    target.stop();
    let (crit, seen) = hark.watch_monitor("svc", "CRIT (hard)", |v| {
        str_of(v, "state") == Some("CRIT") && str_of(v, "state_type") == Some("hard")
    });
    // Whatever the polls caught of the way there came in this order.
    let allowed = [
        Snapshot::of(&json!({"state": "CRIT", "state_type": "soft", "attempt": 1})),
        Snapshot::of(&json!({"state": "CRIT", "state_type": "soft", "attempt": 2})),
        Snapshot::of(&json!({"state": "CRIT", "state_type": "hard", "attempt": 3})),
    ];
    let problems: Vec<&Snapshot> = seen.iter().filter(|s| s.state != "OK").collect();
    let positions: Vec<Option<usize>> = problems
        .iter()
        .map(|s| allowed.iter().position(|a| a == *s))
        .collect();
    assert!(
        positions.iter().all(Option::is_some) && positions.windows(2).all(|w| w[0] < w[1]),
        "states on the way to hard CRIT: {seen:?}"
    );
    assert_eq!(crit["attempt"], 3);
    assert!(
        str_of(&crit, "output").is_some_and(|o| o.contains("refused")),
        "{crit}"
    );
    assert!(time_of(&crit, "last_change") > time_of(&ok, "last_change"));
    let soft = hark.wait_state("patient", "CRIT", "soft");
    assert!(soft["attempt"].as_u64().is_some_and(|a| a < 1000), "{soft}");

    target.start();
    let recovered = hark.wait_state("svc", "OK", "hard");
    assert_eq!(recovered["attempt"], 1);
    hark.wait_state("patient", "OK", "hard");

    let events = hark.wait_state_changes("svc", 4);
    assert_eq!(
        changes(&events),
        vec![
            Change::new("PENDING", "OK", "hard", 1),
            Change::new("OK", "CRIT", "soft", 1),
            Change::new("CRIT", "CRIT", "hard", 3),
            Change::new("CRIT", "OK", "hard", 1),
        ]
    );
    for (ev, severity) in events.iter().zip(["info", "crit", "crit", "info"]) {
        assert_eq!(str_of(ev, "host"), Some("127.0.0.1"), "{ev}");
        assert_eq!(str_of(ev, "input"), Some("monitors"), "{ev}");
        assert_eq!(str_of(ev, "severity"), Some(severity), "{ev}");
        assert_eq!(field(ev, "type"), "tcp");
        assert_eq!(field(ev, "in_downtime"), "false");
        assert_eq!(field(ev, "flapping"), "false");
    }
    assert!(field(&events[1], "output").contains("refused"));
    assert_eq!(
        str_of(&events[1], "message").unwrap_or(""),
        format!(
            "svc CRIT (soft 1/3) was OK: {}",
            field(&events[1], "output")
        )
    );
    assert!(
        str_of(&events[2], "message")
            .is_some_and(|m| m.starts_with("svc CRIT (hard 3/3) was CRIT: ")),
        "{}",
        events[2]
    );

    let patient = hark.wait_state_changes("patient", 3);
    assert_eq!(
        changes(&patient),
        vec![
            Change::new("PENDING", "OK", "hard", 1),
            Change::new("OK", "CRIT", "soft", 1),
            Change::new("CRIT", "OK", "soft", 1),
        ]
    );

    let history = hark.api_json("/api/v1/monitors/svc/history?since=1h");
    assert_eq!(str_of(&history, "name"), Some("svc"));
    assert_eq!(
        interval_states(&history),
        vec![
            ("OK".to_owned(), false),
            ("CRIT".to_owned(), false),
            ("OK".to_owned(), false),
        ]
    );
    assert_intervals_chain(&history);
    // Each interval begins with the result that changed the state.
    let starts: Vec<i128> = history["intervals"]
        .as_array()
        .expect("intervals")
        .iter()
        .map(|i| time_of(i, "start"))
        .collect();
    let change_times: Vec<i128> = [&events[0], &events[1], &events[3]]
        .iter()
        .map(|e| time_of(e, "timestamp"))
        .collect();
    assert_eq!(starts, change_times, "{history}");
    let rt = &history["response_times"];
    assert_eq!(rt["step_secs"], 60, "{history}");
    let points = rt["points"].as_array().expect("points");
    assert!(!points.is_empty(), "{history}");
    let checks: u64 = points.iter().filter_map(|p| p["count"].as_u64()).sum();
    assert!(checks >= 5, "at least the five checks seen: {history}");
    for p in points {
        let (min, avg, max) = (number(p, "min"), number(p, "avg"), number(p, "max"));
        assert!(0.0 <= min && min <= avg && avg <= max, "{p}");
        assert_eq!(time_of(p, "start") % 60_000_000_000, 0, "{p}");
    }
    assert!(
        points
            .windows(2)
            .all(|w| time_of(&w[0], "start") < time_of(&w[1], "start"))
    );
    assert_availability(&history, true);

    let (status, body) = hark.get_as(
        "/api/v1/monitors/svc/history?since=soon",
        Some(hark.token()),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = hark.get_as("/api/v1/monitors/nope/history", Some(hark.token()));
    assert_eq!(status, 404, "{body}");
    let (status, body) = hark.get_as("/api/v1/monitors/nope", Some(hark.token()));
    assert_eq!(status, 404, "{body}");
}

/// Flapping: an HTTP target alternates 200 and 500 for ten requests, then
/// answers 200. Every result changes the state; the sixth change makes the
/// monitor flapping, and steady results end it.
#[test]
fn alternating_results_flap_and_steady_ones_stop_it() {
    const ALTERNATING: usize = 10;
    let target = HttpTarget::start(|n| {
        if n <= ALTERNATING && n % 2 == 0 {
            (500, "broken\n".to_owned())
        } else {
            (200, "fine\n".to_owned())
        }
    });
    let hark = server()
        .monitor(
            "web",
            &format!(
                "type = \"http\"\nurl = \"{}\"\ninterval = \"300ms\"\nretry_interval = \"300ms\"\nmax_attempts = 3\ntimeout = \"2s\"",
                target.url("/health")
            ),
        )
        .start();

    let (flapping, _) = hark.watch_monitor("web", "flapping", |v| flag(v, "flapping"));
    let percent = number(&flapping, "flap_percent");
    assert!(percent >= 30.0, "flapping at {percent} %: {flapping}");

    let (steady, _) = hark.watch_monitor("web", "no longer flapping", |v| !flag(v, "flapping"));
    assert!(number(&steady, "flap_percent") < 25.0, "{steady}");
    assert_eq!(str_of(&steady, "state"), Some("OK"), "{steady}");
    assert_eq!(str_of(&steady, "state_type"), Some("hard"), "{steady}");

    // Ten alternating results and the first steady one: eleven changes.
    let events = hark.wait_state_changes("web", ALTERNATING + 1);
    let mut expected = vec![Change::new("PENDING", "OK", "hard", 1)];
    for _ in 0..ALTERNATING / 2 {
        expected.push(Change::new("OK", "CRIT", "soft", 1));
        expected.push(Change::new("CRIT", "OK", "soft", 1));
    }
    assert_eq!(changes(&events), expected);
    // The first result is not a change; the next six are, and the sixth
    // (the seventh result) starts flapping.
    let flags: Vec<String> = events.iter().map(|e| field(e, "flapping")).collect();
    let mut want = vec!["false".to_owned(); 6];
    want.extend(vec!["true".to_owned(); ALTERNATING + 1 - 6]);
    assert_eq!(flags, want, "flapping flags of the state changes");
    for ev in &events {
        assert_eq!(field(ev, "type"), "http");
        assert_eq!(str_of(ev, "host"), Some("127.0.0.1"));
    }
    assert!(field(&events[1], "output").contains("500"), "{}", events[1]);
    assert!(target.requests() > ALTERNATING);
}

/// Downtimes: a one-off downtime from the CLI covers the monitor, state
/// changes during it carry `in_downtime`, the list shows it, removing it
/// ends it; the history keeps the downtime stretches apart. Recurring
/// downtimes are active only on their weekday and time.
#[test]
fn downtime_flags_changes_and_ends_when_removed() {
    let mut target = TcpTarget::up();
    let hark = server()
        .monitor(
            "db",
            &tcp_monitor(
                target.port(),
                "interval = \"500ms\"\nretry_interval = \"300ms\"\nmax_attempts = 2",
            ),
        )
        .start();
    let ok = hark.wait_state("db", "OK", "hard");
    assert!(!flag(&ok, "in_downtime"));

    let added = cli_ok(
        &hark,
        &[
            "downtime",
            "add",
            "db",
            "--duration",
            "1h",
            "-m",
            "disk swap",
        ],
    );
    let id: u64 = added
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no downtime id first in {added:?}"));
    assert!(
        added.contains("  db  ") && added.trim_end().ends_with("disk swap"),
        "{added:?}"
    );
    assert!(flag(&hark.monitor("db"), "in_downtime"));
    let status = cli_ok(&hark, &["status"]);
    let row = status
        .lines()
        .find(|l| l.starts_with("db "))
        .unwrap_or_else(|| panic!("no row for db in\n{status}"));
    assert!(row.contains("downtime"), "{status}");
    // One check inside the downtime while still OK.
    hark.wait_next_check("db");

    target.stop();
    let crit = hark.wait_state("db", "CRIT", "hard");
    assert!(flag(&crit, "in_downtime"));
    let list = cli_ok(&hark, &["downtime", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with(&format!("{id}  db  ")) && l.ends_with("disk swap")),
        "downtime {id} not listed:\n{list}"
    );
    let api_list = hark.api_json("/api/v1/downtimes");
    assert_eq!(api_list[0]["id"], id, "{api_list}");
    assert_eq!(api_list[0]["schedule"]["type"], "once", "{api_list}");
    assert_eq!(api_list[0]["author"], "e2e", "{api_list}");

    let removed = cli_ok(&hark, &["downtime", "remove", &id.to_string()]);
    assert_eq!(removed.trim(), format!("downtime {id} removed"));
    assert!(!flag(&hark.monitor("db"), "in_downtime"));
    assert_eq!(cli_ok(&hark, &["downtime", "list"]).trim(), "");
    let err = cli_err(&hark, &["downtime", "remove", &id.to_string()]);
    assert!(err.contains(&format!("no downtime with id {id}")), "{err}");
    // One check outside the downtime while still CRIT.
    hark.wait_next_check("db");

    target.start();
    hark.wait_state("db", "OK", "hard");
    let events = hark.wait_state_changes("db", 4);
    assert_eq!(
        changes(&events),
        vec![
            Change::new("PENDING", "OK", "hard", 1),
            Change::new("OK", "CRIT", "soft", 1),
            Change::new("CRIT", "CRIT", "hard", 2),
            Change::new("CRIT", "OK", "hard", 1),
        ]
    );
    let in_downtime: Vec<String> = events.iter().map(|e| field(e, "in_downtime")).collect();
    assert_eq!(in_downtime, ["false", "true", "true", "false"]);

    let history = hark.api_json("/api/v1/monitors/db/history?since=1h");
    assert_eq!(
        interval_states(&history),
        vec![
            ("OK".to_owned(), false),
            ("OK".to_owned(), true),
            ("CRIT".to_owned(), true),
            ("CRIT".to_owned(), false),
            ("OK".to_owned(), false),
        ]
    );
    assert_intervals_chain(&history);
    assert_availability(&history, true);

    // Recurring downtimes: one two days from now is not active, one that
    // began five minutes ago today (UTC) is.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let began = now - 300;
    let (weekday, hh_mm) = (weekday_of(began), hh_mm_of(began));
    let later = weekday_of(began + 2 * 86_400);
    let line = cli_ok(
        &hark,
        &[
            "downtime",
            "add",
            "db",
            "--at",
            &hh_mm,
            "--duration",
            "1h",
            "--days",
            later,
            "-m",
            "later",
        ],
    );
    assert!(
        line.contains(&format!("every {later} at {hh_mm} UTC for 3600s")),
        "{line}"
    );
    assert!(!flag(&hark.monitor("db"), "in_downtime"), "{line}");
    let body = json!({
        "monitors": ["db"],
        "schedule": {"type": "recurring", "weekdays": [weekday], "start": hh_mm,
                     "duration_secs": 3600, "time_zone": "UTC"},
        "comment": "nightly"
    });
    let (status, resp) = hark.post_as("/api/v1/downtimes", Some(hark.token()), &body.to_string());
    assert_eq!(status, 201, "{resp}");
    assert!(flag(&hark.monitor("db"), "in_downtime"), "{resp}");
    let list = cli_ok(&hark, &["downtime", "list"]);
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(
        list.contains(&format!(
            "every {weekday} at {hh_mm} UTC for 3600s  nightly"
        )),
        "{list}"
    );

    // Refusals: an end before the start, an unknown monitor.
    let bad = json!({"monitors": ["db"], "schedule": {"type": "once",
        "start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}});
    let (status, resp) = hark.post_as("/api/v1/downtimes", Some(hark.token()), &bad.to_string());
    assert_eq!(status, 400, "{resp}");
    let unknown = json!({"monitors": ["nope"], "schedule": {"type": "once",
        "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"}});
    let (status, resp) = hark.post_as(
        "/api/v1/downtimes",
        Some(hark.token()),
        &unknown.to_string(),
    );
    assert_eq!(status, 404, "{resp}");
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The UTC weekday of a Unix time (1970-01-01 was a Thursday).
fn weekday_of(secs: u64) -> &'static str {
    WEEKDAYS[((secs / 86_400 + 3) % 7) as usize]
}

/// The UTC time of day of a Unix time, `HH:MM`.
fn hh_mm_of(secs: u64) -> String {
    let s = secs % 86_400;
    format!("{:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// A Prometheus text endpoint whose `disk_used{mount="/"}` the test sets.
struct Gauge {
    text: Arc<Mutex<String>>,
    target: HttpTarget,
}

impl Gauge {
    fn new(value: f64) -> Gauge {
        let text = Arc::new(Mutex::new(String::new()));
        let g = Gauge {
            target: HttpTarget::text(text.clone()),
            text,
        };
        g.set(value);
        g
    }

    fn set(&self, value: f64) {
        *self.text.lock().unwrap_or_else(|e| e.into_inner()) = format!(
            "# TYPE disk_used gauge\ndisk_used{{mount=\"/\"}} {value}\ndisk_used{{mount=\"/boot\"}} 1\n"
        );
    }

    /// A `metrics` monitor of the gauge: WARN above 10, CRIT above 20.
    fn monitor(&self, extra: &str) -> String {
        format!(
            "type = \"metrics\"\nurl = \"{}\"\nmetric = \"disk_used\"\nlabels = {{ mount = \"/\" }}\nwarn = 10\ncrit = 20\n{extra}",
            self.target.url("/metrics")
        )
    }
}

/// Acknowledgements: only problems can be acknowledged; a normal one ends
/// with the next change of state (CRIT → WARN, CRIT → OK), a sticky one
/// lasts through CRIT ↔ WARN until OK; one can be removed.
#[test]
fn acknowledgements_last_until_the_state_changes_or_recovers() {
    let gauge = Gauge::new(5.0);
    let hark = server()
        .monitor(
            "disk",
            &gauge.monitor("interval = \"300ms\"\nretry_interval = \"300ms\"\nmax_attempts = 2"),
        )
        .start();
    let acked = |want: bool| {
        let v = hark.monitor("disk");
        assert_eq!(flag(&v, "acknowledged"), want, "{v}");
        v
    };

    hark.wait_state("disk", "OK", "hard");
    let err = cli_err(&hark, &["ack", "disk", "-m", "nothing to see"]);
    assert!(
        err.contains("only a problem can be acknowledged; the monitor is OK"),
        "{err}"
    );
    acked(false);

    // A normal acknowledgement ends when CRIT turns WARN.
    gauge.set(25.0);
    hark.wait_state("disk", "CRIT", "hard");
    let out = cli_ok(&hark, &["ack", "disk", "-m", "replacing the disk"]);
    assert_eq!(out.trim(), "disk CRIT acknowledged");
    let v = acked(true);
    assert_eq!(v["ack"]["comment"], "replacing the disk", "{v}");
    assert_eq!(v["ack"]["author"], "e2e", "{v}");
    assert_eq!(v["ack"]["sticky"], false, "{v}");
    let status = cli_ok(&hark, &["status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("disk ") && l.contains(" ack ")),
        "{status}"
    );
    gauge.set(15.0);
    hark.wait_state("disk", "WARN", "hard");
    acked(false);

    // Removed by hand.
    gauge.set(25.0);
    hark.wait_state("disk", "CRIT", "hard");
    cli_ok(&hark, &["ack", "disk", "-m", "for a moment"]);
    acked(true);
    let out = cli_ok(&hark, &["ack", "disk", "--remove"]);
    assert_eq!(out.trim(), "acknowledgement of disk removed");
    acked(false);
    let err = cli_err(&hark, &["ack", "disk", "--remove"]);
    assert!(err.contains("has no acknowledgement"), "{err}");

    // A sticky acknowledgement lasts through CRIT -> WARN -> CRIT, not OK.
    cli_ok(&hark, &["ack", "disk", "-m", "until fixed", "--sticky"]);
    assert_eq!(acked(true)["ack"]["sticky"], true);
    gauge.set(15.0);
    hark.wait_state("disk", "WARN", "hard");
    acked(true);
    gauge.set(25.0);
    hark.wait_state("disk", "CRIT", "hard");
    acked(true);
    gauge.set(5.0);
    hark.wait_state("disk", "OK", "hard");
    acked(false);

    // A normal acknowledgement ends with the recovery.
    gauge.set(25.0);
    hark.wait_state("disk", "CRIT", "hard");
    cli_ok(&hark, &["ack", "disk", "-m", "again"]);
    acked(true);
    gauge.set(5.0);
    hark.wait_state("disk", "OK", "hard");
    acked(false);

    let events = hark.wait_state_changes("disk", 11);
    assert_eq!(
        changes(&events),
        vec![
            Change::new("PENDING", "OK", "hard", 1),
            Change::new("OK", "CRIT", "soft", 1),
            Change::new("CRIT", "CRIT", "hard", 2),
            Change::new("CRIT", "WARN", "hard", 2),
            Change::new("WARN", "CRIT", "hard", 2),
            Change::new("CRIT", "WARN", "hard", 2),
            Change::new("WARN", "CRIT", "hard", 2),
            Change::new("CRIT", "OK", "hard", 1),
            Change::new("OK", "CRIT", "soft", 1),
            Change::new("CRIT", "CRIT", "hard", 2),
            Change::new("CRIT", "OK", "hard", 1),
        ]
    );
    let values: Vec<f64> = events
        .iter()
        .map(|e| field(e, "perf.disk_used").parse().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(
        values,
        [
            5.0, 25.0, 25.0, 15.0, 25.0, 15.0, 25.0, 5.0, 25.0, 25.0, 5.0
        ]
    );
    let severities: Vec<&str> = events
        .iter()
        .map(|e| str_of(e, "severity").unwrap_or(""))
        .collect();
    assert_eq!(
        severities,
        [
            "info", "crit", "crit", "warning", "crit", "warning", "crit", "info", "crit", "crit",
            "info"
        ]
    );
}

/// ICMP with a parent: hosts in network namespaces made here, one that
/// answers and one whose link goes down; a host behind the second, with it
/// as parent, is UNREACHABLE rather than DOWN; all recover with the link.
#[test]
fn icmp_child_behind_a_down_parent_is_unreachable() {
    let alive = Netns::new(0);
    let gw = Netns::new(1);
    let icmp = |host: &str, extra: &str| {
        format!(
            "type = \"icmp\"\nhost = \"{host}\"\npackets = 2\npacket_interval = \"50ms\"\ntimeout = \"1s\"\nretry_interval = \"300ms\"\nmax_attempts = 2\n{extra}"
        )
    };
    let hark = server()
        .monitor("alive", &icmp(&alive.peer, "interval = \"500ms\""))
        .monitor("gw", &icmp(&gw.peer, "interval = \"500ms\""))
        .monitor(
            "inner",
            &icmp(&gw.behind, "interval = \"3s\"\nparent = \"gw\""),
        )
        .start();
    for name in ["alive", "gw", "inner"] {
        let up = hark.wait_state(name, "UP", "hard");
        assert_eq!(str_of(&up, "type"), Some("icmp"), "{up}");
    }
    assert_eq!(str_of(&hark.monitor("inner"), "parent"), Some("gw"));

    // Right after a check of the child, so that the parent (checked more
    // often) is normally down before the child looks again.
    hark.wait_next_check("inner");
    gw.link_down();
    let down = hark.wait_state("gw", "DOWN", "hard");
    assert!(
        str_of(&down, "output").is_some_and(|o| o.contains("100% packet loss")),
        "{down}"
    );
    let unreachable = hark.wait_state("inner", "UNREACHABLE", "hard");
    assert!(
        str_of(&unreachable, "output").is_some_and(|o| o.contains("100% packet loss")),
        "{unreachable}"
    );
    assert_eq!(str_of(&hark.monitor("alive"), "state"), Some("UP"));

    // Worst first: DOWN, then UNREACHABLE, then UP.
    let status = cli_ok(&hark, &["status"]);
    let names: Vec<&str> = status
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["gw", "inner", "alive"], "{status}");

    gw.link_up();
    hark.wait_state("gw", "UP", "hard");
    hark.wait_state("inner", "UP", "hard");

    let gw_events = hark.wait_state_changes("gw", 4);
    assert_eq!(
        changes(&gw_events),
        vec![
            Change::new("PENDING", "UP", "hard", 1),
            Change::new("UP", "DOWN", "soft", 1),
            Change::new("DOWN", "DOWN", "hard", 2),
            Change::new("DOWN", "UP", "hard", 1),
        ],
        "gw:{}\ninner:{}\nalive:{}",
        dump(&gw_events),
        dump(&hark.state_changes("inner")),
        dump(&hark.state_changes("alive"))
    );
    let inner = changes(&hark.wait_state_changes("inner", 4));
    // The child normally sees the parent down at once; had it looked in
    // between, its first failure is a soft DOWN, never a hard one.
    let direct = vec![
        Change::new("PENDING", "UP", "hard", 1),
        Change::new("UP", "UNREACHABLE", "soft", 1),
        Change::new("UNREACHABLE", "UNREACHABLE", "hard", 2),
        Change::new("UNREACHABLE", "UP", "hard", 1),
    ];
    let raced = vec![
        Change::new("PENDING", "UP", "hard", 1),
        Change::new("UP", "DOWN", "soft", 1),
        Change::new("DOWN", "UNREACHABLE", "hard", 2),
        Change::new("UNREACHABLE", "UP", "hard", 1),
    ];
    assert!(
        inner == direct || inner == raced,
        "state changes of the child: {inner:?}"
    );
    assert_eq!(
        changes(&hark.state_changes("alive")),
        vec![Change::new("PENDING", "UP", "hard", 1)]
    );
    let unreachable_event = hark
        .state_changes("inner")
        .into_iter()
        .find(|e| field(e, "state") == "UNREACHABLE")
        .expect("an UNREACHABLE event");
    assert_eq!(str_of(&unreachable_event, "severity"), Some("err"));
    assert_eq!(str_of(&unreachable_event, "host"), Some(gw.behind.as_str()));
}

/// The latest state of `monitor` in the flush files of a monitor state
/// directory, applied in the order of their numbers.
fn saved_state(dir: &std::path::Path, monitor: &str) -> Value {
    let mut flushes: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|f| f.ok())
        .filter_map(|f| {
            let name = f.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix("flush-")?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((n, f.path()))
        })
        .collect();
    flushes.sort();
    let mut latest = None;
    for (_, file) in flushes {
        let flush: Value = serde_json::from_str(
            &std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("read {}: {e}", file.display())),
        )
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
        for entry in flush["entries"].as_array().into_iter().flatten() {
            let saved = &entry["state"];
            if saved["monitor"] == monitor {
                latest = Some(saved["state"].clone());
            }
        }
    }
    latest.unwrap_or_else(|| panic!("no saved state of {monitor} in {}", dir.display()))
}

/// Restart: a hard CRIT monitor, acknowledged and in a downtime, comes back
/// from the data directory exactly as it was (not PENDING), its checks
/// resume on its grid, and no state change is made up.
#[test]
fn state_survives_a_restart_and_checks_resume() {
    let target = TcpTarget::refusing();
    let mut hark = server()
        .monitor(
            "gone",
            &tcp_monitor(
                target.port(),
                "interval = \"2s\"\nretry_interval = \"300ms\"\nmax_attempts = 2",
            ),
        )
        .start();
    hark.wait_state("gone", "CRIT", "hard");
    cli_ok(&hark, &["ack", "gone", "-m", "decommissioned"]);
    cli_ok(&hark, &["downtime", "add", "gone", "--duration", "1h"]);
    let before = hark.monitor("gone");
    assert!(flag(&before, "acknowledged") && flag(&before, "in_downtime"));

    let status = hark.stop();
    assert!(status.success(), "hark serve exited with {status}");
    let saved = saved_state(&hark.data_dir().join("monitors"), "gone");
    let saved = &saved;
    let saved_check = time_of(saved, "last_check");
    assert!(saved_check >= time_of(&before, "last_check"), "{saved}");

    hark.restart();
    // At once, not PENDING.
    let first = hark.monitor("gone");
    assert_eq!(
        Snapshot::of(&first),
        Snapshot::of(&before),
        "right after the restart: {first}"
    );
    // The first run is scheduled as the service starts.
    let after = hark.wait_monitor("gone", "scheduled", |v| v["next_check"].is_string());
    assert_eq!(str_of(&after, "state"), Some("CRIT"), "{after}");
    assert_eq!(str_of(&after, "state_type"), Some("hard"), "{after}");
    assert_eq!(after["attempt"], 2, "{after}");
    assert_eq!(after["last_change"], before["last_change"], "{after}");
    assert_eq!(after["output"], before["output"], "{after}");
    assert!(flag(&after, "acknowledged"), "{after}");
    assert_eq!(after["ack"]["comment"], "decommissioned", "{after}");
    assert!(flag(&after, "in_downtime"), "{after}");
    assert!(time_of(&after, "last_check") >= saved_check, "{after}");
    // The checks continue on the grid of the last check before the stop.
    let interval = 2_000_000_000;
    let next = time_of(&after, "next_check");
    assert!(next > saved_check, "{after}");
    assert_eq!(
        (next - saved_check) % interval,
        0,
        "next check {next} is not a whole number of intervals after {saved_check}"
    );

    let resumed = hark.wait_checked_after("gone", str_of(saved, "last_check").unwrap_or(""));
    assert_eq!(str_of(&resumed, "state"), Some("CRIT"));
    assert_eq!(resumed["last_change"], before["last_change"]);
    assert_eq!(
        (time_of(&resumed, "next_check") - saved_check) % interval,
        0,
        "{resumed}"
    );
    assert_eq!(
        changes(&hark.wait_state_changes("gone", 2)),
        vec![
            Change::new("PENDING", "CRIT", "soft", 1),
            Change::new("CRIT", "CRIT", "hard", 2),
        ]
    );
    let history = hark.api_json("/api/v1/monitors/gone/history?since=1h");
    // CRIT, then CRIT in the downtime from the first check after adding it.
    assert_eq!(
        interval_states(&history),
        vec![("CRIT".to_owned(), false), ("CRIT".to_owned(), true)]
    );
    assert_eq!(assert_availability(&history, false), 0.0);
    assert_eq!(cli_ok(&hark, &["downtime", "list"]).lines().count(), 1);
}

/// The CLI: `hark status` lists problems first, `--problems` only those and
/// `-o json` the API's objects; `hark check` runs one check and exits like
/// a monitoring plugin.
#[test]
fn cli_status_and_check() {
    let up = TcpTarget::up();
    let closed = TcpTarget::refusing();
    let gauge = Gauge::new(15.0);
    let hark = server()
        .monitor("alpha", &tcp_monitor(up.port(), "interval = \"500ms\""))
        .monitor(
            "zulu",
            &tcp_monitor(closed.port(), "interval = \"500ms\"\nmax_attempts = 1"),
        )
        .monitor(
            "yank",
            &gauge.monitor("interval = \"500ms\"\nmax_attempts = 1"),
        )
        .start();
    hark.wait_state("alpha", "OK", "hard");
    hark.wait_state("zulu", "CRIT", "hard");
    hark.wait_state("yank", "WARN", "hard");

    let table = cli_ok(&hark, &["status"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "TYPE", "TARGET", "STATE", "FLAGS", "OUTPUT"],
        "{table}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let summary: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r[0],
                r.get(1).copied().unwrap_or(""),
                r.get(3).copied().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("zulu", "tcp", "CRIT"),
            ("yank", "metrics", "WARN"),
            ("alpha", "tcp", "OK")
        ],
        "{table}"
    );
    assert!(table.contains("refused"), "{table}");

    let problems = cli_ok(&hark, &["status", "--problems"]);
    let names: Vec<&str> = problems
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["zulu", "yank"], "{problems}");

    let json_out = cli_ok(&hark, &["status", "-o", "json"]);
    let list: Value = serde_json::from_str(json_out.trim())
        .unwrap_or_else(|e| panic!("hark status -o json is not JSON ({e}): {json_out}"));
    let states: Vec<(&str, &str)> = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|m| {
            (
                str_of(m, "name").unwrap_or(""),
                str_of(m, "state").unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("zulu", "CRIT"), ("yank", "WARN"), ("alpha", "OK")],
        "{list}"
    );

    let config = hark.config_path().display().to_string();
    let check = |name: &str, extra: &[&str]| {
        hark.cli()
            .args(["check", name, "-c", &config])
            .args(extra)
            .output()
            .expect("run hark check")
    };
    let out = check("zulu", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "zulu CRIT: connection to 127.0.0.1:{} refused",
            closed.port()
        )),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("took "), "{}", text(&out));

    let out = check("alpha", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!(
            "alpha OK: TCP 127.0.0.1:{}: connected in",
            up.port()
        )),
        "{}",
        text(&out)
    );

    let out = check("yank", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("yank WARN: "), "{}", text(&out));
    assert!(stdout.contains("disk_used=15"), "{}", text(&out));

    let out = check("zulu", &["--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("hark check --json is not JSON ({e}): {}", text(&out)));
    assert_eq!(outcome["status"], "CRIT", "{outcome}");

    let out = check("nope", &[]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no monitor named `nope`") && stderr.contains("alpha, yank, zulu"),
        "{}",
        text(&out)
    );

    // The same check through the API, which leaves the state alone.
    let (status, body) = hark.post_as("/api/v1/monitors/zulu/check", Some(hark.token()), "");
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(outcome["status"], "CRIT", "{outcome}");
    let viewer = hark.create_token("viewer", "watcher");
    let (status, body) = hark.post_as("/api/v1/monitors/zulu/check", Some(&viewer), "");
    assert_eq!(status, 403, "a viewer cannot run checks: {body}");
    let (status, body) = hark.get_as("/api/v1/monitors", Some(&viewer));
    assert_eq!(status, 200, "a viewer can list monitors: {body}");
}

/// Without monitors, `hark status` says so instead of printing a bare
/// header, and `hark serve` names its listener once (not again in its log).
#[test]
fn cli_status_without_monitors_says_so() {
    let hark = server().start();
    assert_eq!(cli_ok(&hark, &["status"]), "no monitors configured\n");
    assert_eq!(
        cli_ok(&hark, &["status", "--problems"]),
        "no monitors configured\n"
    );
    let list: Value = serde_json::from_str(cli_ok(&hark, &["status", "-o", "json"]).trim())
        .unwrap_or_else(|e| panic!("hark status -o json is not JSON: {e}"));
    assert_eq!(list, json!([]));
    let output = hark.output();
    let listening = output.lines().filter(|l| l.contains("listening")).count();
    assert_eq!(listening, 1, "{output}");
}

/// Roles: an operator token (`hark token create --role operator`)
/// acknowledges and schedules downtimes, which a viewer may not, and cannot
/// ingest, which only an admin may; each refusal names the role needed.
#[test]
fn operators_act_on_monitors_viewers_read_admins_ingest() {
    let target = TcpTarget::refusing();
    let hark = server()
        .monitor(
            "gone",
            &tcp_monitor(target.port(), "interval = \"1s\"\nmax_attempts = 1"),
        )
        .start();
    hark.wait_state("gone", "CRIT", "hard");
    let operator = hark.create_token("operator", "oncall");
    let viewer = hark.create_token("viewer", "wall");

    let ack = r#"{"comment": "on it"}"#;
    let (status, body) = hark.post_as("/api/v1/monitors/gone/ack", Some(&viewer), ack);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("needs the operator role") && body.contains("token `wall` is a viewer"),
        "{body}"
    );
    let (status, body) = hark.post_as("/api/v1/monitors/gone/ack", Some(&operator), ack);
    assert_eq!(status, 200, "{body}");
    let acked = hark.monitor("gone");
    assert_eq!(
        acked["ack"]["author"].as_str(),
        Some("oncall"),
        "the operator's name is the author: {acked}"
    );

    let downtime = r#"{"monitors": ["gone"], "schedule": {"type": "once", "start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00:00Z"}}"#;
    let (status, body) = hark.post_as("/api/v1/downtimes", Some(&viewer), downtime);
    assert_eq!(status, 403, "{body}");
    let (status, body) = hark.post_as("/api/v1/downtimes", Some(&operator), downtime);
    assert_eq!(status, 201, "{body}");

    let (status, body) = hark.post_as(
        "/api/v1/ingest",
        Some(&operator),
        r#"{"message": "from an operator"}"#,
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("needs the admin role") && body.contains("token `oncall` is an operator"),
        "{body}"
    );
    let (status, body) = hark.get_as("/api/v1/monitors", Some(&viewer));
    assert_eq!(status, 200, "a viewer reads: {body}");

    // The CLI with the operator's token.
    let as_operator = |args: &[&str]| {
        let out = hark
            .cli()
            .args(args)
            .args(["--token", &operator])
            .output()
            .unwrap_or_else(|e| panic!("run hark: {e}"));
        assert!(out.status.success(), "hark {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = as_operator(&["downtime", "list"]);
    assert!(listed.contains("  gone  2030-01-01T00:00:00"), "{listed}");
    assert!(as_operator(&["ack", "gone", "--remove"]).contains("removed"));
}
