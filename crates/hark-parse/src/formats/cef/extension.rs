//! The two halves of a CEF line: the `|`-separated header and the
//! `key=value` extension, with their escapes undone.

use std::borrow::Cow;

/// One header field and the offset just past its closing `|`, or `None`
/// when the text ends before a closing `|`.
pub(crate) fn header_field(text: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = text.as_bytes();
    let mut i = start;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() && matches!(b[i + 1], b'|' | b'\\') => {
                escaped = true;
                i += 2;
            }
            b'|' => {
                let raw = &text[start..i];
                let value = if escaped {
                    Cow::Owned(unescape_header(raw))
                } else {
                    Cow::Borrowed(raw)
                };
                return Some((value, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

fn unescape_header(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('|' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `key=value` pairs of an extension, in order.
///
/// A value runs until the next ` key=` (a space, a key of characters other
/// than space, `=` and `\`, then an unescaped `=`), so values may hold
/// spaces; an `=` not preceded by such a key stays in the value. Trailing
/// spaces of a value are dropped.
pub(super) struct Pairs<'a> {
    text: &'a str,
    /// Start of the next key, or `text.len()` when done.
    pos: usize,
}

impl<'a> Pairs<'a> {
    /// The pairs of `text` (the extension, after the header's last `|`).
    pub(super) fn new(text: &'a str) -> Pairs<'a> {
        let pos = text.len() - text.trim_start_matches([' ', '|']).len();
        Pairs { text, pos }
    }
}

/// One item of an extension: a pair, or text that is not `key=value`.
pub(super) enum Item<'a> {
    /// A key and its unescaped value.
    Pair(&'a str, Cow<'a, str>),
    /// Text with no `key=` at the given offset.
    Stray(usize),
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        let b = self.text.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        let key_start = self.pos;
        let key_len = b[key_start..]
            .iter()
            .take_while(|&&c| !matches!(c, b' ' | b'=' | b'\\'))
            .count();
        let eq = key_start + key_len;
        if key_len == 0 || b.get(eq) != Some(&b'=') {
            self.pos = b.len();
            return Some(Item::Stray(key_start));
        }
        let value_start = eq + 1;
        let (value_end, next) = value_end(b, value_start);
        self.pos = next;
        let key = &self.text[key_start..eq];
        let raw = self.text[value_start..value_end].trim_end_matches(' ');
        let value = if raw.contains('\\') {
            Cow::Owned(unescape_value(raw))
        } else {
            Cow::Borrowed(raw)
        };
        Some(Item::Pair(key, value))
    }
}

/// End of the value starting at `start`, and the start of the next key.
fn value_end(b: &[u8], start: usize) -> (usize, usize) {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'=' => {
                // The key is the run of key bytes before this `=`; it starts
                // a new pair only when a space precedes it.
                let key_start = b[start..i]
                    .iter()
                    .rposition(|&c| matches!(c, b' ' | b'=' | b'\\'))
                    .map_or(start, |p| start + p + 1);
                if key_start > start && key_start < i && b[key_start - 1] == b' ' {
                    return (key_start - 1, key_start);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    (b.len(), b.len())
}

fn unescape_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('=') => out.push('='),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        Pairs::new(text)
            .filter_map(|item| match item {
                Item::Pair(k, v) => Some((k.to_owned(), v.into_owned())),
                Item::Stray(_) => None,
            })
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn values_run_to_the_next_key() {
        assert_eq!(
            pairs("msg=Detected a threat. No action needed   spt=1232"),
            vec![
                pair("msg", "Detected a threat. No action needed"),
                pair("spt", "1232")
            ]
        );
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(
            pairs(r"src=ip\=10.0.0.1 path=\\home\\ msg=a\nb act=blocked a \= x"),
            vec![
                pair("src", "ip=10.0.0.1"),
                pair("path", r"\home\"),
                pair("msg", "a\nb"),
                pair("act", "blocked a = x"),
            ]
        );
    }

    #[test]
    fn an_equals_sign_inside_a_word_stays_in_the_value() {
        assert_eq!(
            pairs("request=http://x/?a=b&c=d dst=1.1.1.1"),
            vec![pair("request", "http://x/?a=b&c=d"), pair("dst", "1.1.1.1")]
        );
    }

    #[test]
    fn empty_values_and_stray_text() {
        assert_eq!(
            pairs("shost= src=1.1.1.1"),
            vec![pair("shost", ""), pair("src", "1.1.1.1")]
        );
        let items: Vec<_> = Pairs::new("=0.0.0.0").collect();
        assert!(matches!(items.as_slice(), [Item::Stray(0)]));
    }

    #[test]
    fn header_escapes() {
        let text = r"worm \| successfully \\ stopped|10|";
        let (v, next) = header_field(text, 0).expect("field");
        assert_eq!(v, r"worm | successfully \ stopped");
        assert_eq!(&text[next..], "10|");
        assert!(header_field("no bar", 0).is_none());
    }

    #[test]
    fn trailing_backslash_is_kept() {
        assert_eq!(pairs("a=b\\"), vec![pair("a", "b\\")]);
        assert_eq!(unescape_header("x\\"), "x\\");
    }
}
