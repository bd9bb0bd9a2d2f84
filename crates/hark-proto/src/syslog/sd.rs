//! RFC 5424 STRUCTURED-DATA: `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]…`,
//! kept as event fields named `sd.<SD-ID>.<PARAM-NAME>`.
//!
//! PARAM-VALUE is read with an escape-aware state machine: `\"`, `\\` and
//! `\]` stand for the escaped character, a backslash before anything else
//! is kept as it is, and a `]` inside the quotes does not end the element
//! (broken senders leave it unescaped).

use hark_event::FieldValue;
use std::borrow::Cow;

/// Name of the field that keeps the text of an element that could not be read.
pub(crate) const INVALID_FIELD: &str = "sd.invalid";

/// How forgiving to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Inside an RFC 5424 header: an element that is malformed but whose end
    /// can still be found is kept whole as [`INVALID_FIELD`] and reading goes on.
    Header,
    /// At the start of an RFC 3164 message, where a `[` usually begins plain
    /// text: every element must be well formed and carry a parameter.
    Message,
}

/// Why structured data could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SdError;

/// Reads the elements at the front of `b` (which starts with `[`) into
/// `fields`, up to a space or the end. Returns the number of bytes read.
/// On error, `fields` is left as it was.
pub(crate) fn parse(
    b: &[u8],
    mode: Mode,
    fields: &mut Vec<(String, FieldValue)>,
) -> Result<usize, SdError> {
    let start_len = fields.len();
    // Senders rarely send fewer; growing one by one costs a reallocation each time.
    fields.reserve(4);
    let mut pos = 0;
    while b.get(pos) == Some(&b'[') {
        let mark = fields.len();
        match element(&b[pos..], mode, fields) {
            Ok(n) => pos += n,
            Err(SdError) if mode == Mode::Header => {
                fields.truncate(mark);
                let Some(n) = element_end(&b[pos..]) else {
                    fields.truncate(start_len);
                    return Err(SdError);
                };
                fields.push((
                    INVALID_FIELD.to_owned(),
                    FieldValue::Str(text(&b[pos..pos + n]).into_owned()),
                ));
                pos += n;
            }
            Err(e) => {
                fields.truncate(start_len);
                return Err(e);
            }
        }
    }
    if pos == 0 || !matches!(b.get(pos), None | Some(b' ')) {
        fields.truncate(start_len);
        return Err(SdError);
    }
    Ok(pos)
}

fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// A name (SD-ID or PARAM-NAME) at the front of `b`: printable, without
/// `=`, space, `]` or `"`. Returns its length.
fn name(b: &[u8]) -> Result<usize, SdError> {
    let n = b
        .iter()
        .take_while(|&&c| c > b' ' && c != 0x7f && !matches!(c, b'=' | b']' | b'"'))
        .count();
    if n == 0 { Err(SdError) } else { Ok(n) }
}

/// One well-formed element at the front of `b`; returns its length.
fn element(b: &[u8], mode: Mode, fields: &mut Vec<(String, FieldValue)>) -> Result<usize, SdError> {
    let id_len = name(&b[1..])?;
    let id = text(&b[1..1 + id_len]);
    let mut pos = 1 + id_len;
    let mut params = 0;
    loop {
        match b.get(pos) {
            Some(b']') => {
                if mode == Mode::Message && params == 0 {
                    return Err(SdError);
                }
                return Ok(pos + 1);
            }
            Some(b' ') => {
                // Be lenient with runs of spaces between parameters.
                while b.get(pos) == Some(&b' ') {
                    pos += 1;
                }
                if b.get(pos) == Some(&b']') {
                    continue;
                }
                let name_len = name(&b[pos..])?;
                let param = &b[pos..pos + name_len];
                pos += name_len;
                if b.get(pos) != Some(&b'=') {
                    return Err(SdError);
                }
                pos += 1;
                // Some senders put a space after `=`.
                while b.get(pos) == Some(&b' ') {
                    pos += 1;
                }
                if b.get(pos) != Some(&b'"') {
                    return Err(SdError);
                }
                pos += 1;
                let (value, n) = value(&b[pos..])?;
                pos += n;
                let param = text(param);
                let mut key = String::with_capacity(4 + id.len() + param.len());
                key.push_str("sd.");
                key.push_str(&id);
                key.push('.');
                key.push_str(&param);
                fields.push((key, FieldValue::Str(value)));
                params += 1;
            }
            _ => return Err(SdError),
        }
    }
}

/// A PARAM-VALUE after its opening quote, up to and including the closing
/// quote: the unescaped text and the bytes read.
fn value(b: &[u8]) -> Result<(String, usize), SdError> {
    let mut unescaped: Option<Vec<u8>> = None;
    let mut run_start = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr2(b'"', b'\\', &b[i..]) {
        let at = i + off;
        if b[at] == b'"' {
            let out = match unescaped {
                None => text(&b[..at]).into_owned(),
                Some(mut v) => {
                    v.extend_from_slice(&b[run_start..at]);
                    text(&v).into_owned()
                }
            };
            return Ok((out, at + 1));
        }
        match b.get(at + 1) {
            Some(&c @ (b'"' | b'\\' | b']')) => {
                let v = unescaped.get_or_insert_with(|| Vec::with_capacity(b.len()));
                v.extend_from_slice(&b[run_start..at]);
                v.push(c);
                run_start = at + 2;
                i = at + 2;
            }
            // Any other backslash is kept literally.
            _ => i = at + 1,
        }
    }
    Err(SdError)
}

/// Where an element that starts at `b[0] == b'['` ends (just past its `]`),
/// skipping quoted values, when that end is followed by `[`, a space or the end.
fn element_end(b: &[u8]) -> Option<usize> {
    let mut in_quotes = false;
    let mut i = 1;
    while i < b.len() {
        match (in_quotes, b[i]) {
            (true, b'\\') => i += 1,
            (_, b'"') => in_quotes = !in_quotes,
            (false, b']') => {
                return matches!(b.get(i + 1), None | Some(b'[' | b' ')).then_some(i + 1);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd(input: &str, mode: Mode) -> Result<(Vec<(String, String)>, usize), SdError> {
        let mut f = Vec::new();
        let n = parse(input.as_bytes(), mode, &mut f)?;
        Ok((f.into_iter().map(|(k, v)| (k, v.to_string())).collect(), n))
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn escapes_follow_rfc5424() {
        let (f, n) = sd(
            r#"[timeQuality tzKnown="1" isSynced="0"][exampleSDID@32473 iut="3" eventSource="App\"lic\]at\\ion"] msg"#,
            Mode::Header,
        )
        .unwrap();
        assert_eq!(
            f,
            kv(&[
                ("sd.timeQuality.tzKnown", "1"),
                ("sd.timeQuality.isSynced", "0"),
                ("sd.exampleSDID@32473.iut", "3"),
                ("sd.exampleSDID@32473.eventSource", r#"App"lic]at\ion"#),
            ])
        );
        assert_eq!(n, 97);
        let (f, _) = sd(r#"[m a="x\ny" b="\\u2318" c="]"]"#, Mode::Header).unwrap();
        assert_eq!(
            f,
            kv(&[("sd.m.a", r"x\ny"), ("sd.m.b", r"\u2318"), ("sd.m.c", "]")])
        );
    }

    #[test]
    fn elements_without_parameters_are_read_in_headers_only() {
        let (f, n) = sd("[empty][x a=\"1\"]", Mode::Header).unwrap();
        assert_eq!((f, n), (kv(&[("sd.x.a", "1")]), 16));
        assert!(sd("[12345.678] kernel", Mode::Message).is_err());
        assert!(sd("[WAN]IN=eth0", Mode::Header).is_err());
    }

    #[test]
    fn broken_elements_are_kept_as_text_when_their_end_is_clear() {
        let (f, _) = sd("[incorrect x][ok a=\"1\"] qwerty", Mode::Header).unwrap();
        assert_eq!(f, kv(&[("sd.invalid", "[incorrect x]"), ("sd.ok.a", "1")]));
        assert!(sd("[incorrect x]", Mode::Message).is_err());
        assert!(sd("[a b=\"unterminated] x", Mode::Header).is_err());
        assert!(sd("[]x", Mode::Header).is_err());
    }
}
