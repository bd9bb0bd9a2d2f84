//! The event as kept in a split's docstore.
//!
//! Everything but the two timestamps is stored, in postcard form behind a
//! format byte. The timestamps come back from the `ts` and `received_at`
//! fast columns, which hold them exactly: nanosecond timestamps are nearly
//! incompressible in a row store and cost about a fifth of its size.

use hark_event::{Event, Facility, FieldValue, Severity};
use serde::{Deserialize, Serialize};

/// First byte of every stored event.
const FORMAT: u8 = 1;

#[derive(Serialize)]
struct StoredRef<'a> {
    host: &'a Option<String>,
    app: &'a Option<String>,
    procid: &'a Option<String>,
    msgid: &'a Option<String>,
    facility: &'a Option<Facility>,
    severity: &'a Option<Severity>,
    message: &'a str,
    fields: &'a [(String, FieldValue)],
    source: &'a Option<String>,
    input: &'a str,
    raw: &'a Option<Vec<u8>>,
    truncated: bool,
    parse_error: &'a Option<String>,
}

#[derive(Deserialize)]
struct StoredOwned {
    host: Option<String>,
    app: Option<String>,
    procid: Option<String>,
    msgid: Option<String>,
    facility: Option<Facility>,
    severity: Option<Severity>,
    message: String,
    fields: Vec<(String, FieldValue)>,
    source: Option<String>,
    input: String,
    raw: Option<Vec<u8>>,
    truncated: bool,
    parse_error: Option<String>,
}

/// Replaces `out` with the stored form of `ev`.
pub(crate) fn encode_stored(ev: &Event, out: &mut Vec<u8>) -> Result<(), String> {
    // Listing every field makes a new Event field a compile error here.
    let Event {
        timestamp: _,
        received_at: _,
        host,
        app,
        procid,
        msgid,
        facility,
        severity,
        message,
        fields,
        source,
        input,
        raw,
        truncated,
        parse_error,
    } = ev;
    let view = StoredRef {
        host,
        app,
        procid,
        msgid,
        facility,
        severity,
        message,
        fields,
        source,
        input,
        raw,
        truncated: *truncated,
        parse_error,
    };
    let mut buf = std::mem::take(out);
    buf.clear();
    buf.push(FORMAT);
    *out = postcard::to_extend(&view, buf).map_err(|e| e.to_string())?;
    Ok(())
}

/// The event stored as `bytes`, with its timestamps.
pub(crate) fn decode_stored(
    bytes: &[u8],
    timestamp: i64,
    received_at: i64,
) -> Result<Event, String> {
    let Some((&FORMAT, body)) = bytes.split_first() else {
        return Err("stored event has an unknown format".into());
    };
    let s: StoredOwned = postcard::from_bytes(body).map_err(|e| e.to_string())?;
    Ok(Event {
        timestamp,
        received_at,
        host: s.host,
        app: s.app,
        procid: s.procid,
        msgid: s.msgid,
        facility: s.facility,
        severity: s.severity,
        message: s.message,
        fields: s.fields,
        source: s.source,
        input: s.input,
        raw: s.raw,
        truncated: s.truncated,
        parse_error: s.parse_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_with_the_timestamps() {
        let mut ev = Event::new(1_700_000_000_123_456_789, "in");
        ev.timestamp = 1_699_999_999_000_000_001;
        ev.host = Some("fw1".into());
        ev.severity = Some(Severity::Warning);
        ev.facility = Some(Facility::Local4);
        ev.message = "hello".into();
        ev.push_field("sd.origin.ip", "10.0.0.1");
        ev.push_field("count", 3i64);
        ev.raw = Some(vec![0xff, 0xfe]);
        ev.truncated = true;
        ev.parse_error = Some("bad".into());
        let mut buf = vec![9, 9, 9];
        encode_stored(&ev, &mut buf).unwrap();
        assert_eq!(buf[0], FORMAT);
        assert_eq!(
            decode_stored(&buf, ev.timestamp, ev.received_at).unwrap(),
            ev
        );
        assert!(decode_stored(&[], 0, 0).is_err());
        assert!(decode_stored(&[7, 1, 2], 0, 0).is_err());
    }
}
