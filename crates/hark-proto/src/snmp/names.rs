//! Names for the standard traps and a few well-known objects, so that a
//! trap reads as `linkDown ifIndex.2=2` without loading any MIB.

use super::Oid;

/// The six generic traps of SNMPv2-MIB (`snmpTraps` 1–6), by v1 generic-trap number.
pub(crate) const STANDARD_TRAPS: [(&[u32], &str); 6] = [
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 1], "coldStart"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 2], "warmStart"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 3], "linkDown"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 4], "linkUp"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 5], "authenticationFailure"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 5, 6], "egpNeighborLoss"),
];

pub(crate) const SYS_UP_TIME_0: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 3, 0];
pub(crate) const SNMP_TRAP_OID_0: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];
pub(crate) const SNMP_TRAP_ENTERPRISE_0: &[u32] = &[1, 3, 6, 1, 6, 3, 1, 1, 4, 3, 0];
pub(crate) const SNMP_TRAP_ADDRESS_0: &[u32] = &[1, 3, 6, 1, 6, 3, 18, 1, 3, 0];

/// Objects (scalars and table columns) named in messages; an instance is
/// the object's name, a dot and the index: `sysName.0`, `ifDescr.2`.
const OBJECTS: [(&[u32], &str); 19] = [
    (&[1, 3, 6, 1, 2, 1, 1, 1], "sysDescr"),
    (&[1, 3, 6, 1, 2, 1, 1, 2], "sysObjectID"),
    (&[1, 3, 6, 1, 2, 1, 1, 3], "sysUpTime"),
    (&[1, 3, 6, 1, 2, 1, 1, 4], "sysContact"),
    (&[1, 3, 6, 1, 2, 1, 1, 5], "sysName"),
    (&[1, 3, 6, 1, 2, 1, 1, 6], "sysLocation"),
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 1], "ifIndex"),
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 2], "ifDescr"),
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 3], "ifType"),
    (&[1, 3, 6, 1, 2, 1, 2, 2, 1, 5], "ifSpeed"),
    (IF_ADMIN_STATUS, "ifAdminStatus"),
    (IF_OPER_STATUS, "ifOperStatus"),
    (&[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1], "ifName"),
    (&[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15], "ifHighSpeed"),
    (&[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18], "ifAlias"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 4, 1], "snmpTrapOID"),
    (&[1, 3, 6, 1, 6, 3, 1, 1, 4, 3], "snmpTrapEnterprise"),
    (&[1, 3, 6, 1, 6, 3, 18, 1, 3], "snmpTrapAddress"),
    (&[1, 3, 6, 1, 6, 3, 18, 1, 4], "snmpTrapCommunity"),
];

const IF_ADMIN_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7];
const IF_OPER_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8];

/// The IF-MIB `ifAdminStatus`/`ifOperStatus` enumeration, from 1.
const IF_STATUS: [&str; 7] = [
    "up",
    "down",
    "testing",
    "unknown",
    "dormant",
    "notPresent",
    "lowerLayerDown",
];

/// The name of a standard trap OID (`1.3.6.1.6.3.1.1.5.3` → `linkDown`).
pub fn trap_name(oid: &Oid) -> Option<&'static str> {
    STANDARD_TRAPS
        .iter()
        .find(|(arcs, _)| oid.arcs() == *arcs)
        .map(|(_, name)| *name)
}

/// The name of a known object or instance: `1.3.6.1.2.1.2.2.1.2.2` →
/// `ifDescr.2`, `1.3.6.1.2.1.1.5.0` → `sysName.0`, a standard trap OID →
/// its trap name; `None` for anything else.
pub fn oid_name(oid: &Oid) -> Option<String> {
    if let Some(name) = trap_name(oid) {
        return Some(name.to_owned());
    }
    let (arcs, name) = OBJECTS.iter().find(|(arcs, _)| oid.starts_with(arcs))?;
    let mut out = (*name).to_owned();
    for arc in &oid.arcs()[arcs.len()..] {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

/// The name of the known object an instance belongs to, without the
/// instance: `1.3.6.1.2.1.2.2.1.2.2` → `ifDescr`; `None` for anything else.
pub fn object_name(oid: &Oid) -> Option<&'static str> {
    OBJECTS
        .iter()
        .find(|(arcs, _)| oid.starts_with(arcs) && oid.arcs().len() > arcs.len())
        .map(|(_, name)| *name)
}

/// The label of an enumerated value, for the few objects whose numbers
/// mean little on their own (`ifOperStatus` 2 → `down`).
pub(crate) fn enum_label(oid: &Oid, value: i64) -> Option<&'static str> {
    if !oid.starts_with(IF_ADMIN_STATUS) && !oid.starts_with(IF_OPER_STATUS) {
        return None;
    }
    usize::try_from(value)
        .ok()
        .and_then(|v| v.checked_sub(1))
        .and_then(|i| IF_STATUS.get(i).copied())
}
