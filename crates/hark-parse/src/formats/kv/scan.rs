//! The `key=value` scanner `kv` and `fortigate` share.
//!
//! A body is a run of tokens separated by whitespace. A token of the form
//! `key=value` is a pair; its value is bare (up to the next whitespace) or
//! double-quoted, where a backslash escapes the next character (`\"`,
//! `\\`) and the quotes may hold spaces, commas and `=`. A token with no
//! `=` (prose, a stray word) is skipped. The scanner borrows from the body
//! and allocates only for a quoted value that holds an escape.

use std::borrow::Cow;

use memchr::memchr2;

/// One `key=value` pair, borrowed from the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair<'a> {
    /// The text before `=`, as written (see [`is_key`] for the names
    /// formats accept).
    pub key: &'a str,
    /// The value, unquoted and unescaped.
    pub value: Cow<'a, str>,
    /// Whether the value was written in double quotes.
    pub quoted: bool,
}

/// A quoted value that runs to the end of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unterminated {
    /// Byte offset of the opening quote.
    pub offset: usize,
}

/// Iterates over the pairs of `body`; yields `Err` once, for a quoted value
/// with no closing quote, and stops there.
pub(crate) struct Pairs<'a> {
    body: &'a str,
    /// Offset of the next byte to examine; `body.len()` once done.
    pos: usize,
}

impl<'a> Pairs<'a> {
    /// The pairs of `body`.
    pub(crate) fn new(body: &'a str) -> Pairs<'a> {
        Pairs { body, pos: 0 }
    }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<Pair<'a>, Unterminated>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.body.as_bytes();
        loop {
            while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.pos >= bytes.len() {
                return None;
            }
            let start = self.pos;
            // The key runs to `=` or whitespace, whichever comes first.
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'=' || b.is_ascii_whitespace())
                .map_or(bytes.len(), |n| start + n);
            if end >= bytes.len() || bytes[end] != b'=' || end == start {
                // A word with no `=`, or a token starting with `=`: skip it.
                self.pos = end.max(start + 1);
                while self.pos < bytes.len() && !bytes[self.pos].is_ascii_whitespace() {
                    self.pos += 1;
                }
                continue;
            }
            let key = &self.body[start..end];
            let value_start = end + 1;
            if bytes.get(value_start) == Some(&b'"') {
                return Some(self.quoted(key, value_start));
            }
            let value_end = bytes[value_start..]
                .iter()
                .position(u8::is_ascii_whitespace)
                .map_or(bytes.len(), |n| value_start + n);
            self.pos = value_end;
            return Some(Ok(Pair {
                key,
                value: Cow::Borrowed(&self.body[value_start..value_end]),
                quoted: false,
            }));
        }
    }
}

impl<'a> Pairs<'a> {
    /// Reads the quoted value whose opening quote is at `quote`.
    fn quoted(&mut self, key: &'a str, quote: usize) -> Result<Pair<'a>, Unterminated> {
        let bytes = self.body.as_bytes();
        let inner = quote + 1;
        let mut at = inner;
        let mut escaped = false;
        loop {
            let Some(n) = memchr2(b'"', b'\\', &bytes[at..]) else {
                self.pos = bytes.len();
                return Err(Unterminated { offset: quote });
            };
            let found = at + n;
            if bytes[found] == b'"' {
                self.pos = found + 1;
                let raw = &self.body[inner..found];
                let value = if escaped {
                    Cow::Owned(unescape(raw))
                } else {
                    Cow::Borrowed(raw)
                };
                return Ok(Pair {
                    key,
                    value,
                    quoted: true,
                });
            }
            // A backslash: the next byte is taken as it is.
            escaped = true;
            at = found + 2;
            if at > bytes.len() {
                self.pos = bytes.len();
                return Err(Unterminated { offset: quote });
            }
        }
    }
}

/// `raw` with `\"` and `\\` replaced by the character they escape; any
/// other backslash is kept, so a Windows path written unescaped survives.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(next @ ('"' | '\\')) => out.push(next),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Whether `key` is a field name: `[A-Za-z_][A-Za-z0-9_.-]*`.
pub(crate) fn is_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `value` as a number when it is written as one: optional `-`, then
/// digits only (no `+`, no spaces), within the range of `i64`.
pub(crate) fn integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Vec<(String, String, bool)> {
        Pairs::new(body)
            .map(|p| {
                let p = p.expect("terminated");
                (p.key.to_owned(), p.value.into_owned(), p.quoted)
            })
            .collect()
    }

    #[test]
    fn bare_and_quoted_values() {
        assert_eq!(
            pairs(r#"a=1 b="x y, z" c= d="""#),
            vec![
                ("a".into(), "1".into(), false),
                ("b".into(), "x y, z".into(), true),
                ("c".into(), "".into(), false),
                ("d".into(), "".into(), true),
            ]
        );
    }

    #[test]
    fn escapes_inside_quotes() {
        assert_eq!(
            pairs(r#"msg="say \"hi\"" path="C:\\dir\\f" raw="a\nb""#),
            vec![
                ("msg".into(), r#"say "hi""#.into(), true),
                ("path".into(), r"C:\dir\f".into(), true),
                ("raw".into(), r"a\nb".into(), true),
            ]
        );
    }

    #[test]
    fn words_without_equals_are_skipped() {
        assert_eq!(
            pairs("2016/01/01 12:34:56 legacy=true = x =y"),
            vec![("legacy".into(), "true".into(), false)]
        );
    }

    #[test]
    fn a_bare_value_may_hold_equals_and_quotes() {
        assert_eq!(
            pairs(r#"q=a=b w=it"s"#),
            vec![
                ("q".into(), "a=b".into(), false),
                ("w".into(), r#"it"s"#.into(), false),
            ]
        );
    }

    #[test]
    fn an_unterminated_quote_stops_the_scan() {
        let got: Vec<_> = Pairs::new(r#"a=1 b="open \" c=2"#).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Err(Unterminated { offset: 6 }));
        let trailing_backslash: Vec<_> = Pairs::new(r#"a="x\"#).collect();
        assert_eq!(trailing_backslash, vec![Err(Unterminated { offset: 2 })]);
    }

    #[test]
    fn non_ascii_is_kept_whole() {
        assert_eq!(
            pairs("user=\"José Ñ\" ville=Zürich"),
            vec![
                ("user".into(), "José Ñ".into(), true),
                ("ville".into(), "Zürich".into(), false),
            ]
        );
    }

    #[test]
    fn keys_and_integers() {
        assert!(is_key("source.ip"));
        assert!(is_key("_x-1"));
        assert!(!is_key("1a"));
        assert!(!is_key("a:b"));
        assert!(!is_key(""));
        assert_eq!(integer("42"), Some(42));
        assert_eq!(integer("-7"), Some(-7));
        assert_eq!(integer("+0200"), None);
        assert_eq!(integer("0x10"), None);
        assert_eq!(integer("99999999999999999999"), None);
        assert_eq!(integer("-"), None);
    }
}
