//! An edge forwarder (`hark forward`) in a network namespace of its own,
//! joined to the center (`hark serve` with `[uplink]`) by a veth link;
//! syslog-ng's loggen sends into the forwarder from inside its namespace.
//! The link is cut, the center killed with -9; afterwards every message is
//! on the center exactly once, in the order it was sent, and the silent
//! forwarder was a DOWN monitor state an alert rule fired on. The buffer's
//! cap drops the oldest events (counted exactly) or holds rsyslog's RELP
//! sender back (nothing lost).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hark_e2e::{Hark, Transport, hark_bin, number_after};
use hark_testkit::netns::Netns;
use hark_testkit::peers::{Rsyslog, loggen};
use hark_testkit::{ChildGuard, free_tcp_port, poll};

/// loggen's fixed program name: every message it sends matches.
const QUERY: &str = "app:prg00000";
/// The forwarder's syslog input, on the namespace's own loopback.
const EDGE_INPUT: &str = "127.0.0.1:10514";
/// The smallest buffer a forwarder accepts.
const SMALL_BUFFER: &str = "16MiB";
/// How long to wait for anything to arrive.
const PATIENCE: Duration = Duration::from_secs(300);

/// A center with an uplink on `port`, reachable by forwarders at `host`;
/// a forwarder silent for 15 s is down, and an alert rule watches that.
fn center(port: u16, host: &str) -> Hark {
    Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&format!(
            "[uplink]\nlisten = \"0.0.0.0:{port}\"\nnames = [\"{host}\"]\ndown_after = \"15s\"\n\n\
             [alerts.edges]\ntype = \"monitor\"\nmonitors = [\"forwarder/*\"]\n"
        ))
        .start()
}

/// A one-time enrolment token made on the center by the CLI.
fn enroll_token(center: &Hark) -> String {
    let out = Command::new(hark_bin())
        .args([
            "forwarder",
            "enroll-token",
            "--group",
            "dmz",
            "--ttl",
            "10m",
            "-c",
        ])
        .arg(center.config_path())
        .output()
        .expect("run hark forwarder enroll-token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A running `hark forward` inside `ns`.
struct Edge {
    /// The process, killed on drop.
    _proc: ChildGuard,
    log: PathBuf,
    data: PathBuf,
    dir: tempfile::TempDir,
}

impl Edge {
    /// Enrols forwarder `edge1` with `center` and starts it, inside `ns`
    /// or, without one, on this host's loopback; `extra` is more
    /// `[forward]` lines, then any more tables.
    fn start(ns: Option<&Netns>, center: &Hark, uplink_port: u16, extra: &str) -> Edge {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let config = dir.path().join("forward.toml");
        let host = ns.map_or("127.0.0.1", |ns| ns.host.as_str());
        // Only a namespace's own loopback has EDGE_INPUT surely free.
        let input = if ns.is_some() {
            EDGE_INPUT
        } else {
            "127.0.0.1:0"
        };
        std::fs::write(
            &config,
            format!(
                "data_dir = \"{}\"\n\n[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"{input}\"\n\n[forward]\nname = \"edge1\"\ncenter = \"https://{host}:{uplink_port}\"\n{extra}\n",
                data.display(),
            ),
        )
        .expect("write forward.toml");
        let log = dir.path().join("forward.log");
        let url = format!("https://{host}:{uplink_port}");
        let token = enroll_token(center);
        let mut cmd = match ns {
            Some(ns) => ns.command(hark_bin()),
            None => Command::new(hark_bin()),
        };
        cmd.arg("forward")
            .arg("-c")
            .arg(&config)
            .args(["--enroll", &url, "--token", &token])
            .env("RUST_BACKTRACE", "1");
        let proc = ChildGuard::logged("hark forward", &mut cmd, &log);
        let edge = Edge {
            _proc: proc,
            log,
            data,
            dir,
        };
        let ready = poll(PATIENCE, Duration::from_millis(50), || {
            edge.output().lines().any(|l| l == "ready").then_some(())
        });
        assert!(
            ready.is_some(),
            "hark forward never ready:\n{}",
            edge.output()
        );
        edge
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Bytes of the forwarder's buffer (its WAL segments) on disk.
    fn buffer_bytes(&self) -> u64 {
        dir_bytes(&self.data.join("wal"))
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// loggen inside `ns`, sending `count` messages to the forwarder at `rate` per second.
fn loggen_in(ns: &Netns, count: u64, rate: u64, log: &Path) -> ChildGuard {
    let base = loggen();
    let mut cmd = ns.command(base.get_program());
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let (host, port) = EDGE_INPUT.split_once(':').expect("host:port");
    // loggen stops after --interval seconds (10 by default) whatever --number says.
    cmd.args(["--inet", "--stream", "--size", "200", "--interval", "3600"])
        .args(["--rate", &rate.to_string(), "--number", &count.to_string()])
        .args([host, port]);
    ChildGuard::logged("loggen", &mut cmd, log)
}

/// Waits for loggen to finish and returns the count it reports sending.
fn loggen_done(mut sender: ChildGuard, log: &Path) -> u64 {
    let status = poll(PATIENCE, Duration::from_millis(100), || sender.try_wait());
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "loggen failed or hung: {status:?}\n{text}"
    );
    text.lines()
        .rev()
        .find(|l| l.contains("average rate"))
        .and_then(|l| number_after(l, "count="))
        .unwrap_or_else(|| panic!("no summary in loggen's output:\n{text}"))
}

/// loggen's sequence numbers as the center stores them, oldest first.
fn stored_seqs(center: &Hark) -> Vec<u64> {
    let mut seqs: Vec<u64> = center
        .query_all_messages(QUERY)
        .iter()
        .map(|m| number_after(m, "seq: ").unwrap_or_else(|| panic!("no seq in {m:?}")))
        .collect();
    // The query lists the newest first.
    seqs.reverse();
    seqs
}

/// The forwarder as the center's API shows it.
fn forwarder_view(center: &Hark) -> serde_json::Value {
    let list = center.api_json("/api/v1/forwarders");
    list.as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == "edge1").cloned())
        .unwrap_or_else(|| panic!("edge1 not in {list}"))
}

/// Waits until the forwarder reports that its `input` received `received`
/// events and its buffer is empty, and returns its view.
fn drained(center: &Hark, edge: &Edge, input: &str, received: u64) -> serde_json::Value {
    let view = poll(PATIENCE, Duration::from_millis(500), || {
        let v = forwarder_view(center);
        let health = &v["health"];
        (health["inputs"][input]["events"] == received
            && health["buffer_events"] == 0
            && v["status"] == "up")
            .then_some(v)
    });
    view.unwrap_or_else(|| {
        panic!(
            "the forwarder never reported an empty buffer: {}\n{}",
            forwarder_view(center),
            edge.output()
        )
    })
}

#[test]
fn every_message_arrives_once_and_in_order_across_a_cut_link_and_a_killed_center() {
    const COUNT: u64 = 200_000;
    let ns = Netns::new(0);
    let uplink_port = free_tcp_port();
    let mut center = center(uplink_port, &ns.host);
    let edge = Edge::start(Some(&ns), &center, uplink_port, "");
    let stored = "hark_uplink_events_total{forwarder=\"edge1\"}";

    let sender_log = edge.dir.path().join("loggen.log");
    let sender = loggen_in(&ns, COUNT, 5_000, &sender_log);
    let flowing = poll(PATIENCE, Duration::from_millis(100), || {
        (center.metric(stored) >= 10_000.0).then_some(())
    });
    assert!(flowing.is_some(), "nothing arrived:\n{}", edge.output());

    // The link is cut for 30 s: the forwarder buffers.
    ns.link_down();
    std::thread::sleep(Duration::from_secs(30));
    ns.link_up();

    // While it catches up, the center is killed at an arbitrary instant.
    let before = center.metric(stored);
    let catching_up = poll(PATIENCE, Duration::from_millis(20), || {
        (center.metric(stored) >= before + 20_000.0).then_some(())
    });
    assert!(
        catching_up.is_some(),
        "the forwarder did not catch up after the link came back:\n{}",
        edge.output()
    );
    center.kill9();
    center.restart();

    assert_eq!(
        loggen_done(sender, &sender_log),
        COUNT,
        "loggen's own count"
    );
    let total = center.wait_total(QUERY, COUNT, PATIENCE);
    assert_eq!(total, COUNT, "stored on the center\n{}", edge.output());
    drained(&center, &edge, "tcp", COUNT);
    let seqs = stored_seqs(&center);
    assert_eq!(seqs.len() as u64, COUNT, "no message twice");
    assert!(
        seqs.iter().copied().eq(0..COUNT),
        "stored out of order or with gaps: first differences {:?}",
        seqs.iter()
            .enumerate()
            .filter(|(i, s)| *i as u64 != **s)
            .take(5)
            .collect::<Vec<_>>()
    );
    // The forwarder is named, the input is the forwarder's.
    let hit = &center.hits("forwarder:edge1", 1)[0];
    assert_eq!(hit["input"], "tcp", "{hit}");
    assert_eq!(center.total("forwarder:edge1"), COUNT);

    // Silent while the link was cut, the forwarder went DOWN as a monitor
    // state, and the alert rule on it fired and resolved when it was back.
    let down = "monitor:\"forwarder/edge1\" AND state:DOWN AND previous_state:UP";
    assert!(center.total(down) >= 1, "no DOWN state change for edge1");
    let resolved = poll(PATIENCE, Duration::from_millis(500), || {
        let (_, body) = center.get_as("/api/v1/alerts", Some(center.token()));
        let alerts: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
        alerts
            .into_iter()
            .find(|a| a["rule"] == "edges" && a["group"][0][1] == "forwarder/edge1")
            .filter(|a| a["status"] == "resolved")
    });
    let alert = resolved.unwrap_or_else(|| {
        panic!(
            "no resolved alert for forwarder/edge1: {}",
            center.get_as("/api/v1/alerts", Some(center.token())).1
        )
    });
    let samples = alert["samples"].as_array().cloned().unwrap_or_default();
    assert!(
        samples.iter().any(|s| {
            s["message"].as_str().is_some_and(|m| {
                m.starts_with("forwarder/edge1 DOWN (hard) was UP: no health report")
            })
        }),
        "{alert}"
    );
    assert_eq!(center.metric("hark_forwarder_up{forwarder=\"edge1\"}"), 1.0);
}

#[test]
fn drop_oldest_counts_exactly_what_is_missing() {
    // Several times what a 16 MiB buffer holds.
    const COUNT: u64 = 300_000;
    let ns = Netns::new(1);
    let uplink_port = free_tcp_port();
    let center = center(uplink_port, &ns.host);
    let edge = Edge::start(
        Some(&ns),
        &center,
        uplink_port,
        &format!("buffer_max = \"{SMALL_BUFFER}\"\noverflow = \"drop_oldest\""),
    );
    // Everything is sent while the center is out of reach: more than fits.
    ns.link_down();
    let sender_log = edge.dir.path().join("loggen.log");
    let sender = loggen_in(&ns, COUNT, 50_000, &sender_log);
    assert_eq!(
        loggen_done(sender, &sender_log),
        COUNT,
        "loggen's own count"
    );
    ns.link_up();

    let view = drained(&center, &edge, "tcp", COUNT);
    let dropped = view["health"]["dropped"]
        .as_u64()
        .expect("dropped in the report");
    assert!(
        dropped > 0,
        "a 16 MiB buffer holds fewer than {COUNT}: {view}"
    );
    let total = center.wait_total(QUERY, COUNT - dropped, PATIENCE);
    assert_eq!(total + dropped, COUNT, "{view}");
    assert_eq!(
        center.metric("hark_forward_dropped_total{forwarder=\"edge1\"}"),
        dropped as f64
    );
    // The oldest went (after the batch that was in flight when the link
    // went down): one gap, everything after it, in order, once.
    let seqs = stored_seqs(&center);
    assert_eq!(seqs.last(), Some(&(COUNT - 1)));
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "out of order or twice"
    );
    let gaps = seqs.windows(2).filter(|w| w[1] != w[0] + 1).count();
    assert!(
        gaps <= 1,
        "{gaps} gaps: more than the oldest events are missing"
    );
}

#[test]
fn block_holds_relp_senders_back_and_loses_nothing() {
    // About 24 MB of messages for a 16 MiB buffer.
    const COUNT: u64 = 40_000;
    let uplink_port = free_tcp_port();
    let relp_port = free_tcp_port();
    let mut center = center(uplink_port, "127.0.0.1");
    let edge = Edge::start(
        None,
        &center,
        uplink_port,
        &format!(
            "buffer_max = \"{SMALL_BUFFER}\"\noverflow = \"block\"\n\n\
             [inputs.relp]\ntype = \"relp\"\nlisten = \"127.0.0.1:{relp_port}\"\n"
        ),
    );
    // The center goes away; rsyslog sends everything over RELP meanwhile.
    center.kill9();
    let mut rs = Rsyslog::new();
    rs.start(&format!(
        "module(load=\"omrelp\")\n{}",
        rs.config(
            "",
            &format!(
                r#"action(type="omrelp" target="127.0.0.1" port="{relp_port}" windowSize="128"
                   action.resumeRetryCount="-1" action.resumeInterval="1"
                   queue.type="LinkedList" queue.size="100000")"#
            )
        )
    ));
    let pad = "x".repeat(500);
    rs.feed("relpblock", (1..=COUNT).map(|i| format!("{pad} n={i}")));

    // The buffer fills up to its cap and no further: the forwarder stops
    // acknowledging, so rsyslog holds the rest in its queue.
    let cap = 16 * 1024 * 1024;
    let full = poll(PATIENCE, Duration::from_millis(100), || {
        (edge.buffer_bytes() >= cap * 9 / 10).then_some(())
    });
    assert!(
        full.is_some(),
        "the buffer never filled:\n{}",
        edge.output()
    );
    let held = edge.buffer_bytes();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        edge.buffer_bytes() <= cap + 2 * 1024 * 1024,
        "the buffer grew past its cap: {} bytes",
        edge.buffer_bytes()
    );
    assert!(
        edge.buffer_bytes() <= held + 1024 * 1024,
        "the buffer kept taking events while full: {held} then {} bytes",
        edge.buffer_bytes()
    );

    center.restart();
    let total = center.wait_total("app:relpblock", COUNT, PATIENCE);
    assert_eq!(total, COUNT, "{}\n{}", edge.output(), rs.diagnostics());
    let mut seen = std::collections::BTreeMap::new();
    for message in center.query_all_messages("app:relpblock") {
        let n = number_after(&message, "n=").unwrap_or_else(|| panic!("no number in {message}"));
        *seen.entry(n).or_insert(0u32) += 1;
    }
    let missing: Vec<u64> = (1..=COUNT).filter(|n| !seen.contains_key(n)).collect();
    assert!(
        missing.is_empty(),
        "{} lost, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(seen.values().all(|&c| c == 1), "a message stored twice");
    let view = drained(&center, &edge, "relp", COUNT);
    assert_eq!(view["health"]["dropped"], 0, "{view}");
}

#[test]
fn a_revoked_forwarder_is_refused_and_shown_so() {
    let ns = Netns::new(3);
    let uplink_port = free_tcp_port();
    let center = center(uplink_port, &ns.host);
    let edge = Edge::start(Some(&ns), &center, uplink_port, "");
    let up = poll(PATIENCE, Duration::from_millis(200), || {
        (forwarder_view(&center)["status"] == "up").then_some(())
    });
    assert!(up.is_some(), "{}", edge.output());
    let out = center.run_cli(&["forwarders"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("edge1") && l.contains(" up ")),
        "{table}"
    );
    let out = Command::new(hark_bin())
        .args(["forwarder", "revoke", "edge1", "-c"])
        .arg(center.config_path())
        .output()
        .expect("run hark forwarder revoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sender_log = edge.dir.path().join("loggen.log");
    let sender = loggen_in(&ns, 100, 1_000, &sender_log);
    assert_eq!(loggen_done(sender, &sender_log), 100);
    let refused = poll(PATIENCE, Duration::from_millis(200), || {
        edge.output().contains("revoked").then_some(())
    });
    assert!(refused.is_some(), "{}", edge.output());
    assert_eq!(center.total(QUERY), 0);
    assert_eq!(forwarder_view(&center)["status"], "revoked");
}

#[test]
fn a_group_configuration_is_applied_without_a_restart() {
    let uplink_port = free_tcp_port();
    let center = center(uplink_port, "127.0.0.1");
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("forward.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n\n[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"127.0.0.1:0\"\n\n[forward]\nname = \"edge1\"\ncenter = \"https://127.0.0.1:{uplink_port}\"\n",
            dir.path().join("data").display(),
        ),
    )
    .expect("write forward.toml");
    let log = dir.path().join("forward.log");
    let output = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut cmd = Command::new(hark_bin());
    cmd.arg("forward")
        .arg("-c")
        .arg(&config)
        .args(["--enroll", &format!("https://127.0.0.1:{uplink_port}")])
        .args(["--token", &enroll_token(&center)]);
    let _edge = ChildGuard::logged("hark forward", &mut cmd, &log);
    let ready = poll(PATIENCE, Duration::from_millis(50), || {
        output().lines().any(|l| l == "ready").then_some(())
    });
    assert!(ready.is_some(), "hark forward never ready:\n{}", output());
    let up = poll(PATIENCE, Duration::from_millis(200), || {
        (forwarder_view(&center)["status"] == "up").then_some(())
    });
    assert!(up.is_some(), "{}", output());
    let health = forwarder_view(&center)["health"].clone();
    assert_eq!(health["group_config_version"], "", "{health}");
    assert_eq!(health["overflow"], "block", "{health}");
    assert_eq!(health["buffer_max"], 10u64 << 30, "{health}");

    let http = reqwest::blocking::Client::new();
    let put = |text: &str| {
        let resp = http
            .put(format!(
                "{}/api/v1/forwarders/groups/dmz/config",
                center.api_url()
            ))
            .bearer_auth(center.token())
            .body(text.to_owned())
            .send()
            .expect("PUT the group configuration");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    };
    let port = free_tcp_port();
    let (status, body) = put(&format!(
        "[inputs.central]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"127.0.0.1:{port}\"\n\n\
         [forward]\nbuffer_max = \"32MiB\"\noverflow = \"drop_oldest\"\n"
    ));
    assert_eq!(status, 200, "{body}");
    let stored: serde_json::Value = serde_json::from_str(&body).expect("JSON answer");
    let version = stored["version"].as_str().expect("a version").to_owned();

    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let listening = poll(PATIENCE, Duration::from_millis(200), || {
        std::net::TcpStream::connect(addr).ok().map(drop)
    });
    assert!(listening.is_some(), "{}", output());
    let wire = |m: &str| hark_e2e::wire::lf_frame(hark_e2e::wire::rfc5424(m).as_bytes());
    hark_e2e::wire::tcp_send(addr, &wire("centrallyconfigured"));
    center.wait_hit("centrallyconfigured", PATIENCE);
    let reported = poll(PATIENCE, Duration::from_millis(200), || {
        let view = forwarder_view(&center);
        (view["health"]["group_config_version"] == version.as_str()).then_some(view)
    });
    let view = reported.unwrap_or_else(|| panic!("{}", forwarder_view(&center)));
    assert_eq!(view["group_config"], version.as_str());
    // The buffer's new cap and overflow are in force in the same process.
    assert_eq!(view["health"]["overflow"], "drop_oldest", "{view}");
    assert_eq!(view["health"]["buffer_max"], 32u64 << 20, "{view}");
    center.wait_hit(
        "app:hark-audit AND action:\"forwarder_group.config\" AND outcome:success",
        PATIENCE,
    );
    let out = Command::new(hark_bin())
        .args(["forwarder", "config", "get", "dmz", "-c"])
        .arg(center.config_path())
        .output()
        .expect("run hark forwarder config get");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("127.0.0.1:{port}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The same process all along: it printed `ready` once.
    assert_eq!(output().lines().filter(|l| *l == "ready").count(), 1);

    let (status, body) =
        put("[inputs.bad]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"nowhere\"\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("dmz.toml:4:"), "{body}");
    let kept = center.api_json("/api/v1/forwarders/groups/dmz/config");
    assert_eq!(kept["version"], version.as_str());
}
