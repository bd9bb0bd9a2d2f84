//! Property tests for SNMP: no bytes make the trap decoder panic, mutated
//! real packets included, and every trap it can encode decodes back equal.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;

use hark_proto::ParseContext;
use hark_proto::snmp::{
    Oid, PduKind, Trap, Value, VarBind, Version, decode_trap, encode_trap, inform_response,
    trap_to_event,
};
use hark_testkit::corpus::{protocol_jsonl, unhex};
use proptest::prelude::*;

/// The corpus' v1 and v2c packets, to mutate.
static SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    protocol_jsonl("snmp/netsnmp_snmptrap_captures.jsonl")
        .iter()
        .map(|v| unhex(v["packet_hex"].as_str().unwrap()))
        .collect()
});

fn check(bytes: &[u8]) {
    if let Ok(trap) = decode_trap(bytes) {
        let ctx = ParseContext::new(0, "snmp");
        let source: SocketAddr = "192.0.2.1:162".parse().unwrap();
        let ev = trap_to_event(&trap, source, &ctx, true);
        assert!(!ev.message.is_empty());
        // What decodes re-encodes to something that decodes the same.
        assert_eq!(decode_trap(&encode_trap(&trap)).as_ref(), Ok(&trap));
        if let Ok(response) = inform_response(&trap) {
            assert!(matches!(decode_trap(&response), Err(e) if e.to_string().contains("Response")));
        }
    }
}

/// Where the PDU starts in a v2c message: after the outer header, the
/// version (`02 01 01`) and the community.
fn pdu_tag_offset(m: &[u8]) -> usize {
    let header = |at: usize| match m[at + 1] {
        n if n < 0x80 => (2, usize::from(n)),
        n => {
            let k = usize::from(n & 0x7f);
            let len = m[at + 2..at + 2 + k]
                .iter()
                .fold(0, |a, &b| (a << 8) | usize::from(b));
            (2 + k, len)
        }
    };
    let community = header(0).0 + 3;
    let (h, len) = header(community);
    community + h + len
}

fn oid() -> impl Strategy<Value = Oid> {
    (
        0u32..3,
        0u32..40,
        proptest::collection::vec(any::<u32>(), 0..20),
    )
        .prop_map(|(a, b, rest)| {
            let mut arcs = vec![a, b];
            arcs.extend(rest);
            Oid::from_arcs(&arcs).unwrap()
        })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::OctetString),
        Just(Value::Null),
        oid().prop_map(Value::Oid),
        any::<[u8; 4]>().prop_map(|a| Value::IpAddr(IpAddr::V4(Ipv4Addr::from(a)))),
        any::<[u8; 16]>().prop_map(|a| Value::IpAddr(IpAddr::V6(Ipv6Addr::from(a)))),
        any::<u32>().prop_map(Value::Counter32),
        any::<u32>().prop_map(Value::Gauge32),
        any::<u32>().prop_map(Value::TimeTicks),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Opaque),
        any::<u64>().prop_map(Value::Counter64),
        Just(Value::NoSuchObject),
        Just(Value::NoSuchInstance),
        Just(Value::EndOfMibView),
    ]
}

fn trap() -> impl Strategy<Value = Trap> {
    let varbinds = proptest::collection::vec(
        (oid(), value()).prop_map(|(oid, value)| VarBind { oid, value }),
        0..12,
    );
    (
        prop_oneof![
            Just(PduKind::TrapV1),
            Just(PduKind::TrapV2),
            Just(PduKind::InformRequest)
        ],
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<i64>(),
        (
            oid(),
            any::<[u8; 4]>(),
            any::<i64>(),
            any::<i64>(),
            any::<u32>(),
        ),
        varbinds,
    )
        .prop_map(
            |(kind, community, request_id, (ent, addr, g, s, up), varbinds)| {
                let v1 = kind == PduKind::TrapV1;
                let mut t = Trap {
                    version: if v1 { Version::V1 } else { Version::V2c },
                    community,
                    pdu_kind: kind,
                    request_id: (!v1).then_some(request_id),
                    enterprise: v1.then_some(ent),
                    agent_addr: v1.then_some(IpAddr::V4(Ipv4Addr::from(addr))),
                    generic_trap: v1.then_some(g),
                    specific_trap: v1.then_some(s),
                    uptime: v1.then_some(up),
                    trap_oid: None,
                    varbinds,
                };
                // What the decoder derives from the header and varbinds.
                t = decode_trap(&encode_trap(&t)).unwrap();
                t
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes);
    }

    #[test]
    fn mutated_traps_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = SEEDS[seed.index(SEEDS.len())].clone();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        check(&bytes);
        check(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn encoded_traps_decode_back_equal(t in trap()) {
        let bytes = encode_trap(&t);
        prop_assert_eq!(decode_trap(&bytes), Ok(t.clone()));
        if t.pdu_kind == PduKind::InformRequest {
            let response = inform_response(&t).unwrap();
            // The response differs from the request only in its PDU tag.
            let mut expected = bytes;
            let at = pdu_tag_offset(&expected);
            prop_assert_eq!(expected[at], 0xa6);
            expected[at] = 0xa2;
            prop_assert_eq!(response, expected);
        }
    }
}
