//! PAN-OS's CSV: comma-separated values, a value in double quotes may hold
//! commas, and `""` inside quotes is one `"`.

use std::borrow::Cow;

/// The values of one CSV line, in order, with the offset each starts at.
pub(super) struct Columns<'a> {
    text: &'a str,
    /// Start of the next value; `None` once the last value was returned.
    pos: Option<usize>,
}

/// A value that opened a quote and never closed it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unterminated {
    /// Offset of the opening quote.
    pub(super) offset: usize,
}

impl<'a> Columns<'a> {
    pub(super) fn new(text: &'a str) -> Columns<'a> {
        Columns { text, pos: Some(0) }
    }
}

impl<'a> Iterator for Columns<'a> {
    type Item = Result<(usize, Cow<'a, str>), Unterminated>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos?;
        let b = self.text.as_bytes();
        if b.get(start) != Some(&b'"') {
            let end = memchr::memchr(b',', &b[start..]).map(|n| start + n);
            self.pos = end.map(|e| e + 1);
            let end = end.unwrap_or(b.len());
            return Some(Ok((start, Cow::Borrowed(&self.text[start..end]))));
        }
        let mut i = start + 1;
        let mut doubled = false;
        loop {
            let Some(q) = memchr::memchr(b'"', &b[i..]) else {
                self.pos = None;
                return Some(Err(Unterminated { offset: start }));
            };
            let q = i + q;
            if b.get(q + 1) == Some(&b'"') {
                doubled = true;
                i = q + 2;
                continue;
            }
            let inner = &self.text[start + 1..q];
            let value = if doubled {
                Cow::Owned(inner.replace("\"\"", "\""))
            } else {
                Cow::Borrowed(inner)
            };
            // Text between the closing quote and the next comma is kept out:
            // PAN-OS never writes any.
            let next = memchr::memchr(b',', &b[q + 1..]).map(|n| q + 1 + n + 1);
            self.pos = next;
            return Some(Ok((start, value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        Columns::new(text)
            .map(|r| r.expect("terminated").1.into_owned())
            .collect()
    }

    #[test]
    fn quotes_commas_and_doubled_quotes() {
        assert_eq!(
            values(r#"a,"b,c",,"say ""hi""","""",x"#),
            vec!["a", "b,c", "", r#"say "hi""#, "\"", "x"]
        );
        assert_eq!(values(""), vec![""]);
        assert_eq!(values("a,"), vec!["a", ""]);
    }

    #[test]
    fn unterminated_quote() {
        let got: Vec<_> = Columns::new(r#"a,"b,c"#).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Err(Unterminated { offset: 2 }));
    }
}
