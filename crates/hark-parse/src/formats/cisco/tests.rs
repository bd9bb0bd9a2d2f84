//! Edge cases of the ASA reader; the samples under `samples/cisco/` cover
//! the real messages.

use hark_event::FieldValue;

use super::*;

fn parse(app: Option<&str>, message: &str) -> (Vec<(String, FieldValue)>, Result<(), Failure>) {
    let mut fields = Vec::new();
    let mut out = Out::new(&mut fields);
    let body = Body {
        message,
        app,
        fields: &[],
    };
    let result = Cisco.parse(&body, &mut out);
    (fields, result)
}

fn get<'f>(fields: &'f [(String, FieldValue)], name: &str) -> Option<&'f FieldValue> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn text(fields: &[(String, FieldValue)], name: &str) -> Option<String> {
    match get(fields, name) {
        Some(FieldValue::Str(s)) => Some(s.clone()),
        Some(other) => Some(format!("{other:?}")),
        None => None,
    }
}

#[test]
fn claims_by_prefix_app_or_early_code() {
    let body = |app, message| Body {
        message,
        app,
        fields: &[],
    };
    assert!(Cisco.claims(&body(None, "%ASA-6-302013: Built")));
    assert!(Cisco.claims(&body(None, "Jul 23 2025 23:59:09: %FTD-6-302013: Built")));
    assert!(Cisco.claims(&body(Some("%ASA-6-302013"), "Built outbound")));
    assert!(!Cisco.claims(&body(Some("ASA"), "100% done")));
    assert!(!Cisco.claims(&body(None, "disk 90% full %ASA")));
    assert!(!Cisco.claims(&body(None, "")));
}

#[test]
fn code_as_app_with_text_in_message() {
    let (f, r) = parse(
        Some("%ASA-6-302013"),
        "Built inbound TCP connection 11 for outside:2.2.2.1/21647 (2.2.2.1/21647) to inside:1.1.1.2/22 (2.2.2.5/22)",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "event.code").as_deref(), Some("302013"));
    assert_eq!(get(&f, "event.severity"), Some(&FieldValue::Int(6)));
    assert_eq!(text(&f, "source.ip").as_deref(), Some("2.2.2.1"));
    assert_eq!(text(&f, "destination.nat.ip").as_deref(), Some("2.2.2.5"));
    assert_eq!(
        text(&f, "source.nat.ip"),
        None,
        "unchanged mapping is not NAT"
    );
}

#[test]
fn ftd_uses_its_prefix_and_suffix_is_kept() {
    let (f, r) = parse(
        None,
        "%FTD-session-6-302016: Teardown UDP connection 7 for outside:8.8.8.8/53 to inside:10.0.0.5/5353 duration 0:02:01 bytes 120",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "cisco.ftd.message_id").as_deref(), Some("302016"));
    assert_eq!(text(&f, "cisco.ftd.suffix").as_deref(), Some("session"));
    assert_eq!(text(&f, "event.dataset").as_deref(), Some("cisco.ftd"));
    assert_eq!(text(&f, "observer.product").as_deref(), Some("ftd"));
    assert_eq!(
        get(&f, "event.duration"),
        Some(&FieldValue::Int(121_000_000_000))
    );
    assert_eq!(get(&f, "network.bytes"), Some(&FieldValue::Int(120)));
    assert_eq!(text(&f, "network.transport").as_deref(), Some("udp"));
    assert!(get(&f, "event.reason").is_none());
}

#[test]
fn teardown_reason_initiator_and_user() {
    let (f, r) = parse(
        None,
        "%ASA-6-302014: Teardown TCP connection 5 for outside:1.2.3.4/443 to inside:10.0.0.2/5000 duration 1:00:00 bytes 99 TCP Reset-O from outside (CORP\\alice)",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "event.reason").as_deref(), Some("TCP Reset-O"));
    assert_eq!(
        text(&f, "cisco.asa.termination_initiator").as_deref(),
        Some("outside")
    );
    assert_eq!(text(&f, "user.name").as_deref(), Some("CORP\\alice"));
    assert_eq!(
        get(&f, "event.duration"),
        Some(&FieldValue::Int(3_600_000_000_000))
    );
}

#[test]
fn udp_built_outbound_swaps_sides_and_reads_ipv6() {
    let (f, r) = parse(
        None,
        "%ASA-6-302015: Built outbound UDP connection 3 for outside:2001:db8::53/53 (2001:db8::53/53) to inside:fd00::5/40000 (2001:db8:1::5/40000)",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "source.ip").as_deref(), Some("fd00::5"));
    assert_eq!(text(&f, "source.nat.ip").as_deref(), Some("2001:db8:1::5"));
    assert_eq!(get(&f, "source.nat.port"), Some(&FieldValue::Int(40000)));
    assert_eq!(text(&f, "destination.ip").as_deref(), Some("2001:db8::53"));
    assert_eq!(
        text(&f, "observer.ingress.interface.name").as_deref(),
        Some("inside")
    );
    assert_eq!(text(&f, "network.direction").as_deref(), Some("outbound"));
}

#[test]
fn access_list_hits() {
    let (f, r) = parse(
        None,
        "%ASA-6-106100: access-list inside permitted tcp inside/10.10.123.45(51763) -> outside/192.168.67.89(80) hit-cnt 1 first hit [0x62c4905, 0x0]",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "rule.name").as_deref(), Some("inside"));
    assert_eq!(text(&f, "event.action").as_deref(), Some("permit"));
    assert_eq!(get(&f, "source.port"), Some(&FieldValue::Int(51763)));
    assert_eq!(get(&f, "cisco.asa.hit_count"), Some(&FieldValue::Int(1)));
    let (f, _) = parse(
        None,
        "%ASA-4-106100: access-list outside-entry denied udp outside/10.11.12.13(54726) -> inside/192.168.17.18(53) hit-cnt 7 300-second interval [0x32b3835, 0x0]",
    );
    assert_eq!(text(&f, "event.outcome").as_deref(), Some("failure"));
    assert_eq!(
        get(&f, "cisco.asa.hit_interval_seconds"),
        Some(&FieldValue::Int(300))
    );
}

#[test]
fn access_group_icmp_and_protocol_number() {
    let (f, r) = parse(
        None,
        "%ASA-4-106023: Deny icmp src outside:198.51.100.1 dst inside:10.0.0.1 (type 8, code 0) by access-group \"OUT_IN\" [0x0, 0x0]",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(get(&f, "cisco.asa.icmp_type"), Some(&FieldValue::Int(8)));
    assert_eq!(text(&f, "destination.ip").as_deref(), Some("10.0.0.1"));
    assert_eq!(text(&f, "rule.name").as_deref(), Some("OUT_IN"));
    let (f, _) = parse(
        None,
        "%ASA-4-106023: Deny protocol 17 src a:1.1.1.1/1 dst b:2.2.2.2/2 by access-group \"x\"",
    );
    assert_eq!(text(&f, "network.transport").as_deref(), Some("udp"));
}

#[test]
fn vpn_sessions() {
    let (f, r) = parse(
        None,
        "%ASA-4-113019: Group = GP, Username = bob, IP = 203.0.113.9, Session disconnected. Session Type: SSL, Duration: 1d 19h:41m:14s, Bytes xmt: 187346964, Bytes rcv: 28559584, Reason: User Requested",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "user.name").as_deref(), Some("bob"));
    assert_eq!(
        get(&f, "event.duration"),
        Some(&FieldValue::Int(157_274_000_000_000))
    );
    assert_eq!(get(&f, "source.bytes"), Some(&FieldValue::Int(28_559_584)));
    assert_eq!(text(&f, "event.reason").as_deref(), Some("User Requested"));
    let (f, r) = parse(
        None,
        "%ASA-6-722022: Group <GP> User <bob> IP <203.0.113.9> UDP SVC connection established without compression",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "network.transport").as_deref(), Some("udp"));
    assert_eq!(text(&f, "cisco.asa.compression").as_deref(), Some("false"));
    let (f, _) = parse(
        None,
        "%ASA-6-722023: Group <GP> User <bob> IP <203.0.113.9> TCP SVC connection terminated with compression",
    );
    assert_eq!(
        text(&f, "event.action").as_deref(),
        Some("vpn-connection-terminated")
    );
    let (f, _) = parse(
        None,
        "%ASA-6-611101: User authentication succeeded: IP address: 10.1.1.1, Uname: admin",
    );
    assert_eq!(text(&f, "user.name").as_deref(), Some("admin"));
    assert_eq!(text(&f, "source.ip").as_deref(), Some("10.1.1.1"));
}

#[test]
fn truncated_messages_fail_with_offsets_and_keep_common_fields() {
    let msg = "%ASA-6-302013: Built outbound TCP connection 9 for outside:10.1.2.1/22";
    let (f, r) = parse(None, msg);
    let failure = r.unwrap_err();
    assert_eq!(failure.reason, "' to ' between the endpoints");
    assert!(failure.offset > 15 && failure.offset <= msg.len());
    assert_eq!(text(&f, "event.code").as_deref(), Some("302013"));
    let (_, r) = parse(None, "%ASA-4-106023: Deny");
    assert!(r.is_err());
    let (_, r) = parse(
        None,
        "%ASA-6-302014: Teardown TCP connection 1 for a:1.1.1.1/1 to b:2.2.2.2/2",
    );
    assert_eq!(r.unwrap_err().reason, "duration");
}

#[test]
fn unknown_ids_and_odd_codes() {
    let (f, r) = parse(
        None,
        "%ASA-4-401004 Shunned packet: 192.168.0.1 = 192.168.0.2 on interface x",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(text(&f, "event.code").as_deref(), Some("401004"));
    let (_, r) = parse(None, "%ASA-9-302013: level out of range");
    assert!(r.is_err());
    let (_, r) = parse(None, "%ASA-");
    assert!(r.is_err());
    for odd in [
        "%ASA-6-302013: Built \u{e9}\u{e9} TCP connection é for é:é/é to é",
        "%ASA-6-106100: access-list",
        "%ASA-4-733100: drop rate",
        "%ASA-6-605004: Login from",
    ] {
        let _ = parse(None, odd);
    }
}

#[test]
fn ftd_connection_start_blocked_by_rule() {
    let (f, r) = parse(
        None,
        "%FTD-6-430002: AccessControlRuleAction: Block, SrcIP: 10.0.0.5, DstIP: 192.0.2.9, SrcPort: 5000, DstPort: 443, Protocol: tcp, ConnectionDuration: soon",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(
        text(&f, "event.action").as_deref(),
        Some("connection-started")
    );
    assert_eq!(text(&f, "event.outcome").as_deref(), Some("failure"));
    assert_eq!(text(&f, "destination.ip").as_deref(), Some("192.0.2.9"));
    assert_eq!(get(&f, "destination.port"), Some(&FieldValue::Int(443)));
    assert_eq!(
        text(&f, "cisco.ftd.ConnectionDuration").as_deref(),
        Some("soon")
    );
}

#[test]
fn ftd_connection_event_without_pairs_is_an_error() {
    let (_, r) = parse(None, "%FTD-6-430003: nothing here");
    assert_eq!(r.map_err(|e| e.reason), Err("Key: Value pairs".to_owned()));
}
