//! Text tests a match leaf applies: the message's words, and `*` wildcards.
//!
//! The message is split into words the way the search index splits it
//! (runs of letters and digits, lower-cased, words of 40 bytes or more
//! dropped), so a `match` query finds the same events the search bar would.

/// Words of the index are shorter than this many bytes; longer runs are not
/// indexed, so they cannot be searched for either.
const MAX_WORD_BYTES: usize = 40;

/// The message's words, lower-cased, in order.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() < MAX_WORD_BYTES)
        .map(str::to_lowercase)
        .collect()
}

/// Whether `needle` occurs in `haystack` as consecutive words.
pub(crate) fn contains_phrase(haystack: &[String], needle: &[String]) -> bool {
    match needle.len() {
        0 => true,
        1 => haystack.iter().any(|w| *w == needle[0]),
        n => haystack.windows(n).any(|win| win == needle),
    }
}

/// Whether a query term has an unescaped `*`.
pub(crate) fn has_wildcard(term: &str) -> bool {
    let mut escaped = false;
    for c in term.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '*') => return true,
            _ => {}
        }
    }
    false
}

/// A query term with its backslash escapes resolved (`web\*1` → `web*1`).
pub(crate) fn unescape(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    let mut escaped = false;
    for c in term.chars() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (_, c) => {
                escaped = false;
                out.push(c);
            }
        }
    }
    out
}

/// A pattern where `*` stands for any run of characters (`\*` is a star).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// The literal pieces between stars, in order; there is a star between
    /// each two pieces, so `a*b*` is `["a", "b", ""]`.
    pieces: Vec<String>,
}

impl Glob {
    /// Reads `pattern`, lower-casing its literal parts when `lowercase`.
    pub(crate) fn new(pattern: &str, lowercase: bool) -> Glob {
        let mut pieces = vec![String::new()];
        let mut escaped = false;
        for c in pattern.chars() {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '*') => pieces.push(String::new()),
                (_, c) => {
                    escaped = false;
                    if let Some(piece) = pieces.last_mut() {
                        if lowercase {
                            piece.extend(c.to_lowercase());
                        } else {
                            piece.push(c);
                        }
                    }
                }
            }
        }
        Glob { pieces }
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            // No star: the prefix must be all of the text.
            return remaining.is_empty();
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_the_index() {
        assert_eq!(
            words("Failed password for ROOT from 10.0.0.1 port 22"),
            [
                "failed", "password", "for", "root", "from", "10", "0", "0", "1", "port", "22"
            ]
        );
        assert_eq!(words("Ünïcode—Straße"), ["ünïcode", "straße"]);
        let long = "x".repeat(40);
        assert_eq!(words(&format!("a {long} b")), ["a", "b"]);
    }

    #[test]
    fn phrases_are_consecutive_words() {
        let hay = words("connection closed by peer");
        assert!(contains_phrase(&hay, &words("closed by")));
        assert!(!contains_phrase(&hay, &words("closed peer")));
        assert!(contains_phrase(&hay, &[]));
    }

    #[test]
    fn globs_match_whole_values() {
        let g = Glob::new("web*", false);
        assert!(g.matches("web"));
        assert!(g.matches("web01"));
        assert!(!g.matches("aweb01"));
        let g = Glob::new("*db*01", false);
        assert!(g.matches("proddb-eu01"));
        assert!(!g.matches("proddb-eu02"));
        let g = Glob::new("a*b*a", false);
        assert!(g.matches("aba"));
        assert!(g.matches("abba"));
        assert!(!g.matches("ab"));
        let g = Glob::new(r"web\*1", false);
        assert!(g.matches("web*1"));
        assert!(!g.matches("web01"));
        assert!(Glob::new("Fail*", true).matches("failed"));
        assert!(!Glob::new("Fail*", false).matches("failed"));
    }

    #[test]
    fn escapes() {
        assert!(has_wildcard("a*"));
        assert!(!has_wildcard(r"a\*"));
        assert_eq!(unescape(r"a\*b\\c"), r"a*b\c");
    }
}
