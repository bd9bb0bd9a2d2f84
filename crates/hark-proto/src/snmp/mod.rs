//! SNMP v1 and v2c in BER, one implementation for both directions:
//! notifications (SNMPv1 Trap-PDU, SNMPv2c Trap and InformRequest) with
//! [`decode_trap`], [`encode_trap`] and [`inform_response`], and requests
//! and responses (a GET and its answer) as [`Message`]. SNMPv3 is
//! recognised and refused with [`SnmpError::Unsupported`].
//!
//! ```
//! use hark_proto::ParseContext;
//! use hark_proto::snmp::{decode_trap, trap_to_event};
//!
//! // snmptrap -v 2c -c public host 55 1.3.6.1.6.3.1.1.5.3 1.3.6.1.2.1.2.2.1.1.2 i 2
//! let hex = "305102010104067075626c6963a7440201070201000201003039300d06082b060102\
//!            010103004301373017060a2b06010603010104010006092b0601060301010503300f\
//!            060a2b060102010202010102020102";
//! let datagram: Vec<u8> = (0..hex.len())
//!     .step_by(2)
//!     .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
//!     .collect();
//! let trap = decode_trap(&datagram).unwrap();
//! assert_eq!(trap.trap_oid.as_ref().unwrap().to_string(), "1.3.6.1.6.3.1.1.5.3");
//! assert_eq!(trap.uptime, Some(55));
//!
//! let ctx = ParseContext::new(1_763_790_000_000_000_000, "snmp_trap");
//! let ev = trap_to_event(&trap, "192.0.2.1:40000".parse().unwrap(), &ctx, false);
//! assert_eq!(ev.host.as_deref(), Some("192.0.2.1"));
//! assert_eq!(ev.message, "linkDown ifIndex.2=2");
//! ```

mod ber;
mod decode;
mod encode;
mod event;
mod message;
mod names;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

pub use decode::decode_trap;
pub use encode::{encode_trap, inform_response};
pub use event::trap_to_event;
pub use message::{Message, Pdu};
pub use names::{object_name, oid_name, trap_name};

/// An SNMP message that could not be used; the listener counts it and drops it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnmpError {
    /// The datagram ends inside an element.
    #[error("SNMP: datagram ends inside the {what}")]
    Truncated {
        /// The element being read.
        what: &'static str,
    },
    /// A length is in the indefinite form or has more than four bytes.
    #[error("SNMP: invalid BER length in the {what}")]
    BadLength {
        /// The element being read.
        what: &'static str,
    },
    /// A tag uses the multi-byte form, which SNMP never does.
    #[error("SNMP: invalid BER tag {tag:#04x} in the {what}")]
    BadTag {
        /// The element being read.
        what: &'static str,
        /// The first tag byte.
        tag: u8,
    },
    /// An element has another type than the one required here.
    #[error("SNMP: expected tag {expected:#04x} for the {what}, found {found:#04x}")]
    UnexpectedTag {
        /// The element being read.
        what: &'static str,
        /// The tag required.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// An integer is empty or too large for its type.
    #[error("SNMP: invalid integer in the {what}")]
    BadInteger {
        /// The element being read.
        what: &'static str,
    },
    /// An object identifier is empty, cut, or has an arc over 32 bits or
    /// more than 128 arcs.
    #[error("SNMP: invalid object identifier in the {what}")]
    BadOid {
        /// The element being read.
        what: &'static str,
    },
    /// A value has a length its type does not allow.
    #[error("SNMP: invalid {what} value")]
    BadValue {
        /// The value's type.
        what: &'static str,
    },
    /// An SNMP version this decoder does not handle (SNMPv3 is 3).
    #[error("SNMP: message version {} is not supported", version_name(*.version))]
    Unsupported {
        /// The version field as sent (0 = v1, 1 = v2c, 3 = v3).
        version: i64,
    },
    /// The PDU type is unknown.
    #[error("SNMP: unknown PDU tag {tag:#04x}")]
    UnknownPdu {
        /// The PDU's tag.
        tag: u8,
    },
    /// A valid message that is not a notification (a Get, a Response...).
    #[error("SNMP: {kind:?} PDU is not a trap or inform")]
    NotATrap {
        /// What it is.
        kind: PduKind,
    },
    /// A PDU that the message's version does not define (a v1 trap in a
    /// v2c message, or the other way round).
    #[error("SNMP: {kind:?} PDU is not valid in an SNMP {version} message")]
    VersionMismatch {
        /// The message's version.
        version: Version,
        /// The PDU found.
        kind: PduKind,
    },
    /// A v1 Trap-PDU where a request or response was expected.
    #[error("SNMP: {kind:?} PDU where a request or response was expected")]
    UnexpectedPdu {
        /// What the PDU is.
        kind: PduKind,
    },
    /// An inform response was asked for another kind of PDU.
    #[error("SNMP: only an InformRequest is answered, not a {kind:?}")]
    NotAnInform {
        /// What the PDU is.
        kind: PduKind,
    },
}

fn version_name(v: i64) -> String {
    match v {
        0 => "1 (SNMPv1)".into(),
        1 => "2c (SNMPv2c)".into(),
        2 => "2 (SNMPv2u)".into(),
        3 => "3 (SNMPv3)".into(),
        n => n.to_string(),
    }
}

/// The community-based SNMP versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// SNMPv1 (version field 0).
    V1,
    /// SNMPv2c (version field 1).
    V2c,
}

impl Version {
    /// `1` or `2c`.
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "1",
            Version::V2c => "2c",
        }
    }

    /// The value of the message's version field.
    pub fn wire(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.name())
    }
}

/// The PDU types, by their context tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PduKind {
    /// `A0`.
    GetRequest,
    /// `A1`.
    GetNextRequest,
    /// `A2`: also the answer to an inform.
    Response,
    /// `A3`.
    SetRequest,
    /// `A4`: the SNMPv1 Trap-PDU.
    TrapV1,
    /// `A5`.
    GetBulkRequest,
    /// `A6`: a notification the receiver must acknowledge.
    InformRequest,
    /// `A7`: the SNMPv2 Trap.
    TrapV2,
    /// `A8`.
    Report,
}

impl PduKind {
    /// The PDU's BER tag.
    pub fn tag(self) -> u8 {
        0xa0 + self as u8
    }

    /// The PDU type with this tag.
    pub fn from_tag(tag: u8) -> Option<Self> {
        use PduKind::*;
        let all = [
            GetRequest,
            GetNextRequest,
            Response,
            SetRequest,
            TrapV1,
            GetBulkRequest,
            InformRequest,
            TrapV2,
            Report,
        ];
        all.get(usize::from(tag.checked_sub(0xa0)?)).copied()
    }
}

/// An object identifier: at least two arcs, the first 0–2 (and the second
/// below 40 unless the first is 2), at most 128 arcs of 32 bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(Vec<u32>);

impl Oid {
    /// The OID with these arcs, if they form a valid one.
    pub fn from_arcs(arcs: &[u32]) -> Option<Self> {
        let valid = match arcs {
            [0 | 1, b, ..] => *b < 40,
            [2, _, ..] => true,
            _ => false,
        };
        (valid && arcs.len() <= ber::MAX_OID_ARCS).then(|| Oid(arcs.to_vec()))
    }

    /// The arcs.
    pub fn arcs(&self) -> &[u32] {
        &self.0
    }

    /// True when `prefix` is a (not necessarily proper) prefix of this OID.
    pub fn starts_with(&self, prefix: &[u32]) -> bool {
        self.0.starts_with(prefix)
    }
}

impl fmt::Display for Oid {
    /// Dotted decimal without a leading dot: `1.3.6.1.2.1.1.3.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arc) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

/// The text was not a dotted OID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object identifier {0:?}")]
pub struct ParseOidError(String);

impl FromStr for Oid {
    type Err = ParseOidError;

    /// Parses dotted decimal, with or without a leading dot.
    fn from_str(s: &str) -> Result<Self, ParseOidError> {
        let err = || ParseOidError(s.to_owned());
        let arcs = s
            .strip_prefix('.')
            .unwrap_or(s)
            .split('.')
            .map(|a| a.parse::<u32>().map_err(|_| err()))
            .collect::<Result<Vec<_>, _>>()?;
        Oid::from_arcs(&arcs).ok_or_else(err)
    }
}

/// A varbind value, typed as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// INTEGER (Integer32; wider values are accepted up to 64 bits).
    Int(i64),
    /// OCTET STRING: text or binary, as sent.
    OctetString(Vec<u8>),
    /// NULL.
    Null,
    /// OBJECT IDENTIFIER.
    Oid(Oid),
    /// IpAddress (4 bytes; 16 are taken as IPv6, which some agents send).
    IpAddr(IpAddr),
    /// Counter32.
    Counter32(u32),
    /// Gauge32 / Unsigned32.
    Gauge32(u32),
    /// TimeTicks, hundredths of a second.
    TimeTicks(u32),
    /// Opaque: BER bytes wrapped in an octet string.
    Opaque(Vec<u8>),
    /// Counter64.
    Counter64(u64),
    /// The v2 exception noSuchObject.
    NoSuchObject,
    /// The v2 exception noSuchInstance.
    NoSuchInstance,
    /// The v2 exception endOfMibView.
    EndOfMibView,
    /// Any other primitive type (NsapAddress, UInteger32...), kept as tag and contents.
    Other {
        /// The BER tag.
        tag: u8,
        /// The contents.
        contents: Vec<u8>,
    },
}

/// One variable binding: an OID and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    /// The variable.
    pub oid: Oid,
    /// Its value.
    pub value: Value,
}

/// A decoded trap or inform, v1 and v2c alike.
///
/// `varbinds` are all the variable bindings as received, in order (for
/// v2c including `sysUpTime.0` and `snmpTrapOID.0`); the other fields are
/// the v1 header or what is read out of those varbinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// The message's SNMP version.
    pub version: Version,
    /// The community string, as sent.
    pub community: Vec<u8>,
    /// [`PduKind::TrapV1`], [`PduKind::TrapV2`] or [`PduKind::InformRequest`].
    pub pdu_kind: PduKind,
    /// The request-id (v2c traps and informs).
    pub request_id: Option<i64>,
    /// The v1 `enterprise`, or the v2c `snmpTrapEnterprise.0` varbind.
    pub enterprise: Option<Oid>,
    /// The v1 `agent-addr`, or the v2c `snmpTrapAddress.0` varbind (set by
    /// proxies that forward v1 traps).
    pub agent_addr: Option<IpAddr>,
    /// The v1 `generic-trap` (0 coldStart … 6 enterpriseSpecific).
    pub generic_trap: Option<i64>,
    /// The v1 `specific-trap`.
    pub specific_trap: Option<i64>,
    /// The v1 `time-stamp` or the v2c `sysUpTime.0`, in hundredths of a second.
    pub uptime: Option<u32>,
    /// The v2c `snmpTrapOID.0`, or for v1 the OID RFC 3584 maps the header to.
    pub trap_oid: Option<Oid>,
    /// The variable bindings as received.
    pub varbinds: Vec<VarBind>,
}

impl Trap {
    /// An SNMPv2c Trap: `sysUpTime.0` = `uptime` and `snmpTrapOID.0` =
    /// `trap_oid` first, as RFC 3416 requires, then `varbinds`. It encodes
    /// with [`encode_trap`] and decodes back to the same value.
    ///
    /// ```
    /// use hark_proto::snmp::{Trap, decode_trap, encode_trap};
    ///
    /// let trap = Trap::v2c(b"public", 7, 300, "1.3.6.1.6.3.1.1.5.3".parse().unwrap(), vec![]);
    /// assert_eq!(decode_trap(&encode_trap(&trap)), Ok(trap));
    /// ```
    pub fn v2c(
        community: &[u8],
        request_id: i64,
        uptime: u32,
        trap_oid: Oid,
        varbinds: Vec<VarBind>,
    ) -> Trap {
        let mut all = Vec::with_capacity(varbinds.len() + 2);
        all.push(VarBind {
            oid: Oid(names::SYS_UP_TIME_0.to_vec()),
            value: Value::TimeTicks(uptime),
        });
        all.push(VarBind {
            oid: Oid(names::SNMP_TRAP_OID_0.to_vec()),
            value: Value::Oid(trap_oid.clone()),
        });
        all.extend(varbinds);
        Trap {
            version: Version::V2c,
            community: community.to_vec(),
            pdu_kind: PduKind::TrapV2,
            request_id: Some(request_id),
            enterprise: None,
            agent_addr: None,
            generic_trap: None,
            specific_trap: None,
            uptime: Some(uptime),
            trap_oid: Some(trap_oid),
            varbinds: all,
        }
    }

    /// The community as text (invalid UTF-8 replaced).
    pub fn community_lossy(&self) -> String {
        String::from_utf8_lossy(&self.community).into_owned()
    }
}

#[cfg(test)]
mod tests;
