//! Compiling a grok pattern or a regular expression, and reading its
//! captures out of a message.

use std::sync::OnceLock;

use grok::Grok;
use regex::Regex;

use super::UserParserError;

/// A compiled pattern and the names it captures.
pub(crate) enum Compiled {
    /// A grok pattern (expanded to a `fancy-regex`, which has the
    /// look-behind and atomic groups the standard patterns use).
    Grok(grok::Pattern),
    /// A regular expression of the `regex` crate.
    Regex(Regex),
}

/// One capture of a compiled pattern: its name, and the type grok's
/// `%{PATTERN:name:type}` gave it.
pub(crate) struct CaptureName {
    pub name: String,
    pub ty: Option<String>,
}

/// The standard grok patterns, loaded once.
fn grok() -> &'static Grok {
    static GROK: OnceLock<Grok> = OnceLock::new();
    GROK.get_or_init(Grok::with_default_patterns)
}

impl Compiled {
    /// Compiles a grok pattern; only the `%{PATTERN:name}` parts capture.
    pub(crate) fn grok(parser: &str, text: &str) -> Result<Compiled, UserParserError> {
        let pattern = grok()
            .compile(text, true)
            .map_err(|e| grok_error(parser, e))?;
        Ok(Compiled::Grok(pattern))
    }

    /// Compiles a regular expression; named groups capture.
    pub(crate) fn regex(parser: &str, text: &str) -> Result<Compiled, UserParserError> {
        // The syntax parser says where the error is; `Regex::new` then only
        // fails on size limits.
        if let Err(e) = regex_syntax::Parser::new().parse(text) {
            let (position, reason) = match &e {
                regex_syntax::Error::Parse(e) => (e.span().start.offset, e.kind().to_string()),
                regex_syntax::Error::Translate(e) => (e.span().start.offset, e.kind().to_string()),
                other => (0, other.to_string()),
            };
            return Err(UserParserError::Regex {
                parser: parser.to_owned(),
                position,
                reason,
            });
        }
        Regex::new(text)
            .map(Compiled::Regex)
            .map_err(|e| UserParserError::Regex {
                parser: parser.to_owned(),
                position: 0,
                reason: e.to_string(),
            })
    }

    /// The names the pattern captures, in the order of the pattern for a
    /// regex and by name for grok.
    pub(crate) fn capture_names(&self) -> Vec<CaptureName> {
        match self {
            Compiled::Grok(p) => p
                .capture_names()
                .map(|name| CaptureName {
                    name: name.to_owned(),
                    ty: p.get_extract(name).map(str::to_owned),
                })
                .collect(),
            Compiled::Regex(r) => r
                .capture_names()
                .flatten()
                .map(|name| CaptureName {
                    name: name.to_owned(),
                    ty: None,
                })
                .collect(),
        }
    }

    /// Matches `text`, calling `each` with every capture that took part in
    /// the match (by capture name); returns whether the pattern matched.
    pub(crate) fn captures(&self, text: &str, mut each: impl FnMut(&str, &str)) -> bool {
        match self {
            Compiled::Grok(p) => {
                let Some(matches) = p.match_against(text) else {
                    return false;
                };
                for (name, value) in matches.iter() {
                    each(name, value);
                }
                true
            }
            Compiled::Regex(r) => {
                let Some(caps) = r.captures(text) else {
                    return false;
                };
                for name in r.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        each(name, m.as_str());
                    }
                }
                true
            }
        }
    }
}

fn grok_error(parser: &str, e: grok::Error) -> UserParserError {
    let parser = parser.to_owned();
    let reason = match e {
        grok::Error::DefinitionNotFound(name) => {
            return UserParserError::UnknownGrokPattern { parser, name };
        }
        // The engine's message names a kind of error at an offset in the
        // expanded expression, which the user never wrote: keep the kind.
        grok::Error::RegexCompilationFailed(detail) => engine_reason(&detail),
        grok::Error::GenericCompilationFailure(detail) if detail.contains("InvalidPattern") => {
            "a %{...} reference is malformed; write %{PATTERN}, %{PATTERN:field} or %{PATTERN:field:type}".to_owned()
        }
        other => other.to_string(),
    };
    UserParserError::Grok { parser, reason }
}

/// `Regex compilation failed: ParseError(26, UnclosedOpenParen):\n…` → `unclosed open paren`.
fn engine_reason(detail: &str) -> String {
    let head = detail.split_once(":\n").map_or(detail, |(head, _)| head);
    let head = head.trim_start_matches("Regex compilation failed: ");
    let kind = head
        .strip_prefix("ParseError(")
        .and_then(|rest| rest.split_once(", "))
        .map(|(_, kind)| kind.trim_end_matches(')'))
        .filter(|kind| kind.chars().all(|c| c.is_ascii_alphanumeric()));
    let Some(kind) = kind else {
        return head.to_owned();
    };
    let mut words = String::with_capacity(kind.len() + 8);
    for (i, c) in kind.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}
