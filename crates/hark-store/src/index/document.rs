//! Turning an [`Event`] into a tantivy document, and back.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use hark_event::{Event, FieldValue};
use tantivy::schema::Field;
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};
use tantivy::{DateTime, TantivyDocument};

use super::schema::SchemaFields;
use super::stored::encode_stored;

/// Builds the document for `ev` with sequence number `seq`. With `stored`
/// (a scratch buffer) the event is kept for retrieval; the live filter,
/// which never retrieves, leaves it out.
pub(crate) fn build_doc(
    f: &SchemaFields,
    ev: &Event,
    seq: u64,
    stored: Option<&mut Vec<u8>>,
) -> Result<TantivyDocument, String> {
    let stored_len = match stored {
        Some(buf) => {
            encode_stored(ev, buf)?;
            Some(buf)
        }
        None => None,
    };
    let estimate = 128
        + ev.message.len()
        + stored_len.as_ref().map_or(0, |b| b.len())
        + ev.fields
            .iter()
            .map(|(k, v)| {
                k.len() + 16 + matches!(v, FieldValue::Str(s) if !s.is_empty()) as usize * 32
            })
            .sum::<usize>();
    let mut doc = TantivyDocument::with_capacity(estimate);
    doc.add_date(f.ts, DateTime::from_timestamp_nanos(ev.timestamp));
    doc.add_date(
        f.received_at,
        DateTime::from_timestamp_nanos(ev.received_at),
    );
    add_opt(&mut doc, f.host, ev.host.as_deref());
    add_opt(&mut doc, f.app, ev.app.as_deref());
    add_opt(&mut doc, f.procid, ev.procid.as_deref());
    add_opt(&mut doc, f.msgid, ev.msgid.as_deref());
    add_opt(&mut doc, f.facility, ev.facility.map(|x| x.name()));
    if let Some(sev) = ev.severity {
        doc.add_text(f.severity, sev.name());
        doc.add_u64(f.severity_code, sev as u64);
    }
    doc.add_text(f.message, &ev.message);
    add_opt(&mut doc, f.source, ev.source.as_deref());
    doc.add_text(f.input, &ev.input);
    if !ev.fields.is_empty() {
        doc.add_field_value(f.fields, FieldsValue::Object(&ev.fields));
    }
    add_addresses(&mut doc, f, ev);
    // Flags are indexed only when set: most events have neither, and
    // `truncated:false` is compiled as "all but truncated:true".
    if ev.truncated {
        doc.add_bool(f.truncated, true);
    }
    if ev.parse_error.is_some() {
        doc.add_bool(f.parse_error, true);
    }
    doc.add_u64(f.seq, seq);
    if let Some(bytes) = stored_len {
        doc.add_bytes(f.event, bytes.as_slice());
    }
    Ok(doc)
}

/// Indexes the ECS address fields as IPs. `observer.ip` is the sending
/// peer's address unless a parser read the device's own.
fn add_addresses(doc: &mut TantivyDocument, f: &SchemaFields, ev: &Event) {
    let mut observer_set = false;
    for (name, value) in &ev.fields {
        let FieldValue::Str(text) = value else {
            continue;
        };
        let Some(field) = f.ip(name) else { continue };
        if let Ok(ip) = text.parse::<IpAddr>() {
            doc.add_ip_addr(field, to_v6(ip));
            observer_set |= name == hark_parse::ecs::OBSERVER_IP;
        }
    }
    if !observer_set
        && let Some(peer) = ev.peer_ip()
        && let Some(field) = f.ip(hark_parse::ecs::OBSERVER_IP)
    {
        doc.add_ip_addr(field, to_v6(peer));
    }
}

/// An address as tantivy keeps it: IPv4 mapped into IPv6.
pub(crate) fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn add_opt(doc: &mut TantivyDocument, field: Field, value: Option<&str>) {
    if let Some(v) = value {
        doc.add_text(field, v);
    }
}

/// The event's `fields` as a JSON object for tantivy, borrowed rather than copied.
#[derive(Clone, Copy)]
enum FieldsValue<'a> {
    Object(&'a [(String, FieldValue)]),
    Leaf(&'a FieldValue),
}

impl fmt::Debug for FieldsValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldsValue::Object(o) => f
                .debug_map()
                .entries(o.iter().map(|(k, v)| (k, v)))
                .finish(),
            FieldsValue::Leaf(v) => v.fmt(f),
        }
    }
}

type EntryFn<'a> = fn(&'a (String, FieldValue)) -> (&'a str, FieldsValue<'a>);

impl<'a> Value<'a> for FieldsValue<'a> {
    type ArrayIter = std::iter::Empty<FieldsValue<'a>>;
    type ObjectIter = std::iter::Map<std::slice::Iter<'a, (String, FieldValue)>, EntryFn<'a>>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        match *self {
            FieldsValue::Object(entries) => {
                let entry: EntryFn<'a> = |(k, v)| (k.as_str(), FieldsValue::Leaf(v));
                ReferenceValue::Object(entries.iter().map(entry))
            }
            FieldsValue::Leaf(FieldValue::Int(n)) => {
                ReferenceValue::Leaf(ReferenceValueLeaf::I64(*n))
            }
            FieldsValue::Leaf(FieldValue::Float(x)) => {
                ReferenceValue::Leaf(ReferenceValueLeaf::F64(*x))
            }
            FieldsValue::Leaf(FieldValue::Str(s)) => {
                ReferenceValue::Leaf(ReferenceValueLeaf::Str(s.as_str()))
            }
            FieldsValue::Leaf(FieldValue::Bool(b)) => {
                ReferenceValue::Leaf(ReferenceValueLeaf::Bool(*b))
            }
        }
    }
}
