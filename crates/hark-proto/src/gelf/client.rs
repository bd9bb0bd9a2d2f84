//! GELF out: a message as its JSON object, compressed if asked, and cut
//! into chunked datagrams when it is larger than one UDP datagram may be.

use std::io::Write as _;

use flate2::write::{GzEncoder, ZlibEncoder};
use serde_json::{Map, Value};

use super::chunk::{HEADER_LEN, MAGIC, MAX_CHUNKS, MessageId};
use super::{Compression, GelfError};

/// One GELF 1.1 message. Additional fields are named without or with
/// their leading `_`; the writer adds it when missing. `_id` is reserved
/// by the spec and receivers drop it.
///
/// ```
/// use hark_proto::gelf::GelfMessage;
///
/// let msg = GelfMessage {
///     host: "web1",
///     short_message: "hello",
///     full_message: None,
///     timestamp: Some(1_763_790_000.5),
///     level: Some(3),
///     additional: &[("n", 7.into())],
/// };
/// let json: serde_json::Value = serde_json::from_slice(&msg.to_json()).unwrap();
/// assert_eq!(json["version"], "1.1");
/// assert_eq!(json["_n"], 7);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GelfMessage<'a> {
    /// The sending host.
    pub host: &'a str,
    /// The message, short form.
    pub short_message: &'a str,
    /// The long form (a backtrace, say).
    pub full_message: Option<&'a str>,
    /// Seconds since the epoch, with a fraction; receivers use their own
    /// clock when absent.
    pub timestamp: Option<f64>,
    /// Syslog severity, 0–7.
    pub level: Option<u8>,
    /// Additional fields, in order.
    pub additional: &'a [(&'a str, Value)],
}

impl GelfMessage<'_> {
    /// The message as a JSON object.
    pub fn to_json(&self) -> Vec<u8> {
        let mut object = Map::new();
        object.insert("version".into(), "1.1".into());
        object.insert("host".into(), self.host.into());
        object.insert("short_message".into(), self.short_message.into());
        if let Some(full) = self.full_message {
            object.insert("full_message".into(), full.into());
        }
        if let Some(t) = self.timestamp.and_then(serde_json::Number::from_f64) {
            object.insert("timestamp".into(), Value::Number(t));
        }
        if let Some(level) = self.level {
            object.insert("level".into(), level.into());
        }
        for (name, value) in self.additional {
            let key = if name.starts_with('_') {
                (*name).to_owned()
            } else {
                format!("_{name}")
            };
            object.insert(key, value.clone());
        }
        // A map of strings and JSON values always serializes.
        serde_json::to_vec(&Value::Object(object)).unwrap_or_default()
    }
}

/// `payload` compressed as `how` says; [`Compression::None`] returns it as is.
pub fn compress(payload: &[u8], how: Compression) -> Vec<u8> {
    let level = flate2::Compression::default();
    // Writing into a Vec cannot fail.
    match how {
        Compression::None => payload.to_vec(),
        Compression::Zlib => {
            let mut z = ZlibEncoder::new(Vec::new(), level);
            let _ = z.write_all(payload);
            z.finish().unwrap_or_default()
        }
        Compression::Gzip => {
            let mut z = GzEncoder::new(Vec::new(), level);
            let _ = z.write_all(payload);
            z.finish().unwrap_or_default()
        }
    }
}

/// The UDP datagrams that carry `payload`: the payload itself when it fits
/// in `max_datagram` bytes, else chunks of at most `max_datagram` bytes
/// each (12 of them the chunk header) under message id `id`, which the
/// sender picks at random per message.
///
/// Fails with [`GelfError::MessageTooLarge`] when that takes more than
/// [`MAX_CHUNKS`] chunks.
///
/// ```
/// use hark_proto::gelf::{GelfChunker, datagrams};
///
/// let payload = vec![b'x'; 100];
/// let parts = datagrams(&payload, 40, [7; 8]).unwrap();
/// assert_eq!(parts.len(), 4); // 28 payload bytes per chunk
/// let mut chunker = GelfChunker::new(5_000, 1 << 20);
/// let mut whole = None;
/// for d in parts.iter().rev() {
///     whole = chunker.push((), d, 0).unwrap();
/// }
/// assert_eq!(whole, Some(payload));
/// ```
pub fn datagrams(
    payload: &[u8],
    max_datagram: usize,
    id: MessageId,
) -> Result<Vec<Vec<u8>>, GelfError> {
    if payload.len() <= max_datagram {
        return Ok(vec![payload.to_vec()]);
    }
    let too_large = GelfError::MessageTooLarge {
        len: payload.len(),
        max_datagram,
    };
    let per_chunk = max_datagram.saturating_sub(HEADER_LEN);
    if per_chunk == 0 {
        return Err(too_large);
    }
    let count = payload.len().div_ceil(per_chunk);
    let Ok(count) = u8::try_from(count) else {
        return Err(too_large);
    };
    if count > MAX_CHUNKS {
        return Err(too_large);
    }
    Ok((0..count)
        .zip(payload.chunks(per_chunk))
        .map(|(seq, data)| {
            let mut d = Vec::with_capacity(HEADER_LEN + data.len());
            d.extend_from_slice(&MAGIC);
            d.extend_from_slice(&id);
            d.push(seq);
            d.push(count);
            d.extend_from_slice(data);
            d
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gelf::decompress;

    #[test]
    fn compressed_payloads_are_detected_and_inflate() {
        let json = GelfMessage {
            host: "h",
            short_message: "m",
            full_message: Some("long"),
            timestamp: None,
            level: None,
            additional: &[("_a", "b".into())],
        }
        .to_json();
        for how in [Compression::None, Compression::Zlib, Compression::Gzip] {
            let packed = compress(&json, how);
            assert_eq!(crate::gelf::detect_compression(&packed), how);
            assert_eq!(&decompress(&packed, 1 << 20).unwrap()[..], &json[..]);
        }
    }

    #[test]
    fn chunk_counts_are_bounded() {
        let payload = vec![0u8; 128 * 20];
        assert_eq!(datagrams(&payload, 32, [0; 8]).unwrap().len(), 128);
        assert!(matches!(
            datagrams(&[0u8; 128 * 20 + 1], 32, [0; 8]),
            Err(GelfError::MessageTooLarge { .. })
        ));
        assert!(datagrams(&[0u8; 13], 12, [0; 8]).is_err());
        assert_eq!(datagrams(&[1, 2], 2, [0; 8]).unwrap(), [vec![1, 2]]);
    }
}
