//! The body of a batch on the uplink: zstd over
//! `[magic "HKB1"][first_seq u64][count u32]` and, per event,
//! `[len u32][bytes of Event::encode]` (little endian). Event `i` has the
//! forwarder's sequence number `first_seq + i`.
//!
//! Decoding never trusts the sender: the decompressed size is capped and
//! every length is checked against the bytes that are there.

use std::io::Read;

use hark_event::Event;

/// The first bytes of a decompressed body.
const MAGIC: &[u8; 4] = b"HKB1";
/// Bytes before the first event.
const HEADER_LEN: usize = 16;
/// Largest decompressed body accepted.
pub const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;

/// Why a body cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Not zstd, or larger than [`MAX_DECODED_BYTES`] once decompressed.
    #[error("the batch cannot be decompressed: {0}")]
    Compression(String),
    /// The framing is wrong.
    #[error("the batch is malformed: {0}")]
    Malformed(String),
}

/// Consecutive events of a forwarder's buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct WireBatch {
    /// The forwarder's sequence number of `events[0]`.
    pub first_seq: u64,
    /// The events.
    pub events: Vec<Event>,
}

impl WireBatch {
    /// Sequence number of the last event.
    pub fn last_seq(&self) -> u64 {
        (self.first_seq + self.events.len() as u64).saturating_sub(1)
    }
}

/// Encodes and compresses `events` numbered from `first_seq`.
pub fn encode(first_seq: u64, events: &[Event], level: i32) -> Result<Vec<u8>, WireError> {
    let mut raw = Vec::with_capacity(events.len() * 300 + HEADER_LEN);
    raw.extend_from_slice(MAGIC);
    raw.extend_from_slice(&first_seq.to_le_bytes());
    raw.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for ev in events {
        let at = raw.len();
        raw.extend_from_slice(&[0; 4]);
        ev.encode(&mut raw)
            .map_err(|e| WireError::Malformed(format!("an event does not encode: {e}")))?;
        let len = (raw.len() - at - 4) as u32;
        raw[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    zstd::bulk::compress(&raw, level).map_err(|e| WireError::Compression(e.to_string()))
}

/// Decompresses and decodes a body.
pub fn decode(body: &[u8]) -> Result<WireBatch, WireError> {
    let decoder = zstd::stream::read::Decoder::new(body)
        .map_err(|e| WireError::Compression(e.to_string()))?;
    let mut raw = Vec::new();
    decoder
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| WireError::Compression(e.to_string()))?;
    if raw.len() as u64 > MAX_DECODED_BYTES {
        return Err(WireError::Compression(format!(
            "more than {MAX_DECODED_BYTES} bytes once decompressed"
        )));
    }
    let bad = |m: String| WireError::Malformed(m);
    if raw.len() < HEADER_LEN || &raw[0..4] != MAGIC {
        return Err(bad("no batch header".into()));
    }
    let first_seq = u64::from_le_bytes(raw[4..12].try_into().unwrap_or([0; 8]));
    let count = u32::from_le_bytes(raw[12..16].try_into().unwrap_or([0; 4])) as usize;
    if first_seq == 0 {
        return Err(bad("sequence number 0".into()));
    }
    let mut events = Vec::with_capacity(count.min(raw.len() / 8));
    let mut pos = HEADER_LEN;
    for i in 0..count {
        let len = raw
            .get(pos..pos + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| bad(format!("event {i} of {count}: length cut off")))?;
        pos += 4;
        let bytes = raw
            .get(pos..pos + len)
            .ok_or_else(|| bad(format!("event {i} of {count}: cut off")))?;
        events.push(Event::decode(bytes).map_err(|e| bad(format!("event {i}: {e}")))?);
        pos += len;
    }
    if pos != raw.len() {
        return Err(bad(format!(
            "{} stray bytes after the events",
            raw.len() - pos
        )));
    }
    Ok(WireBatch { first_seq, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> Event {
        let mut e = Event::new(1_767_225_600_000_000_000 + n as i64, "relp");
        e.message = format!("message {n}");
        e.host = Some("web1".into());
        e
    }

    #[test]
    fn a_batch_round_trips_with_its_sequence_numbers_and_received_at() {
        let events: Vec<Event> = (0..100).map(ev).collect();
        let body = encode(41, &events, 3).unwrap();
        let back = decode(&body).unwrap();
        assert_eq!(back.first_seq, 41);
        assert_eq!(back.last_seq(), 140);
        assert_eq!(back.events, events);
    }

    #[test]
    fn garbage_and_truncated_bodies_are_errors() {
        assert!(decode(b"not zstd").is_err());
        let body = encode(1, &[ev(1), ev(2)], 3).unwrap();
        assert!(decode(&body[..body.len() - 3]).is_err());
        let raw = zstd::bulk::compress(b"HKB1\x01\0\0\0\0\0\0\0\x05\0\0\0", 1).unwrap();
        assert!(matches!(decode(&raw), Err(WireError::Malformed(_))));
        let zero = zstd::bulk::compress(b"HKB1\0\0\0\0\0\0\0\0\0\0\0\0", 1).unwrap();
        assert!(decode(&zero).is_err());
    }
}
