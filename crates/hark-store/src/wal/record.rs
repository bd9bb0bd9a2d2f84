//! The WAL record format.
//!
//! A record is `[len u32][crc32 u32][payload]` (little endian), where `len`
//! is the payload length and the checksum covers the payload. The payload is
//! one appended batch: `[first_seq u64][count u32]` then, per event,
//! `[len u32][bytes]` with the bytes of [`Event::encode`].

use std::ops::Range;

use hark_event::Event;

/// Bytes before the payload: length and checksum.
pub(crate) const HEADER_LEN: usize = 8;
/// Bytes of the payload before the first event: first sequence number and count.
const PAYLOAD_HEADER_LEN: usize = 12;
/// Largest payload accepted when reading; anything bigger is garbage.
pub(crate) const MAX_PAYLOAD_LEN: usize = 1 << 30;

/// Appends one record holding `events`, numbered from `first_seq`, to `out`.
/// On error (an event that does not encode, or a batch larger than
/// [`MAX_PAYLOAD_LEN`]) `out` is left as it was.
pub(crate) fn encode_record(
    first_seq: u64,
    events: &[Event],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for ev in events {
        let len_at = out.len();
        out.extend_from_slice(&[0u8; 4]);
        if let Err(e) = ev.encode(out) {
            out.truncate(start);
            return Err(e.to_string());
        }
        let len = (out.len() - len_at - 4) as u32;
        out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
    }
    let payload = &out[start + HEADER_LEN..];
    if payload.len() > MAX_PAYLOAD_LEN {
        let len = payload.len();
        out.truncate(start);
        return Err(format!(
            "batch of {len} bytes exceeds the {MAX_PAYLOAD_LEN}-byte record limit"
        ));
    }
    let crc = crc32fast::hash(payload);
    let len = payload.len() as u32;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Reads the length and checksum of a record header.
pub(crate) fn parse_header(header: &[u8; HEADER_LEN]) -> (usize, u32) {
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    (len, crc)
}

/// The decoded shape of a payload: sequence numbers and where each event's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PayloadIndex {
    /// Sequence number of the first event.
    pub first_seq: u64,
    /// Byte ranges of the events within the payload.
    pub events: Vec<Range<usize>>,
}

impl PayloadIndex {
    /// Sequence number of the last event (`first_seq - 1` when empty).
    pub fn last_seq(&self) -> u64 {
        (self.first_seq + self.events.len() as u64).saturating_sub(1)
    }
}

/// Splits a payload whose checksum has been verified into its events.
pub(crate) fn index_payload(payload: &[u8]) -> Result<PayloadIndex, String> {
    if payload.len() < PAYLOAD_HEADER_LEN {
        return Err(format!("payload of {} bytes is too short", payload.len()));
    }
    let first_seq = u64::from_le_bytes(payload[0..8].try_into().unwrap_or([0; 8]));
    let count = u32::from_le_bytes(payload[8..12].try_into().unwrap_or([0; 4])) as usize;
    if first_seq == 0 {
        return Err("sequence number 0".into());
    }
    let mut events = Vec::with_capacity(count.min(payload.len() / 4));
    let mut pos = PAYLOAD_HEADER_LEN;
    for i in 0..count {
        let Some(len_bytes) = payload.get(pos..pos + 4) else {
            return Err(format!("event {i} of {count}: length cut off"));
        };
        let len = u32::from_le_bytes(len_bytes.try_into().unwrap_or([0; 4])) as usize;
        pos += 4;
        if payload.len() - pos < len {
            return Err(format!(
                "event {i} of {count}: {len} bytes announced, fewer present"
            ));
        }
        events.push(pos..pos + len);
        pos += len;
    }
    if pos != payload.len() {
        return Err(format!(
            "{} stray bytes after the events",
            payload.len() - pos
        ));
    }
    Ok(PayloadIndex { first_seq, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(msg: &str) -> Event {
        let mut e = Event::new(1_700_000_000_000_000_000, "test");
        e.message = msg.into();
        e
    }

    #[test]
    fn record_round_trip() {
        let events = vec![ev("one"), ev("two"), ev("three")];
        let mut buf = vec![0xAA];
        encode_record(42, &events, &mut buf).unwrap();
        let header: [u8; HEADER_LEN] = buf[1..9].try_into().unwrap();
        let (len, crc) = parse_header(&header);
        let payload = &buf[9..];
        assert_eq!(len, payload.len());
        assert_eq!(crc, crc32fast::hash(payload));
        let idx = index_payload(payload).unwrap();
        assert_eq!(idx.first_seq, 42);
        assert_eq!(idx.last_seq(), 44);
        for (i, r) in idx.events.iter().enumerate() {
            assert_eq!(Event::decode(&payload[r.clone()]).unwrap(), events[i]);
        }
    }

    #[test]
    fn malformed_payloads_are_rejected() {
        assert!(index_payload(&[0; 5]).is_err());
        let mut buf = Vec::new();
        encode_record(1, &[ev("x")], &mut buf).unwrap();
        let payload = &buf[HEADER_LEN..];
        assert!(index_payload(&payload[..payload.len() - 1]).is_err());
        let mut extra = payload.to_vec();
        extra.push(0);
        assert!(index_payload(&extra).is_err());
    }
}
