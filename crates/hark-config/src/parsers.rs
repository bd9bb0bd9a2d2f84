//! `[parsers.NAME]` (user-defined body parsers) and `[enrich]` (names,
//! places and owners added to addresses).
//!
//! Which parsers an input runs is its `parsers` list: `"auto"` (the
//! default: every built-in format, chosen by content), built-in format
//! names, and the names of `[parsers.*]` tables, tried in order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::table::{self, Located, Node, Spans};

/// The parser list of an input that names none.
pub const AUTO: &str = "auto";

/// One user-defined parser: which events it reads and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ParserConfig {
    /// Query selecting the events it reads; empty selects every event.
    pub match_query: String,
    /// The pattern run over the message.
    pub pattern: ParserPattern,
    /// Renames of captured names (`clientip = "source.ip"`).
    pub fields: BTreeMap<String, String>,
}

/// A user-defined parser's pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ParserPattern {
    /// `grok = '%{IP:source.ip} …'`.
    Grok(String),
    /// `regex = '(?P<name>…)'`.
    Regex(String),
}

/// The keys of `[parsers.NAME]`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParserKeys {
    #[serde(rename = "match", default)]
    match_query: String,
    grok: Option<String>,
    regex: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

impl ParserConfig {
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let keys: ParserKeys = table::value(node)?;
        let pattern = match (keys.grok, keys.regex) {
            (Some(g), None) => ParserPattern::Grok(g),
            (None, Some(r)) => ParserPattern::Regex(r),
            (Some(_), Some(_)) => {
                return Err(spans.error(
                    &["parsers", name, "regex"],
                    format!("parser `{name}` has both grok and regex; keep one"),
                ));
            }
            (None, None) => {
                return Err(spans.error(
                    &["parsers", name],
                    format!(
                        "parser `{name}` needs a pattern: grok = '%{{IP:source.ip}} …' or \
                         regex = '(?P<user>\\w+) …'"
                    ),
                ));
            }
        };
        Ok(ParserConfig {
            match_query: keys.match_query,
            pattern,
            fields: keys.fields,
        })
    }
}

/// `[enrich]`: what is added to the addresses of events, all optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// Names of address blocks (`"10.0.0.0/8" = "internal"`), added as
    /// `source.network.name` and `destination.network.name`.
    #[serde(default)]
    pub networks: BTreeMap<String, String>,
    /// MaxMind databases (City or Country, and ASN), each recognised by
    /// its metadata: `*.geo.*` and `*.as.*` fields.
    #[serde(default)]
    pub geoip: Vec<PathBuf>,
}

impl EnrichConfig {
    /// The first entry of `networks` that is not a block or an address,
    /// with the message to show.
    pub(crate) fn bad_network(&self) -> Option<(&str, String)> {
        self.networks.keys().find_map(|block| {
            let one = std::iter::once((block.as_str(), ""));
            hark_parse::enrich::Networks::new(one).err().map(|e| {
                (
                    block.as_str(),
                    format!(
                        "enrich.networks: {e}; write a block like \"10.0.0.0/8\" or \"2001:db8::/32\", \
                         or one address"
                    ),
                )
            })
        })
    }
}

/// Why a `[parsers.NAME]` table does not give a working parser, and the key to blame.
#[derive(Debug, thiserror::Error)]
pub enum ParserBuildError {
    /// The `match` query does not compile.
    #[error("parser {parser}: match: {source}")]
    Match {
        /// The parser's name.
        parser: String,
        /// What is wrong with the query.
        source: hark_parse::user::MatchError,
    },
    /// The pattern or the renames do not compile.
    #[error(transparent)]
    Pattern(#[from] hark_parse::user::UserParserError),
}

impl ParserBuildError {
    /// The key of `[parsers.NAME]` the error is about.
    pub fn key(&self, cfg: &ParserConfig) -> &'static str {
        use hark_parse::user::UserParserError as E;
        match self {
            ParserBuildError::Match { .. } => "match",
            ParserBuildError::Pattern(E::UnknownRename { .. } | E::ReservedField { .. }) => {
                "fields"
            }
            ParserBuildError::Pattern(_) => match cfg.pattern {
                ParserPattern::Grok(_) => "grok",
                ParserPattern::Regex(_) => "regex",
            },
        }
    }
}

impl ParserConfig {
    /// The parser this table describes, called `name`.
    pub fn build(&self, name: &str) -> Result<hark_parse::user::UserParser, ParserBuildError> {
        use hark_parse::user::{Matcher, Pattern, UserParser, UserParserSpec};
        let matcher =
            Matcher::new(&self.match_query).map_err(|source| ParserBuildError::Match {
                parser: name.to_owned(),
                source,
            })?;
        let pattern = match &self.pattern {
            ParserPattern::Grok(g) => Pattern::Grok(g.clone()),
            ParserPattern::Regex(r) => Pattern::Regex(r.clone()),
        };
        let spec = UserParserSpec {
            matcher,
            pattern,
            renames: self.fields.clone(),
        };
        Ok(UserParser::new(name, spec)?)
    }
}
