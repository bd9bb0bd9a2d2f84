//! BER bytes into a message, then into a [`Trap`] or a request/response [`Message`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ber::{self, Reader, tag};
use super::names::{
    SNMP_TRAP_ADDRESS_0, SNMP_TRAP_ENTERPRISE_0, SNMP_TRAP_OID_0, STANDARD_TRAPS, SYS_UP_TIME_0,
};
use super::{Oid, PduKind, SnmpError, Trap, Value, VarBind, Version};

/// The v1 Trap-PDU header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V1Header {
    pub enterprise: Oid,
    pub agent_addr: IpAddr,
    pub generic_trap: i64,
    pub specific_trap: i64,
    pub time_stamp: u32,
}

/// Any v1/v2c message, whatever its PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub version: Version,
    pub community: Vec<u8>,
    pub kind: PduKind,
    /// request-id, error-status and error-index (non-repeaters and
    /// max-repetitions for GetBulk); absent for a v1 trap.
    pub header: Option<[i64; 3]>,
    pub v1: Option<V1Header>,
    pub varbinds: Vec<VarBind>,
}

/// Decodes an SNMPv1 or SNMPv2c trap or inform.
///
/// Errors: anything that is not well-formed BER of the SNMP message
/// layout; [`SnmpError::Unsupported`] for SNMPv3 (and any version other
/// than v1 and v2c); [`SnmpError::NotATrap`] for a well-formed message of
/// another PDU type; [`SnmpError::VersionMismatch`] for a v1 Trap-PDU in a
/// v2c message or a v2 notification in a v1 message. Bytes after the
/// message are ignored.
pub fn decode_trap(datagram: &[u8]) -> Result<Trap, SnmpError> {
    let msg = decode_any(datagram)?;
    match (msg.version, msg.kind) {
        (Version::V1, PduKind::TrapV1)
        | (Version::V2c, PduKind::TrapV2 | PduKind::InformRequest) => {}
        (version, kind @ (PduKind::TrapV1 | PduKind::TrapV2 | PduKind::InformRequest)) => {
            return Err(SnmpError::VersionMismatch { version, kind });
        }
        (_, kind) => return Err(SnmpError::NotATrap { kind }),
    }
    let mut trap = Trap {
        version: msg.version,
        community: msg.community,
        pdu_kind: msg.kind,
        request_id: msg.header.map(|h| h[0]),
        enterprise: None,
        agent_addr: None,
        generic_trap: None,
        specific_trap: None,
        uptime: None,
        trap_oid: None,
        varbinds: msg.varbinds,
    };
    match msg.v1 {
        Some(v1) => {
            trap.trap_oid = Some(v1_trap_oid(
                &v1.enterprise,
                v1.generic_trap,
                v1.specific_trap,
            ));
            trap.enterprise = Some(v1.enterprise);
            trap.agent_addr = Some(v1.agent_addr);
            trap.generic_trap = Some(v1.generic_trap);
            trap.specific_trap = Some(v1.specific_trap);
            trap.uptime = Some(v1.time_stamp);
        }
        None => {
            for vb in &trap.varbinds {
                match (vb.oid.arcs(), &vb.value) {
                    (SYS_UP_TIME_0, Value::TimeTicks(t)) if trap.uptime.is_none() => {
                        trap.uptime = Some(*t)
                    }
                    (SNMP_TRAP_OID_0, Value::Oid(o)) if trap.trap_oid.is_none() => {
                        trap.trap_oid = Some(o.clone())
                    }
                    (SNMP_TRAP_ENTERPRISE_0, Value::Oid(o)) if trap.enterprise.is_none() => {
                        trap.enterprise = Some(o.clone());
                    }
                    (SNMP_TRAP_ADDRESS_0, Value::IpAddr(a)) if trap.agent_addr.is_none() => {
                        trap.agent_addr = Some(*a)
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(trap)
}

/// RFC 3584 section 3.1: the SNMPv2 trap OID of a v1 trap.
fn v1_trap_oid(enterprise: &Oid, generic: i64, specific: i64) -> Oid {
    match usize::try_from(generic)
        .ok()
        .and_then(|g| STANDARD_TRAPS.get(g))
    {
        Some((arcs, _)) => Oid(arcs.to_vec()),
        // enterpriseSpecific (6), and by the same rule any invalid generic-trap value.
        None => {
            let mut arcs = enterprise.arcs().to_vec();
            arcs.push(0);
            // specific-trap is an INTEGER; an arc cannot be negative or wider than 32 bits.
            arcs.push(u32::try_from(specific).unwrap_or(0));
            Oid(arcs)
        }
    }
}

/// Decodes any v1/v2c message (not only notifications).
pub(crate) fn decode_any(datagram: &[u8]) -> Result<Decoded, SnmpError> {
    let mut top = Reader::new(datagram);
    let mut msg = Reader::new(top.expect(tag::SEQUENCE, "message")?);
    let version = match msg.integer("version")? {
        0 => Version::V1,
        1 => Version::V2c,
        version => return Err(SnmpError::Unsupported { version }),
    };
    let community = msg.expect(tag::OCTET_STRING, "community")?.to_vec();
    let (pdu_tag, pdu) = msg.any("PDU")?;
    let kind = PduKind::from_tag(pdu_tag).ok_or(SnmpError::UnknownPdu { tag: pdu_tag })?;
    let mut pdu = Reader::new(pdu);
    let (header, v1) = if kind == PduKind::TrapV1 {
        (None, Some(v1_header(&mut pdu)?))
    } else {
        let request_id = pdu.integer("request-id")?;
        let error_status = pdu.integer("error-status")?;
        let error_index = pdu.integer("error-index")?;
        (Some([request_id, error_status, error_index]), None)
    };
    let varbinds = varbinds(pdu.expect(tag::SEQUENCE, "varbind list")?)?;
    Ok(Decoded {
        version,
        community,
        kind,
        header,
        v1,
        varbinds,
    })
}

fn v1_header(pdu: &mut Reader<'_>) -> Result<V1Header, SnmpError> {
    let enterprise = ber::oid(pdu.expect(tag::OID, "enterprise")?, "enterprise")?;
    let agent_addr = ip_addr(pdu.expect(tag::IP_ADDRESS, "agent-addr")?)?;
    let generic_trap = pdu.integer("generic-trap")?;
    let specific_trap = pdu.integer("specific-trap")?;
    let time_stamp = pdu.expect(tag::TIME_TICKS, "time-stamp")?;
    let time_stamp = u32_value(time_stamp, "time-stamp")?;
    Ok(V1Header {
        enterprise,
        agent_addr,
        generic_trap,
        specific_trap,
        time_stamp,
    })
}

fn varbinds(list: &[u8]) -> Result<Vec<VarBind>, SnmpError> {
    let mut list = Reader::new(list);
    let mut out = Vec::new();
    while !list.is_empty() {
        let mut vb = Reader::new(list.expect(tag::SEQUENCE, "varbind")?);
        let oid = ber::oid(vb.expect(tag::OID, "varbind name")?, "varbind name")?;
        let (t, contents) = vb.any("varbind value")?;
        out.push(VarBind {
            oid,
            value: value(t, contents)?,
        });
    }
    Ok(out)
}

fn value(t: u8, c: &[u8]) -> Result<Value, SnmpError> {
    let empty = |v: Value, what| {
        if c.is_empty() {
            Ok(v)
        } else {
            Err(SnmpError::BadValue { what })
        }
    };
    Ok(match t {
        tag::INTEGER => Value::Int(ber::integer(c, "INTEGER value")?),
        tag::OCTET_STRING => Value::OctetString(c.to_vec()),
        tag::NULL => empty(Value::Null, "NULL")?,
        tag::OID => Value::Oid(ber::oid(c, "OID value")?),
        tag::IP_ADDRESS => Value::IpAddr(ip_addr(c)?),
        tag::COUNTER32 => Value::Counter32(u32_value(c, "Counter32 value")?),
        tag::GAUGE32 => Value::Gauge32(u32_value(c, "Gauge32 value")?),
        tag::TIME_TICKS => Value::TimeTicks(u32_value(c, "TimeTicks value")?),
        tag::OPAQUE => Value::Opaque(c.to_vec()),
        tag::COUNTER64 => Value::Counter64(ber::unsigned(c, 8, "Counter64 value")?),
        tag::NO_SUCH_OBJECT => empty(Value::NoSuchObject, "noSuchObject")?,
        tag::NO_SUCH_INSTANCE => empty(Value::NoSuchInstance, "noSuchInstance")?,
        tag::END_OF_MIB_VIEW => empty(Value::EndOfMibView, "endOfMibView")?,
        // A constructed value has no meaning in a varbind.
        t if t & 0x20 != 0 => {
            return Err(SnmpError::BadValue {
                what: "constructed",
            });
        }
        tag => Value::Other {
            tag,
            contents: c.to_vec(),
        },
    })
}

fn u32_value(c: &[u8], what: &'static str) -> Result<u32, SnmpError> {
    let v = ber::unsigned(c, 4, what)?;
    u32::try_from(v).map_err(|_| SnmpError::BadInteger { what })
}

fn ip_addr(c: &[u8]) -> Result<IpAddr, SnmpError> {
    if let Ok(v4) = <[u8; 4]>::try_from(c) {
        return Ok(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(c) {
        return Ok(IpAddr::V6(Ipv6Addr::from(v6)));
    }
    Err(SnmpError::BadValue { what: "IpAddress" })
}
