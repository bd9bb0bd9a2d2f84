//! rsyslogd as a relay in front of Hark: logger → rsyslog (imtcp) → omfwd
//! over TCP, and over TLS (GnuTLS driver) with and without a client
//! certificate.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use hark_e2e::tls::{TlsFiles, tls_connect};
use hark_e2e::wire::{octet_frame, rfc5424};
use hark_e2e::{Hark, Transport, hostname, marker, number_after, str_of};
use hark_testkit::peers::Rsyslog;

const COUNT: u64 = 1000;
const WAIT: Duration = Duration::from_secs(120);

/// Feeds `count` numbered messages (`MARK n=1` … `MARK n=count`) to the
/// rsyslog input with one `logger -f` run.
fn feed(rs: &Rsyslog, m: &str, count: u64) {
    rs.feed("rstest", (1..=count).map(|i| format!("{m} n={i}")));
}

/// Waits for exactly `count` events of `m` and checks every number arrived once.
fn assert_all_arrived(hark: &Hark, rs: &Rsyslog, m: &str, count: u64, input: &str) {
    let total = hark.wait_total(m, count, WAIT);
    assert_eq!(
        total,
        count,
        "events of {m} stored\n{}\n{}",
        rs.diagnostics(),
        hark.output()
    );
    let hits = hark.query_all(m);
    assert_eq!(
        hits.len() as u64,
        count,
        "hark query --all returned {} lines",
        hits.len()
    );
    let mut seen = BTreeSet::new();
    for ev in &hits {
        let msg = str_of(ev, "message").unwrap_or_default();
        let n = number_after(msg, "n=").unwrap_or_else(|| panic!("no number in {ev}"));
        assert!(seen.insert(n), "n={n} stored twice");
    }
    let expected: BTreeSet<u64> = (1..=count).collect();
    assert_eq!(seen, expected, "the numbers 1..={count}");

    let ev = &hits[0];
    assert_eq!(str_of(ev, "app"), Some("rstest"), "app in {ev}");
    let host = hostname();
    let short = host.split('.').next().unwrap_or(&host).to_owned();
    let got = str_of(ev, "host").unwrap_or_default();
    assert!(got == host || got == short, "host {got:?} in {ev}");
    assert_eq!(str_of(ev, "input"), Some(input), "input in {ev}");
    assert_eq!(ev["parse_error"], false, "parse_error in {ev}");
    assert_eq!(str_of(ev, "facility"), Some("user"), "facility in {ev}");
    assert_eq!(str_of(ev, "severity"), Some("notice"), "severity in {ev}");
}

/// An omfwd action with retries until Hark accepts.
fn omfwd(port: u16, params: &str) -> String {
    format!(
        r#"action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp" {params}
         action.resumeRetryCount="-1" action.resumeInterval="1")"#
    )
}

#[test]
fn rsyslog_forwards_over_tcp() {
    let hark = Hark::builder().input("tcp", Transport::Tcp).start();
    let mut rs = Rsyslog::new();
    // rsyslog's default forwarding format: RFC 3164 header, LF framing.
    let conf = rs.config("", &omfwd(hark.port("tcp"), ""));
    rs.start(&conf);
    let m = marker("rstcp");
    feed(&rs, &m, COUNT);
    assert_all_arrived(&hark, &rs, &m, COUNT, "tcp");
}

#[test]
fn rsyslog_forwards_rfc5424_octet_counted() {
    let hark = Hark::builder().input("tcp", Transport::Tcp).start();
    let mut rs = Rsyslog::new();
    let conf = rs.config(
        "",
        &omfwd(
            hark.port("tcp"),
            r#"template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted""#,
        ),
    );
    rs.start(&conf);
    let m = marker("rsoct");
    feed(&rs, &m, COUNT);
    assert_all_arrived(&hark, &rs, &m, COUNT, "tcp");
}

/// omfwd over TLS with the GnuTLS driver, checking the server's name.
fn tls_action(port: u16) -> String {
    omfwd(
        port,
        r#"StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
         StreamDriverPermittedPeers="localhost"
         template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted""#,
    )
}

#[test]
fn rsyslog_forwards_over_tls() {
    let mut rs = Rsyslog::new();
    let tls = TlsFiles::generate(&rs.dir().join("certs"));
    let hark = Hark::builder().tls_input("tls", &tls, false, "").start();
    let globals = format!(
        r#"DefaultNetstreamDriverCAFile="{}""#,
        tls.ca_cert.display()
    );
    let conf = rs.config(&globals, &tls_action(hark.port("tls")));
    rs.start(&conf);
    let m = marker("rstls");
    feed(&rs, &m, COUNT);
    assert_all_arrived(&hark, &rs, &m, COUNT, "tls");
}

/// Whether the server turned the TLS connection down: an error during the
/// handshake or write, or EOF/error on the following read.
fn refused<S: Read + Write>(stream: &mut S, frame: &[u8]) -> Result<(), String> {
    if let Err(e) = stream.write_all(frame).and_then(|_| stream.flush()) {
        eprintln!("refused on write: {e}");
        return Ok(());
    }
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => return Err(format!("server answered {n} bytes")),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("connection still open after 10 s".to_owned());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("refused on read: {e}");
                return Ok(());
            }
        }
    }
}

#[test]
fn tls_client_certificate_required() {
    let mut rs = Rsyslog::new();
    let tls = TlsFiles::generate(&rs.dir().join("certs"));
    let hark = Hark::builder().tls_input("mtls", &tls, true, "").start();
    let addr = hark.addr("mtls");

    // rsyslog presenting a client certificate signed by the CA gets in.
    let globals = format!(
        r#"DefaultNetstreamDriverCAFile="{}" DefaultNetstreamDriverCertFile="{}" DefaultNetstreamDriverKeyFile="{}""#,
        tls.ca_cert.display(),
        tls.client_cert.display(),
        tls.client_key.display()
    );
    let conf = rs.config(&globals, &tls_action(addr.port()));
    rs.start(&conf);
    let m = marker("rsmtls");
    feed(&rs, &m, COUNT);
    assert_all_arrived(&hark, &rs, &m, COUNT, "mtls");

    // A client without a certificate is turned away and nothing it sent is kept.
    let denied = marker("nocert");
    let mut s = tls_connect(addr, tls.client_config(false)).expect("TCP connect");
    s.sock
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let outcome = refused(&mut s, &octet_frame(rfc5424(&denied).as_bytes()));
    assert!(outcome.is_ok(), "client without certificate: {outcome:?}");

    // The same bytes with a certificate are accepted (and mark the point
    // after which the refused message would have been stored).
    let allowed = marker("withcert");
    let mut s = tls_connect(addr, tls.client_config(true)).expect("TCP connect");
    s.write_all(&octet_frame(rfc5424(&allowed).as_bytes()))
        .and_then(|_| s.flush())
        .expect("write over TLS with a client certificate");
    s.conn.send_close_notify();
    let _ = s.flush();
    hark.wait_hit(&allowed, WAIT);
    assert_eq!(
        hark.total(&denied),
        0,
        "message from the client without certificate"
    );
}
