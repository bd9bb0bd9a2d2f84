//! The command line: `config check`, `query` in each format, `tail`,
//! `token create` and roles, and every `--help`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hark_e2e::{Hark, hark_bin, marker};
use hark_testkit::ChildGuard;
use hark_testkit::peers::run_logger;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

fn hark(args: &[&str]) -> Output {
    Command::new(hark_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run hark")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `hark config check FILE` on `toml`; returns the exit code and all output.
fn config_check(dir: &Path, name: &str, toml: &str) -> (Option<i32>, String, String) {
    let path = dir.join(name);
    std::fs::write(&path, toml).expect("write the config");
    let p = path.display().to_string();
    let out = hark(&["config", "check", &p]);
    (out.status.code(), text(&out), p)
}

const GOOD: &str = r#"data_dir = "/var/lib/hark-e2e-never-created"

[http]
listen = "127.0.0.1:18514"

[inputs.syslog_udp]
type = "syslog"
transport = "udp"
listen = "127.0.0.1:10514"
max_message_size = "64KiB"

[inputs.syslog_tcp]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:10514"
max_message_size = 65536
max_connections = 100
idle_timeout = "10m"

[storage]
fsync = "interval"
fsync_interval = "100ms"
retention_max_age = "30d"
retention_max_disk = "50GiB"
commit_interval = "1s"
"#;

#[test]
fn config_check_accepts_a_good_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = config_check(dir.path(), "good.toml", GOOD);
    assert_eq!(code, Some(0), "hark config check on a good file:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.trim() == "ok" || l.starts_with("ok:")),
        "no `ok` line in:\n{out}"
    );
}

#[test]
fn config_check_names_file_and_line_of_an_unknown_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A misspelt key in [inputs.syslog_tcp].
    let bad = GOOD.replace(
        "idle_timeout = \"10m\"",
        "idle_timeout = \"10m\"\nmax_conections = 5",
    );
    let line = bad
        .lines()
        .position(|l| l.starts_with("max_conections"))
        .expect("the added line")
        + 1;
    let (code, out, path) = config_check(dir.path(), "unknown.toml", &bad);
    assert_eq!(code, Some(1), "exit code for an unknown key:\n{out}");
    assert!(
        out.contains(&format!("{path}:{line}")),
        "error does not name {path}:{line}:\n{out}"
    );
    assert!(
        out.contains("max_conections"),
        "error does not name the key:\n{out}"
    );
}

#[test]
fn config_check_names_file_and_line_of_a_bad_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        // (what is replaced, by what, a word the error must show)
        ("fsync = \"interval\"", "fsync = \"sometimes\"", "always"),
        (
            "idle_timeout = \"10m\"",
            "idle_timeout = \"soon\"",
            "expected",
        ),
        (
            "max_message_size = \"64KiB\"",
            "max_message_size = \"lots\"",
            "expected",
        ),
        (
            "transport = \"udp\"",
            "transport = \"carrier-pigeon\"",
            "tcp",
        ),
        (
            "listen = \"127.0.0.1:18514\"",
            "listen = \"nowhere\"",
            "expected",
        ),
    ];
    for (i, (from, to, expect)) in cases.iter().enumerate() {
        let bad = GOOD.replacen(from, to, 1);
        let line = bad
            .lines()
            .position(|l| l == *to)
            .expect("the replaced line")
            + 1;
        let (code, out, path) = config_check(dir.path(), &format!("bad{i}.toml"), &bad);
        assert_eq!(code, Some(1), "exit code for `{to}`:\n{out}");
        assert!(
            out.contains(&format!("{path}:{line}")),
            "error for `{to}` does not name {path}:{line}:\n{out}"
        );
        assert!(
            out.contains(expect),
            "error for `{to}` does not mention {expect:?}:\n{out}"
        );
    }
}

/// A server holding three known messages of `m`.
fn server_with_data(m: &str) -> Hark {
    let hark = Hark::start("");
    let port = hark.port("tcp").to_string();
    for (i, word) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let msg = format!("{m} {word} n={}", i + 1);
        run_logger(&[
            "--tcp",
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "-t",
            "cliapp",
            &msg,
        ]);
    }
    assert_eq!(hark.wait_total(m, 3, WAIT), 3, "{}", hark.output());
    hark
}

fn stdout_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}",
        out.status,
        text(out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn query_in_every_format() {
    let m = marker("cliq");
    let hark = server_with_data(&m);
    let words = ["alpha", "beta", "gamma"];

    let out = stdout_ok(
        &hark.run_cli(&["query", &m, "--format", "text"]),
        "query text",
    );
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 3, "text lines:\n{out}");
    for w in words {
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains(&format!("{m} {w}")))
                .count(),
            1,
            "text output for {w}:\n{out}"
        );
    }

    let out = stdout_ok(
        &hark.run_cli(&["query", &m, "--format", "json"]),
        "query json",
    );
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("json output ({e}):\n{out}"));
    let hits = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("hits")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| panic!("no hits in {v}")),
        _ => panic!("json output is neither an array nor an object: {v}"),
    };
    assert_eq!(hits.len(), 3, "json hits: {v}");
    assert!(hits.iter().all(|h| h["app"] == "cliapp"), "json hits: {v}");

    let out = stdout_ok(
        &hark.run_cli(&["query", &m, "--format", "ndjson"]),
        "query ndjson",
    );
    let evs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("ndjson line ({e}): {l}")))
        .collect();
    assert_eq!(evs.len(), 3, "ndjson:\n{out}");
    let mut got: Vec<String> = evs
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    got.sort();
    let want: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{m} {w} n={}", i + 1))
        .collect();
    assert_eq!(got, want);

    let out = stdout_ok(
        &hark.run_cli(&["query", &m, "--format", "csv"]),
        "query csv",
    );
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().unwrap_or_default();
    assert!(
        header.contains("timestamp") && header.contains("message"),
        "csv header {header:?}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "csv rows:\n{out}");
    assert!(rows.iter().all(|r| r.contains(&m)), "csv rows:\n{out}");

    let out = stdout_ok(
        &hark.run_cli(&["query", &m, "--limit", "2", "--format", "ndjson"]),
        "query --limit 2",
    );
    assert_eq!(out.lines().count(), 2, "--limit 2:\n{out}");

    let out = stdout_ok(
        &hark.run_cli(&[
            "query",
            &format!("{m} AND beta"),
            "--since",
            "1h",
            "--format",
            "ndjson",
        ]),
        "query with AND and --since",
    );
    assert_eq!(out.lines().count(), 1, "{m} AND beta:\n{out}");
    assert!(out.contains(&format!("{m} beta n=2")), "{out}");

    // URL and token from the environment alone.
    let out = hark
        .cli()
        .args(["query", &m, "--format", "ndjson"])
        .output()
        .expect("run hark query");
    assert_eq!(
        stdout_ok(&out, "query with HARK_URL/HARK_TOKEN")
            .lines()
            .count(),
        3
    );

    // No token: refused, and says so.
    let out = hark
        .cli()
        .env_remove("HARK_TOKEN")
        .args(["query", &m])
        .output()
        .expect("run hark query");
    assert!(
        !out.status.success(),
        "query without a token succeeded:\n{}",
        text(&out)
    );
}

#[test]
fn tail_prints_messages_sent_after_it_started() {
    let m = marker("clitail");
    let hark = Hark::start("");
    let spawn_tail = |format: &str| {
        let mut tail = ChildGuard::spawn(
            "hark tail",
            hark.cli()
                .args(["tail", &m, "--format", format])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let stdout = tail.child().stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (tail, rx)
    };
    let (_json_tail, json_rx) = spawn_tail("ndjson");
    let (_text_tail, text_rx) = spawn_tail("text");

    // Tail subscribes asynchronously: keep sending until a line arrives.
    let port = hark.port("udp").to_string();
    let mut json_line = None;
    let mut text_line = None;
    for i in 0..120 {
        run_logger(&[
            "-d",
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "-t",
            "tailapp",
            &format!("{m} live n={i}"),
        ]);
        std::thread::sleep(Duration::from_millis(500));
        json_line = json_line.or_else(|| json_rx.try_recv().ok());
        text_line = text_line.or_else(|| text_rx.try_recv().ok());
        if json_line.is_some() && text_line.is_some() {
            break;
        }
    }
    let json_line = json_line.unwrap_or_else(|| {
        panic!(
            "hark tail --format ndjson printed nothing\n{}",
            hark.output()
        )
    });
    let ev: Value = serde_json::from_str(&json_line)
        .unwrap_or_else(|e| panic!("tail ndjson line is not JSON ({e}): {json_line}"));
    let msg = ev["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with(&format!("{m} live n=")), "tail event {ev}");
    assert_eq!(ev["app"], "tailapp", "tail event {ev}");
    let text_line = text_line.unwrap_or_else(|| panic!("hark tail (text) printed nothing"));
    assert!(
        text_line.contains(&format!("{m} live n=")),
        "tail text line {text_line:?}"
    );
}

#[test]
fn tokens_and_roles() {
    let hark = Hark::start("");
    let search = "/api/v1/search?q=anything";

    let (status, body) = hark.get_as(search, None);
    assert_eq!(status, 401, "search without a token: {body}");
    let (status, body) = hark.get_as(search, Some("not-a-token"));
    assert_eq!(status, 401, "search with a bad token: {body}");

    let first = hark
        .first_start_token()
        .expect("first start prints `admin token: …`")
        .to_owned();
    let (status, body) = hark.get_as(search, Some(&first));
    assert_eq!(
        status, 200,
        "search with the first-start admin token: {body}"
    );

    let viewer = hark.create_token("viewer", "e2e-viewer");
    assert_ne!(viewer, hark.token());
    let (status, body) = hark.get_as(search, Some(&viewer));
    assert_eq!(status, 200, "search as viewer: {body}");
    let ingest = r#"[{"message":"from the api"}]"#;
    let (status, body) = hark.post_as("/api/v1/ingest", Some(&viewer), ingest);
    assert_eq!(status, 403, "ingest as viewer: {body}");
    let (status, body) = hark.post_as("/api/v1/ingest", Some(hark.token()), ingest);
    assert!(
        status != 401 && status != 403,
        "ingest as admin refused: {status} {body}"
    );
}

#[test]
fn help_for_every_command() {
    let commands: [&[&str]; 9] = [
        &["--help"],
        &["serve", "--help"],
        &["query", "--help"],
        &["tail", "--help"],
        &["send", "--help"],
        &["token", "--help"],
        &["token", "create", "--help"],
        &["config", "--help"],
        &["config", "check", "--help"],
    ];
    for args in commands {
        let out = hark(args);
        assert!(
            out.status.success(),
            "hark {args:?}: {:?}\n{}",
            out.status,
            text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Usage"),
            "hark {args:?} printed no usage:\n{stdout}"
        );
    }
    let out = hark(&["no-such-command"]);
    assert!(!out.status.success(), "an unknown command succeeded");
}
