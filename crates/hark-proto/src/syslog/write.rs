//! Syslog messages out: an RFC 5424 or RFC 3164 header in front of the
//! message text, written into any [`BufMut`]. The counterpart of
//! [`parse_syslog`](super::parse_syslog): what these write, it reads back.
//!
//! Header fields are made valid rather than refused: a character outside
//! printable US-ASCII (space included) becomes `_`, a field longer than
//! its RFC 5424 limit is cut, and an empty one is written as `-` (RFC 5424)
//! or left out (RFC 3164). The message text is written as given; framing
//! it for a stream is [`framing`](crate::framing)'s job.

use std::fmt::Write as _;

use bytes::BufMut;
use chrono::{DateTime, Utc};

/// RFC 5424's length limits: HOSTNAME, APP-NAME, PROCID, MSGID, SD-NAME.
const MAX_HOSTNAME: usize = 255;
const MAX_APP_NAME: usize = 48;
const MAX_PROCID: usize = 128;
const MAX_MSGID: usize = 32;
const MAX_SD_NAME: usize = 32;

/// One RFC 5424 STRUCTURED-DATA element: `[id name="value" …]`. The parser
/// keeps its parameters as fields `sd.<id>.<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdElement<'a> {
    /// The SD-ID, e.g. `exampleSDID@32473`.
    pub id: &'a str,
    /// The parameters, in order; values are escaped on writing.
    pub params: &'a [(&'a str, &'a str)],
}

/// The header of an RFC 5424 message:
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA`.
///
/// ```
/// use hark_proto::syslog::Rfc5424Header;
/// use chrono::{TimeZone, Utc};
///
/// let header = Rfc5424Header {
///     pri: 13,
///     timestamp: Some(Utc.with_ymd_and_hms(2026, 11, 22, 4, 51, 20).unwrap()),
///     hostname: Some("vm"),
///     app_name: Some("app"),
///     procid: Some("42"),
///     msgid: None,
///     structured_data: &[],
/// };
/// let mut out = Vec::new();
/// header.write(b"hello", &mut out);
/// assert_eq!(out, b"<13>1 2026-11-22T04:51:20.000000Z vm app 42 - - hello");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc5424Header<'a> {
    /// Facility × 8 + severity (0–191).
    pub pri: u8,
    /// The time of the message, written in UTC with microseconds; `-` when absent.
    pub timestamp: Option<DateTime<Utc>>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME.
    pub app_name: Option<&'a str>,
    /// PROCID.
    pub procid: Option<&'a str>,
    /// MSGID.
    pub msgid: Option<&'a str>,
    /// STRUCTURED-DATA; `-` when empty.
    pub structured_data: &'a [SdElement<'a>],
}

impl Rfc5424Header<'_> {
    /// Appends the header, a space and `msg` to `out`.
    pub fn write(&self, msg: &[u8], out: &mut impl BufMut) {
        let mut head = String::with_capacity(96);
        // Writing into a String cannot fail.
        let _ = write!(head, "<{}>1 ", self.pri);
        match self.timestamp {
            Some(t) => {
                let _ = write!(head, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
            }
            None => head.push('-'),
        }
        for (field, max) in [
            (self.hostname, MAX_HOSTNAME),
            (self.app_name, MAX_APP_NAME),
            (self.procid, MAX_PROCID),
            (self.msgid, MAX_MSGID),
        ] {
            head.push(' ');
            push_field(&mut head, field.unwrap_or(""), max);
        }
        head.push(' ');
        if self.structured_data.is_empty() {
            head.push('-');
        }
        for element in self.structured_data {
            push_element(&mut head, element);
        }
        head.push(' ');
        out.put_slice(head.as_bytes());
        out.put_slice(msg);
    }
}

/// The header of an RFC 3164 (BSD) message:
/// `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: `.
///
/// ```
/// use hark_proto::syslog::Rfc3164Header;
/// use chrono::{TimeZone, Utc};
///
/// let header = Rfc3164Header {
///     pri: 34,
///     timestamp: Utc.with_ymd_and_hms(2026, 10, 11, 22, 14, 15).unwrap(),
///     hostname: "mymachine",
///     tag: "su",
///     pid: Some("42"),
/// };
/// let mut out = Vec::new();
/// header.write(b"'su root' failed", &mut out);
/// assert_eq!(out, b"<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3164Header<'a> {
    /// Facility × 8 + severity (0–191).
    pub pri: u8,
    /// The time of the message, written as its UTC wall clock without a
    /// year, as RFC 3164 has it.
    pub timestamp: DateTime<Utc>,
    /// HOSTNAME; left out when empty.
    pub hostname: &'a str,
    /// The TAG (program name).
    pub tag: &'a str,
    /// The process id, written as `[pid]` after the tag.
    pub pid: Option<&'a str>,
}

impl Rfc3164Header<'_> {
    /// Appends the header and `msg` to `out`.
    pub fn write(&self, msg: &[u8], out: &mut impl BufMut) {
        let mut head = String::with_capacity(64);
        // Writing into a String cannot fail.
        let _ = write!(
            head,
            "<{}>{} ",
            self.pri,
            self.timestamp.format("%b %e %H:%M:%S")
        );
        if !self.hostname.is_empty() {
            push_field(&mut head, self.hostname, MAX_HOSTNAME);
            head.push(' ');
        }
        push_tag(&mut head, self.tag);
        if let Some(pid) = self.pid {
            head.push('[');
            push_tag(&mut head, pid);
            head.push(']');
        }
        head.push_str(": ");
        out.put_slice(head.as_bytes());
        out.put_slice(msg);
    }
}

/// A header field: printable US-ASCII without spaces, at most `max`
/// characters, `-` when empty.
fn push_field(out: &mut String, value: &str, max: usize) {
    if value.is_empty() {
        out.push('-');
        return;
    }
    out.extend(value.chars().take(max).map(printable));
}

/// An RFC 3164 TAG or PID: like a field, and without the `[`, `]` and `:`
/// that end it.
fn push_tag(out: &mut String, value: &str) {
    out.extend(
        value
            .chars()
            .take(MAX_APP_NAME)
            .map(|c| match printable(c) {
                '[' | ']' | ':' => '_',
                c => c,
            }),
    );
}

fn printable(c: char) -> char {
    if c.is_ascii_graphic() { c } else { '_' }
}

/// An SD-ID or PARAM-NAME: a field without `=`, `]` and `"`.
fn push_sd_name(out: &mut String, name: &str) {
    if name.is_empty() {
        out.push('_');
    }
    out.extend(name.chars().take(MAX_SD_NAME).map(|c| match printable(c) {
        '=' | ']' | '"' => '_',
        c => c,
    }));
}

fn push_element(out: &mut String, element: &SdElement<'_>) {
    out.push('[');
    push_sd_name(out, element.id);
    for (name, value) in element.params {
        out.push(' ');
        push_sd_name(out, name);
        out.push_str("=\"");
        for c in value.chars() {
            if matches!(c, '"' | '\\' | ']') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fields_are_made_valid() {
        let header = Rfc5424Header {
            pri: 165,
            timestamp: None,
            hostname: Some("my host"),
            app_name: Some(&"a".repeat(60)),
            procid: Some(""),
            msgid: Some("ID47"),
            structured_data: &[SdElement {
                id: "ex@1",
                params: &[("k", r#"a"b\c]d"#), ("n=", "")],
            }],
        };
        let mut out = Vec::new();
        header.write(b"text", &mut out);
        let expected = format!(
            r#"<165>1 - my_host {} - ID47 [ex@1 k="a\"b\\c\]d" n_=""] text"#,
            "a".repeat(48)
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn bsd_tags_stop_before_their_delimiters() {
        let header = Rfc3164Header {
            pri: 13,
            timestamp: Utc.with_ymd_and_hms(2026, 3, 5, 1, 2, 3).unwrap(),
            hostname: "",
            tag: "a:b[c]",
            pid: None,
        };
        let mut out = Vec::new();
        header.write(b"x", &mut out);
        assert_eq!(out, b"<13>Mar  5 01:02:03 a_b_c_: x");
    }
}
