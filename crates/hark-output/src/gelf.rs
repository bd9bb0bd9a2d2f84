//! `type = "gelf"`: one GELF 1.1 message per event, as UDP datagrams
//! (chunked when larger than [`MAX_DATAGRAM`]) or NUL-delimited over TCP.
//!
//! The message: `host` (`-` when unknown), `short_message`, `timestamp`,
//! `level` (the syslog severity); the app, process id, message id and
//! facility as `_app`, `_procid`, `_msgid`, `_facility`, and every field
//! of the event as an additional field, its name with every character
//! outside letters, digits, `_`, `.` and `-` written `_`.
//!
//! Guarantees: as for syslog. Over TCP a batch is delivered once written
//! and flushed, and the last bytes of a broken connection are sent again
//! (at least once); over UDP datagrams are sent and forgotten.

use hark_config::{GelfOutput, GelfOutputTransport};
use hark_event::{Event, FieldValue};
use hark_proto::gelf::{GelfMessage, datagrams};
use serde_json::Value;

use crate::build::SetupError;
use crate::stream::{Connector, WriteOnly};
use crate::syslog::RESEND_BYTES;
use crate::udp::UdpLink;
use crate::{DeliveryError, Destination, OutputError};

/// GELF datagrams larger than this are chunked.
pub const MAX_DATAGRAM: usize = 8192;

/// A GELF receiver.
pub struct GelfDestination {
    link: Link,
    buf: Vec<u8>,
}

enum Link {
    Udp(UdpLink),
    Tcp(WriteOnly),
}

impl GelfDestination {
    /// The destination of output `name`.
    pub fn new(name: &str, cfg: &GelfOutput) -> Result<GelfDestination, SetupError> {
        let GelfOutput { transport, target } = cfg;
        let link = match transport {
            GelfOutputTransport::Udp => Link::Udp(UdpLink::new(target.to_string())),
            GelfOutputTransport::Tcp => Link::Tcp(WriteOnly::new(
                Connector::new(name, target, None)?,
                RESEND_BYTES,
            )),
        };
        Ok(GelfDestination {
            link,
            buf: Vec::new(),
        })
    }
}

/// `event` as a GELF message (JSON).
pub fn gelf_json(event: &Event) -> Vec<u8> {
    gelf_json_cut(event, usize::MAX)
}

/// `event` as a GELF message whose `short_message` holds at most
/// `max_chars` characters; a cut message carries `_truncated: true`.
fn gelf_json_cut(event: &Event, max_chars: usize) -> Vec<u8> {
    let mut additional: Vec<(String, Value)> = Vec::new();
    for (key, value) in [
        ("app", &event.app),
        ("procid", &event.procid),
        ("msgid", &event.msgid),
    ] {
        if let Some(v) = value {
            additional.push((key.to_owned(), Value::String(v.clone())));
        }
    }
    if let Some(f) = event.facility {
        additional.push(("facility".to_owned(), Value::String(f.name().to_owned())));
    }
    for (name, value) in &event.fields {
        let value = match value {
            FieldValue::Int(n) => Value::from(*n),
            FieldValue::Float(x) => serde_json::Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string())),
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::Bool(b) => Value::Bool(*b),
        };
        additional.push((field_name(name), value));
    }
    let cut: String;
    let mut message = event.message.as_str();
    if message.chars().count() > max_chars {
        cut = message.chars().take(max_chars).collect();
        message = &cut;
        additional.push(("truncated".to_owned(), Value::Bool(true)));
    }
    let pairs: Vec<(&str, Value)> = additional
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    GelfMessage {
        host: event.host.as_deref().unwrap_or("-"),
        short_message: if message.is_empty() { "-" } else { message },
        full_message: None,
        timestamp: Some(event.timestamp as f64 / 1e9),
        level: event.severity_code(),
        additional: &pairs,
    }
    .to_json()
}

/// A GELF additional-field name: letters, digits, `_`, `.` and `-`.
fn field_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // `_id` is reserved by the specification.
    if cleaned == "id" || cleaned.is_empty() {
        format!("field_{cleaned}")
    } else {
        cleaned
    }
}

/// The datagrams of `event`; a message too long for GELF's 128 chunks is
/// cut (halved until it fits) rather than held back forever.
fn udp_datagrams(event: &Event) -> Result<Vec<Vec<u8>>, String> {
    let mut max_chars = usize::MAX;
    loop {
        let json = gelf_json_cut(event, max_chars);
        match datagrams(&json, MAX_DATAGRAM, rand::random()) {
            Ok(parts) => return Ok(parts),
            Err(e) if max_chars > 1 => {
                let len = event.message.chars().count().min(max_chars);
                if len <= 1 {
                    return Err(e.to_string());
                }
                max_chars = len / 2;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

impl Destination for GelfDestination {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        match &mut self.link {
            Link::Udp(udp) => {
                udp.send_each(events, |event| {
                    udp_datagrams(event).map_err(OutputError::Encode)
                })
                .await
            }
            Link::Tcp(stream) => {
                self.buf.clear();
                for event in events {
                    self.buf.extend_from_slice(&gelf_json(event));
                    self.buf.push(0);
                }
                stream.send(&self.buf).await.map_err(DeliveryError::none)
            }
        }
    }

    async fn close(&mut self) {
        if let Link::Tcp(stream) = &mut self.link {
            stream.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_proto::gelf::{GelfChunker, MAX_CHUNKS};

    #[test]
    fn a_message_too_long_for_udp_is_cut_and_marked() {
        let mut e = Event::new(0, "t");
        e.message = "x".repeat(3 << 20);
        let parts = udp_datagrams(&e).unwrap();
        assert!(
            parts.len() <= usize::from(MAX_CHUNKS),
            "{} chunks",
            parts.len()
        );
        let mut chunker = GelfChunker::new(5_000, 4 << 20);
        let mut whole = None;
        for d in &parts {
            whole = chunker.push((), d, 0).unwrap();
        }
        let v: Value = serde_json::from_slice(&whole.unwrap()).unwrap();
        assert_eq!(v["_truncated"], true);
        let kept = v["short_message"].as_str().unwrap().len();
        assert!(kept > 100_000 && kept < e.message.len(), "{kept}");

        e.message = "short".into();
        let v: Value = serde_json::from_slice(&udp_datagrams(&e).unwrap()[0]).unwrap();
        assert_eq!(v["short_message"], "short");
        assert!(v.get("_truncated").is_none());
    }
}
