//! One byte-level parser for syslog messages, RFC 5424 and RFC 3164 alike,
//! with the variants real senders produce.
//!
//! Detection order: leading and trailing whitespace (and NULs) are ignored;
//! an optional `<PRI>` is read (a malformed one fails the message); then
//! `VERSION SP` (a digit 1–9 and up to two more digits, then a space) means
//! RFC 5424, anything else is read as RFC 3164. A failed RFC 5424 header
//! fails the message when it had a PRI; without one, the text is read as
//! RFC 3164 instead, since it may just be a line that starts with a number.
//! A message that fails is stored whole, flagged with `parse_error`.

mod rfc3164;
mod rfc5424;
mod sd;
mod timestamp;
mod write;

pub use write::{Rfc3164Header, Rfc5424Header, SdElement};

use chrono::{FixedOffset, Offset, Utc};
use hark_event::{Event, FieldValue, split_pri};

/// The PRI of a message that carries none: user.notice.
const DEFAULT_PRI: u8 = 13;

/// What the parser needs to know besides the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext<'a> {
    /// When the message was received, in nanoseconds since the epoch.
    pub received_at: i64,
    /// Name of the configured input the message arrived on.
    pub input: &'a str,
    /// Peer address (`ip:port`), when known.
    pub source: Option<&'a str>,
    /// Zone for timestamps that carry no offset (UTC unless configured).
    pub default_offset: FixedOffset,
}

impl<'a> ParseContext<'a> {
    /// A context for `input` at `received_at`, with no source and UTC as the default zone.
    pub fn new(received_at: i64, input: &'a str) -> Self {
        ParseContext {
            received_at,
            input,
            source: None,
            default_offset: Utc.fix(),
        }
    }
}

/// Why a message could not be parsed; its text becomes `Event::parse_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("invalid PRI: expected <0> to <191>")]
    BadPri,
    #[error("RFC 5424: invalid TIMESTAMP")]
    BadTimestamp,
    #[error("RFC 5424: missing or malformed {0}")]
    BadField(&'static str),
    #[error("RFC 5424: {field} longer than {max} bytes")]
    FieldTooLong { field: &'static str, max: usize },
    #[error("RFC 5424: malformed STRUCTURED-DATA")]
    BadStructuredData,
}

/// What a header parser found; the slices point into the message.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'a> {
    pub timestamp: Option<i64>,
    pub host: Option<&'a [u8]>,
    pub app: Option<&'a [u8]>,
    pub procid: Option<&'a [u8]>,
    pub msgid: Option<&'a [u8]>,
    pub message: &'a [u8],
    pub fields: Vec<(String, FieldValue)>,
}

/// Parses one syslog message (RFC 5424 or RFC 3164, leniently) into an event.
///
/// Never fails: a message that cannot be parsed is kept whole as the
/// event's message, with `parse_error` saying why and the bytes in `raw`.
/// `raw` is also kept when the bytes are not UTF-8 (the text fields are
/// then decoded lossily); otherwise it is `None`.
///
/// ```
/// use hark_proto::{ParseContext, parse_syslog};
/// let ctx = ParseContext::new(1_700_000_000_000_000_000, "syslog_udp");
/// let ev = parse_syslog(b"<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed", &ctx);
/// assert_eq!(ev.host.as_deref(), Some("mymachine"));
/// assert_eq!(ev.app.as_deref(), Some("su"));
/// assert_eq!(ev.procid.as_deref(), Some("42"));
/// assert_eq!(ev.severity_code(), Some(2));
/// assert_eq!(ev.message, "'su root' failed");
/// ```
pub fn parse_syslog(msg: &[u8], ctx: &ParseContext) -> Event {
    let mut ev = Event::new(ctx.received_at, ctx.input);
    ev.source = ctx.source.map(str::to_owned);
    let text = trim(msg);
    if text.is_empty() {
        return failed(ev, msg, text, ParseError::Empty, None);
    }
    let (pri, rest) = match pri(text) {
        Ok(v) => v,
        Err(e) => return failed(ev, msg, text, e, None),
    };
    let offset = ctx.default_offset.local_minus_utc();
    let parsed = match rfc5424::version_len(rest) {
        Some(n) => match rfc5424::parse(&rest[n..], offset) {
            Ok(p) => p,
            Err(e) if pri.is_some() => return failed(ev, msg, text, e, pri),
            Err(_) => rfc3164::parse(rest, false, ctx),
        },
        None => rfc3164::parse(rest, pri.is_some(), ctx),
    };
    if let Some((facility, severity)) = split_pri(pri.unwrap_or(DEFAULT_PRI)) {
        ev.facility = Some(facility);
        ev.severity = Some(severity);
    }
    let text = Text::new(msg);
    ev.timestamp = parsed.timestamp.unwrap_or(ctx.received_at);
    ev.host = parsed.host.map(|b| text.of(b));
    ev.app = parsed.app.map(|b| text.of(b));
    ev.procid = parsed.procid.map(|b| text.of(b));
    ev.msgid = parsed.msgid.map(|b| text.of(b));
    ev.message = text.of(parsed.message);
    ev.fields = parsed.fields;
    if text.valid.is_none() {
        ev.raw = Some(msg.to_vec());
    }
    ev
}

/// Turns pieces of one message into strings, checking the message's UTF-8 once.
struct Text<'a> {
    bytes: &'a [u8],
    /// The whole message, when it is valid UTF-8.
    valid: Option<&'a str>,
}

impl<'a> Text<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Text {
            bytes,
            valid: std::str::from_utf8(bytes).ok(),
        }
    }

    /// The text of `piece`, a sub-slice of the message.
    fn of(&self, piece: &[u8]) -> String {
        let start = (piece.as_ptr() as usize).wrapping_sub(self.bytes.as_ptr() as usize);
        let sub = self
            .valid
            .zip(start.checked_add(piece.len()))
            .and_then(|(s, end)| s.get(start..end));
        match sub {
            Some(s) => s.to_owned(),
            None => lossy(piece),
        }
    }
}

/// The event for a message that did not parse: kept whole, with the reason.
fn failed(mut ev: Event, msg: &[u8], text: &[u8], err: ParseError, pri: Option<u8>) -> Event {
    ev.message = lossy(text);
    ev.raw = Some(msg.to_vec());
    ev.parse_error = Some(err.to_string());
    if let Some((facility, severity)) = pri.and_then(split_pri) {
        ev.facility = Some(facility);
        ev.severity = Some(severity);
    }
    ev
}

/// The text of `b`, with invalid UTF-8 replaced by U+FFFD.
fn lossy(b: &[u8]) -> String {
    // The strict check is much faster than the lossy decoder on valid text, the usual case.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\0')
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| !is_blank(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| !is_blank(c))
        .map_or(start, |i| i + 1);
    &b[start..end]
}

/// An optional `<PRI>` at the front of `b`: its value and the rest.
fn pri(b: &[u8]) -> Result<(Option<u8>, &[u8]), ParseError> {
    if b.first() != Some(&b'<') {
        return Ok((None, b));
    }
    let n = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=3).contains(&n) || b.get(1 + n) != Some(&b'>') {
        return Err(ParseError::BadPri);
    }
    let value = b[1..1 + n]
        .iter()
        .fold(0u16, |acc, &c| acc * 10 + u16::from(c - b'0'));
    match u8::try_from(value) {
        Ok(v) if v <= 191 => Ok((Some(v), &b[2 + n..])),
        _ => Err(ParseError::BadPri),
    }
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

/// Length of the token at the front of `b` (up to a space or the end).
fn token_len(b: &[u8]) -> usize {
    memchr::memchr(b' ', b).unwrap_or(b.len())
}

#[cfg(test)]
mod tests;
