//! Paging cursors: where the next page starts, as an opaque string.
//!
//! Hits are ordered newest first by `(timestamp, seq)`; a cursor holds the
//! last hit's pair and the next page holds only events strictly below it, so
//! every event appears on exactly one page even when timestamps are equal.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::QueryError;

const VERSION: u8 = 1;

/// The position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cursor {
    /// Timestamp of the last hit, ns.
    pub ts: i64,
    /// Sequence number of the last hit.
    pub seq: u64,
}

impl Cursor {
    /// The opaque text form.
    pub fn encode(&self) -> String {
        let mut bytes = [0u8; 17];
        bytes[0] = VERSION;
        bytes[1..9].copy_from_slice(&self.ts.to_be_bytes());
        bytes[9..17].copy_from_slice(&self.seq.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Parses a cursor from a previous response.
    pub fn decode(text: &str) -> Result<Cursor, QueryError> {
        let bad = || QueryError::BadRequest("invalid cursor".into());
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        if bytes.len() != 17 || bytes[0] != VERSION {
            return Err(bad());
        }
        let ts = i64::from_be_bytes(bytes[1..9].try_into().map_err(|_| bad())?);
        let seq = u64::from_be_bytes(bytes[9..17].try_into().map_err(|_| bad())?);
        Ok(Cursor { ts, seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            ts: -5,
            seq: 1 << 40,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("nonsense!").is_err());
        assert!(Cursor::decode("AAAA").is_err());
    }
}
