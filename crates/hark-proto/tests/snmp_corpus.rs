//! SNMP trap decoding against captured traffic: the UDP payloads of the
//! corpus captures (net-snmp and gosnmp packets, tcpdump's malformed SNMP
//! regression captures), with snmp-parser as a second decoder.

use std::net::{IpAddr, Ipv4Addr};

use hark_proto::snmp::{
    PduKind, SnmpError, Trap, Value, Version, decode_trap, encode_trap, inform_response,
};
use hark_testkit::corpus::{protocol_file, protocol_jsonl, unhex};
use snmp_parser::{
    NetworkAddress, ObjectSyntax, SnmpMessage, SnmpPdu, VarBindValue, parse_snmp_v1, parse_snmp_v2c,
};

/// The `packet_hex` of each line of a JSON Lines corpus file.
fn hex_packets(path: &str) -> Vec<Vec<u8>> {
    protocol_jsonl(path)
        .iter()
        .map(|v| unhex(v["packet_hex"].as_str().unwrap()))
        .collect()
}

/// The UDP payloads of a classic pcap file over Ethernet, one entry per
/// record (`None` for a record that is not UDP over IPv4/IPv6). Length
/// fields inside the packet are not trusted: the payload runs to the end
/// of the captured bytes, since tcpdump's regression captures lie in them.
fn udp_payloads(path: &str) -> Vec<Option<Vec<u8>>> {
    let d = protocol_file(path);
    let u32_at = |b: &[u8], le: bool| {
        let a: [u8; 4] = b[..4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let le = match &d[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        other => panic!("{path}: not a pcap file ({other:02x?})"),
    };
    let ethernet = u32_at(&d[20..], le) & 0xffff == 1;
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= d.len() {
        let incl = u32_at(&d[off + 8..], le) as usize;
        let rec = &d[off + 16..(off + 16 + incl).min(d.len())];
        off += 16 + incl;
        out.push(udp_payload(ethernet, rec));
    }
    out
}

fn udp_payload(ethernet: bool, rec: &[u8]) -> Option<Vec<u8>> {
    if !ethernet || rec.len() < 14 {
        return None;
    }
    let ip = &rec[14..];
    let udp = match u16::from_be_bytes([rec[12], rec[13]]) {
        0x0800 if ip.len() >= 20 && ip[9] == 17 => ip.get(usize::from(ip[0] & 0x0f) * 4..)?,
        0x86dd if ip.len() >= 40 && ip[6] == 17 => &ip[40..],
        _ => return None,
    };
    Some(udp.get(8..)?.to_vec())
}

#[test]
fn pcap_payloads_match_the_hex_vectors() {
    for name in ["netsnmp_snmptrap_captures", "gosnmp_test_vectors"] {
        let from_pcap: Vec<Vec<u8>> = udp_payloads(&format!("snmp/{name}.pcap"))
            .into_iter()
            .map(|p| p.unwrap())
            .collect();
        assert_eq!(
            from_pcap,
            hex_packets(&format!("snmp/{name}.jsonl")),
            "{name}"
        );
    }
}

#[test]
fn net_snmp_captures_decode_or_are_refused_as_v3() {
    let results: Vec<_> = udp_payloads("snmp/netsnmp_snmptrap_captures.pcap")
        .into_iter()
        .map(|p| decode_trap(&p.unwrap()))
        .collect();
    let versions: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map(|t| (t.version, t.pdu_kind)))
        .collect();
    let v1 = Ok((Version::V1, PduKind::TrapV1));
    let v2 = Ok((Version::V2c, PduKind::TrapV2));
    let v3 = Err(&SnmpError::Unsupported { version: 3 });
    let v3_err = |r: &Result<(Version, PduKind), &SnmpError>| r == &v3;
    assert_eq!(versions[..5], [v1, v1, v2, v2, v2]);
    assert!(versions[5..].iter().all(v3_err));
    assert!(
        results[5]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("3 (SNMPv3) is not supported")
    );
}

#[test]
fn tcpdump_malformed_snmp_is_rejected() {
    let mut udp = 0;
    for file in [
        "ip-snmp-leftshift-unsigned",
        "ip6-snmp-oid-unsigned",
        "snmp-heapoverflow-1",
        "snmp-heapoverflow-2",
    ] {
        for payload in udp_payloads(&format!("pcap_tcpdump_tests/{file}.pcap"))
            .into_iter()
            .flatten()
        {
            assert!(decode_trap(&payload).is_err(), "{file} decoded");
            // Every prefix too: a decoder that reads past a length shows up here.
            for cut in 0..payload.len() {
                assert!(decode_trap(&payload[..cut]).is_err(), "{file} cut at {cut}");
            }
            udp += 1;
        }
    }
    assert_eq!(udp, 4);
}

/// snmp-parser's reading of a message as our types: (version, community,
/// kind, request-id, v1 header, varbinds). `None` when it does not parse it.
type Reading = (
    Version,
    String,
    PduKind,
    Option<i64>,
    Option<(String, IpAddr, i64, i64, u32)>,
    Vec<(String, Value)>,
);

fn oracle(bytes: &[u8]) -> Option<Reading> {
    let msg: SnmpMessage = parse_snmp_v1(bytes)
        .or_else(|_| parse_snmp_v2c(bytes))
        .ok()?
        .1;
    let version = if msg.version == 0 {
        Version::V1
    } else {
        Version::V2c
    };
    let kind = PduKind::from_tag(0xa0 + u8::try_from(msg.pdu_type().0).ok()?)?;
    let (request_id, v1, vars) = match &msg.pdu {
        SnmpPdu::Generic(g) => (Some(i64::from(g.req_id)), None, &g.var),
        SnmpPdu::TrapV1(t) => {
            let NetworkAddress::IPv4(a) = t.agent_addr;
            let header = (
                t.enterprise.to_id_string(),
                IpAddr::V4(a),
                i64::from(t.generic_trap.0),
                i64::from(t.specific_trap),
                t.timestamp,
            );
            (None, Some(header), &t.var)
        }
        SnmpPdu::Bulk(_) => return None,
    };
    let varbinds = vars
        .iter()
        .map(|v| {
            let value = match &v.val {
                VarBindValue::Unspecified => Value::Null,
                VarBindValue::NoSuchObject => Value::NoSuchObject,
                VarBindValue::NoSuchInstance => Value::NoSuchInstance,
                VarBindValue::EndOfMibView => Value::EndOfMibView,
                VarBindValue::Value(s) => match s {
                    ObjectSyntax::Number(n) => Value::Int(i64::from(*n)),
                    ObjectSyntax::String(b) => Value::OctetString(b.to_vec()),
                    ObjectSyntax::Object(o) => Value::Oid(o.to_id_string().parse().unwrap()),
                    ObjectSyntax::IpAddress(NetworkAddress::IPv4(a)) => {
                        Value::IpAddr(IpAddr::V4(*a))
                    }
                    ObjectSyntax::Counter32(n) => Value::Counter32(*n),
                    ObjectSyntax::Gauge32(n) => Value::Gauge32(*n),
                    ObjectSyntax::TimeTicks(n) => Value::TimeTicks(*n),
                    ObjectSyntax::Opaque(b) => Value::Opaque(b.to_vec()),
                    ObjectSyntax::Counter64(n) => Value::Counter64(*n),
                    other => panic!("unexpected value {other:?}"),
                },
            };
            (v.oid.to_id_string(), value)
        })
        .collect();
    Some((
        version,
        msg.community.clone(),
        kind,
        request_id,
        v1,
        varbinds,
    ))
}

fn ours(t: &Trap) -> Reading {
    let v1 = t.generic_trap.map(|g| {
        (
            t.enterprise.as_ref().unwrap().to_string(),
            t.agent_addr.unwrap(),
            g,
            t.specific_trap.unwrap(),
            t.uptime.unwrap(),
        )
    });
    let varbinds = t
        .varbinds
        .iter()
        .map(|v| (v.oid.to_string(), v.value.clone()))
        .collect();
    (
        t.version,
        t.community_lossy(),
        t.pdu_kind,
        t.request_id,
        v1,
        varbinds,
    )
}

#[test]
fn snmp_parser_agrees_on_every_v1_and_v2c_trap() {
    let mut packets = hex_packets("snmp/netsnmp_snmptrap_captures.jsonl");
    packets.extend(hex_packets("snmp/gosnmp_test_vectors.jsonl"));
    let mut compared = 0;
    for p in &packets {
        let Ok(trap) = decode_trap(p) else { continue };
        let theirs = oracle(p).expect("snmp-parser reads what we decode");
        assert_eq!(ours(&trap), theirs);
        // Our encoding of the same trap reads the same to snmp-parser.
        assert_eq!(oracle(&encode_trap(&trap)), Some(theirs));
        compared += 1;
    }
    assert_eq!(compared, 9);
}

#[test]
fn snmp_parser_reads_our_inform_response() {
    let packets = hex_packets("snmp/gosnmp_test_vectors.jsonl");
    let inform = packets
        .iter()
        .filter_map(|p| decode_trap(p).ok())
        .find(|t| t.pdu_kind == PduKind::InformRequest)
        .unwrap();
    let response = inform_response(&inform).unwrap();
    let (version, community, kind, request_id, v1, varbinds) = oracle(&response).unwrap();
    assert_eq!(version, Version::V2c);
    assert_eq!(community, "public");
    assert_eq!(kind, PduKind::Response);
    assert_eq!(request_id, Some(54321));
    assert_eq!(v1, None);
    assert_eq!(varbinds, ours(&inform).5);
    let SnmpPdu::Generic(g) = parse_snmp_v2c(&response).unwrap().1.pdu else {
        panic!("not a generic PDU");
    };
    assert_eq!((g.err.0, g.err_index), (0, 0));
}

#[test]
fn v1_agent_address_is_the_header_field() {
    let packets = hex_packets("snmp/netsnmp_snmptrap_captures.jsonl");
    let t = decode_trap(&packets[0]).unwrap();
    assert_eq!(t.agent_addr, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))));
}
