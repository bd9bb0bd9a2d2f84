//! A [`Trap`] into an [`Event`].

use std::fmt::Write as _;
use std::net::SocketAddr;

use hark_event::{Event, FieldValue, Severity};

use super::names::{SNMP_TRAP_OID_0, SYS_UP_TIME_0, enum_label, object_name, oid_name, trap_name};
use super::{PduKind, Trap, Value, Version};
use crate::ParseContext;

/// Turns a decoded trap or inform from `source` into an event.
///
/// * `app` is `snmptrap`; `host` is the agent address (the v1 header's, or
///   a v2c `snmpTrapAddress.0`) unless it is absent or `0.0.0.0`, else the
///   UDP source IP; `source` is the UDP source `ip:port`; `timestamp` is
///   the receive time (traps carry only the agent's uptime).
/// * Severity by trap: `linkDown` and `authenticationFailure` → warning,
///   `coldStart` and `warmStart` → notice, anything else → info.
/// * Fields: `snmp.version` (`1`, `2c`), `snmp.pdu` (`trap`, `inform`),
///   `snmp.request_id` (v2c), `snmp.community` (only when `store_community`),
///   `snmp.trap_oid` and, for standard traps, `snmp.trap_name`,
///   `snmp.enterprise`, `snmp.agent_addr`, `snmp.generic_trap`,
///   `snmp.specific_trap` (v1), `snmp.uptime` (ticks), and one
///   `snmp.vb.<dotted oid>` per varbind except the first v2c `sysUpTime.0`
///   and `snmpTrapOID.0` (already `snmp.uptime` and `snmp.trap_oid`);
///   a varbind of a known object is also `snmp.<object>` without its
///   instance (`snmp.ifIndex`, `snmp.ifDescr`), so rules and searches need
///   not know instance numbers.
///   Integers, counters, gauges and ticks are numbers (a Counter64 above
///   `i64::MAX` is its decimal text); text octet strings are text, binary
///   ones colon-separated hex; OIDs and addresses are their text; an
///   Opaque float or double is a number.
/// * Message: the trap's name (or its dotted OID), then `name=value` for
///   each varbind in that set, with known objects named (`ifDescr.2`) and
///   `ifAdminStatus`/`ifOperStatus` labelled (`down(2)`); values with
///   spaces or quotes are quoted: `linkDown ifIndex.2=2 ifDescr.2=eth1`.
pub fn trap_to_event(
    trap: &Trap,
    source: SocketAddr,
    ctx: &ParseContext,
    store_community: bool,
) -> Event {
    let mut ev = Event::new(ctx.received_at, ctx.input);
    ev.source = Some(source.to_string());
    ev.app = Some("snmptrap".to_owned());
    let agent = trap.agent_addr.filter(|a| !a.is_unspecified());
    ev.host = Some(agent.unwrap_or(source.ip()).to_string());
    let name = trap.trap_oid.as_ref().and_then(trap_name);
    ev.severity = Some(match name {
        Some("linkDown" | "authenticationFailure") => Severity::Warning,
        Some("coldStart" | "warmStart") => Severity::Notice,
        _ => Severity::Info,
    });

    ev.push_field("snmp.version", trap.version.name());
    let pdu = if trap.pdu_kind == PduKind::InformRequest {
        "inform"
    } else {
        "trap"
    };
    ev.push_field("snmp.pdu", pdu);
    if let Some(id) = trap.request_id {
        ev.push_field("snmp.request_id", id);
    }
    if store_community {
        ev.push_field("snmp.community", trap.community_lossy());
    }
    if let Some(oid) = &trap.trap_oid {
        ev.push_field("snmp.trap_oid", oid.to_string());
    }
    if let Some(name) = name {
        ev.push_field("snmp.trap_name", name);
    }
    if let Some(oid) = &trap.enterprise {
        ev.push_field("snmp.enterprise", oid.to_string());
    }
    if let Some(addr) = trap.agent_addr {
        ev.push_field("snmp.agent_addr", addr.to_string());
    }
    if let Some(g) = trap.generic_trap {
        ev.push_field("snmp.generic_trap", g);
    }
    if let Some(s) = trap.specific_trap {
        ev.push_field("snmp.specific_trap", s);
    }
    if let Some(t) = trap.uptime {
        ev.push_field("snmp.uptime", i64::from(t));
    }

    let mut message = match (&trap.trap_oid, name) {
        (_, Some(name)) => name.to_owned(),
        (Some(oid), None) => oid.to_string(),
        (None, None) => "notification".to_owned(),
    };
    // The first sysUpTime.0 and snmpTrapOID.0 of a v2c PDU are its header, already shown above.
    let (mut uptime_seen, mut trap_oid_seen) =
        (trap.version != Version::V2c, trap.version != Version::V2c);
    for vb in &trap.varbinds {
        match (vb.oid.arcs(), &vb.value) {
            (SYS_UP_TIME_0, Value::TimeTicks(_)) if !uptime_seen => {
                uptime_seen = true;
                continue;
            }
            (SNMP_TRAP_OID_0, Value::Oid(_)) if !trap_oid_seen => {
                trap_oid_seen = true;
                continue;
            }
            _ => {}
        }
        ev.push_field(format!("snmp.vb.{}", vb.oid), field_value(&vb.value));
        if let Some(object) = object_name(&vb.oid) {
            ev.push_field(format!("snmp.{object}"), field_value(&vb.value));
        }
        let label = match &vb.value {
            Value::Int(n) => enum_label(&vb.oid, *n).map(|l| format!("{l}({n})")),
            _ => None,
        };
        let shown = label.unwrap_or_else(|| quoted(&display(&vb.value)));
        let key = oid_name(&vb.oid).unwrap_or_else(|| vb.oid.to_string());
        let _ = write!(message, " {key}={shown}");
    }
    ev.message = message;
    ev
}

fn field_value(v: &Value) -> FieldValue {
    match v {
        Value::Int(n) => FieldValue::Int(*n),
        Value::Counter32(n) | Value::Gauge32(n) | Value::TimeTicks(n) => {
            FieldValue::Int(i64::from(*n))
        }
        Value::Counter64(n) => match i64::try_from(*n) {
            Ok(i) => FieldValue::Int(i),
            Err(_) => FieldValue::Str(n.to_string()),
        },
        Value::Opaque(b) => match opaque_float(b) {
            Some(x) => FieldValue::Float(x),
            None => FieldValue::Str(hex(b)),
        },
        other => FieldValue::Str(display(other)),
    }
}

/// A value as text, the way it reads in a message (before quoting).
fn display(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::OctetString(b) => match text(b) {
            Some(s) => s.to_owned(),
            None => hex(b),
        },
        Value::Null => "null".to_owned(),
        Value::Oid(o) => oid_name(o).unwrap_or_else(|| o.to_string()),
        Value::IpAddr(a) => a.to_string(),
        Value::Counter32(n) | Value::Gauge32(n) | Value::TimeTicks(n) => n.to_string(),
        Value::Counter64(n) => n.to_string(),
        Value::Opaque(b) => match opaque_float(b) {
            Some(x) => x.to_string(),
            None => hex(b),
        },
        Value::NoSuchObject => "noSuchObject".to_owned(),
        Value::NoSuchInstance => "noSuchInstance".to_owned(),
        Value::EndOfMibView => "endOfMibView".to_owned(),
        Value::Other { contents, .. } => hex(contents),
    }
}

/// The octets as text when they are UTF-8 without control characters
/// (tabs and line breaks allowed); one trailing NUL, which some agents
/// add, is not part of the text.
fn text(b: &[u8]) -> Option<&str> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    let s = std::str::from_utf8(b).ok()?;
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
        .then_some(s)
}

/// `00:11:22:aa:bb:cc`.
fn hex(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, byte) in b.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The net-snmp Opaque encoding of a float (`9f 78 04 <f32>`) or double
/// (`9f 79 08 <f64>`).
fn opaque_float(b: &[u8]) -> Option<f64> {
    match b {
        [0x9f, 0x78, 0x04, rest @ ..] => Some(f64::from(f32::from_be_bytes(rest.try_into().ok()?))),
        [0x9f, 0x79, 0x08, rest @ ..] => Some(f64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// Quotes a value that would otherwise run into the next `name=value`.
fn quoted(s: &str) -> String {
    let plain = !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '=');
    if plain {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
