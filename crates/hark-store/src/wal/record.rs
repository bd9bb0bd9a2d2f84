//! The WAL record format.
//!
//! A record is `[len u32][crc32 u32][payload]` (little endian), where `len`
//! is the payload length and the checksum covers the payload. The payload is
//! one appended batch: `[first_seq u64][count u32]` then, per event,
//! `[len u32][bytes]` with the bytes of [`Event::encode`].
//!
//! A batch may carry an origin mark ([`Mark`]): then the top bit of `count`
//! is set and `[origin_len u16][origin bytes][origin_seq u64]` comes before
//! the events. Records written before marks existed have the bit clear and
//! read as they always did.

use std::ops::Range;

use hark_event::Event;

use crate::Mark;

/// Bytes before the payload: length and checksum.
pub(crate) const HEADER_LEN: usize = 8;
/// Bytes of the payload before the first event: first sequence number and count.
const PAYLOAD_HEADER_LEN: usize = 12;
/// Largest payload accepted when reading; anything bigger is garbage.
pub(crate) const MAX_PAYLOAD_LEN: usize = 1 << 30;
/// The bit of `count` that says a mark follows the payload header.
const MARKED: u32 = 1 << 31;

/// Appends one record holding `events`, numbered from `first_seq`, to `out`.
/// On error (an event that does not encode, or a batch larger than
/// [`MAX_PAYLOAD_LEN`]) `out` is left as it was.
pub(crate) fn encode_record(
    first_seq: u64,
    events: &[Event],
    mark: Option<&Mark>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    if events.len() >= MARKED as usize {
        return Err(format!("a batch of {} events is too large", events.len()));
    }
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_LEN]);
    out.extend_from_slice(&first_seq.to_le_bytes());
    match mark {
        None => out.extend_from_slice(&(events.len() as u32).to_le_bytes()),
        Some(mark) => {
            let Ok(origin_len) = u16::try_from(mark.origin.len()) else {
                out.truncate(start);
                return Err(format!(
                    "origin `{}…` is longer than {} bytes",
                    mark.origin.chars().take(32).collect::<String>(),
                    u16::MAX
                ));
            };
            out.extend_from_slice(&(events.len() as u32 | MARKED).to_le_bytes());
            out.extend_from_slice(&origin_len.to_le_bytes());
            out.extend_from_slice(mark.origin.as_bytes());
            out.extend_from_slice(&mark.seq.to_le_bytes());
        }
    }
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
    /// The batch's origin mark, when it has one.
    pub mark: Option<Mark>,
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
    let count = u32::from_le_bytes(payload[8..12].try_into().unwrap_or([0; 4]));
    if first_seq == 0 {
        return Err("sequence number 0".into());
    }
    let mut pos = PAYLOAD_HEADER_LEN;
    let mark = if count & MARKED != 0 {
        let (mark, len) = read_mark(&payload[pos..])?;
        pos += len;
        Some(mark)
    } else {
        None
    };
    let count = (count & !MARKED) as usize;
    let mut events = Vec::with_capacity(count.min(payload.len() / 4));
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
    Ok(PayloadIndex {
        first_seq,
        events,
        mark,
    })
}

/// Reads a mark at the start of `bytes`; returns it and the bytes it took.
fn read_mark(bytes: &[u8]) -> Result<(Mark, usize), String> {
    let cut = || "origin mark cut off".to_owned();
    let len = bytes.get(0..2).ok_or_else(cut)?;
    let len = u16::from_le_bytes([len[0], len[1]]) as usize;
    let origin = bytes.get(2..2 + len).ok_or_else(cut)?;
    let origin = std::str::from_utf8(origin)
        .map_err(|_| "origin mark is not UTF-8".to_owned())?
        .to_owned();
    let seq = bytes.get(2 + len..10 + len).ok_or_else(cut)?;
    let seq = u64::from_le_bytes(seq.try_into().unwrap_or([0; 8]));
    Ok((Mark { origin, seq }, 10 + len))
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
        encode_record(42, &events, None, &mut buf).unwrap();
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
        encode_record(1, &[ev("x")], None, &mut buf).unwrap();
        let payload = &buf[HEADER_LEN..];
        assert!(index_payload(&payload[..payload.len() - 1]).is_err());
        let mut extra = payload.to_vec();
        extra.push(0);
        assert!(index_payload(&extra).is_err());
    }

    #[test]
    fn a_mark_round_trips_and_unmarked_records_read_as_before() {
        let events = vec![ev("one"), ev("two")];
        let mark = Mark {
            origin: "edge1/7f3a".into(),
            seq: 9_000,
        };
        let mut buf = Vec::new();
        encode_record(5, &events, Some(&mark), &mut buf).unwrap();
        let payload = &buf[HEADER_LEN..];
        let idx = index_payload(payload).unwrap();
        assert_eq!(idx.mark.as_ref(), Some(&mark));
        assert_eq!((idx.first_seq, idx.last_seq()), (5, 6));
        for (i, r) in idx.events.iter().enumerate() {
            assert_eq!(Event::decode(&payload[r.clone()]).unwrap(), events[i]);
        }
        // The bytes of an unmarked record are those written before marks existed.
        let mut plain = Vec::new();
        encode_record(5, &events, None, &mut plain).unwrap();
        assert_eq!(u32::from_le_bytes(plain[16..20].try_into().unwrap()), 2);
        assert_eq!(index_payload(&plain[HEADER_LEN..]).unwrap().mark, None);
        // A cut mark is an error, not a panic.
        let mut cut = payload[..PAYLOAD_HEADER_LEN + 3].to_vec();
        cut.extend_from_slice(&[0; 2]);
        assert!(index_payload(&cut).is_err());
    }
}
