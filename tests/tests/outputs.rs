//! Outputs into real receivers: rsyslogd as the SIEM over TCP, TLS, RELP
//! and RELP over TLS through a 30-second outage and a restart of Hark; a second Hark's
//! GELF and Beats inputs; an HTTP receiver for NDJSON; an output detached
//! by the WAL cap and re-attached while Hark runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hark_e2e::tls::TlsFiles;
use hark_e2e::webhook::WebhookReceiver;
use hark_e2e::wire::octet_frame;
use hark_e2e::{Hark, Transport, marker, number_after};
use hark_testkit::peers::Rsyslog;
use hark_testkit::{free_tcp_port, poll};

const WAIT: Duration = Duration::from_secs(180);
/// The length of the receiver's outage.
const OUTAGE: Duration = Duration::from_secs(30);

/// Message `n` of a run: app `sel` for odd `n` (what the outputs' query
/// selects), `other` for even ones.
fn message(m: &str, n: u64) -> Vec<u8> {
    let app = if n % 2 == 1 { "sel" } else { "other" };
    octet_frame(
        format!("<13>1 2026-01-02T03:04:05.000006Z e2e {app} - - - {m} n={n} \"quoted\" x=1")
            .as_bytes(),
    )
}

/// Sends messages `range` to the syslog input at `addr` on one connection,
/// pausing `pace` after each.
fn send(addr: SocketAddr, m: &str, range: std::ops::RangeInclusive<u64>, pace: Duration) {
    let mut s = TcpStream::connect(addr).expect("connect to Hark's input");
    for n in range {
        s.write_all(&message(m, n)).expect("write to Hark's input");
        if !pace.is_zero() {
            std::thread::sleep(pace);
        }
    }
    s.flush().expect("flush");
}

/// What rsyslog wrote into `file`: per number, the apps of the lines of run `m`.
fn received(file: &Path, m: &str) -> BTreeMap<u64, Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut got: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains(m)) {
        let n = number_after(line, "n=").unwrap_or_else(|| panic!("no number in {line:?}"));
        let app = line.split(' ').next().unwrap_or_default().to_owned();
        got.entry(n).or_default().push(app);
    }
    got
}

/// The outputs `Siem` receives, each into a file of that name.
const SIEM_OUTPUTS: [&str; 4] = ["tcp", "tls", "relp", "relp_tls"];

/// rsyslogd receiving on imtcp (plain and TLS) and imrelp (plain, and TLS
/// that asks for a client certificate signed by its CA), each input
/// writing `APP-NAME MSG` lines to a file of its own.
struct Siem {
    rs: Rsyslog,
    conf: String,
    tls: TlsFiles,
    tcp: u16,
    tls_port: u16,
    relp: u16,
    relp_tls: u16,
}

impl Siem {
    fn start() -> Siem {
        let mut rs = Rsyslog::new();
        let tls = TlsFiles::generate(&rs.dir().join("certs"));
        let (tcp, tls_port, relp) = (free_tcp_port(), free_tcp_port(), free_tcp_port());
        let relp_tls = free_tcp_port();
        let globals = format!(
            r#"DefaultNetstreamDriverCAFile="{}" DefaultNetstreamDriverCertFile="{}" DefaultNetstreamDriverKeyFile="{}""#,
            tls.ca_cert.display(),
            tls.server_cert.display(),
            tls.server_key.display()
        );
        let mut conf = rs.config(&globals, "");
        let file = |name: &str| rs.dir().join(format!("{name}.log")).display().to_string();
        conf.push_str(&format!(
            r#"
module(load="imrelp")
template(name="line" type="string" string="%app-name% %msg%\n")
ruleset(name="got_tcp") {{ action(type="omfile" file="{tcp_file}" template="line") }}
ruleset(name="got_tls") {{ action(type="omfile" file="{tls_file}" template="line") }}
ruleset(name="got_relp") {{ action(type="omfile" file="{relp_file}" template="line") }}
ruleset(name="got_relp_tls") {{ action(type="omfile" file="{relp_tls_file}" template="line") }}
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="got_tcp")
input(type="imtcp" address="127.0.0.1" port="{tls_port}" ruleset="got_tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imrelp" address="127.0.0.1" port="{relp}" ruleset="got_relp")
input(type="imrelp" address="127.0.0.1" port="{relp_tls}" ruleset="got_relp_tls"
      tls="on" tls.authMode="certvalid" tls.caCert="{ca}" tls.myCert="{cert}" tls.myPrivKey="{key}")
"#,
            tcp_file = file("tcp"),
            tls_file = file("tls"),
            relp_file = file("relp"),
            relp_tls_file = file("relp_tls"),
            ca = tls.ca_cert.display(),
            cert = tls.server_cert.display(),
            key = tls.server_key.display(),
        ));
        rs.start(&conf);
        Siem {
            rs,
            conf,
            tls,
            tcp,
            tls_port,
            relp,
            relp_tls,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.rs.dir().join(format!("{name}.log"))
    }

    fn outputs_toml(&self) -> String {
        let query = "query = 'app:sel'";
        format!(
            r#"
[outputs.tcp]
type = "syslog"
transport = "tcp"
target = "127.0.0.1:{tcp}"
{query}

[outputs.tls]
type = "syslog"
transport = "tls"
target = "localhost:{tls_port}"
tls_ca = "{ca}"
{query}

[outputs.relp]
type = "relp"
target = "127.0.0.1:{relp}"
{query}

[outputs.relp_tls]
type = "relp"
target = "localhost:{relp_tls}"
tls = true
tls_ca = "{ca}"
tls_cert = "{client_cert}"
tls_key = "{client_key}"
{query}
"#,
            tcp = self.tcp,
            tls_port = self.tls_port,
            relp = self.relp,
            relp_tls = self.relp_tls,
            client_cert = self.tls.client_cert.display(),
            client_key = self.tls.client_key.display(),
            ca = self.tls.ca_cert.display(),
        )
    }
}

/// Waits until every odd number of `1..=last` is in `file`.
fn wait_selected(siem: &Siem, hark: &Hark, name: &str, m: &str, last: u64) {
    let done = poll(WAIT, Duration::from_millis(200), || {
        let got = received(&siem.file(name), m);
        (1..=last)
            .filter(|n| n % 2 == 1)
            .all(|n| got.contains_key(&n))
            .then_some(())
    });
    if done.is_none() {
        let got = received(&siem.file(name), m);
        let missing: Vec<u64> = (1..=last)
            .filter(|n| n % 2 == 1 && !got.contains_key(n))
            .take(20)
            .collect();
        panic!(
            "output {name}: missing (first 20) {missing:?}\n{}\n{}",
            siem.rs.diagnostics(),
            hark.output()
        );
    }
}

fn lag(hark: &Hark, output: &str) -> f64 {
    hark.metric(&format!("hark_output_lag_events{{output=\"{output}\"}}"))
}

#[test]
fn rsyslog_gets_every_selected_event_through_an_outage_and_a_restart() {
    let mut siem = Siem::start();
    let mut hark = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&siem.outputs_toml())
        .start();
    let input = hark.addr("tcp");
    let m = marker("out");

    // Before the outage.
    send(input, &m, 1..=400, Duration::ZERO);
    for name in SIEM_OUTPUTS {
        wait_selected(&siem, &hark, name, &m, 400);
    }

    // rsyslog goes away while a sender keeps Hark busy for the outage.
    siem.rs.stop();
    let pace = OUTAGE / 3000;
    let sender = std::thread::spawn(move || {
        let m = m;
        send(input, &m, 401..=3400, pace);
        m
    });
    for name in ["tcp", "relp"] {
        let behind = poll(WAIT, Duration::from_millis(200), || {
            (lag(&hark, name) > 0.0).then_some(())
        });
        assert!(
            behind.is_some(),
            "no lag shown for output {name} while rsyslog is down"
        );
    }
    let m = sender.join().expect("the sender thread");
    assert_eq!(hark.wait_total(&m, 3400, WAIT), 3400, "events stored");
    // Hark restarts too: each output goes on from its committed position.
    hark.stop();
    hark.restart();
    siem.rs.start(&siem.conf);
    send(hark.addr("tcp"), &m, 3401..=4000, Duration::ZERO);

    for name in SIEM_OUTPUTS {
        wait_selected(&siem, &hark, name, &m, 4000);
        let got = received(&siem.file(name), &m);
        // The query let through only app `sel`; nothing else ever arrived.
        let others: Vec<(&u64, &Vec<String>)> = got
            .iter()
            .filter(|(n, apps)| *n % 2 == 0 || apps.iter().any(|a| a != "sel"))
            .take(5)
            .collect();
        assert!(
            others.is_empty(),
            "output {name} sent unselected events: {others:?}"
        );
        if name.starts_with("relp") {
            let twice: Vec<(&u64, &Vec<String>)> = got
                .iter()
                .filter(|(_, apps)| apps.len() > 1)
                .take(5)
                .collect();
            assert!(
                twice.is_empty(),
                "RELP delivered some events twice: {twice:?}"
            );
        }
    }
    for name in SIEM_OUTPUTS {
        let caught_up = poll(WAIT, Duration::from_millis(200), || {
            (lag(&hark, name) == 0.0).then_some(())
        });
        assert!(
            caught_up.is_some(),
            "output {name} lag stays at {}",
            lag(&hark, name)
        );
        let delivered = hark.metric(&format!("hark_output_delivered_total{{output=\"{name}\"}}"));
        assert!(delivered > 0.0, "output {name}: delivered {delivered}");
    }
    let filtered = hark.metric("hark_output_filtered_total{output=\"relp\"}");
    assert!(filtered > 0.0, "the query left out events: {filtered}");
    // The CLI lists the same: each output running, nothing left to deliver.
    let out = hark.run_cli(&["outputs"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    for name in SIEM_OUTPUTS {
        assert!(
            table.lines().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.first() == Some(&name)
                    && cols.get(1) == Some(&"running")
                    && cols.get(2) == Some(&"0")
            }),
            "{table}"
        );
    }
    // Only a detached output is re-attached.
    let out = hark.run_cli(&["outputs", "reattach", "tcp"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not detached"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gelf_and_beats_outputs_deliver_into_another_hark_and_http_posts_ndjson() {
    let receiver = Hark::builder()
        .typed_input("gelf", "gelf", Some(Transport::Udp), true, "")
        .typed_input("beats", "beats", None, false, "")
        .start();
    let webhook = WebhookReceiver::start(2, None);
    let token_file = receiver.dir().join("http.token");
    std::fs::write(&token_file, "s3cret\n").expect("write the token file");
    let outputs = format!(
        r#"
[outputs.gelf]
type = "gelf"
transport = "udp"
target = "{gelf}"

[outputs.beats]
type = "beats"
target = "{beats}"

[outputs.http]
type = "http"
url = "{url}"
gzip = true
auth_token_file = "{token}"
headers = {{ "X-Tenant" = "ops" }}
query = 'app:sel'
"#,
        gelf = receiver.addr("gelf"),
        beats = receiver.addr("beats"),
        url = webhook.url(),
        token = token_file.display(),
    );
    let sender = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&outputs)
        .start();
    let m = marker("fwd");
    let count = 200;
    send(sender.addr("tcp"), &m, 1..=count, Duration::ZERO);

    // Both outputs deliver every event into the receiving Hark.
    for input in ["gelf", "beats"] {
        let q = format!("{m} AND input:{input}");
        let total = receiver.wait_total(&q, count, WAIT);
        assert_eq!(total, count, "events via {input}\n{}", sender.output());
    }

    // The HTTP receiver failed twice, then took every selected event as
    // NDJSON lines a JSON parser reads back.
    let mut seen = BTreeMap::new();
    let all = poll(WAIT, Duration::from_millis(200), || {
        for r in webhook.requests().iter().filter(|r| r.status == 200) {
            for line in r.body.lines() {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                let msg = v["message"].as_str().unwrap_or_default().to_owned();
                if msg.contains(&m) {
                    let n = number_after(&msg, "n=").expect("a number in the message");
                    seen.insert(n, v);
                }
            }
        }
        (seen.len() as u64 == count / 2).then_some(())
    });
    assert!(
        all.is_some(),
        "HTTP got {} of {} events",
        seen.len(),
        count / 2
    );
    let requests = webhook.requests();
    assert_eq!(requests[0].status, 500);
    assert_eq!(requests[1].status, 500);
    assert!(seen.keys().all(|n| n % 2 == 1), "only selected events");
    let ok = requests.iter().find(|r| r.status == 200).expect("a 200");
    assert_eq!(ok.authorization.as_deref(), Some("Bearer s3cret"));
    assert_eq!(ok.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(ok.content_type.as_deref(), Some("application/x-ndjson"));
    let v = &seen[&1];
    assert_eq!(v["host.name"], "e2e", "{v}");
    assert_eq!(v["log.syslog.appname"], "sel", "{v}");
    assert_eq!(v["log.syslog.severity.name"], "notice", "{v}");
    assert_eq!(v["@timestamp"], "2026-01-02T03:04:05.000006000Z", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("\"quoted\""),
        "{v}"
    );
    let failed = sender.metric("hark_output_failed_attempts_total{output=\"http\"}");
    assert!(failed >= 2.0, "failed attempts of http: {failed}");
}

/// `hark serve` with `outputs` (TOML) and no inputs; its exit status and
/// what it printed.
fn serve_with(outputs: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("hark.toml");
    let text = format!(
        "data_dir = \"{}\"\n[http]\nlisten = \"127.0.0.1:{}\"\n[inputs]\n{outputs}",
        dir.path().join("data").display(),
        free_tcp_port()
    );
    std::fs::write(&cfg, text).expect("write hark.toml");
    let out = std::process::Command::new(hark_e2e::hark_bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run hark serve");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.success(), text)
}

#[test]
fn an_output_that_cannot_start_stops_the_start_naming_its_key() {
    let (ok, text) = serve_with(
        "[outputs.siem]\ntype = \"syslog\"\ntransport = \"tcp\"\ntarget = \"127.0.0.1:1\"\nquery = 'severity_code:[0 TO'\n",
    );
    assert!(!ok, "started: {text}");
    assert!(text.contains("outputs.siem.query"), "{text}");
    let (ok, text) = serve_with(
        "[outputs.siem]\ntype = \"syslog\"\ntransport = \"tls\"\ntarget = \"localhost:1\"\ntls_ca = \"/nonexistent/ca.pem\"\n",
    );
    assert!(!ok, "started: {text}");
    assert!(text.contains("outputs.siem.tls_ca"), "{text}");
}

#[test]
fn a_detached_output_is_reattached_from_the_command_line_while_hark_runs() {
    // A WAL cap of 1 MiB that detaches a lagging output, and a receiver
    // that is not there.
    let hark = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra(&format!(
            "[outputs.siem]\ntype = \"syslog\"\ntransport = \"tcp\"\ntarget = \"127.0.0.1:{}\"\n\n\
             [storage]\nwal_max_retained = \"1MiB\"\nwal_lagging_reader = \"detach\"\n",
            free_tcp_port()
        ))
        .start();
    let out = std::process::Command::new(hark_e2e::hark_bin())
        .args(["send", "--target"])
        .arg(hark.addr("tcp").to_string())
        .args(["-n", "200000", "--message", &"x".repeat(300)])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run hark send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = |hark: &Hark| hark.api_json("/api/v1/outputs")["siem"]["state"].clone();
    let detached = poll(WAIT, Duration::from_millis(200), || {
        (state(&hark) == "detached").then_some(())
    });
    assert!(
        detached.is_some(),
        "never detached: {}",
        hark.api_json("/api/v1/outputs")
    );
    assert_eq!(hark.metric("hark_output_detached{output=\"siem\"}"), 1.0);

    let out = hark.run_cli(&["outputs", "reattach", "siem"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("siem re-attached"));
    // The same process goes on with it, from the newest event.
    assert_ne!(state(&hark), "detached");
    assert_eq!(hark.metric("hark_output_detached{output=\"siem\"}"), 0.0);
    assert!(hark.api_json("/api/v1/outputs")["siem"]["lag_events"].as_u64() < Some(10));
    hark.wait_hit(
        "app:hark-audit AND action:\"output.reattach\" AND outcome:success",
        WAIT,
    );
}
