//! syslog-ng's `loggen` bursts: 100 000 messages over one TCP connection,
//! every one stored exactly once.

use std::collections::BTreeSet;
use std::time::Duration;

use hark_e2e::{Hark, Transport, number_after, str_of};
use hark_testkit::peers::loggen;

const COUNT: u64 = 100_000;
/// loggen's fixed program name.
const QUERY: &str = "app:prg00000";

/// Runs loggen against `port` with `extra` flags; returns the count it reports.
fn burst(port: u16, extra: &[&str]) -> u64 {
    let out = loggen()
        .args(["--inet", "--stream", "--rate", "100000", "--size", "200"])
        .args(["--number", &COUNT.to_string()])
        .args(extra)
        .args(["127.0.0.1", &port.to_string()])
        .output()
        .expect("run loggen");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "loggen failed: {:?}\n{stderr}",
        out.status
    );
    // Progress lines also carry `count=`; the summary line is the total.
    stderr
        .lines()
        .rev()
        .find(|l| l.contains("average rate"))
        .and_then(|l| number_after(l, "count="))
        .unwrap_or_else(|| panic!("no summary in loggen's output:\n{stderr}"))
}

/// Waits for all of them, then checks a sample and that every sequence number is there once.
fn check(hark: &Hark) {
    let total = hark.wait_total(QUERY, COUNT, Duration::from_secs(300));
    assert_eq!(total, COUNT, "events stored\n{}", hark.output());
    assert_eq!(hark.metric("hark_parse_errors_total{input=\"tcp\"}"), 0.0);

    for ev in hark.hits(QUERY, 5) {
        assert_eq!(str_of(&ev, "host"), Some("localhost"), "host in {ev}");
        assert_eq!(str_of(&ev, "procid"), Some("1234"), "procid in {ev}");
        assert_eq!(str_of(&ev, "facility"), Some("auth"), "facility in {ev}");
        assert_eq!(str_of(&ev, "severity"), Some("info"), "severity in {ev}");
        assert_eq!(str_of(&ev, "input"), Some("tcp"), "input in {ev}");
        assert_eq!(ev["truncated"], false, "truncated in {ev}");
        let msg = str_of(&ev, "message").unwrap_or_default();
        assert!(msg.starts_with("seq: "), "message {msg:?}");
        assert!(!msg.ends_with('\n'), "trailing LF kept in {msg:?}");
        assert!(!msg.contains('\u{feff}'), "BOM kept in {msg:?}");
        assert_eq!(ev["parse_error"], false, "parse_error in {ev}");
    }

    let messages = hark.query_all_messages(QUERY);
    assert_eq!(messages.len() as u64, COUNT, "hark query --all lines");
    let seqs: BTreeSet<u64> = messages
        .iter()
        .map(|m| number_after(m, "seq: ").unwrap_or_else(|| panic!("no seq in {m:?}")))
        .collect();
    assert_eq!(seqs.len() as u64, COUNT, "distinct sequence numbers");
    assert_eq!(seqs.first(), Some(&0));
    assert_eq!(seqs.last(), Some(&(COUNT - 1)));
}

#[test]
fn loggen_rfc3164_lf_framed_burst() {
    let hark = Hark::builder().input("tcp", Transport::Tcp).start();
    assert_eq!(burst(hark.port("tcp"), &[]), COUNT, "loggen's own count");
    check(&hark);
    assert_eq!(
        hark.metric("hark_events_received_total{input=\"tcp\"}"),
        COUNT as f64
    );
    assert_eq!(
        hark.metric("hark_events_stored_total{input=\"tcp\"}"),
        COUNT as f64
    );
}

#[test]
fn loggen_rfc5424_octet_counted_burst() {
    let hark = Hark::builder().input("tcp", Transport::Tcp).start();
    assert_eq!(
        burst(hark.port("tcp"), &["--syslog-proto"]),
        COUNT,
        "loggen's own count"
    );
    // loggen puts a UTF-8 BOM before MSG; it is not part of the text.
    check(&hark);
}
