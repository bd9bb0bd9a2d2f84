//! File inputs end to end: a real `hark serve` follows log files while
//! Debian's `logrotate` rotates them (by rename, then by copytruncate),
//! across a clean restart and a kill -9. Every line must be searchable; after
//! the clean restart each exactly once, after kill -9 none missing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hark_e2e::{Hark, field_str, marker, number_after};
use hark_testkit::poll;

const WAIT: Duration = Duration::from_secs(60);

/// The log directory of a test and the server following it.
struct Logs {
    dir: tempfile::TempDir,
}

impl Logs {
    fn new() -> Logs {
        Logs {
            dir: tempfile::Builder::new()
                .prefix("hark-e2e-logs-")
                .tempdir()
                .expect("create the log directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Appends lines `from..to` (`<m> n=<i> …`) to `name`.
    fn write(&self, name: &str, m: &str, range: std::ops::Range<u64>) {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(name))
            .expect("open the log file");
        let mut f = std::io::BufWriter::new(f);
        for n in range {
            writeln!(f, "{m} n={n} GET /index.html 200").expect("write a line");
        }
        f.flush().expect("write the log file");
    }

    /// Runs `logrotate -f` with its own state file on `body` (the stanza's
    /// directives) for `app.log`.
    fn logrotate(&self, body: &str) {
        let conf = self.path("logrotate.conf");
        std::fs::write(
            &conf,
            format!("{} {{\n{body}\n}}\n", self.path("app.log").display()),
        )
        .expect("write the logrotate configuration");
        let state = self.path("logrotate.state");
        let out = Command::new(logrotate_bin())
            .arg("-f")
            .arg("-s")
            .arg(&state)
            .arg(&conf)
            .output()
            .expect("run logrotate (scripts/install-test-deps.sh installs it)");
        assert!(
            out.status.success(),
            "logrotate failed: {:?}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn logrotate_bin() -> PathBuf {
    ["/usr/sbin/logrotate", "/sbin/logrotate"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("logrotate"))
}

/// A server with only a file input `files` on `*.log` in `logs`, plus `extra` keys.
fn start(logs: &Path, extra: &str) -> Hark {
    Hark::builder()
        .extra(&format!(
            "[inputs.files]\ntype = \"file\"\npaths = [\"{}/*.log\"]\n\
             rescan_interval = \"200ms\"\npartial_line_timeout = \"500ms\"\n\
             rotate_wait = \"1s\"\napp = \"e2e\"\n{extra}\n\
             [storage]\ncommit_interval = \"200ms\"",
            logs.display()
        ))
        .start()
}

/// How many times each `n=` was stored under marker `m`.
fn counts(hark: &Hark, m: &str) -> BTreeMap<u64, usize> {
    let mut seen = BTreeMap::new();
    for msg in hark.query_all_messages(m) {
        let n = number_after(&msg, "n=").unwrap_or_else(|| panic!("no number in {msg:?}"));
        *seen.entry(n).or_insert(0) += 1;
    }
    seen
}

/// Waits until every `n` in `0..upto` was stored; returns the counts.
fn wait_all(hark: &Hark, m: &str, upto: u64) -> BTreeMap<u64, usize> {
    poll(WAIT, Duration::from_millis(300), || {
        let c = counts(hark, m);
        (0..upto).all(|n| c.contains_key(&n)).then_some(c)
    })
    .unwrap_or_else(|| {
        let c = counts(hark, m);
        let missing: Vec<u64> = (0..upto).filter(|n| !c.contains_key(n)).collect();
        panic!(
            "lines missing after {WAIT:?}: {missing:?}\n{}",
            hark.output()
        )
    })
}

fn assert_each_once(c: &BTreeMap<u64, usize>, upto: u64) {
    let twice: Vec<_> = c.iter().filter(|(_, k)| **k != 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    assert_eq!(c.len() as u64, upto, "{c:?}");
}

/// The saved position of `path` in the input's checkpoint file.
fn saved_offset(hark: &Hark, path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(hark.data_dir().join("files/files.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["files"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == path)
        .and_then(|f| f["offset"].as_u64())
}

#[test]
fn lines_survive_rotation_restart_and_kill9() {
    let logs = Logs::new();
    let m = marker("files");
    logs.write("app.log", &m, 0..50);
    let mut hark = start(logs.dir.path(), "");
    assert_each_once(&wait_all(&hark, &m, 50), 50);

    // The event names its file, offset, host and app.
    let hit = hark
        .hits(&m, 100)
        .into_iter()
        .find(|h| h["message"].as_str().is_some_and(|s| s.contains(" n=0 ")))
        .expect("the event of line 0");
    let app_log = logs.path("app.log").display().to_string();
    assert_eq!(field_str(&hit, "log.file.path").as_deref(), Some(&*app_log));
    assert_eq!(field_str(&hit, "log.offset").as_deref(), Some("0"));
    assert_eq!(hit["app"], "e2e");
    assert_eq!(hit["host"].as_str(), Some(&*hark_e2e::hostname()));

    // Rotation by rename (logrotate's default, `create`): the old file gets
    // late lines from a writer that has not reopened yet, the new one fresh lines.
    logs.logrotate("rotate 3\nmissingok\nnocompress\ncreate");
    assert!(logs.path("app.log.1").is_file());
    logs.write("app.log.1", &m, 50..60);
    logs.write("app.log", &m, 60..100);
    assert_each_once(&wait_all(&hark, &m, 100), 100);

    // copytruncate: the file is copied, then emptied in place. Lines written
    // between the copy and the truncation are lost (logrotate's window);
    // here nothing is written then.
    logs.logrotate("rotate 3\nmissingok\nnocompress\ncopytruncate");
    let truncated = poll(WAIT, Duration::from_millis(100), || {
        (hark.metric("hark_file_truncations_total{input=\"files\"}") >= 1.0).then_some(())
    });
    assert!(truncated.is_some(), "no truncation seen\n{}", hark.output());
    logs.write("app.log", &m, 100..150);
    assert_each_once(&wait_all(&hark, &m, 150), 150);
    assert!(hark.metric("hark_file_rotations_total{input=\"files\"}") >= 1.0);
    assert!(hark.metric("hark_file_bytes_read_total{input=\"files\"}") > 0.0);

    // A clean restart, with lines written while the server is down: each once.
    logs.write("app.log", &m, 150..170);
    wait_all(&hark, &m, 170);
    hark.stop();
    logs.write("app.log", &m, 170..200);
    hark.restart();
    assert_each_once(&wait_all(&hark, &m, 200), 200);

    // kill -9 while lines are being read: none missing afterwards; lines
    // read but not yet recorded as durable may come twice. First wait until
    // the position after line 199 is saved.
    let size = std::fs::metadata(logs.path("app.log"))
        .expect("app.log")
        .len();
    let saved = poll(WAIT, Duration::from_millis(100), || {
        saved_offset(&hark, &app_log).filter(|o| *o == size)
    });
    assert!(
        saved.is_some(),
        "position {size} never saved\n{}",
        hark.output()
    );
    const STORED: &str = "hark_events_stored_total{input=\"files\"}";
    const BURST: u64 = 100_000;
    let before = hark.metric(STORED);
    logs.write("app.log", &m, 200..200 + BURST);
    let reading = poll(WAIT, Duration::from_millis(20), || {
        (hark.metric(STORED) >= before + 10_000.0).then_some(())
    });
    assert!(
        reading.is_some(),
        "the burst is not being read\n{}",
        hark.output()
    );
    hark.kill9();
    let end = 200 + BURST + 100;
    logs.write("app.log", &m, 200 + BURST..end);
    hark.restart();
    let c = wait_all(&hark, &m, end);
    let twice = c.values().filter(|k| **k > 1).count();
    assert!(c.values().all(|k| *k <= 2), "a line stored more than twice");
    assert!(
        c.range(..200).all(|(_, k)| *k == 1),
        "a line durable before the kill was read again"
    );
    eprintln!("after kill -9: {twice} of {BURST} lines stored twice");
}

#[test]
fn a_java_stack_trace_is_one_event_and_json_lines_are_parsed() {
    let logs = Logs::new();
    let m = marker("trace");
    let trace = format!(
        "2026-12-05 10:00:00,123 ERROR [http-nio-8080-exec-3] c.e.OrderController - {m} order failed\n\
         java.lang.IllegalStateException: order 42 has no lines\n\
         \tat com.example.OrderService.total(OrderService.java:88)\n\
         \tat com.example.OrderController.place(OrderController.java:41)\n\
         \tat java.base/java.lang.Thread.run(Thread.java:1583)\n\
         Caused by: java.lang.NullPointerException: lines\n\
         \t... 3 more\n"
    );
    std::fs::write(logs.path("app.log"), &trace).expect("write app.log");
    std::fs::write(
        logs.path("events.log"),
        format!("{{\"message\":\"{m} signed in\",\"user\":{{\"name\":\"alice\"}}}}\n"),
    )
    .expect("write events.log");
    let hark = start(
        logs.dir.path(),
        "multiline = { start = '^\\d{4}-\\d{2}-\\d{2} ', timeout = \"500ms\" }",
    );
    assert_eq!(hark.wait_total(&m, 2, WAIT), 2, "{}", hark.output());
    let hits = hark.hits(&format!("{m} AND order"), 5);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["message"].as_str(), Some(trace.trim_end()));
    let json = hark
        .hits(&m, 5)
        .into_iter()
        .find(|h| {
            h["message"]
                .as_str()
                .is_some_and(|s| s.contains("signed in"))
        })
        .expect("the JSON line's event");
    assert_eq!(
        field_str(&json, "user.name").as_deref(),
        Some("alice"),
        "{json}"
    );
}
