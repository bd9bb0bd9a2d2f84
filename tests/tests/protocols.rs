//! The RELP, Beats, GELF and SNMP trap inputs driven by real senders:
//! rsyslog's omrelp, pylogbeat and python-logstash-async, graypy (UDP, TCP
//! and HTTP), net-snmp's snmptrap/snmpinform, and `hark send --protocol`.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use hark_e2e::tls::TlsFiles;
use hark_e2e::{Hark, Transport, marker, number_after, str_of};
use hark_testkit::peers::Rsyslog;
use hark_testkit::poll;

const WAIT: Duration = Duration::from_secs(120);

/// Counts how often each number after `n=` was stored for `m`.
fn numbers(hark: &Hark, m: &str) -> BTreeMap<u64, u32> {
    let mut seen = BTreeMap::new();
    for ev in hark.query_all(m) {
        let msg = str_of(&ev, "message").unwrap_or_default();
        let n = number_after(msg, "n=").unwrap_or_else(|| panic!("no number in {ev}"));
        *seen.entry(n).or_insert(0) += 1;
    }
    seen
}

/// Asserts every number 1..=count was stored at least once, and at most
/// omrelp's window of them twice (resent because they were not yet
/// acknowledged); returns how many came twice.
fn assert_none_lost(hark: &Hark, m: &str, count: u64, diagnostics: &str) -> u64 {
    let seen = numbers(hark, m);
    let missing: Vec<u64> = (1..=count).filter(|n| !seen.contains_key(n)).collect();
    assert!(
        missing.is_empty(),
        "{} numbers lost, first {:?}\n{diagnostics}",
        missing.len(),
        &missing[..missing.len().min(20)],
    );
    let duplicates: u64 = seen.values().map(|c| u64::from(*c - 1)).sum();
    assert!(
        duplicates <= RELP_WINDOW,
        "{duplicates} duplicates exceed the RELP window"
    );
    duplicates
}

/// Asserts every number 1..=count was stored exactly once.
fn assert_exactly_once(hark: &Hark, m: &str, count: u64) {
    let total = hark.wait_total(m, count, WAIT);
    assert_eq!(total, count, "events of {m}\n{}", hark.output());
    let seen = numbers(hark, m);
    let expected: Vec<u64> = (1..=count).collect();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), expected);
    assert!(seen.values().all(|c| *c == 1), "duplicates: {seen:?}");
}

fn field<'a>(ev: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    &ev["fields"][key]
}

fn python(script: &str, args: &[&str]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3 (scripts/install-test-deps.sh installs its modules)");
    assert!(
        out.status.success(),
        "python sender failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- RELP ----

fn omrelp(port: u16) -> String {
    format!(
        r#"action(type="omrelp" target="127.0.0.1" port="{port}" windowSize="128"
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.size="100000" queue.saveOnShutdown="on")"#
    )
}

fn relp_conf(rs: &Rsyslog, port: u16) -> String {
    format!("module(load=\"omrelp\")\n{}", rs.config("", &omrelp(port)))
}

fn feed(rs: &Rsyslog, m: &str, count: u64) {
    rs.feed("relptest", (1..=count).map(|i| format!("{m} n={i}")));
}

#[test]
fn rsyslog_omrelp_delivers_every_message_once() {
    let hark = Hark::builder()
        .typed_input("relp", "relp", None, false, "")
        .start();
    let mut rs = Rsyslog::new();
    rs.start(&relp_conf(&rs, hark.port("relp")));
    let m = marker("relp");
    feed(&rs, &m, 1000);
    assert_exactly_once(&hark, &m, 1000);
    let ev = &hark.hits(&m, 1)[0];
    assert_eq!(str_of(ev, "app"), Some("relptest"), "{ev}");
    assert_eq!(str_of(ev, "input"), Some("relp"), "{ev}");
    assert!(hark.metric_sum("hark_connections_total", &[("input", "relp")]) >= 1.0);
}

#[test]
fn rsyslog_omrelp_over_tls_with_a_client_certificate() {
    let mut rs = Rsyslog::new();
    let tls = TlsFiles::generate(&rs.dir().join("certs"));
    let options = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
        tls.server_cert.display(),
        tls.server_key.display(),
        tls.ca_cert.display()
    );
    let hark = Hark::builder()
        .typed_input("relps", "relp", None, false, &options)
        .start();
    let action = format!(
        r#"action(type="omrelp" target="127.0.0.1" port="{port}" tls="on"
         tls.caCert="{ca}" tls.myCert="{cert}" tls.myPrivKey="{key}"
         tls.authMode="name" tls.permittedPeer=["localhost"]
         action.resumeRetryCount="-1" action.resumeInterval="1")"#,
        port = hark.port("relps"),
        ca = tls.ca_cert.display(),
        cert = tls.client_cert.display(),
        key = tls.client_key.display(),
    );
    rs.start(&format!(
        "module(load=\"omrelp\")\n{}",
        rs.config("", &action)
    ));
    let m = marker("relptls");
    feed(&rs, &m, 500);
    assert_exactly_once(&hark, &m, 500);
}

/// Feeds `count` numbered messages through rsyslog's omrelp, kills Hark
/// (`kill -9`) in the middle of the burst and restarts it on the same port:
/// rsyslog reconnects and resends every transaction it has no `200 OK` for.
/// Every number must be stored; only unacknowledged ones (at most omrelp's
/// window) may be stored twice.
fn omrelp_survives_kill9(count: u64, tls: bool) {
    let mut rs = Rsyslog::new();
    let certs = TlsFiles::generate(&rs.dir().join("certs"));
    let options = if tls {
        format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"\ntls_client_ca = \"{}\"\n",
            certs.server_cert.display(),
            certs.server_key.display(),
            certs.ca_cert.display()
        )
    } else {
        String::new()
    };
    let mut hark = Hark::builder()
        .typed_input("relp", "relp", None, false, &options)
        .extra("[storage]\nfsync = \"always\"\ncommit_interval = \"200ms\"")
        .start();
    // librelp needs a certificate of its own for x509 authentication.
    let tls_params = if tls {
        format!(
            r#"tls="on" tls.caCert="{}" tls.myCert="{}" tls.myPrivKey="{}"
         tls.authMode="name" tls.permittedPeer=["localhost"]"#,
            certs.ca_cert.display(),
            certs.client_cert.display(),
            certs.client_key.display()
        )
    } else {
        String::new()
    };
    start_omrelp(&mut rs, &hark, &tls_params, count * 2);
    let m = marker("relpkill");
    feed(&rs, &m, count);
    let stored = "hark_events_received_total{input=\"relp\"}";
    let some = poll(Duration::from_secs(120), Duration::from_millis(10), || {
        (hark.metric(stored) >= (count / 20) as f64).then_some(())
    });
    assert!(
        some.is_some(),
        "no RELP traffic\n{}\n{}",
        rs.diagnostics(),
        hark.output()
    );
    let before = hark.metric(stored);
    hark.restart();
    assert!(
        before < count as f64,
        "the burst was over before the kill ({before} received)"
    );
    let total = hark.wait_settled(&m, count, Duration::from_secs(5), Duration::from_secs(300));
    let duplicates = assert_none_lost(&hark, &m, count, &rs.diagnostics());
    eprintln!(
        "relp kill -9 (tls: {tls}): {before} received before the kill; {total} events for \
         {count} messages, {duplicates} duplicates (resent, unacknowledged)"
    );
    assert_eq!(total, count + duplicates);
}

/// Starts `rs` forwarding to Hark's `relp` input with omrelp: retrying
/// forever, with a queue of `queue` messages that is saved on shutdown.
fn start_omrelp(rs: &mut Rsyslog, hark: &Hark, tls_params: &str, queue: u64) {
    let action = format!(
        r#"action(type="omrelp" target="127.0.0.1" port="{port}" windowSize="{RELP_WINDOW}" {tls_params}
         action.resumeRetryCount="-1" action.resumeInterval="1"
         queue.type="LinkedList" queue.size="{queue}" queue.saveOnShutdown="on")"#,
        port = hark.port("relp"),
    );
    rs.start(&format!(
        "module(load=\"omrelp\")\n{}",
        rs.config("", &action)
    ));
}

/// omrelp's window of unacknowledged transactions in the kill -9 tests.
const RELP_WINDOW: u64 = 128;

#[test]
fn rsyslog_omrelp_resends_what_was_not_acknowledged_after_kill9() {
    omrelp_survives_kill9(100_000, false);
}

#[test]
fn rsyslog_omrelp_over_tls_resends_what_was_not_acknowledged_after_kill9() {
    omrelp_survives_kill9(100_000, true);
}

/// A full disk in the middle of an omrelp burst: Hark holds the messages
/// instead of answering errors (librelp drops what is answered with one),
/// rsyslog waits, HTTP ingest hears 507 with the cause, `/metrics` names
/// the cause; once the disk grows, every message is stored.
#[test]
fn rsyslog_omrelp_loses_nothing_while_the_disk_is_full() {
    const COUNT: u64 = 100_000;
    let hark = Hark::builder()
        .typed_input("relp", "relp", None, false, "")
        .extra("[storage]\nfsync = \"always\"\ncommit_interval = \"200ms\"")
        .data_on_tmpfs(8)
        .start();
    let mut rs = Rsyslog::new();
    start_omrelp(&mut rs, &hark, "", COUNT * 2);
    let m = marker("relpfull");
    // Text that compresses poorly, so that the index fills the disk too.
    let noise = |i: u64| -> String {
        (0..10)
            .map(|k| format!("{:016x}", (i * 10 + k).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect()
    };
    rs.feed(
        "relptest",
        (1..=COUNT).map(|i| format!("{m} n={i} {}", noise(i))),
    );

    let full = "hark_storage_unavailable{cause=\"disk_full\"}";
    let stalled = poll(WAIT, Duration::from_millis(20), || {
        (hark.metric(full) == 1.0).then_some(())
    });
    assert!(
        stalled.is_some(),
        "the disk never filled\n{}\n{}",
        rs.diagnostics(),
        hark.output()
    );
    assert!(hark.metric("hark_storage_unavailable_since_seconds") > 0.0);
    let (status, body) = hark.post_as(
        "/api/v1/ingest",
        Some(hark.token()),
        &format!("{{\"message\":\"{m} over http\"}}\n"),
    );
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("No space left"), "{body}");
    let received = hark.metric("hark_events_received_total{input=\"relp\"}");
    assert!(
        received < COUNT as f64,
        "the burst was over before the disk filled ({received} received)"
    );

    hark.data_tmpfs().resize(512);
    let total = hark.wait_settled(&m, COUNT, Duration::from_secs(5), Duration::from_secs(300));
    let duplicates = assert_none_lost(&hark, &m, COUNT, &rs.diagnostics());
    eprintln!(
        "full disk: {received} received when it filled; {total} events, {duplicates} duplicates"
    );
    assert_eq!(hark.metric(full), 0.0, "still reported full after it grew");
    assert_eq!(hark.metric("hark_storage_unavailable_since_seconds"), 0.0);
    // The cause is logged once while it lasts (a reminder comes each minute).
    let out = hark.output();
    let reports = out.matches("cannot write to the WAL").count();
    assert!(
        (1..=3).contains(&reports),
        "{reports} reports of the full disk\n{out}"
    );
    assert!(out.contains("the WAL can write again"), "{out}");
}

// ---- Beats ----

const PYLOGBEAT: &str = r#"
import sys
from pylogbeat import PyLogBeatClient
port, marker, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ca = sys.argv[4] if len(sys.argv) > 4 else None
tls = dict(ssl_enable=True, ssl_verify=True, ca_certs=ca) if ca else dict(ssl_enable=False)
msgs = [{"@timestamp": "2024-01-15T10:00:00.000Z", "message": f"{marker} n={i}",
         "host": {"name": "beathost"}, "agent": {"type": "filebeat"},
         "log": {"file": {"path": "/var/log/app.log"}, "offset": i},
         "fields": {"env": "test"}} for i in range(1, count + 1)]
with PyLogBeatClient("127.0.0.1", port, **tls) as client:
    for start in range(0, count, 250):
        client.send(msgs[start:start + 250])
"#;

/// Events each Beats sender delivers in the tests below.
const BEATS_EVENTS: u64 = 10_000;

/// A Beats input, plain or with TLS (and a client certificate required when
/// `mtls`), with the certificates it was given.
fn beats_server(tls: bool, mtls: bool) -> (Hark, TlsFiles, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let certs = TlsFiles::generate(dir.path());
    let mut options = String::new();
    if tls {
        options = format!(
            "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
            certs.server_cert.display(),
            certs.server_key.display()
        );
    }
    if mtls {
        options.push_str(&format!(
            "tls_client_ca = \"{}\"\n",
            certs.ca_cert.display()
        ));
    }
    let hark = Hark::builder()
        .typed_input("beats", "beats", None, false, &options)
        .start();
    (hark, certs, dir)
}

fn pylogbeat_delivers(tls: bool) {
    let (hark, certs, _dir) = beats_server(tls, false);
    let m = marker("beats");
    let port = hark.port("beats").to_string();
    let count = BEATS_EVENTS.to_string();
    let ca = certs.ca_cert.display().to_string();
    let mut args = vec![port.as_str(), &m, &count];
    if tls {
        args.push(&ca);
    }
    python(PYLOGBEAT, &args);
    assert_exactly_once(&hark, &m, BEATS_EVENTS);
    // Beats' own `fields` object lands under Hark's `fields`: `fields.fields.env`.
    assert_eq!(
        hark.total(&format!("{m} AND fields.fields.env:test")),
        BEATS_EVENTS
    );
    assert_eq!(hark.total(&format!("{m} AND host:beathost")), BEATS_EVENTS);
    let ev = hark
        .query_all(&format!("{m} AND log.offset:7"))
        .pop()
        .expect("event 7 by its field");
    assert_eq!(str_of(&ev, "message"), Some(format!("{m} n=7").as_str()));
    assert_eq!(str_of(&ev, "host"), Some("beathost"), "{ev}");
    assert_eq!(str_of(&ev, "app"), Some("filebeat"), "{ev}");
    assert_eq!(field(&ev, "log.file.path"), "/var/log/app.log", "{ev}");
    assert_eq!(field(&ev, "log.offset"), 7, "{ev}");
    assert_eq!(field(&ev, "fields.env"), "test", "{ev}");
}

#[test]
fn pylogbeat_events_arrive_with_their_fields() {
    pylogbeat_delivers(false);
}

#[test]
fn pylogbeat_over_tls_events_arrive_with_their_fields() {
    pylogbeat_delivers(true);
}

/// python-logstash-async's asynchronous handler with its Beats transport:
/// records queue in memory and a worker thread ships them in windows; at
/// close it flushes the rest. Its batch constants are raised from 50 (one
/// connection per 50 events) so 10 000 events take seconds, not minutes.
const LOGSTASH_ASYNC: &str = r#"
import logging, sys
from logstash_async.constants import constants
from logstash_async.handler import AsynchronousLogstashHandler
port, marker, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ca, cert, key = (sys.argv[4:7] + [None, None, None])[:3]
constants.QUEUE_CHECK_INTERVAL = 0.05
constants.QUEUED_EVENTS_FLUSH_COUNT = 1000
constants.QUEUED_EVENTS_BATCH_SIZE = 1000
constants.QUEUED_EVENTS_BEATS_BATCH_SIZE = 250
handler = AsynchronousLogstashHandler(
    "127.0.0.1", port, database_path=None,
    transport="logstash_async.transport.BeatsTransport",
    ssl_enable=ca is not None, ssl_verify=ca is not None,
    ca_certs=ca, certfile=cert, keyfile=key)
log = logging.getLogger("beatsasync")
log.setLevel(logging.INFO)
log.addHandler(handler)
for i in range(1, count + 1):
    log.warning("%s n=%d", marker, i, extra={"user": "bob", "order": i})
handler.close()
"#;

fn logstash_async_delivers(tls: bool) {
    // Over TLS the client presents its certificate, and Hark requires one.
    let (hark, certs, _dir) = beats_server(tls, tls);
    let m = marker("lsasync");
    let port = hark.port("beats").to_string();
    let count = BEATS_EVENTS.to_string();
    let files =
        [&certs.ca_cert, &certs.client_cert, &certs.client_key].map(|p| p.display().to_string());
    let mut args = vec![port.as_str(), &m, &count];
    if tls {
        args.extend(files.iter().map(String::as_str));
    }
    python(LOGSTASH_ASYNC, &args);
    assert_exactly_once(&hark, &m, BEATS_EVENTS);
    assert_eq!(hark.total(&format!("{m} AND extra.user:bob")), BEATS_EVENTS);
    let ev = hark
        .query_all(&format!("{m} AND extra.order:42"))
        .pop()
        .expect("event 42 by its field");
    assert_eq!(str_of(&ev, "message"), Some(format!("{m} n=42").as_str()));
    assert_eq!(
        str_of(&ev, "host"),
        Some(hark_e2e::hostname().as_str()),
        "{ev}"
    );
    assert_eq!(field(&ev, "extra.logger_name"), "beatsasync", "{ev}");
    assert_eq!(field(&ev, "level"), "WARNING", "{ev}");
    assert_eq!(field(&ev, "type"), "python-logstash", "{ev}");
}

#[test]
fn python_logstash_async_beats_transport_delivers_every_event() {
    logstash_async_delivers(false);
}

#[test]
fn python_logstash_async_beats_transport_over_mutual_tls() {
    logstash_async_delivers(true);
}

/// pylogbeat sending one event whose message is larger than Beats' limit.
const PYLOGBEAT_BIG: &str = r#"
import sys
from pylogbeat import PyLogBeatClient
port, marker, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
message = f"{marker} n=1 " + "x" * size
with PyLogBeatClient("127.0.0.1", port, ssl_enable=False) as client:
    client.send([{"message": message, "host": {"name": "beathost"}}])
    client.send([{"message": f"{marker} n=2", "host": {"name": "beathost"}}])
"#;

#[test]
fn an_oversize_beats_event_is_kept_cut_to_64000_bytes() {
    let (hark, _certs, _dir) = beats_server(false, false);
    let m = marker("beatsbig");
    python(
        PYLOGBEAT_BIG,
        &[&hark.port("beats").to_string(), &m, "70000"],
    );
    assert_exactly_once(&hark, &m, 2);
    let hits = hark.query_all(&m);
    let big = hits
        .iter()
        .find(|e| str_of(e, "message").is_some_and(|s| s.starts_with(&format!("{m} n=1 "))))
        .expect("the big event");
    let message = str_of(big, "message").unwrap();
    assert_eq!(message.len(), 64_000, "message cut to 64 000 bytes");
    assert!(message[m.len() + 5..].bytes().all(|b| b == b'x'));
    assert_eq!(big["truncated"], true, "{}", &big["truncated"]);
    let small = hits
        .iter()
        .find(|e| str_of(e, "message") == Some(&format!("{m} n=2")))
        .expect("the event after it");
    assert_eq!(small["truncated"], false);
    assert_eq!(
        hark.metric_sum("hark_events_truncated_total", &[("input", "beats")]),
        1.0
    );
}

// ---- GELF ----

const GRAYPY: &str = r#"
import logging, os, sys, graypy
kind, port, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
handler = (graypy.GELFUDPHandler("127.0.0.1", port) if kind == "udp"
           else graypy.GELFTCPHandler("127.0.0.1", port))
log = logging.getLogger("gelftest")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
for i in range(1, 101):
    log.warning("%s n=%d", marker, i, extra={"user": "bob"})
# Random hex does not compress below a few chunks.
log.error("%s n=101 %s", marker, os.urandom(15000).hex())
handler.close()
"#;

fn graypy_over(transport: Transport, kind: &str) {
    let udp = transport == Transport::Udp;
    let hark = Hark::builder()
        .typed_input("gelf", "gelf", Some(transport), udp, "")
        .start();
    let m = marker("gelf");
    python(GRAYPY, &[kind, &hark.port("gelf").to_string(), &m]);
    let total = hark.wait_total(&m, 101, WAIT);
    assert_eq!(total, 101, "{}", hark.output());
    let hits = hark.query_all(&m);
    let big = hits
        .iter()
        .find(|e| str_of(e, "message").is_some_and(|s| s.contains("n=101")))
        .expect("the big (chunked on UDP) message");
    assert!(str_of(big, "message").unwrap().len() > 30_000, "{big}");
    let small = hits
        .iter()
        .find(|e| str_of(e, "message") == Some(&format!("{m} n=5")))
        .expect("message 5");
    assert_eq!(str_of(small, "severity"), Some("warning"), "{small}");
    assert_eq!(field(small, "user"), "bob", "{small}");
}

#[test]
fn graypy_over_udp_with_a_chunked_message() {
    graypy_over(Transport::Udp, "udp");
}

#[test]
fn graypy_over_tcp() {
    graypy_over(Transport::Tcp, "tcp");
}

/// graypy's HTTP handler: one POST per record, zlib-compressed with the
/// header `Content-Encoding: gzip,deflate`, the answer never read.
const GRAYPY_HTTP: &str = r#"
import logging, sys, graypy
port, marker = int(sys.argv[1]), sys.argv[2]
handler = graypy.GELFHTTPHandler("127.0.0.1", port)
log = logging.getLogger("gelfhttp")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
for i in range(1, 101):
    log.warning("%s n=%d", marker, i, extra={"user": "bob", "order": i})
handler.close()
"#;

/// Posts bodies with http.client and checks each answer: compressed the
/// ways senders do it, then malformed.
const GELF_HTTP_BODIES: &str = r#"
import gzip, http.client, json, sys, zlib
port, marker = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
def post(body, headers):
    conn.request("POST", "/gelf", body, headers)
    r = conn.getresponse()
    return r.status, r.read().decode()
def doc(n, codec):
    return json.dumps({"version": "1.1", "host": "gelfhost", "short_message": f"{marker} n={n}",
                       "level": 3, "_codec": codec}).encode()
cases = [
    (gzip.compress(doc(101, "gzip")), {"Content-Encoding": "gzip"}, 202),
    (zlib.compress(doc(102, "zlib")), {}, 202),
    (doc(103, "plain"), {"Content-Type": "application/json"}, 202),
    (b"{not json", {}, 400),
    (json.dumps({"version": "1.1", "host": "gelfhost"}).encode(), {}, 400),
    (gzip.compress(b"{\"short_message\": "), {"Content-Encoding": "gzip"}, 400),
    (b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"}, 400),
]
for body, headers, want in cases:
    status, text = post(body, headers)
    assert status == want, (status, text, want, headers)
    if status == 400:
        assert json.loads(text)["error"], text
    else:
        assert text == "", text
status, _ = post(doc(999, "br"), {"Content-Encoding": "br"})
assert status == 415, status
print("ok")
"#;

#[test]
fn gelf_over_http_from_graypy_and_compressed_bodies() {
    let hark = Hark::builder()
        .typed_input("gelf_http", "gelf", Some(Transport::Http), false, "")
        .start();
    let port = hark.port("gelf_http").to_string();
    let m = marker("gelfhttp");
    python(GRAYPY_HTTP, &[&port, &m]);
    python(GELF_HTTP_BODIES, &[&port, &m]);
    assert_exactly_once(&hark, &m, 103);
    assert_eq!(hark.total(&format!("{m} AND user:bob")), 100);
    let ev = hark
        .query_all(&format!("{m} AND order:5"))
        .pop()
        .expect("record 5 by its field");
    assert_eq!(str_of(&ev, "message"), Some(format!("{m} n=5").as_str()));
    assert_eq!(str_of(&ev, "severity"), Some("warning"), "{ev}");
    assert_eq!(str_of(&ev, "input"), Some("gelf_http"), "{ev}");
    assert_eq!(field(&ev, "user"), "bob", "{ev}");
    assert_eq!(field(&ev, "order"), 5, "{ev}");
    for codec in ["gzip", "zlib", "plain"] {
        let ev = hark.wait_hit(&format!("{m} AND codec:{codec}"), WAIT);
        assert_eq!(str_of(&ev, "host"), Some("gelfhost"), "{ev}");
        assert_eq!(str_of(&ev, "severity"), Some("err"), "{ev}");
    }
    // Four malformed bodies and one unreadable encoding, counted; none stored.
    assert_eq!(
        hark.metric_sum("hark_malformed_frames_total", &[("input", "gelf_http")]),
        5.0
    );
    assert_eq!(hark.total("host:gelfhost"), 3);
}

// ---- SNMP traps ----

fn net_snmp(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program} (package snmp): {e}"))
}

#[test]
fn net_snmp_traps_and_informs_are_stored_and_answered() {
    let hark = Hark::builder()
        .typed_input(
            "traps",
            "snmptrap",
            None,
            true,
            "communities = [\"public\"]\n",
        )
        .start();
    let target = format!("udp:127.0.0.1:{}", hark.port("traps"));
    let m1 = marker("snmpv1");
    let out = net_snmp(
        "snmptrap",
        &[
            "-v",
            "1",
            "-c",
            "public",
            &target,
            "1.3.6.1.4.1.8072.2.3.1",
            "",
            "6",
            "17",
            "",
            "1.3.6.1.4.1.8072.2.3.2.1",
            "s",
            &m1,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let m2 = marker("snmpv2");
    let out = net_snmp(
        "snmptrap",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            &target,
            "",
            "1.3.6.1.6.3.1.1.5.3",
            "1.3.6.1.2.1.2.2.1.1.2",
            "i",
            "2",
            "1.3.6.1.2.1.2.2.1.2.2",
            "s",
            &m2,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let m3 = marker("snmpinform");
    let out = net_snmp(
        "snmpinform",
        &[
            "-v",
            "2c",
            "-c",
            "public",
            "-t",
            "5",
            "-r",
            "1",
            &target,
            "",
            "1.3.6.1.6.3.1.1.5.4",
            "1.3.6.1.2.1.2.2.1.2.3",
            "s",
            &m3,
        ],
    );
    assert!(
        out.status.success(),
        "snmpinform got no answer: {out:?}\n{}",
        hark.output()
    );
    let bad = marker("snmpbad");
    let out = net_snmp(
        "snmptrap",
        &[
            "-v",
            "2c",
            "-c",
            "wrong",
            &target,
            "",
            "1.3.6.1.6.3.1.1.5.3",
            "1.3.6.1.2.1.2.2.1.2.2",
            "s",
            &bad,
        ],
    );
    assert!(out.status.success(), "{out:?}");

    let v1 = hark.wait_hit(&m1, WAIT);
    assert_eq!(str_of(&v1, "app"), Some("snmptrap"), "{v1}");
    assert_eq!(field(&v1, "snmp.version"), "1", "{v1}");
    assert_eq!(field(&v1, "snmp.specific_trap"), 17, "{v1}");
    let v2 = hark.wait_hit(&m2, WAIT);
    assert_eq!(field(&v2, "snmp.version"), "2c", "{v2}");
    assert_eq!(field(&v2, "snmp.trap_oid"), "1.3.6.1.6.3.1.1.5.3", "{v2}");
    assert!(
        str_of(&v2, "message").unwrap().starts_with("linkDown"),
        "{v2}"
    );
    let inf = hark.wait_hit(&m3, WAIT);
    assert_eq!(field(&inf, "snmp.pdu"), "inform", "{inf}");
    assert!(
        field(&inf, "snmp.community").is_null(),
        "community not stored: {inf}"
    );

    let dropped = poll(Duration::from_secs(30), Duration::from_millis(100), || {
        let n = hark.metric_sum(
            "hark_events_dropped_total",
            &[("input", "traps"), ("reason", "community")],
        );
        (n >= 1.0).then_some(n)
    });
    assert_eq!(dropped, Some(1.0));
    assert_eq!(hark.total(&bad), 0);
}

// ---- hark send ----

fn hark_send(hark: &Hark, args: &[&str], m: &str, count: u64) {
    let message = format!("{m} n={{n}}");
    let out = hark
        .cli()
        .arg("send")
        .args(args)
        .args(["--count", &count.to_string(), "--message", &message])
        .output()
        .expect("run hark send");
    assert!(
        out.status.success(),
        "hark send {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("sent {count} messages in ")),
        "{stdout}"
    );
}

#[test]
fn hark_send_speaks_every_protocol() {
    let hark = Hark::builder()
        .typed_input("relp", "relp", None, false, "")
        .typed_input("beats", "beats", None, false, "")
        .typed_input("gelf_udp", "gelf", Some(Transport::Udp), true, "")
        .typed_input("gelf_tcp", "gelf", Some(Transport::Tcp), false, "")
        .typed_input("gelf_http", "gelf", Some(Transport::Http), false, "")
        .typed_input("traps", "snmptrap", None, true, "")
        .start();
    let cases: [(&str, &[&str]); 6] = [
        ("relp", &["--protocol", "relp"]),
        ("beats", &["--protocol", "beats", "--connections", "2"]),
        (
            "gelf_udp",
            &["--protocol", "gelf", "--transport", "udp", "--rate", "5000"],
        ),
        ("gelf_tcp", &["--protocol", "gelf", "--transport", "tcp"]),
        (
            "gelf_http",
            &[
                "--protocol",
                "gelf",
                "--transport",
                "http",
                "--connections",
                "2",
            ],
        ),
        ("traps", &["--protocol", "snmptrap", "--rate", "5000"]),
    ];
    for (input, args) in cases {
        let m = marker(input);
        let target = hark.addr(input).to_string();
        let mut all = vec!["--target", target.as_str()];
        all.extend_from_slice(args);
        hark_send(&hark, &all, &m, 2000);
        assert_exactly_once(&hark, &m, 2000);
        let ev = &hark.hits(&m, 1)[0];
        assert_eq!(str_of(ev, "input"), Some(input), "{ev}");
    }
}

#[test]
fn malformed_input_is_counted_per_input_and_answered_where_the_protocol_can() {
    use std::io::{Read, Write};
    let hark = Hark::builder()
        .typed_input("relp", "relp", None, false, "")
        .typed_input("beats", "beats", None, false, "")
        .typed_input("gelf_udp", "gelf", Some(Transport::Udp), true, "")
        .typed_input("traps", "snmptrap", None, true, "")
        .start();
    // RELP: not a frame → serverclose, then the connection closes.
    let mut s = std::net::TcpStream::connect(hark.addr("relp")).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"hello there\n").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), "0 serverclose 0\n");
    // Beats: no error reply; the connection closes.
    let mut s = std::net::TcpStream::connect(hark.addr("beats")).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"2X\0\0\0\x01").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got.is_empty(), "{got:?}");
    // GELF and SNMP: datagrams dropped.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        &[0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, b'x'],
        hark.addr("gelf_udp"),
    )
    .unwrap();
    udp.send_to(b"\x30\x82\xff\xffjunk", hark.addr("traps"))
        .unwrap();
    for input in ["relp", "beats", "gelf_udp", "traps"] {
        let n = poll(Duration::from_secs(30), Duration::from_millis(100), || {
            let n = hark.metric_sum("hark_malformed_frames_total", &[("input", input)]);
            (n >= 1.0).then_some(n)
        });
        assert_eq!(n, Some(1.0), "{input}: {}", hark.metrics_text());
    }
}
