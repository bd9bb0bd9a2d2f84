//! Requests and responses: every PDU type except the SNMPv1 Trap-PDU, as
//! one [`Message`] type that the monitor's GET and the trap listener's
//! inform answer share with [`encode_trap`](super::encode_trap).

use super::{Oid, PduKind, SnmpError, Value, VarBind, Version, decode, encode};

/// A request or response PDU: request-id, error-status, error-index and
/// the varbinds (for GetBulk the two middle fields are non-repeaters and
/// max-repetitions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// What the PDU is; never [`PduKind::TrapV1`], whose layout differs.
    pub kind: PduKind,
    /// The request-id a response echoes.
    pub request_id: i64,
    /// 0 (noError) in requests; in a response, why it failed (1 tooBig,
    /// 2 noSuchName, 3 badValue, 4 readOnly, 5 genErr, …).
    pub error_status: i64,
    /// The 1-based index of the varbind the error is about, 0 for none.
    pub error_index: i64,
    /// The variable bindings, in order.
    pub varbinds: Vec<VarBind>,
}

/// A community-based (v1 or v2c) message carrying a [`Pdu`].
///
/// ```
/// use hark_proto::snmp::{Message, Oid, PduKind, Version};
///
/// let uptime: Oid = "1.3.6.1.2.1.1.3.0".parse().unwrap();
/// let get = Message::get_request(Version::V2c, b"public", 42, [uptime.clone()]);
/// let wire = get.encode();
/// let back = Message::decode(&wire).unwrap();
/// assert_eq!(back.pdu.kind, PduKind::GetRequest);
/// assert_eq!(back.pdu.request_id, 42);
/// assert_eq!(back.pdu.varbinds[0].oid, uptime);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The SNMP version.
    pub version: Version,
    /// The community string, as sent.
    pub community: Vec<u8>,
    /// The PDU.
    pub pdu: Pdu,
}

impl Message {
    /// A GetRequest for `oids`, each bound to NULL.
    pub fn get_request(
        version: Version,
        community: &[u8],
        request_id: i64,
        oids: impl IntoIterator<Item = Oid>,
    ) -> Self {
        Message {
            version,
            community: community.to_vec(),
            pdu: Pdu {
                kind: PduKind::GetRequest,
                request_id,
                error_status: 0,
                error_index: 0,
                varbinds: oids
                    .into_iter()
                    .map(|oid| VarBind {
                        oid,
                        value: Value::Null,
                    })
                    .collect(),
            },
        }
    }

    /// The message in BER.
    pub fn encode(&self) -> Vec<u8> {
        encode::encode_message(self)
    }

    /// Decodes a v1 or v2c message whose PDU is not a v1 Trap-PDU.
    ///
    /// Errors: anything that is not well-formed BER of the SNMP message
    /// layout; [`SnmpError::Unsupported`] for SNMPv3; and
    /// [`SnmpError::UnexpectedPdu`] for a v1 Trap-PDU (read those with
    /// [`decode_trap`](super::decode_trap)). Bytes after the message are
    /// ignored.
    pub fn decode(datagram: &[u8]) -> Result<Self, SnmpError> {
        let d = decode::decode_any(datagram)?;
        let Some([request_id, error_status, error_index]) = d.header else {
            return Err(SnmpError::UnexpectedPdu { kind: d.kind });
        };
        Ok(Message {
            version: d.version,
            community: d.community,
            pdu: Pdu {
                kind: d.kind,
                request_id,
                error_status,
                error_index,
                varbinds: d.varbinds,
            },
        })
    }
}
