//! The RFC 5424 header:
//! `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
//!
//! Lenient where senders differ and nothing is lost: lower-case `t`/`z` and
//! long fractions in the timestamp, a missing offset (the default zone), a
//! header that ends right after MSGID, UTF-8 in header fields. Strict where
//! the structure is broken: a bad timestamp, an empty or over-long field, a
//! control character, structured data that cannot be delimited.

use super::{ParseError, Parsed, sd, timestamp};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Length of `VERSION SP` at the front of `b` (1–3 digits, not starting with 0).
pub(crate) fn version_len(b: &[u8]) -> Option<usize> {
    if !matches!(b.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let n = b.iter().take(4).take_while(|c| c.is_ascii_digit()).count();
    (n <= 3 && b.get(n) == Some(&b' ')).then_some(n + 1)
}

/// Reads space-separated header fields.
struct Fields<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    /// The next field (`None` for the NILVALUE `-`), and the space after it, if any.
    fn next(&mut self, name: &'static str, max: usize) -> Result<Option<&'a [u8]>, ParseError> {
        let rest = &self.b[self.pos..];
        let n = super::token_len(rest);
        let tok = &rest[..n];
        if n == 0 || tok.iter().any(|&c| c < b' ' || c == 0x7f) {
            return Err(ParseError::BadField(name));
        }
        if n > max {
            return Err(ParseError::FieldTooLong { field: name, max });
        }
        self.pos += n;
        if self.pos < self.b.len() {
            self.pos += 1;
        }
        Ok((tok != b"-").then_some(tok))
    }

    /// Like [`Fields::next`] for a field that must be followed by another.
    fn next_before_more(
        &mut self,
        name: &'static str,
        max: usize,
    ) -> Result<Option<&'a [u8]>, ParseError> {
        let v = self.next(name, max)?;
        if self.pos >= self.b.len() {
            return Err(ParseError::BadField(name));
        }
        Ok(v)
    }
}

/// Parses the header after `VERSION SP`. `default_offset` (seconds east of
/// UTC) applies to a timestamp without an offset.
pub(crate) fn parse(b: &[u8], default_offset: i32) -> Result<Parsed<'_>, ParseError> {
    let mut f = Fields { b, pos: 0 };
    let mut p = Parsed::default();
    if let Some(ts) = f.next_before_more("TIMESTAMP", 64)? {
        match timestamp::parse_iso(ts, default_offset) {
            Some((t, n)) if n == ts.len() => p.timestamp = Some(t),
            _ => return Err(ParseError::BadTimestamp),
        }
    }
    p.host = f.next_before_more("HOSTNAME", 255)?;
    p.app = f.next_before_more("APP-NAME", 48)?;
    p.procid = f.next_before_more("PROCID", 128)?;
    p.msgid = f.next("MSGID", 32)?;
    let rest = &b[f.pos..];
    let after_sd = match rest.first() {
        None => return Ok(p),
        Some(b'-') => 1,
        Some(b'[') => sd::parse(rest, sd::Mode::Header, &mut p.fields)
            .map_err(|_| ParseError::BadStructuredData)?,
        Some(_) => return Err(ParseError::BadStructuredData),
    };
    let msg = match rest.get(after_sd) {
        None => &[][..],
        // One space separates MSG; further spaces belong to it (rsyslog relays 3164 text that way).
        Some(b' ') => &rest[after_sd + 1..],
        Some(_) => return Err(ParseError::BadStructuredData),
    };
    p.message = msg.strip_prefix(BOM).unwrap_or(msg);
    Ok(p)
}
