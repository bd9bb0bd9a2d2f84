//! RFC 3164 (BSD syslog) as devices really send it:
//! `[SEQ: ][*|.]TIMESTAMP[ ZONE][:] [HOSTNAME] [TAG[PID]:] MSG`, every part
//! optional.
//!
//! * `SEQ: ` is a Cisco sequence number (`service sequence-numbers`), kept
//!   as `cisco.seq`; a `HOST: ` may follow it (`logging origin-id`).
//! * `*` / `.` before the timestamp are Cisco's clock-synchronisation marks.
//! * TIMESTAMP is `Mmm dd hh:mm:ss[.frac]`, `Mmm dd yyyy hh:mm:ss[.frac]` or
//!   RFC 3339; a missing year or zone comes from the receive time and the
//!   input's default zone.
//! * HOSTNAME is absent when the token after the timestamp is already a
//!   tag (ends with `:` or holds `[pid]`; after a host, a plain word
//!   followed by text is the tag too, as rsyslog and Vector read it).
//! * A message starting with `%FAC-SEV-MNEMONIC:` (Cisco, ASA) gets those
//!   as `cisco.*` fields; the facility stands in for a missing tag.
//! * Structured data right after the tag (rsyslog's own messages) becomes
//!   `sd.*` fields.

use super::{ParseContext, Parsed, sd, skip_spaces, timestamp, token_len};
use hark_event::FieldValue;

/// Longest token still taken for a tag.
const MAX_TAG: usize = 128;

/// Parses what follows the PRI. `had_pri` says whether the message had
/// one: without PRI nor timestamp, text is not searched for a tag.
pub(crate) fn parse<'a>(b: &'a [u8], had_pri: bool, ctx: &ParseContext) -> Parsed<'a> {
    let mut p = Parsed::default();
    let mut pos = skip_spaces(b, 0);
    let mut header = had_pri;
    if let Some(prefix) = cisco_prefix(&b[pos..], ctx) {
        let seq = &b[pos..pos + prefix.seq_len];
        let value = std::str::from_utf8(seq)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map_or_else(|| FieldValue::Str(super::lossy(seq)), FieldValue::Int);
        p.fields.reserve(4);
        p.fields.push(("cisco.seq".to_owned(), value));
        p.host = prefix
            .host
            .map(|(start, len)| &b[pos + start..pos + start + len]);
        pos += prefix.len;
        header = true;
    }
    if let Some((t, n)) = timestamp(&b[pos..], ctx) {
        p.timestamp = Some(t);
        pos = skip_spaces(b, pos + n);
        header = true;
        let rest = &b[pos..];
        if p.host.is_none() && !is_mnemonic_start(rest) && tag(rest).is_none() {
            let n = token_len(rest);
            if n > 0 {
                p.host = Some(&rest[..n]);
                pos = skip_spaces(b, pos + n);
            }
            // Cisco ASA puts a lone colon after the host: `fw01 : %ASA-…`.
            if b.get(pos) == Some(&b':') && matches!(b.get(pos + 1), None | Some(b' ')) {
                pos = skip_spaces(b, pos + 1);
            }
        }
    }
    if header
        && !is_mnemonic_start(&b[pos..])
        && let Some(t) = tag(&b[pos..])
    {
        p.app = Some(&b[pos..pos + t.app_len]);
        p.procid = t.pid.map(|(start, len)| &b[pos + start..pos + start + len]);
        pos = skip_spaces(b, pos + t.len);
    } else if p.host.is_some() && !is_mnemonic_start(&b[pos..]) {
        // After a host, rsyslog (and Vector) end the tag at a space too:
        // rsyslog's default forward format sends `host app text` for
        // messages it received as RFC 5424.
        let n = bare_tag_len(&b[pos..]);
        if n > 0 {
            p.app = Some(&b[pos..pos + n]);
            pos = skip_spaces(b, pos + n);
        }
    }
    let mut msg = &b[pos..];
    match msg.first() {
        Some(b'%') => {
            if let Some(m) = mnemonic(msg) {
                p.fields.push((
                    "cisco.facility".to_owned(),
                    FieldValue::Str(super::lossy(m.facility)),
                ));
                p.fields.push((
                    "cisco.severity".to_owned(),
                    FieldValue::Int(i64::from(m.severity)),
                ));
                p.fields.push((
                    "cisco.mnemonic".to_owned(),
                    FieldValue::Str(super::lossy(m.mnemonic)),
                ));
                if p.app.is_none() {
                    p.app = Some(m.facility);
                }
            }
        }
        Some(b'[') if header => {
            if let Ok(n) = sd::parse(msg, sd::Mode::Message, &mut p.fields) {
                msg = &msg[skip_spaces(msg, n)..];
            }
        }
        _ => {}
    }
    p.message = msg;
    p
}

/// A timestamp at the front of `b`, with an optional clock mark before it
/// and an optional zone name and colon after it; the time and bytes read.
fn timestamp(b: &[u8], ctx: &ParseContext) -> Option<(i64, usize)> {
    let mark = usize::from(matches!(b.first(), Some(b'*' | b'.')));
    let s = &b[mark..];
    let offset = ctx.default_offset.local_minus_utc();
    let (t, mut n) = if s.first().is_some_and(u8::is_ascii_digit) {
        timestamp::parse_iso(s, offset)?
    } else {
        let (civil, mut n) = timestamp::parse_bsd(s)?;
        let mut offset = offset;
        if let Some((zone_len, utc)) = zone_name(&s[n..]) {
            n += zone_len;
            if utc {
                offset = 0;
            }
        }
        (civil.resolve(offset, ctx.received_at)?, n)
    };
    match s.get(n) {
        None | Some(b' ') => {}
        // Cisco ends the timestamp with a colon.
        Some(b':') if matches!(s.get(n + 1), None | Some(b' ')) => n += 1,
        Some(_) => return None,
    }
    Some((t, mark + n))
}

/// ` ZONE` before a colon (Cisco: `18:46:11.123 UTC: %…`): its length and
/// whether it names UTC. Other zone names cannot be resolved and are skipped.
fn zone_name(b: &[u8]) -> Option<(usize, bool)> {
    if b.first() != Some(&b' ') {
        return None;
    }
    let n = b[1..]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    if !(1..=5).contains(&n) || b.get(1 + n) != Some(&b':') {
        return None;
    }
    let name = &b[1..1 + n];
    Some((1 + n, matches!(name, b"UTC" | b"GMT" | b"Z" | b"UT")))
}

/// A Cisco `SEQ: [HOST: ]` prefix; offsets are relative to its start.
struct CiscoPrefix {
    seq_len: usize,
    host: Option<(usize, usize)>,
    len: usize,
}

fn cisco_prefix(b: &[u8], ctx: &ParseContext) -> Option<CiscoPrefix> {
    let seq_len = b.iter().take(11).take_while(|c| c.is_ascii_digit()).count();
    if !(1..=10).contains(&seq_len)
        || b.get(seq_len) != Some(&b':')
        || b.get(seq_len + 1) != Some(&b' ')
    {
        return None;
    }
    // Only a timestamp or a mnemonic next makes this a sequence number rather than text.
    let is_body = |s: &[u8]| is_mnemonic_start(s) || timestamp(s, ctx).is_some();
    let pos = skip_spaces(b, seq_len + 2);
    if is_body(&b[pos..]) {
        return Some(CiscoPrefix {
            seq_len,
            host: None,
            len: pos,
        });
    }
    let n = token_len(&b[pos..]);
    if n >= 2 && b[pos + n - 1] == b':' {
        let after = skip_spaces(b, pos + n);
        if is_body(&b[after..]) {
            return Some(CiscoPrefix {
                seq_len,
                host: Some((pos, n - 1)),
                len: after,
            });
        }
    }
    None
}

/// A tag at the front of `b`; offsets are relative to its start.
struct Tag {
    app_len: usize,
    pid: Option<(usize, usize)>,
    /// Bytes taken, up to the colon after the tag (or the `]`).
    len: usize,
}

/// `app:`, `app[pid]:`, `app[pid]` or `app[pid]:text` at the front of `b`.
fn tag(b: &[u8]) -> Option<Tag> {
    let n = token_len(b);
    if !(2..=MAX_TAG).contains(&n) {
        return None;
    }
    let tok = &b[..n];
    if tok[n - 1] == b':' {
        let name = &tok[..n - 1];
        if let Some((app_len, pid)) =
            bracketed_pid(name).filter(|(_, p)| p.0 + p.1 + 1 == name.len())
        {
            return Some(Tag {
                app_len,
                pid: Some(pid),
                len: n,
            });
        }
        return Some(Tag {
            app_len: n - 1,
            pid: None,
            len: n,
        });
    }
    let (app_len, (start, len)) = bracketed_pid(tok)?;
    let close = start + len;
    match tok.get(close + 1) {
        None => Some(Tag {
            app_len,
            pid: Some((start, len)),
            len: close + 1,
        }),
        Some(b':') => Some(Tag {
            app_len,
            pid: Some((start, len)),
            len: close + 2,
        }),
        Some(_) => None,
    }
}

/// Length of a colon-less tag at the front of `b`: a short word (no `:`,
/// brackets or control bytes) followed by a space and more text; 0 when none.
fn bare_tag_len(b: &[u8]) -> usize {
    const MAX_BARE_TAG: usize = 48;
    let n = b
        .iter()
        .take_while(|c| **c > b' ' && !matches!(c, b':' | b'[' | b']' | 0x7f))
        .count();
    let followed_by_text = b.get(n) == Some(&b' ') && b[n..].iter().any(|c| *c != b' ');
    if (1..=MAX_BARE_TAG).contains(&n) && followed_by_text {
        n
    } else {
        0
    }
}

/// `app[pid…` in `tok`: the app's length and the pid's start and length.
fn bracketed_pid(tok: &[u8]) -> Option<(usize, (usize, usize))> {
    let open = memchr::memchr(b'[', tok)?;
    if open == 0 {
        return None;
    }
    let len = memchr::memchr(b']', &tok[open + 1..])?;
    Some((open, (open + 1, len)))
}

/// A Cisco message code `%FACILITY-SEVERITY-MNEMONIC:`.
struct Mnemonic<'a> {
    facility: &'a [u8],
    severity: u8,
    mnemonic: &'a [u8],
}

fn is_mnemonic_start(b: &[u8]) -> bool {
    b.first() == Some(&b'%') && mnemonic(b).is_some()
}

fn mnemonic(b: &[u8]) -> Option<Mnemonic<'_>> {
    let body = b.strip_prefix(b"%")?;
    let n = body
        .iter()
        .take(96)
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        .count();
    if body.get(n) != Some(&b':') || !matches!(body.get(n + 1), None | Some(b' ')) {
        return None;
    }
    let code = &body[..n];
    let last_dash = memchr::memrchr(b'-', code)?;
    let sev_dash = memchr::memrchr(b'-', &code[..last_dash])?;
    let facility = &code[..sev_dash];
    let severity = &code[sev_dash + 1..last_dash];
    let mnemonic = &code[last_dash + 1..];
    match severity {
        [d @ b'0'..=b'7'] if !facility.is_empty() && !mnemonic.is_empty() => Some(Mnemonic {
            facility,
            severity: d - b'0',
            mnemonic,
        }),
        _ => None,
    }
}
