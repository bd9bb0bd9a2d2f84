//! The Hark event model.
//!
//! An [`Event`] is one log record as Hark keeps it, whatever transport it
//! arrived on: the parsed syslog header (or the equivalent from another
//! protocol), the message text, extra `fields`, and where and when Hark
//! received it. Every other crate speaks in events; this crate does no I/O.
//!
//! ```
//! use hark_event::{Event, Severity};
//! let mut ev = Event::new(1_700_000_000_000_000_000, "syslog_udp");
//! ev.message = "link down".into();
//! ev.severity = Some(Severity::Err);
//! assert_eq!(ev.severity_code(), Some(3));
//! ```

mod json;
mod level;
pub mod parse;
pub mod sink;
mod time;

pub use json::{EventJson, flatten_json};
pub use level::{Facility, Severity, split_pri};
pub use time::{format_rfc3339_nanos, now_nanos, parse_rfc3339_nanos};

use serde::{Deserialize, Serialize};

/// The value of an extra field: text, a number or a boolean.
///
/// The serde form is tagged (for the binary WAL codec); JSON output goes
/// through [`EventJson`], where a value is a plain JSON string or number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Str(s.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Str(s)
    }
}

impl From<bool> for FieldValue {
    fn from(b: bool) -> Self {
        FieldValue::Bool(b)
    }
}

impl From<i64> for FieldValue {
    fn from(n: i64) -> Self {
        FieldValue::Int(n)
    }
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Int(n) => write!(f, "{n}"),
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Str(s) => f.write_str(s),
            FieldValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One log record.
///
/// Timestamps are nanoseconds since the Unix epoch, UTC. Absent header
/// fields are `None` (the syslog NILVALUE `-` maps to `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When the event happened, as the sender says (or `received_at` when it does not).
    pub timestamp: i64,
    /// When Hark received it.
    pub received_at: i64,
    /// The originating host name or address.
    pub host: Option<String>,
    /// The application or tag (syslog APP-NAME / TAG).
    pub app: Option<String>,
    /// Process id or other process identifier.
    pub procid: Option<String>,
    /// Message type identifier (syslog MSGID).
    pub msgid: Option<String>,
    /// Syslog facility.
    pub facility: Option<Facility>,
    /// Syslog severity.
    pub severity: Option<Severity>,
    /// The message text (lossily decoded when the bytes were not UTF-8).
    pub message: String,
    /// Extra fields, in arrival order: structured data as `sd.<SD-ID>.<PARAM>`, parser extras, user keys.
    pub fields: Vec<(String, FieldValue)>,
    /// Peer address the event came from (`ip:port`).
    pub source: Option<String>,
    /// Name of the configured input that received it.
    pub input: String,
    /// The bytes as received, kept when they were not valid UTF-8 or did not parse.
    pub raw: Option<Vec<u8>>,
    /// Set when the message was cut to the input's maximum size.
    pub truncated: bool,
    /// Why the message did not parse, when it did not; it is then stored whole.
    pub parse_error: Option<String>,
}

impl Event {
    /// An empty event received now-ish at `received_at` on `input`; `timestamp` defaults to the receive time.
    pub fn new(received_at: i64, input: impl Into<String>) -> Self {
        Event {
            timestamp: received_at,
            received_at,
            host: None,
            app: None,
            procid: None,
            msgid: None,
            facility: None,
            severity: None,
            message: String::new(),
            fields: Vec::new(),
            source: None,
            input: input.into(),
            raw: None,
            truncated: false,
            parse_error: None,
        }
    }

    /// The numeric severity (0 emerg … 7 debug), when known.
    pub fn severity_code(&self) -> Option<u8> {
        self.severity.map(|s| s as u8)
    }

    /// The address of the peer the event came from (`source`, written
    /// `ip:port`, `[v6]:port` or as a bare address).
    pub fn peer_ip(&self) -> Option<std::net::IpAddr> {
        let peer = self.source.as_deref()?;
        peer.parse::<std::net::SocketAddr>()
            .map(|a| a.ip())
            .or_else(|_| peer.parse())
            .ok()
    }

    /// Looks up an extra field by name.
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Adds an extra field.
    pub fn push_field(&mut self, name: impl Into<String>, value: impl Into<FieldValue>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Appends the event's compact form (for the write-ahead log) to `out`.
    /// On error `out` keeps what it held before.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let len = out.len();
        postcard::serialize_with_flavor(self, Append(out)).map_err(|e| {
            out.truncate(len);
            CodecError(e)
        })
    }

    /// Decodes an event written by [`Event::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        postcard::from_bytes(bytes).map_err(CodecError)
    }
}

/// A postcard output that appends to a borrowed buffer.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// An event could not be encoded or decoded in the binary form.
#[derive(Debug, thiserror::Error)]
#[error("event codec: {0}")]
pub struct CodecError(postcard::Error);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_address_is_read_from_any_form_of_source() {
        let mut ev = Event::new(0, "in");
        assert_eq!(ev.peer_ip(), None);
        for (source, ip) in [
            ("10.0.0.1:514", "10.0.0.1"),
            ("[2001:db8::1]:514", "2001:db8::1"),
            ("10.0.0.2", "10.0.0.2"),
        ] {
            ev.source = Some(source.into());
            assert_eq!(ev.peer_ip(), ip.parse().ok(), "{source}");
        }
        ev.source = Some("not an address".into());
        assert_eq!(ev.peer_ip(), None);
    }

    #[test]
    fn binary_round_trip_keeps_every_field() {
        let mut ev = Event::new(1_700_000_000_123_456_789, "in");
        ev.host = Some("fw1".into());
        ev.severity = Some(Severity::Warning);
        ev.facility = Some(Facility::Local4);
        ev.push_field("sd.origin.ip", "10.0.0.1");
        ev.push_field("count", 3i64);
        ev.raw = Some(vec![0xff, 0xfe]);
        ev.parse_error = Some("bad".into());
        let mut buf = Vec::new();
        ev.encode(&mut buf).unwrap();
        assert_eq!(Event::decode(&buf).unwrap(), ev);
    }
}
