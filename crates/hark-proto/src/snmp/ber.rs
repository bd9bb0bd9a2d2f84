//! The small part of BER (X.690) that SNMP uses: one-byte tags, definite
//! lengths, integers, octet strings and object identifiers.

use super::{Oid, SnmpError};

/// Universal and SNMP application tags.
pub(crate) mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    pub const IP_ADDRESS: u8 = 0x40;
    pub const COUNTER32: u8 = 0x41;
    pub const GAUGE32: u8 = 0x42;
    pub const TIME_TICKS: u8 = 0x43;
    pub const OPAQUE: u8 = 0x44;
    pub const COUNTER64: u8 = 0x46;
    pub const NO_SUCH_OBJECT: u8 = 0x80;
    pub const NO_SUCH_INSTANCE: u8 = 0x81;
    pub const END_OF_MIB_VIEW: u8 = 0x82;
}

/// SNMP caps an OID at 128 sub-identifiers (RFC 2578 section 3.5).
pub(crate) const MAX_OID_ARCS: usize = 128;

/// Reads TLVs one after another from a byte slice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    /// What is left to read.
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next TLV: its tag and contents.
    pub(crate) fn any(&mut self, what: &'static str) -> Result<(u8, &'a [u8]), SnmpError> {
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or(SnmpError::Truncated { what })?;
        if tag & 0x1f == 0x1f {
            return Err(SnmpError::BadTag { what, tag });
        }
        let (&first, after_len) = after_tag
            .split_first()
            .ok_or(SnmpError::Truncated { what })?;
        let (len, body) = match first {
            0..0x80 => (usize::from(first), after_len),
            // The indefinite form, which SNMP forbids.
            0x80 => return Err(SnmpError::BadLength { what }),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                if after_len.len() < n {
                    return Err(SnmpError::Truncated { what });
                }
                let (bytes, body) = after_len.split_at(n);
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                (len, body)
            }
            // Five or more length bytes: no datagram is that long.
            _ => return Err(SnmpError::BadLength { what }),
        };
        if body.len() < len {
            return Err(SnmpError::Truncated { what });
        }
        let (contents, rest) = body.split_at(len);
        self.rest = rest;
        Ok((tag, contents))
    }

    /// The contents of the next TLV, which must have tag `expected`.
    pub(crate) fn expect(
        &mut self,
        expected: u8,
        what: &'static str,
    ) -> Result<&'a [u8], SnmpError> {
        let (found, contents) = self.any(what)?;
        if found != expected {
            return Err(SnmpError::UnexpectedTag {
                what,
                expected,
                found,
            });
        }
        Ok(contents)
    }

    /// The next TLV as an INTEGER.
    pub(crate) fn integer(&mut self, what: &'static str) -> Result<i64, SnmpError> {
        integer(self.expect(tag::INTEGER, what)?, what)
    }
}

/// A two's complement INTEGER that fits in an i64 (leading padding allowed).
pub(crate) fn integer(c: &[u8], what: &'static str) -> Result<i64, SnmpError> {
    let (&first, _) = c.split_first().ok_or(SnmpError::BadInteger { what })?;
    if c.len() > 9 {
        return Err(SnmpError::BadInteger { what });
    }
    let init: i128 = if first & 0x80 != 0 { -1 } else { 0 };
    let v = c.iter().fold(init, |acc, &b| (acc << 8) | i128::from(b));
    i64::try_from(v).map_err(|_| SnmpError::BadInteger { what })
}

/// An unsigned value of at most `bytes` bytes after leading zeros; the
/// contents are read as plain unsigned big-endian, as agents that forget
/// the sign byte intend.
pub(crate) fn unsigned(c: &[u8], bytes: usize, what: &'static str) -> Result<u64, SnmpError> {
    if c.is_empty() {
        return Err(SnmpError::BadInteger { what });
    }
    let significant = &c[c.iter().position(|&b| b != 0).unwrap_or(c.len())..];
    if significant.len() > bytes {
        return Err(SnmpError::BadInteger { what });
    }
    Ok(significant
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// An OBJECT IDENTIFIER's contents.
pub(crate) fn oid(c: &[u8], what: &'static str) -> Result<Oid, SnmpError> {
    if c.is_empty() || c.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(SnmpError::BadOid { what });
    }
    let mut arcs = Vec::with_capacity(c.len() + 1);
    let mut acc: u64 = 0;
    for &b in c {
        acc = (acc << 7) | u64::from(b & 0x7f);
        // The first sub-identifier carries two arcs, so it may exceed 32 bits by up to 80.
        if acc > u64::from(u32::MAX) + 80 {
            return Err(SnmpError::BadOid { what });
        }
        if b & 0x80 != 0 {
            continue;
        }
        if arcs.is_empty() {
            let (a, b) = match acc {
                0..40 => (0, acc),
                40..80 => (1, acc - 40),
                _ => (2, acc - 80),
            };
            arcs.push(a);
            arcs.push(u32::try_from(b).map_err(|_| SnmpError::BadOid { what })?);
        } else {
            arcs.push(u32::try_from(acc).map_err(|_| SnmpError::BadOid { what })?);
        }
        if arcs.len() > MAX_OID_ARCS {
            return Err(SnmpError::BadOid { what });
        }
        acc = 0;
    }
    Ok(Oid(arcs))
}

/// Appends a TLV with a definite length.
pub(crate) fn write_tlv(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
}

/// The shortest two's complement contents of `v`.
pub(crate) fn integer_contents(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    // A leading byte can go when it only repeats the sign of the next one.
    while start < 7
        && ((bytes[start] == 0x00 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    bytes[start..].to_vec()
}

/// The shortest contents of an unsigned value (with a zero byte when the
/// top bit is set, so it does not read as negative).
pub(crate) fn unsigned_contents(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let start = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut out = Vec::with_capacity(9);
    if bytes[start] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

/// The contents of an OID with at least two arcs and a valid first pair.
pub(crate) fn oid_contents(oid: &Oid) -> Vec<u8> {
    let arcs = oid.arcs();
    let mut out = Vec::with_capacity(arcs.len() + 4);
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (u64::from(*a) * 40 + u64::from(*b), rest),
        [a] => (u64::from(*a) * 40, &[][..]),
        [] => (0, &[][..]),
    };
    push_base128(&mut out, first);
    for &arc in rest {
        push_base128(&mut out, u64::from(arc));
    }
    out
}

fn push_base128(out: &mut Vec<u8>, v: u64) {
    let groups = (64 - v.leading_zeros()).div_ceil(7).max(1);
    for i in (0..groups).rev() {
        let byte = ((v >> (7 * i)) & 0x7f) as u8;
        out.push(if i == 0 { byte } else { byte | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_decode_with_sign_and_padding() {
        assert_eq!(integer(&[0x00], "x").unwrap(), 0);
        assert_eq!(integer(&[0xff], "x").unwrap(), -1);
        assert_eq!(integer(&[0x00, 0xff], "x").unwrap(), 255);
        assert_eq!(integer(&[0x80, 0, 0, 0], "x").unwrap(), i64::from(i32::MIN));
        assert!(integer(&[0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "x").is_err());
        assert_eq!(
            integer(&[0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "x").unwrap(),
            i64::MAX
        );
        assert!(integer(&[], "x").is_err());
        assert!(integer(&[0; 10], "x").is_err());
        for v in [0, 1, -1, 127, 128, -128, -129, 255, 256, i64::MAX, i64::MIN] {
            assert_eq!(integer(&integer_contents(v), "x").unwrap(), v, "{v}");
        }
        assert_eq!(integer_contents(128), [0x00, 0x80]);
        assert_eq!(integer_contents(-128), [0x80]);
        assert_eq!(integer_contents(0), [0]);
        assert_eq!(integer_contents(127), [0x7f]);
        assert_eq!(integer_contents(-1), [0xff]);
        assert_eq!(integer_contents(-129), [0xff, 0x7f]);
        assert_eq!(integer_contents(0x7fff_ffff), [0x7f, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn unsigned_values_tolerate_a_missing_sign_byte() {
        assert_eq!(
            unsigned(&[0xff, 0xff, 0xff, 0xff], 4, "x").unwrap(),
            4_294_967_295
        );
        assert_eq!(
            unsigned(&[0, 0xff, 0xff, 0xff, 0xff], 4, "x").unwrap(),
            4_294_967_295
        );
        assert!(unsigned(&[1, 0, 0, 0, 0], 4, "x").is_err());
        assert_eq!(unsigned(&[0, 0], 4, "x").unwrap(), 0);
        assert_eq!(
            unsigned_contents(4_294_967_295),
            [0, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(unsigned_contents(0), [0]);
        assert_eq!(unsigned_contents(u64::MAX).len(), 9);
    }

    #[test]
    fn oids_decode_and_encode() {
        let o = oid(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0xbf, 0x08, 0x02, 0x03], "x").unwrap();
        assert_eq!(o.to_string(), "1.3.6.1.4.1.8072.2.3");
        assert_eq!(
            oid_contents(&o),
            [0x2b, 0x06, 0x01, 0x04, 0x01, 0xbf, 0x08, 0x02, 0x03]
        );
        let big: Oid = "2.999.4294967295".parse().unwrap();
        assert_eq!(oid(&oid_contents(&big), "x").unwrap(), big);
        assert!(oid(&[], "x").is_err());
        assert!(oid(&[0x2b, 0x86], "x").is_err());
        // 2^32 as the third arc
        assert!(oid(&[0x2b, 0x90, 0x80, 0x80, 0x80, 0x00], "x").is_err());
        assert!(oid(&[0x2b; 129], "x").is_err());
        assert_eq!(oid(&[0x2b; 127], "x").unwrap().arcs().len(), 128);
    }

    #[test]
    fn lengths_use_the_short_and_long_forms() {
        let mut out = Vec::new();
        write_tlv(&mut out, 4, &[7; 200]);
        assert_eq!(&out[..3], &[4, 0x81, 200]);
        let mut r = Reader::new(&out);
        assert_eq!(r.expect(4, "x").unwrap().len(), 200);
        assert!(r.is_empty());
        assert!(matches!(
            Reader::new(&[4, 0x80, 0, 0]).any("x"),
            Err(SnmpError::BadLength { .. })
        ));
        assert!(matches!(
            Reader::new(&[4, 0x85, 0, 0, 0, 0, 1, 0]).any("x"),
            Err(SnmpError::BadLength { .. })
        ));
        assert!(matches!(
            Reader::new(&[4, 0x82, 0x01]).any("x"),
            Err(SnmpError::Truncated { .. })
        ));
        assert!(matches!(
            Reader::new(&[4, 0x84, 0xff, 0xff, 0xff, 0xff]).any("x"),
            Err(SnmpError::Truncated { .. })
        ));
        // A non-minimal long form is accepted, as agents send it.
        assert_eq!(
            Reader::new(&[4, 0x82, 0, 1, 9]).any("x").unwrap(),
            (4, &[9][..])
        );
    }
}
