//! Detection and bounded decompression of a GELF payload.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

use super::GelfError;

/// How a GELF payload is encoded, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952): starts with `0x1f 0x8b`.
    Gzip,
    /// zlib (RFC 1950): a valid zlib header, in practice `0x78 ..`.
    Zlib,
    /// Anything else: taken as plain JSON.
    None,
}

/// Tells the encoding of a payload from its first two bytes.
///
/// A zlib header is a deflate method byte (`CM` 8, window at most 32 KiB)
/// whose 16-bit value with the flag byte is a multiple of 31; no JSON text
/// starts that way, since `{` and whitespace fail the method check.
pub fn detect_compression(payload: &[u8]) -> Compression {
    match payload {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [cmf, flg, ..]
            if cmf & 0x0f == 8 && cmf >> 4 <= 7 && u16::from_be_bytes([*cmf, *flg]) % 31 == 0 =>
        {
            Compression::Zlib
        }
        _ => Compression::None,
    }
}

/// The plain payload: decompressed when it is zlib or gzip, borrowed when
/// it is plain. Fails when the result would exceed `max_size` bytes, so a
/// small compressed datagram cannot expand without bound.
pub fn decompress(payload: &[u8], max_size: usize) -> Result<Cow<'_, [u8]>, GelfError> {
    let (format, reader): (&'static str, Box<dyn Read + '_>) = match detect_compression(payload) {
        Compression::None if payload.len() > max_size => {
            return Err(GelfError::TooLarge { limit: max_size });
        }
        Compression::None => return Ok(Cow::Borrowed(payload)),
        Compression::Zlib => ("zlib", Box::new(ZlibDecoder::new(payload))),
        Compression::Gzip => ("gzip", Box::new(GzDecoder::new(payload))),
    };
    // One byte past the limit tells "exactly max_size" from "more".
    let limit = u64::try_from(max_size)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut out = Vec::with_capacity(payload.len().saturating_mul(4).min(max_size));
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|source| GelfError::Decompress { format, source })?;
    if out.len() > max_size {
        return Err(GelfError::TooLarge { limit: max_size });
    }
    Ok(Cow::Owned(out))
}
