//! User-defined parsers: a grok pattern or a regular expression from the
//! configuration, applied to the events a `match` query selects.
//!
//! ```toml
//! [parsers.shop_access]
//! match = 'app:shop'
//! grok = '%{IPORHOST:source.ip} %{WORD:http.request.method} %{URIPATHPARAM:url.original} %{NUMBER:http.response.status_code:int}'
//! # or: regex = '^(?P<user.name>\w+) logged in from (?P<source.ip>\S+)$'
//! # fields = { clientip = "source.ip", took = "event.duration:int" }
//! ```
//!
//! The rules:
//! - Captures become extra fields named as captured. Grok names them with
//!   `%{PATTERN:name}` (dots allowed: `source.ip`), a regex with named
//!   groups `(?P<name>…)`, whose names may contain dots too.
//! - `fields` renames captures (`clientip` → `source.ip`); a target may
//!   end with a type, `:int`, `:float` or `:bool`, which is how a regex
//!   capture gets one. Grok's `%{NUMBER:name:int}` types it in place.
//! - A typed capture whose text does not parse as its type, and every
//!   untyped capture, goes through [`Out::put`]: typed by its ECS name
//!   (`source.port` becomes a number, `source.ip` is canonicalised), kept
//!   as text when it does not fit. Empty captures are not written.
//! - A capture may not be named like a header of the event (`host`,
//!   `message`, `timestamp`…): the search would never find it under that
//!   name. Rename it in `fields`.
//! - When the matcher accepts the event and the pattern matches its
//!   message, the captures are added and the parser reports the event as
//!   recognised. When either does not, the event is left as it was, no
//!   error is recorded, and the input's next parser is tried: a pattern
//!   that fits only some of an application's lines is not a failure.
//!
//! Compilation errors name the parser and what is wrong: an unknown grok
//! pattern, a regex error and its byte offset, a rename of a name the
//! pattern does not capture, an unknown type.

mod matcher;
mod pattern;
mod text;

use std::collections::BTreeMap;

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue};

pub use matcher::{MatchError, Matcher};

use crate::Out;
use pattern::Compiled;

/// The pattern of a user-defined parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// A grok pattern over the standard pattern set (`%{IPORHOST:source.ip}`).
    Grok(String),
    /// A regular expression with named groups (`(?P<user.name>\w+)`).
    Regex(String),
}

/// A user-defined parser as the configuration describes it.
#[derive(Debug, Clone)]
pub struct UserParserSpec {
    /// Which events the parser applies to.
    pub matcher: Matcher,
    /// What it reads out of their message.
    pub pattern: Pattern,
    /// Capture name → field name, optionally ending in `:int`, `:float` or `:bool`.
    pub renames: BTreeMap<String, String>,
}

/// Why a user-defined parser could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserParserError {
    /// The grok pattern names a pattern the standard set does not have.
    #[error("parser {parser}: unknown grok pattern %{{{name}}}")]
    UnknownGrokPattern {
        /// The parser's name.
        parser: String,
        /// The pattern name.
        name: String,
    },
    /// The grok pattern does not compile.
    #[error("parser {parser}: grok pattern does not compile: {reason}")]
    Grok {
        /// The parser's name.
        parser: String,
        /// What the regex engine said.
        reason: String,
    },
    /// The regular expression does not compile.
    #[error("parser {parser}: invalid regex at byte {position}: {reason}")]
    Regex {
        /// The parser's name.
        parser: String,
        /// Byte offset of the error in the expression.
        position: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The pattern has no named capture, so it could add nothing.
    #[error(
        "parser {parser}: the pattern captures nothing; name what to keep with %{{PATTERN:field}} or (?P<field>...)"
    )]
    NoCaptures {
        /// The parser's name.
        parser: String,
    },
    /// A capture asks for a type other than int, float or bool.
    #[error("parser {parser}: capture {capture} has unknown type {ty:?}; use int, float or bool")]
    UnknownType {
        /// The parser's name.
        parser: String,
        /// The capture's name.
        capture: String,
        /// The type asked for.
        ty: String,
    },
    /// `fields` renames a name the pattern does not capture.
    #[error("parser {parser}: fields renames {capture}, which the pattern does not capture")]
    UnknownRename {
        /// The parser's name.
        parser: String,
        /// The name in `fields`.
        capture: String,
    },
    /// A capture would be stored under the name of one of the event's headers.
    #[error(
        "parser {parser}: capture {capture} would be stored as {field}, a header of every event; rename it in fields (for example {capture} = \"{capture}.original\")"
    )]
    ReservedField {
        /// The parser's name.
        parser: String,
        /// The capture's name.
        capture: String,
        /// The field it would be stored as.
        field: String,
    },
}

/// Names the search gives to the event's headers; a capture stored under
/// one of them could not be searched for.
const RESERVED: &[&str] = &[
    "timestamp",
    "received_at",
    "host",
    "app",
    "procid",
    "msgid",
    "facility",
    "severity",
    "severity_code",
    "message",
    "source",
    "input",
    "truncated",
    "parse_error",
    "fields",
];

/// The type a capture is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Int,
    Float,
    Bool,
}

impl ValueType {
    fn parse(name: &str) -> Option<ValueType> {
        match name {
            "int" => Some(ValueType::Int),
            "float" => Some(ValueType::Float),
            "bool" => Some(ValueType::Bool),
            _ => None,
        }
    }

    /// `text` as this type, if it is one.
    fn convert(self, text: &str) -> Option<FieldValue> {
        match self {
            ValueType::Int => text.parse().ok().map(FieldValue::Int),
            ValueType::Float => text
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(FieldValue::Float),
            ValueType::Bool => {
                if text.eq_ignore_ascii_case("true") {
                    Some(FieldValue::Bool(true))
                } else if text.eq_ignore_ascii_case("false") {
                    Some(FieldValue::Bool(false))
                } else {
                    None
                }
            }
        }
    }
}

/// Where one capture goes.
#[derive(Debug, Clone)]
struct Capture {
    /// The name in the pattern.
    name: String,
    /// The field written.
    field: String,
    /// The type asked for, if any.
    ty: Option<ValueType>,
}

/// A user-defined parser, ready to run in an input's parse stage.
pub struct UserParser {
    name: String,
    matcher: Matcher,
    pattern: Compiled,
    /// One entry per named capture of the pattern.
    captures: Vec<Capture>,
}

impl std::fmt::Debug for UserParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserParser")
            .field("name", &self.name)
            .field("matcher", &self.matcher.query())
            .field("captures", &self.captures)
            .finish_non_exhaustive()
    }
}

impl UserParser {
    /// Compiles the parser called `name` (its key under `[parsers]`).
    pub fn new(name: &str, spec: UserParserSpec) -> Result<UserParser, UserParserError> {
        let UserParserSpec {
            matcher,
            pattern,
            renames,
        } = spec;
        let pattern = match &pattern {
            Pattern::Grok(text) => Compiled::grok(name, text)?,
            Pattern::Regex(text) => Compiled::regex(name, text)?,
        };
        let names = pattern.capture_names();
        if names.is_empty() {
            return Err(UserParserError::NoCaptures {
                parser: name.to_owned(),
            });
        }
        if let Some(capture) = renames
            .keys()
            .find(|k| !names.iter().any(|n| &n.name == *k))
        {
            return Err(UserParserError::UnknownRename {
                parser: name.to_owned(),
                capture: capture.clone(),
            });
        }
        let mut captures = Vec::with_capacity(names.len());
        for capture in names {
            let (field, renamed_ty) = match renames.get(&capture.name) {
                Some(target) => split_type(target),
                None => (capture.name.as_str(), None),
            };
            let ty = match renamed_ty.or(capture.ty.as_deref()) {
                None => None,
                Some(ty) => {
                    Some(
                        ValueType::parse(ty).ok_or_else(|| UserParserError::UnknownType {
                            parser: name.to_owned(),
                            capture: capture.name.clone(),
                            ty: ty.to_owned(),
                        })?,
                    )
                }
            };
            if RESERVED.contains(&field) {
                return Err(UserParserError::ReservedField {
                    parser: name.to_owned(),
                    capture: capture.name.clone(),
                    field: field.to_owned(),
                });
            }
            captures.push(Capture {
                field: field.to_owned(),
                name: capture.name,
                ty,
            });
        }
        Ok(UserParser {
            name: name.to_owned(),
            matcher,
            pattern,
            captures,
        })
    }

    /// The events this parser applies to.
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }
}

/// `field:type` → (`field`, `type`); a target without a colon has no type.
fn split_type(target: &str) -> (&str, Option<&str>) {
    match target.rsplit_once(':') {
        Some((field, ty)) => (field, Some(ty)),
        None => (target, None),
    }
}

impl EventParser for UserParser {
    fn name(&self) -> &str {
        &self.name
    }

    fn parse(&self, event: &mut Event) -> bool {
        if !self.matcher.matches(event) {
            return false;
        }
        let mut added = Vec::new();
        let mut out = Out::new(&mut added);
        let matched = self.pattern.captures(&event.message, |name, value| {
            let Some(capture) = self.captures.iter().find(|c| c.name == name) else {
                return;
            };
            if value.is_empty() {
                return;
            }
            match capture.ty.and_then(|ty| ty.convert(value)) {
                Some(typed) => out.put_value(&capture.field, typed),
                None => out.put(&capture.field, value),
            }
        });
        if matched {
            event.fields.append(&mut added);
        }
        matched
    }
}

#[cfg(test)]
mod tests;
