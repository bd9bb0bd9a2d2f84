use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use hark_event::{FieldValue, Severity};
use hark_testkit::corpus::{protocol_jsonl, unhex};
use serde_json::Value as Json;

use super::decode::decode_any;
use super::*;
use crate::ParseContext;

const NOW: i64 = 1_795_323_600_000_000_000;

/// The vectors of `name` in the SNMP corpus.
fn corpus(name: &str) -> Vec<Json> {
    protocol_jsonl(&format!("snmp/{name}"))
}

fn packet(case: &Json) -> Vec<u8> {
    unhex(case["packet_hex"].as_str().unwrap())
}

fn source() -> SocketAddr {
    "198.51.100.9:40123".parse().unwrap()
}

fn ctx() -> ParseContext<'static> {
    ParseContext::new(NOW, "snmp_trap")
}

/// A varbind as gosnmp's decode in the corpus describes it: (oid, type, value).
fn described(vb: &VarBind) -> (String, String, Json) {
    let oid = format!(".{}", vb.oid);
    let (kind, value) = match &vb.value {
        Value::Int(n) => ("Integer", Json::from(n.to_string())),
        Value::OctetString(b) => ("OctetString", Json::from(hexstr(b))),
        Value::Null => ("Null", Json::Null),
        Value::Oid(o) => ("ObjectIdentifier", Json::from(format!(".{o}"))),
        Value::IpAddr(a) => ("IPAddress", Json::from(a.to_string())),
        Value::Counter32(n) => ("Counter32", Json::from(n.to_string())),
        Value::Gauge32(n) => ("Gauge32", Json::from(n.to_string())),
        Value::TimeTicks(n) => ("TimeTicks", Json::from(n.to_string())),
        Value::Counter64(n) => ("Counter64", Json::from(n.to_string())),
        Value::Opaque(b) => match b.as_slice() {
            [0x9f, 0x78, 4, f @ ..] => (
                "OpaqueFloat",
                Json::from(f32::from_be_bytes(f.try_into().unwrap()).to_string()),
            ),
            [0x9f, 0x79, 8, f @ ..] => (
                "OpaqueDouble",
                Json::from(f64::from_be_bytes(f.try_into().unwrap()).to_string()),
            ),
            _ => ("Opaque", Json::from(hexstr(b))),
        },
        Value::NoSuchObject => ("NoSuchObject", Json::Null),
        Value::NoSuchInstance => ("NoSuchInstance", Json::Null),
        Value::EndOfMibView => ("EndOfMibView", Json::Null),
        Value::Other { tag, .. } => panic!("unexpected tag {tag:#x}"),
    };
    (oid, kind.to_owned(), value)
}

fn hexstr(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The corpus' expected varbinds, with octet strings and opaques by their hex.
fn expected_varbinds(decoded: &Json) -> Vec<(String, String, Json)> {
    decoded["varbinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let value = match &v["value"] {
                Json::Object(o) => o["hex"].clone(),
                other => other.clone(),
            };
            (
                v["oid"].as_str().unwrap().to_owned(),
                v["type"].as_str().unwrap().to_owned(),
                value,
            )
        })
        .collect()
}

fn pdu_name(kind: PduKind) -> &'static str {
    match kind {
        PduKind::TrapV1 => "Trap",
        PduKind::TrapV2 => "SNMPv2Trap",
        PduKind::InformRequest => "InformRequest",
        PduKind::Response => "GetResponse",
        PduKind::Report => "Report",
        PduKind::GetRequest => "GetRequest",
        _ => "other",
    }
}

/// Checks a decoded message against the corpus' description of it.
fn check_message(name: &str, msg: &decode::Decoded, decoded: &Json) {
    assert_eq!(
        msg.community,
        decoded["community"].as_str().unwrap().as_bytes(),
        "{name}"
    );
    assert_eq!(
        msg.version.name(),
        decoded["version"].as_str().unwrap(),
        "{name}"
    );
    assert_eq!(
        pdu_name(msg.kind),
        decoded["pdu_type"].as_str().unwrap(),
        "{name}"
    );
    if let Some(h) = msg.header {
        assert_eq!(h[0], decoded["request_id"].as_i64().unwrap(), "{name}");
        assert_eq!(h[1], decoded["error_status"].as_i64().unwrap(), "{name}");
        assert_eq!(h[2], decoded["error_index"].as_i64().unwrap(), "{name}");
    }
    let got: Vec<_> = msg.varbinds.iter().map(described).collect();
    assert_eq!(got, expected_varbinds(decoded), "{name}");
}

#[test]
fn net_snmp_traps_decode_to_the_documented_values() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    assert_eq!(cases.len(), 10);
    let mut decoded_ok = 0;
    for case in &cases {
        let name = case["generated_by"].as_str().unwrap();
        let bytes = packet(case);
        let d = &case["decoded"];
        if d["version"] == "3" {
            assert_eq!(
                decode_trap(&bytes),
                Err(SnmpError::Unsupported { version: 3 }),
                "{name}"
            );
            continue;
        }
        let msg = decode_any(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_message(name, &msg, d);
        let trap = decode_trap(&bytes).unwrap();
        if let Some(v1) = d.get("v1_trap") {
            assert_eq!(trap.request_id, None);
            assert_eq!(
                format!(".{}", trap.enterprise.as_ref().unwrap()),
                v1["enterprise"].as_str().unwrap()
            );
            assert_eq!(
                trap.agent_addr.unwrap().to_string(),
                v1["agent_address"].as_str().unwrap()
            );
            assert_eq!(trap.generic_trap, v1["generic_trap"].as_i64());
            assert_eq!(trap.specific_trap, v1["specific_trap"].as_i64());
            assert_eq!(trap.uptime.map(i64::from), v1["timestamp"].as_i64());
        } else {
            assert_eq!(trap.request_id, d["request_id"].as_i64());
            assert_eq!(
                trap.uptime.map(|t| t.to_string()).as_deref(),
                d["varbinds"][0]["value"].as_str()
            );
            assert_eq!(
                trap.trap_oid.as_ref().map(|o| format!(".{o}")).as_deref(),
                d["varbinds"][1]["value"].as_str()
            );
        }
        // net-snmp encodes minimally, so encoding the decoded trap gives the same bytes.
        assert_eq!(encode_trap(&trap), bytes, "{name}");
        decoded_ok += 1;
    }
    assert_eq!(decoded_ok, 5);
}

#[test]
fn v1_traps_get_their_rfc_3584_trap_oid() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let specific = decode_trap(&packet(&cases[0])).unwrap();
    assert_eq!(
        specific.trap_oid.unwrap().to_string(),
        "1.3.6.1.4.1.8072.2.3.0.17"
    );
    let link_down = decode_trap(&packet(&cases[1])).unwrap();
    assert_eq!(
        link_down.trap_oid.as_ref().unwrap().to_string(),
        "1.3.6.1.6.3.1.1.5.3"
    );
    for (generic, name) in (0..6).zip([
        "coldStart",
        "warmStart",
        "linkDown",
        "linkUp",
        "authenticationFailure",
        "egpNeighborLoss",
    ]) {
        let mut t = link_down.clone();
        t.generic_trap = Some(generic);
        let back = decode_trap(&encode_trap(&t)).unwrap();
        assert_eq!(back.trap_oid.as_ref().and_then(trap_name), Some(name));
    }
}

#[test]
fn every_varbind_type_of_the_big_capture_is_typed() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let trap = decode_trap(&packet(&cases[3])).unwrap();
    let values: Vec<&Value> = trap.varbinds.iter().map(|v| &v.value).collect();
    assert_eq!(
        values[2..],
        [
            &Value::Int(42),
            &Value::OctetString(b"core-sw-01.example.net".to_vec()),
            &Value::IpAddr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            &Value::Counter32(4_294_967_295),
            &Value::Gauge32(1_000_000_000),
            &Value::TimeTicks(8_640_000),
            &Value::Oid("1.3.6.1.4.1.8072.3.2.10".parse().unwrap()),
            &Value::Counter64(u64::MAX),
            &Value::OctetString(vec![0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc]),
        ]
    );
    assert_eq!(trap.community, b"s3cr3t-community");
}

#[test]
fn gosnmp_packets_decode_or_fail_cleanly() {
    let cases = corpus("gosnmp_test_vectors.jsonl");
    assert_eq!(cases.len(), 29);
    let (mut traps, mut others, mut invalid, mut v3) = (0, 0, 0, 0);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let bytes = packet(case);
        let result = decode_trap(&bytes);
        if case["valid"] == false {
            assert!(result.is_err(), "{name} decoded");
            assert!(decode_any(&bytes).is_err(), "{name} decoded");
            invalid += 1;
            continue;
        }
        let d = &case["decoded"];
        if d["version"] == "3" {
            assert_eq!(result, Err(SnmpError::Unsupported { version: 3 }), "{name}");
            v3 += 1;
            continue;
        }
        let msg = decode_any(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_message(name, &msg, d);
        match msg.kind {
            PduKind::TrapV1 | PduKind::TrapV2 | PduKind::InformRequest => {
                let trap = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(decode_trap(&encode_trap(&trap)).unwrap(), trap, "{name}");
                traps += 1;
            }
            kind => {
                assert_eq!(result, Err(SnmpError::NotATrap { kind }), "{name}");
                others += 1;
            }
        }
    }
    assert_eq!((traps, others, invalid, v3), (4, 11, 10, 4));
}

#[test]
fn inform_is_answered_with_a_matching_response() {
    let cases = corpus("gosnmp_test_vectors.jsonl");
    let case = cases
        .iter()
        .find(|c| c["decoded"]["pdu_type"] == "InformRequest")
        .unwrap();
    let inform = decode_trap(&packet(case)).unwrap();
    assert_eq!(inform.pdu_kind, PduKind::InformRequest);
    assert_eq!(inform.request_id, Some(54321));
    let response = inform_response(&inform).unwrap();
    let msg = decode_any(&response).unwrap();
    assert_eq!(msg.kind, PduKind::Response);
    assert_eq!(msg.version, Version::V2c);
    assert_eq!(msg.community, b"public");
    assert_eq!(msg.header, Some([54321, 0, 0]));
    assert_eq!(msg.varbinds, inform.varbinds);
    // The whole response is the request with the PDU tag changed: the
    // request was minimally encoded and had error-status and -index 0.
    let mut expected = packet(case);
    let at = expected.iter().position(|&b| b == 0xa6).unwrap();
    expected[at] = 0xa2;
    assert_eq!(response, expected);
}

#[test]
fn traps_get_no_inform_response() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let trap = decode_trap(&packet(&cases[2])).unwrap();
    assert_eq!(
        inform_response(&trap),
        Err(SnmpError::NotAnInform {
            kind: PduKind::TrapV2
        })
    );
}

#[test]
fn v1_link_down_becomes_a_readable_event() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let trap = decode_trap(&packet(&cases[1])).unwrap();
    let ev = trap_to_event(&trap, source(), &ctx(), false);
    assert_eq!(
        ev.message,
        "linkDown ifIndex.3=3 ifDescr.3=GigabitEthernet0/3"
    );
    assert_eq!(ev.host.as_deref(), Some("192.0.2.11"));
    assert_eq!(ev.source.as_deref(), Some("198.51.100.9:40123"));
    assert_eq!(ev.app.as_deref(), Some("snmptrap"));
    assert_eq!(ev.severity, Some(Severity::Warning));
    assert_eq!(ev.timestamp, NOW);
    let f = |k: &str| ev.field(k).cloned();
    assert_eq!(f("snmp.version"), Some("1".into()));
    assert_eq!(f("snmp.pdu"), Some("trap".into()));
    assert_eq!(f("snmp.community"), None);
    assert_eq!(f("snmp.trap_oid"), Some("1.3.6.1.6.3.1.1.5.3".into()));
    assert_eq!(f("snmp.trap_name"), Some("linkDown".into()));
    assert_eq!(f("snmp.enterprise"), Some("1.3.6.1.4.1.9.9.41.2".into()));
    assert_eq!(f("snmp.agent_addr"), Some("192.0.2.11".into()));
    assert_eq!(f("snmp.generic_trap"), Some(FieldValue::Int(2)));
    assert_eq!(f("snmp.specific_trap"), Some(FieldValue::Int(0)));
    assert_eq!(f("snmp.uptime"), Some(FieldValue::Int(4242)));
    assert_eq!(f("snmp.request_id"), None);
    assert_eq!(f("snmp.vb.1.3.6.1.2.1.2.2.1.1.3"), Some(FieldValue::Int(3)));
    assert_eq!(
        f("snmp.vb.1.3.6.1.2.1.2.2.1.2.3"),
        Some("GigabitEthernet0/3".into())
    );
    // Known objects also by name, without the instance.
    assert_eq!(f("snmp.ifIndex"), Some(FieldValue::Int(3)));
    assert_eq!(f("snmp.ifDescr"), Some("GigabitEthernet0/3".into()));
    let with_community = trap_to_event(&trap, source(), &ctx(), true);
    assert_eq!(
        with_community.field("snmp.community"),
        Some(&FieldValue::Str("public".into()))
    );
}

#[test]
fn v2c_event_has_typed_fields_and_labels() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let trap = decode_trap(&packet(&cases[2])).unwrap();
    let ev = trap_to_event(&trap, source(), &ctx(), false);
    assert_eq!(
        ev.message,
        "linkDown ifIndex.2=2 ifAdminStatus.2=up(1) ifOperStatus.2=down(2)"
    );
    assert_eq!(ev.host.as_deref(), Some("198.51.100.9"));
    assert_eq!(ev.field("snmp.version"), Some(&"2c".into()));
    assert_eq!(
        ev.field("snmp.request_id"),
        Some(&FieldValue::Int(1_961_332_041))
    );
    assert_eq!(ev.field("snmp.uptime"), Some(&FieldValue::Int(55)));
    // sysUpTime.0 and snmpTrapOID.0 are the header, not payload.
    assert_eq!(ev.field("snmp.vb.1.3.6.1.2.1.1.3.0"), None);
    assert_eq!(ev.field("snmp.vb.1.3.6.1.6.3.1.1.4.1.0"), None);
    assert_eq!(
        ev.fields
            .iter()
            .filter(|(k, _)| k.starts_with("snmp.vb."))
            .count(),
        3
    );

    let big = decode_trap(&packet(&cases[3])).unwrap();
    let ev = trap_to_event(&big, source(), &ctx(), false);
    let f = |k: &str| ev.field(&format!("snmp.vb.{k}")).cloned();
    assert_eq!(f("1.3.6.1.4.1.8072.2.3.2.1"), Some(FieldValue::Int(42)));
    assert_eq!(
        f("1.3.6.1.2.1.4.20.1.1.192.0.2.1"),
        Some("192.0.2.1".into())
    );
    assert_eq!(
        f("1.3.6.1.2.1.2.2.1.10.1"),
        Some(FieldValue::Int(4_294_967_295))
    );
    assert_eq!(
        f("1.3.6.1.2.1.2.2.1.5.1"),
        Some(FieldValue::Int(1_000_000_000))
    );
    assert_eq!(f("1.3.6.1.2.1.1.3.0"), Some(FieldValue::Int(8_640_000)));
    assert_eq!(
        f("1.3.6.1.2.1.1.2.0"),
        Some("1.3.6.1.4.1.8072.3.2.10".into())
    );
    assert_eq!(
        f("1.3.6.1.2.1.31.1.1.1.6.1"),
        Some("18446744073709551615".into())
    );
    assert_eq!(f("1.3.6.1.2.1.2.2.1.6.1"), Some("00:11:22:aa:bb:cc".into()));
    assert_eq!(ev.severity, Some(Severity::Info));
    assert!(ev.message.starts_with(
        "1.3.6.1.4.1.8072.2.3.0.1 1.3.6.1.4.1.8072.2.3.2.1=42 sysName.0=core-sw-01.example.net "
    ));
    // This trap carries a second sysUpTime.0 as payload; it stays a varbind.
    assert!(ev.message.contains(" sysUpTime.0=8640000 "));

    let utf8 = decode_trap(&packet(&cases[4])).unwrap();
    let ev = trap_to_event(&utf8, source(), &ctx(), false);
    assert!(
        ev.message
            .ends_with(" sysDescr.0=\"UTF-8 text: Grüße 温度 ✓\"")
    );
}

#[test]
fn unspecified_agent_address_falls_back_to_the_source() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let mut trap = decode_trap(&packet(&cases[0])).unwrap();
    trap.agent_addr = Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ev = trap_to_event(&trap, source(), &ctx(), false);
    assert_eq!(ev.host.as_deref(), Some("198.51.100.9"));
    assert_eq!(ev.field("snmp.agent_addr"), Some(&"0.0.0.0".into()));
    assert_eq!(
        ev.message,
        "1.3.6.1.4.1.8072.2.3.0.17 1.3.6.1.4.1.8072.2.3.2.1=123456"
    );
}

#[test]
fn severity_follows_the_trap() {
    let cases = corpus("netsnmp_snmptrap_captures.jsonl");
    let base = decode_trap(&packet(&cases[1])).unwrap();
    for (generic, severity) in [
        (0, Severity::Notice),
        (1, Severity::Notice),
        (2, Severity::Warning),
        (3, Severity::Info),
        (4, Severity::Warning),
        (5, Severity::Info),
        (6, Severity::Info),
    ] {
        let mut t = base.clone();
        t.generic_trap = Some(generic);
        let t = decode_trap(&encode_trap(&t)).unwrap();
        assert_eq!(
            trap_to_event(&t, source(), &ctx(), false).severity,
            Some(severity)
        );
    }
}

#[test]
fn names_cover_columns_scalars_and_traps() {
    let name = |s: &str| oid_name(&s.parse().unwrap());
    assert_eq!(name("1.3.6.1.2.1.2.2.1.2.2").as_deref(), Some("ifDescr.2"));
    assert_eq!(
        name("1.3.6.1.2.1.31.1.1.1.1.17").as_deref(),
        Some("ifName.17")
    );
    assert_eq!(
        name("1.3.6.1.2.1.31.1.1.1.18.3").as_deref(),
        Some("ifAlias.3")
    );
    assert_eq!(name("1.3.6.1.2.1.1.6.0").as_deref(), Some("sysLocation.0"));
    assert_eq!(
        name("1.3.6.1.6.3.1.1.4.3.0").as_deref(),
        Some("snmpTrapEnterprise.0")
    );
    assert_eq!(
        name("1.3.6.1.6.3.1.1.5.5").as_deref(),
        Some("authenticationFailure")
    );
    assert_eq!(name("1.3.6.1.2.1.1.10.0"), None);
    assert_eq!(name("1.3.6.1.4.1.9"), None);
}

#[test]
fn oids_parse_and_print() {
    let o: Oid = ".1.3.6.1.2.1.1.3.0".parse().unwrap();
    assert_eq!(o.to_string(), "1.3.6.1.2.1.1.3.0");
    assert!("1".parse::<Oid>().is_err());
    assert!("3.1".parse::<Oid>().is_err());
    assert!("1.40".parse::<Oid>().is_err());
    assert!("1.3.x".parse::<Oid>().is_err());
    assert!("1.3.4294967296".parse::<Oid>().is_err());
    assert!("".parse::<Oid>().is_err());
}

#[test]
fn malformed_messages_are_errors() {
    let v2c = unhex(
        "305102010104067075626c6963a7440201070201000201003039300d06082b060102\
         010103004301373017060a2b06010603010104010006092b0601060301010503300f\
         060a2b060102010202010102020102",
    );
    assert!(decode_trap(&v2c).is_ok());
    for cut in 0..v2c.len() {
        assert!(decode_trap(&v2c[..cut]).is_err(), "cut at {cut}");
    }
    let mut extra = v2c.clone();
    extra.extend_from_slice(b"\0\0trailing");
    assert!(decode_trap(&extra).is_ok());
    let mut v1_pdu = v2c.clone();
    v1_pdu[4] = 0;
    assert_eq!(
        decode_trap(&v1_pdu),
        Err(SnmpError::VersionMismatch {
            version: Version::V1,
            kind: PduKind::TrapV2
        })
    );
    let mut unknown = v2c.clone();
    unknown[13] = 0xa9;
    assert_eq!(
        decode_trap(&unknown),
        Err(SnmpError::UnknownPdu { tag: 0xa9 })
    );
    let mut v2u = v2c.clone();
    v2u[4] = 2;
    assert_eq!(
        decode_trap(&v2u),
        Err(SnmpError::Unsupported { version: 2 })
    );
    let mut get = v2c;
    get[13] = 0xa0;
    assert_eq!(
        decode_trap(&get),
        Err(SnmpError::NotATrap {
            kind: PduKind::GetRequest
        })
    );
}

#[test]
fn value_lengths_are_checked() {
    let oid: Oid = "1.3.6.1.2.1.1.5.0".parse().unwrap();
    let mut trap = Trap {
        version: Version::V2c,
        community: b"public".to_vec(),
        pdu_kind: PduKind::TrapV2,
        request_id: Some(1),
        enterprise: None,
        agent_addr: None,
        generic_trap: None,
        specific_trap: None,
        uptime: None,
        trap_oid: None,
        varbinds: vec![VarBind {
            oid,
            value: Value::Other {
                tag: 0x05,
                contents: vec![1],
            },
        }],
    };
    assert_eq!(
        decode_trap(&encode_trap(&trap)),
        Err(SnmpError::BadValue { what: "NULL" })
    );
    trap.varbinds[0].value = Value::Other {
        tag: 0x40,
        contents: vec![1, 2, 3],
    };
    assert_eq!(
        decode_trap(&encode_trap(&trap)),
        Err(SnmpError::BadValue { what: "IpAddress" })
    );
    trap.varbinds[0].value = Value::Other {
        tag: 0x41,
        contents: vec![1, 0, 0, 0, 0],
    };
    assert!(matches!(
        decode_trap(&encode_trap(&trap)),
        Err(SnmpError::BadInteger { .. })
    ));
    trap.varbinds[0].value = Value::Other {
        tag: 0x47,
        contents: vec![1],
    };
    assert!(decode_trap(&encode_trap(&trap)).is_ok());
}
