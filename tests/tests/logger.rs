//! util-linux `logger` as the sender: every transport and format it speaks
//! arrives with its header fields in place.

use std::time::Duration;

use hark_e2e::{Hark, field_str, hostname, marker, str_of};
use hark_testkit::peers::run_logger;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// Sends one message with `logger`: tag `apptag`, pid 4242, local4.warning,
/// to `port` with `transport_args`, and returns the stored event.
fn send_and_find(hark: &Hark, port: u16, transport_args: &[&str], text: &str) -> Value {
    let port = port.to_string();
    let mut args = vec![
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        "-t",
        "apptag",
        "--id=4242",
        "-p",
        "local4.warning",
    ];
    args.extend_from_slice(transport_args);
    args.push(text);
    run_logger(&args);
    let m = text.split_whitespace().next().expect("a marker first");
    assert_eq!(
        hark.wait_total(m, 1, WAIT),
        1,
        "exactly one event for {m} ({transport_args:?})\n{}",
        hark.output()
    );
    hark.hits(m, 10).remove(0)
}

fn assert_header(ev: &Value, text: &str, input: &str) {
    let host = hostname();
    let short = host.split('.').next().unwrap_or(&host).to_owned();
    let got_host = str_of(ev, "host").unwrap_or_default();
    assert!(
        got_host == host || got_host == short,
        "host {got_host:?}, expected {host:?} in {ev}"
    );
    assert_eq!(str_of(ev, "app"), Some("apptag"), "app in {ev}");
    assert_eq!(str_of(ev, "procid"), Some("4242"), "procid in {ev}");
    assert_eq!(str_of(ev, "facility"), Some("local4"), "facility in {ev}");
    assert_eq!(str_of(ev, "severity"), Some("warning"), "severity in {ev}");
    assert_eq!(ev["severity_code"], 4, "severity_code in {ev}");
    assert_eq!(str_of(ev, "message"), Some(text), "message in {ev}");
    assert_eq!(str_of(ev, "input"), Some(input), "input in {ev}");
    assert_eq!(ev["parse_error"], false, "parse_error in {ev}");
    assert_eq!(ev["truncated"], false, "truncated in {ev}");
    let source = str_of(ev, "source").unwrap_or_default();
    assert!(source.starts_with("127.0.0.1"), "source {source:?} in {ev}");
}

#[test]
fn udp_default_format() {
    let hark = Hark::start("");
    let text = format!("{} over udp", marker("lgudp"));
    let ev = send_and_find(&hark, hark.port("udp"), &["-d"], &text);
    assert_header(&ev, &text, "udp");
}

#[test]
fn tcp_lf_framing() {
    let hark = Hark::start("");
    let text = format!("{} over tcp with lf", marker("lgtcp"));
    let ev = send_and_find(&hark, hark.port("tcp"), &["--tcp"], &text);
    assert_header(&ev, &text, "tcp");
}

#[test]
fn tcp_octet_counting() {
    let hark = Hark::start("");
    let text = format!("{} over tcp octet counted", marker("lgoct"));
    let ev = send_and_find(&hark, hark.port("tcp"), &["--tcp", "--octet-count"], &text);
    assert_header(&ev, &text, "tcp");
}

#[test]
fn rfc5424_structured_data_becomes_fields() {
    let hark = Hark::start("");
    let m = marker("lgsd");
    let text = format!("{m} with structured data");
    let ev = send_and_find(
        &hark,
        hark.port("tcp"),
        &[
            "--tcp",
            "--rfc5424",
            "--msgid",
            "LOGIN",
            "--sd-id",
            "ex@32473",
            "--sd-param",
            r#"user="alice""#,
            "--sd-param",
            r#"odd="a\"b\]c\\d""#,
        ],
        &text,
    );
    assert_header(&ev, &text, "tcp");
    assert_eq!(str_of(&ev, "msgid"), Some("LOGIN"), "msgid in {ev}");
    assert_eq!(
        field_str(&ev, "sd.ex@32473.user").as_deref(),
        Some("alice"),
        "fields of {ev}"
    );
    // Escapes of `"`, `]` and `\` are undone.
    assert_eq!(
        field_str(&ev, "sd.ex@32473.odd").as_deref(),
        Some(r#"a"b]c\d"#),
        "fields of {ev}"
    );
    // logger's own timeQuality element.
    assert_eq!(
        field_str(&ev, "sd.timeQuality.tzKnown").as_deref(),
        Some("1"),
        "fields of {ev}"
    );

    // The field is searchable, both spelled with and without `fields.`.
    assert_eq!(hark.total(&format!("{m} AND sd.ex@32473.user:alice")), 1);
    assert_eq!(
        hark.total(&format!("{m} AND fields.sd.ex@32473.user:alice")),
        1
    );
    assert_eq!(hark.total(&format!("{m} AND sd.ex@32473.user:bob")), 0);
}

#[test]
fn rfc3164_over_udp_and_tcp() {
    let hark = Hark::start("");
    let udp_text = format!("{} bsd over udp", marker("lgbsdu"));
    let ev = send_and_find(&hark, hark.port("udp"), &["-d", "--rfc3164"], &udp_text);
    assert_header(&ev, &udp_text, "udp");

    let tcp_text = format!("{} bsd over tcp", marker("lgbsdt"));
    let ev = send_and_find(&hark, hark.port("tcp"), &["--tcp", "--rfc3164"], &tcp_text);
    assert_header(&ev, &tcp_text, "tcp");
}

#[test]
fn many_messages_in_one_tcp_connection() {
    let hark = Hark::start("");
    let m = marker("lgmany");
    let file = hark.dir().join("lines.txt");
    let lines: String = (1..=500).map(|i| format!("{m} line n={i}\n")).collect();
    std::fs::write(&file, lines).expect("write the input file");
    let port = hark.port("tcp").to_string();
    let path = file.display().to_string();
    run_logger(&[
        "-n",
        "127.0.0.1",
        "-P",
        &port,
        "--tcp",
        "--octet-count",
        "-t",
        "many",
        "-f",
        &path,
    ]);
    assert_eq!(hark.wait_total(&m, 500, WAIT), 500, "{}", hark.output());

    // Query syntax over header fields narrows exactly.
    assert_eq!(hark.total(&format!("{m} AND app:many")), 500);
    assert_eq!(hark.total(&format!("{m} AND app:other")), 0);
    assert_eq!(hark.total(&format!("{m} AND severity_code:[0 TO 3]")), 0);
    assert_eq!(hark.total(&format!("{m} AND severity_code:[4 TO 7]")), 500);
}
