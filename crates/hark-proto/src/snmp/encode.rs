//! Messages into BER: request and response [`Message`]s, the Response
//! that acknowledges an inform, and notifications ([`Trap`]s).

use std::net::{IpAddr, Ipv4Addr};

use super::ber::{self, tag, write_tlv};
use super::{Message, PduKind, SnmpError, Trap, Value, VarBind, Version};

/// The Response (`A2`) that acknowledges an InformRequest: the same
/// version, community, request-id and varbinds, error-status and
/// error-index 0. It goes back to the inform's source address and port.
///
/// Fails with [`SnmpError::NotAnInform`] for a trap, which gets no answer.
pub fn inform_response(inform: &Trap) -> Result<Vec<u8>, SnmpError> {
    if inform.pdu_kind != PduKind::InformRequest {
        return Err(SnmpError::NotAnInform {
            kind: inform.pdu_kind,
        });
    }
    let request_id = inform.request_id.unwrap_or(0);
    Ok(message(
        inform.version,
        &inform.community,
        PduKind::Response,
        &generic_pdu_header(request_id, 0, 0),
        &inform.varbinds,
    ))
}

/// Encodes a trap or inform as an SNMP message, the inverse of
/// [`decode_trap`](super::decode_trap) for what it decodes.
///
/// A v1 trap (`pdu_kind` [`PduKind::TrapV1`]) takes its header from
/// `enterprise`, `agent_addr`, `generic_trap`, `specific_trap` and
/// `uptime` (absent ones encode as `0.0`, `0.0.0.0` and 0); any other kind
/// takes `request_id` (0 when absent) and carries only `varbinds`, which
/// must then already hold `sysUpTime.0` and `snmpTrapOID.0`.
pub fn encode_trap(trap: &Trap) -> Vec<u8> {
    let header = if trap.pdu_kind == PduKind::TrapV1 {
        let mut h = Vec::new();
        let enterprise = trap
            .enterprise
            .as_ref()
            .map(ber::oid_contents)
            .unwrap_or_else(|| vec![0]);
        write_tlv(&mut h, tag::OID, &enterprise);
        let addr = match trap.agent_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)) {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        write_tlv(&mut h, tag::IP_ADDRESS, &addr);
        write_tlv(
            &mut h,
            tag::INTEGER,
            &ber::integer_contents(trap.generic_trap.unwrap_or(0)),
        );
        write_tlv(
            &mut h,
            tag::INTEGER,
            &ber::integer_contents(trap.specific_trap.unwrap_or(0)),
        );
        write_tlv(
            &mut h,
            tag::TIME_TICKS,
            &ber::unsigned_contents(u64::from(trap.uptime.unwrap_or(0))),
        );
        h
    } else {
        generic_pdu_header(trap.request_id.unwrap_or(0), 0, 0)
    };
    message(
        trap.version,
        &trap.community,
        trap.pdu_kind,
        &header,
        &trap.varbinds,
    )
}

/// A request or response message; see [`Message::encode`].
pub(crate) fn encode_message(m: &Message) -> Vec<u8> {
    let p = &m.pdu;
    message(
        m.version,
        &m.community,
        p.kind,
        &generic_pdu_header(p.request_id, p.error_status, p.error_index),
        &p.varbinds,
    )
}

/// request-id, error-status and error-index.
fn generic_pdu_header(request_id: i64, error_status: i64, error_index: i64) -> Vec<u8> {
    let mut h = Vec::new();
    for v in [request_id, error_status, error_index] {
        write_tlv(&mut h, tag::INTEGER, &ber::integer_contents(v));
    }
    h
}

fn message(
    version: Version,
    community: &[u8],
    kind: PduKind,
    pdu_header: &[u8],
    varbinds: &[VarBind],
) -> Vec<u8> {
    let mut list = Vec::new();
    for vb in varbinds {
        let mut one = Vec::new();
        write_tlv(&mut one, tag::OID, &ber::oid_contents(&vb.oid));
        write_value(&mut one, &vb.value);
        write_tlv(&mut list, tag::SEQUENCE, &one);
    }
    let mut pdu = pdu_header.to_vec();
    write_tlv(&mut pdu, tag::SEQUENCE, &list);
    let mut body = Vec::new();
    write_tlv(
        &mut body,
        tag::INTEGER,
        &ber::integer_contents(version.wire()),
    );
    write_tlv(&mut body, tag::OCTET_STRING, community);
    write_tlv(&mut body, kind.tag(), &pdu);
    let mut out = Vec::with_capacity(body.len() + 4);
    write_tlv(&mut out, tag::SEQUENCE, &body);
    out
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Int(n) => write_tlv(out, tag::INTEGER, &ber::integer_contents(*n)),
        Value::OctetString(b) => write_tlv(out, tag::OCTET_STRING, b),
        Value::Null => write_tlv(out, tag::NULL, &[]),
        Value::Oid(o) => write_tlv(out, tag::OID, &ber::oid_contents(o)),
        Value::IpAddr(IpAddr::V4(a)) => write_tlv(out, tag::IP_ADDRESS, &a.octets()),
        Value::IpAddr(IpAddr::V6(a)) => write_tlv(out, tag::IP_ADDRESS, &a.octets()),
        Value::Counter32(n) => {
            write_tlv(out, tag::COUNTER32, &ber::unsigned_contents(u64::from(*n)))
        }
        Value::Gauge32(n) => write_tlv(out, tag::GAUGE32, &ber::unsigned_contents(u64::from(*n))),
        Value::TimeTicks(n) => {
            write_tlv(out, tag::TIME_TICKS, &ber::unsigned_contents(u64::from(*n)))
        }
        Value::Opaque(b) => write_tlv(out, tag::OPAQUE, b),
        Value::Counter64(n) => write_tlv(out, tag::COUNTER64, &ber::unsigned_contents(*n)),
        Value::NoSuchObject => write_tlv(out, tag::NO_SUCH_OBJECT, &[]),
        Value::NoSuchInstance => write_tlv(out, tag::NO_SUCH_INSTANCE, &[]),
        Value::EndOfMibView => write_tlv(out, tag::END_OF_MIB_VIEW, &[]),
        Value::Other { tag, contents } => write_tlv(out, *tag, contents),
    }
}
