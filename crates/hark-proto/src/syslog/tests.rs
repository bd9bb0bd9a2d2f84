use super::*;
use chrono::{DateTime, FixedOffset};
use hark_event::{Facility, Severity};

/// 2026-11-22T05:00:00Z.
const RECEIVED: i64 = 1_795_323_600_000_000_000;

fn ctx() -> ParseContext<'static> {
    ParseContext::new(RECEIVED, "test")
}

fn parse(s: &str) -> Event {
    parse_syslog(s.as_bytes(), &ctx())
}

fn ns(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn field(ev: &Event, name: &str) -> Option<String> {
    ev.field(name).map(ToString::to_string)
}

#[track_caller]
fn assert_header(
    ev: &Event,
    host: Option<&str>,
    app: Option<&str>,
    procid: Option<&str>,
    msg: &str,
) {
    assert_eq!(ev.host.as_deref(), host, "host of {ev:?}");
    assert_eq!(ev.app.as_deref(), app, "app of {ev:?}");
    assert_eq!(ev.procid.as_deref(), procid, "procid of {ev:?}");
    assert_eq!(ev.message, msg, "message of {ev:?}");
    assert_eq!(ev.parse_error, None);
    assert_eq!(ev.raw, None);
}

#[test]
fn rfc5424_with_every_field() {
    let ev = parse(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 77 ID47 \
         [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event",
    );
    assert_header(
        &ev,
        Some("mymachine.example.com"),
        Some("evntslog"),
        Some("77"),
        "An application event",
    );
    assert_eq!(ev.msgid.as_deref(), Some("ID47"));
    assert_eq!(ev.facility, Some(Facility::Local4));
    assert_eq!(ev.severity, Some(Severity::Notice));
    assert_eq!(ev.timestamp, ns("2003-10-11T22:14:15.003Z"));
    assert_eq!(ev.received_at, RECEIVED);
    assert_eq!(field(&ev, "sd.exampleSDID@32473.iut").as_deref(), Some("3"));
    assert_eq!(
        field(&ev, "sd.exampleSDID@32473.eventSource").as_deref(),
        Some("Application")
    );
}

#[test]
fn rfc5424_nil_values_become_none() {
    let ev = parse("<14>1 - - - - - -");
    assert_header(&ev, None, None, None, "");
    assert_eq!(ev.msgid, None);
    assert_eq!(ev.timestamp, RECEIVED);
    assert!(ev.fields.is_empty());
}

#[test]
fn logger_5424_with_time_quality() {
    let ev = parse(
        "<13>1 2026-11-22T04:51:20.123456+01:00 vm alice - - \
         [timeQuality tzKnown=\"1\" isSynced=\"0\" syncAccuracy=\"123\"] hello",
    );
    assert_header(&ev, Some("vm"), Some("alice"), None, "hello");
    assert_eq!(ev.timestamp, ns("2026-11-22T03:51:20.123456Z"));
    assert_eq!(field(&ev, "sd.timeQuality.tzKnown").as_deref(), Some("1"));
    assert_eq!(field(&ev, "sd.timeQuality.isSynced").as_deref(), Some("0"));
    assert_eq!(
        field(&ev, "sd.timeQuality.syncAccuracy").as_deref(),
        Some("123")
    );
}

#[test]
fn logger_sd_escapes_are_undone() {
    let ev = parse(
        r#"<13>1 2026-11-22T04:51:20Z vm app - - [ex@32473 k="a\"b\]c\\d" path="C:\temp"] msg"#,
    );
    assert_eq!(field(&ev, "sd.ex@32473.k").as_deref(), Some(r#"a"b]c\d"#));
    assert_eq!(field(&ev, "sd.ex@32473.path").as_deref(), Some(r"C:\temp"));
    assert_eq!(ev.message, "msg");
}

#[test]
fn loggen_5424_with_bom() {
    let line =
        b"<38>1 2026-11-22T04:51:46+00:00 localhost prg00000 1234 - [meta sequenceId=\"1\"] \
                 \xEF\xBB\xBFseq: 0000000000, thread: 0000, runid: 1763786706";
    let ev = parse_syslog(line, &ctx());
    assert_header(
        &ev,
        Some("localhost"),
        Some("prg00000"),
        Some("1234"),
        "seq: 0000000000, thread: 0000, runid: 1763786706",
    );
    assert_eq!(field(&ev, "sd.meta.sequenceId").as_deref(), Some("1"));
    assert_eq!(ev.severity, Some(Severity::Info));
}

#[test]
fn rsyslog_double_space_keeps_one() {
    let ev = parse("<13>1 2026-11-22T04:51:20+00:00 vm relptest - - -  hello via relp 1");
    assert_header(&ev, Some("vm"), Some("relptest"), None, " hello via relp 1");
}

#[test]
fn rfc5424_timestamps_are_lenient() {
    let ev = parse("<29>1 2006-01-02t15:04:05.123456789012z host app - - - x");
    assert_eq!(ev.timestamp, ns("2006-01-02T15:04:05.123456789Z"));
    assert_eq!(ev.parse_error, None);
    // No offset: the input's zone.
    let mut c = ctx();
    c.default_offset = FixedOffset::east_opt(2 * 3600).unwrap();
    let ev = parse_syslog(b"<29>1 2006-01-02T15:04:05 host app - - - x", &c);
    assert_eq!(ev.timestamp, ns("2006-01-02T15:04:05+02:00"));
}

#[test]
fn broken_5424_header_is_stored_whole() {
    for line in [
        "<13>1 2026-13-01T00:00:00Z host app - - - impossible month",
        "<13>1 2026-11-22T04:51:20Z host app - - X not structured data",
        "<13>1 - host  app - - - double space",
        "<13>1 2026-11-22T04:51:20Z host",
        "<13>1 - - - - - [unterminated a=\"1] msg",
    ] {
        let ev = parse(line);
        assert!(ev.parse_error.is_some(), "{line}");
        assert_eq!(ev.message, line);
        assert_eq!(ev.raw.as_deref(), Some(line.as_bytes()));
        assert_eq!(
            ev.severity,
            Some(Severity::Notice),
            "a valid PRI is still used"
        );
        assert_eq!(ev.host, None);
        assert_eq!(ev.timestamp, RECEIVED);
    }
}

#[test]
fn malformed_sd_element_is_kept_as_text() {
    let ev = parse("<13>1 2019-02-13T19:48:34+00:00 host root 8449 - [incorrect x] qwerty");
    assert_header(&ev, Some("host"), Some("root"), Some("8449"), "qwerty");
    assert_eq!(field(&ev, "sd.invalid").as_deref(), Some("[incorrect x]"));
}

#[test]
fn bad_pri_is_stored_whole() {
    for line in ["<999>garbage", "<>x", "<12a>x", "<1234>x"] {
        let ev = parse(line);
        assert_eq!(
            ev.parse_error.as_deref(),
            Some("invalid PRI: expected <0> to <191>"),
            "{line}"
        );
        assert_eq!(ev.message, line);
        assert_eq!(ev.raw.as_deref(), Some(line.as_bytes()));
        assert_eq!(ev.severity, None);
    }
}

#[test]
fn empty_message_is_flagged() {
    let ev = parse_syslog(b"\r\n", &ctx());
    assert_eq!(ev.parse_error.as_deref(), Some("empty message"));
    assert_eq!(ev.message, "");
}

#[test]
fn bsd_nominal() {
    let ev = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick");
    assert_header(
        &ev,
        Some("mymachine"),
        Some("su"),
        None,
        "'su root' failed for lonvick",
    );
    assert_eq!(ev.timestamp, ns("2026-10-11T22:14:15Z"));
    assert_eq!(ev.facility, Some(Facility::Auth));
    assert_eq!(ev.severity, Some(Severity::Crit));
}

#[test]
fn bsd_space_padded_day() {
    let ev = parse("<35>Nov  2 04:50:24 vm app: hello");
    assert_header(&ev, Some("vm"), Some("app"), None, "hello");
    assert_eq!(ev.timestamp, ns("2026-11-02T04:50:24Z"));
}

#[test]
fn bsd_with_millis() {
    let ev = parse("<35>Nov  2 04:50:24.123 vm app: hello");
    assert_eq!(ev.timestamp, ns("2026-11-02T04:50:24.123Z"));
    assert_header(&ev, Some("vm"), Some("app"), None, "hello");
}

#[test]
fn bsd_with_year() {
    let ev =
        parse("<166>Jan 05 2024 12:00:00 fw01 : %ASA-6-302013: Built inbound TCP connection 1");
    assert_eq!(ev.timestamp, ns("2024-01-05T12:00:00Z"));
    assert_header(
        &ev,
        Some("fw01"),
        Some("ASA"),
        None,
        "%ASA-6-302013: Built inbound TCP connection 1",
    );
    assert_eq!(field(&ev, "cisco.facility").as_deref(), Some("ASA"));
    assert_eq!(ev.field("cisco.severity"), Some(&FieldValue::Int(6)));
    assert_eq!(field(&ev, "cisco.mnemonic").as_deref(), Some("302013"));
}

#[test]
fn bsd_with_iso_timestamp_and_no_offset_uses_default_zone() {
    let line = "<38>2026-11-22T04:51:46 localhost prg00000[1234]: seq: 0000000000, thread: 0000";
    let ev = parse(line);
    assert_header(
        &ev,
        Some("localhost"),
        Some("prg00000"),
        Some("1234"),
        "seq: 0000000000, thread: 0000",
    );
    assert_eq!(ev.timestamp, ns("2026-11-22T04:51:46Z"));
    let mut c = ctx();
    c.default_offset = FixedOffset::west_opt(5 * 3600).unwrap();
    let ev = parse_syslog(line.as_bytes(), &c);
    assert_eq!(ev.timestamp, ns("2026-11-22T04:51:46-05:00"));
}

#[test]
fn bsd_with_rfc3339_timestamp_with_offset() {
    let ev = parse("<190>2019-02-13T21:53:30.605850+01:00 host liblogging-stdlog: start");
    assert_eq!(ev.timestamp, ns("2019-02-13T20:53:30.605850Z"));
    assert_header(&ev, Some("host"), Some("liblogging-stdlog"), None, "start");
}

#[test]
fn bsd_missing_hostname() {
    let ev = parse("<13>Nov  2 04:50:32 myapp[12]: msg");
    assert_header(&ev, None, Some("myapp"), Some("12"), "msg");
    let ev = parse("<133>Jan 13 16:33:35 haproxy: Proxy started.");
    assert_header(&ev, None, Some("haproxy"), None, "Proxy started.");
}

#[test]
fn bsd_app_pid_tags() {
    let ev = parse("<85>Jan 24 15:50:41 ip-172-31-30-110 sudo[6040]: ec2-user : TTY=pts/0");
    assert_header(
        &ev,
        Some("ip-172-31-30-110"),
        Some("sudo"),
        Some("6040"),
        "ec2-user : TTY=pts/0",
    );
    let ev = parse("<13>Feb 13 20:07:26 host root[8539]:no space");
    assert_header(&ev, Some("host"), Some("root"), Some("8539"), "no space");
    let ev = parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure;");
    assert_header(
        &ev,
        Some("combo"),
        Some("sshd(pam_unix)"),
        Some("19939"),
        "authentication failure;",
    );
    // As rsyslog and Vector read it: after the host, a space ends the tag too.
    let ev = parse("<166>Jul  6 20:33:28 ABC-1-234567 Some message here");
    assert_header(
        &ev,
        Some("ABC-1-234567"),
        Some("Some"),
        None,
        "message here",
    );
    let ev = parse("<13>Nov 22 06:38:42 vm rstest hello 1");
    assert_header(&ev, Some("vm"), Some("rstest"), None, "hello 1");
    // A lone word after the host is the message, not a tag.
    let ev = parse("<13>Nov 22 06:38:42 vm hello");
    assert_header(&ev, Some("vm"), None, None, "hello");
}

#[test]
fn bsd_without_timestamp_still_finds_the_tag() {
    let ev = parse("<13>myapp[7]: started");
    assert_header(&ev, None, Some("myapp"), Some("7"), "started");
    assert_eq!(ev.timestamp, RECEIVED);
    let ev = parse("<13>just text");
    assert_header(&ev, None, None, None, "just text");
}

#[test]
fn missing_pri_defaults_to_user_notice() {
    let ev = parse("Dec 28 16:49:07 thinkpad nginx: 127.0.0.1 - - \"GET / HTTP/1.1\" 304 0");
    assert_eq!(ev.facility, Some(Facility::User));
    assert_eq!(ev.severity, Some(Severity::Notice));
    assert_header(
        &ev,
        Some("thinkpad"),
        Some("nginx"),
        None,
        "127.0.0.1 - - \"GET / HTTP/1.1\" 304 0",
    );
    let ev = parse("complete and utter gobbledegook: not a tag without a header");
    assert_header(
        &ev,
        None,
        None,
        None,
        "complete and utter gobbledegook: not a tag without a header",
    );
    assert_eq!(ev.severity, Some(Severity::Notice));
}

#[test]
fn missing_pri_5424() {
    let ev =
        parse("1 2020-05-22T14:59:09.250-03:00 OX-XXX-MX204 OX-XXX-CONTEUDO:rpd 6589 - - bgp: x");
    assert_header(
        &ev,
        Some("OX-XXX-MX204"),
        Some("OX-XXX-CONTEUDO:rpd"),
        Some("6589"),
        "bgp: x",
    );
    assert_eq!(ev.timestamp, ns("2020-05-22T14:59:09.250-03:00"));
    // Text that merely starts with a number is not a broken RFC 5424 header.
    let ev = parse("3 apples fell");
    assert_header(&ev, None, None, None, "3 apples fell");
}

#[test]
fn year_is_inferred_near_the_receive_time() {
    let jan = ns("2027-01-02T00:00:00Z");
    let ev = parse_syslog(
        b"<13>Dec 31 23:59:00 host app: late",
        &ParseContext::new(jan, "t"),
    );
    assert_eq!(ev.timestamp, ns("2026-12-31T23:59:00Z"));
    let ev = parse_syslog(
        b"<13>Jan  3 00:00:00 host app: early",
        &ParseContext::new(jan, "t"),
    );
    assert_eq!(ev.timestamp, ns("2027-01-03T00:00:00Z"));
    let dec = ns("2026-12-31T23:00:00Z");
    let ev = parse_syslog(
        b"<13>Jan  1 00:10:00 host app: ahead",
        &ParseContext::new(dec, "t"),
    );
    assert_eq!(ev.timestamp, ns("2027-01-01T00:10:00Z"));
}

#[test]
fn cisco_sequence_number_and_mnemonic() {
    let ev = parse(
        "<189>123: *Mar  1 18:46:11.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
    );
    assert_header(
        &ev,
        None,
        Some("LINK"),
        None,
        "%LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
    );
    assert_eq!(ev.field("cisco.seq"), Some(&FieldValue::Int(123)));
    assert_eq!(field(&ev, "cisco.facility").as_deref(), Some("LINK"));
    assert_eq!(ev.field("cisco.severity"), Some(&FieldValue::Int(3)));
    assert_eq!(field(&ev, "cisco.mnemonic").as_deref(), Some("UPDOWN"));
    assert_eq!(ev.timestamp, ns("2026-03-01T18:46:11.123Z"));
    assert_eq!(ev.facility, Some(Facility::Local7));
    assert_eq!(ev.severity, Some(Severity::Notice));
}

#[test]
fn cisco_clock_markers_and_zone() {
    let ev =
        parse("<187>000045: .Nov 20 10:00:00.555 UTC: %SYS-5-CONFIG_I: Configured from console");
    assert_eq!(ev.field("cisco.seq"), Some(&FieldValue::Int(45)));
    assert_eq!(ev.timestamp, ns("2026-11-20T10:00:00.555Z"));
    assert_header(
        &ev,
        None,
        Some("SYS"),
        None,
        "%SYS-5-CONFIG_I: Configured from console",
    );
    let mut c = ctx();
    c.default_offset = FixedOffset::east_opt(3600).unwrap();
    let ev = parse_syslog(b"<187>46: *Nov 20 10:00:00 CET: %SYS-5-RESTART: x", &c);
    assert_eq!(ev.timestamp, ns("2026-11-20T10:00:00+01:00"));
}

#[test]
fn cisco_with_origin_host_and_sub_facility() {
    let ev = parse("<187>49: R1: *Mar  1 00:39:12: %PKT_INFRA-LINK-3-UPDOWN: Interface down");
    assert_header(
        &ev,
        Some("R1"),
        Some("PKT_INFRA-LINK"),
        None,
        "%PKT_INFRA-LINK-3-UPDOWN: Interface down",
    );
    assert_eq!(field(&ev, "cisco.mnemonic").as_deref(), Some("UPDOWN"));
    // A tag wins over the mnemonic's facility for `app`.
    let ev = parse("<189>Mar  1 18:46:11 router1 ios: %LINK-3-UPDOWN: up");
    assert_header(
        &ev,
        Some("router1"),
        Some("ios"),
        None,
        "%LINK-3-UPDOWN: up",
    );
    assert_eq!(field(&ev, "cisco.facility").as_deref(), Some("LINK"));
}

#[test]
fn rsyslog_3164_structured_data_becomes_fields() {
    let ev = parse(
        "<46>Jan  5 15:33:03 host rsyslogd:  [origin software=\"rsyslogd\" swVersion=\"8.32.0\"] start",
    );
    assert_header(&ev, Some("host"), Some("rsyslogd"), None, "start");
    assert_eq!(
        field(&ev, "sd.origin.software").as_deref(),
        Some("rsyslogd")
    );
}

#[test]
fn bracketed_text_in_3164_stays_text() {
    let ev = parse("<6>Jan  5 15:33:03 host kernel: [12345.678] usb 1-1: new device");
    assert_header(
        &ev,
        Some("host"),
        Some("kernel"),
        None,
        "[12345.678] usb 1-1: new device",
    );
    let ev = parse("<4>Jan 26 05:59:54 ubnt kernel: [WAN_LOCAL-default-D]IN=eth0 OUT=");
    assert_header(
        &ev,
        Some("ubnt"),
        Some("kernel"),
        None,
        "[WAN_LOCAL-default-D]IN=eth0 OUT=",
    );
    assert!(ev.fields.is_empty());
}

#[test]
fn invalid_utf8_is_decoded_lossily_and_kept_raw() {
    let line = b"<13>Nov  2 04:50:32 h\xe9te app: caf\xe9 cr\xe8me";
    let ev = parse_syslog(line, &ctx());
    assert_eq!(ev.host.as_deref(), Some("h\u{fffd}te"));
    assert_eq!(ev.app.as_deref(), Some("app"));
    assert_eq!(ev.message, "caf\u{fffd} cr\u{fffd}me");
    assert_eq!(ev.raw.as_deref(), Some(&line[..]));
    assert_eq!(ev.parse_error, None);
    let line = b"<13>1 - host app - - - \xff\xfe bytes";
    let ev = parse_syslog(line, &ctx());
    assert_eq!(ev.message, "\u{fffd}\u{fffd} bytes");
    assert_eq!(ev.raw.as_deref(), Some(&line[..]));
}

#[test]
fn context_is_copied_into_the_event() {
    let mut c = ParseContext::new(RECEIVED, "syslog_tcp");
    c.source = Some("192.0.2.1:5514");
    let ev = parse_syslog(b"<13>hello", &c);
    assert_eq!(ev.input, "syslog_tcp");
    assert_eq!(ev.source.as_deref(), Some("192.0.2.1:5514"));
    assert_eq!(ev.received_at, RECEIVED);
}

#[test]
fn surrounding_whitespace_is_ignored() {
    let ev = parse(
        "\n   <13>1 2019-02-13T19:48:34+00:00 host root 8449 - [meta sequenceId=\"1\"] i am foobar\n   ",
    );
    assert_header(&ev, Some("host"), Some("root"), Some("8449"), "i am foobar");
}
