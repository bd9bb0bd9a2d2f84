//! `[parsers.NAME]` (user-defined body parsers) and `[enrich]` (names,
//! places and owners added to addresses).
//!
//! Which parsers an input runs is its `parsers` list: `"auto"` (the
//! default: every built-in format, chosen by content), built-in format
//! names, and the names of `[parsers.*]` tables, tried in order.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use hark_event::parse::EventParser;

use serde::Deserialize;

use crate::table::{self, Located, Node, Spans};

/// The parser list of an input that names none.
pub const AUTO: &str = "auto";

/// One user-defined parser: which events it reads and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ParserConfig {
    /// Query selecting the events it reads; empty selects every event.
    pub match_query: String,
    /// What runs over the selected events.
    pub pattern: ParserPattern,
    /// Renames of captured names (`clientip = "source.ip"`).
    pub fields: BTreeMap<String, String>,
}

/// What a user-defined parser runs on the events it selects.
#[derive(Debug, Clone, PartialEq)]
pub enum ParserPattern {
    /// `format = "fortigate"`: a built-in format, forced on the selected events.
    Format(String),
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
    format: Option<String>,
    grok: Option<String>,
    regex: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

impl ParserConfig {
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let keys: ParserKeys = table::value(node)?;
        let given: Vec<(&str, ParserPattern)> = [
            keys.format.map(|f| ("format", ParserPattern::Format(f))),
            keys.grok.map(|g| ("grok", ParserPattern::Grok(g))),
            keys.regex.map(|r| ("regex", ParserPattern::Regex(r))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut given = given.into_iter();
        let Some((_, pattern)) = given.next() else {
            return Err(spans.error(
                &["parsers", name],
                format!(
                    "parser `{name}` needs a pattern: grok = '%{{IP:source.ip}} …', \
                     regex = '(?P<user>\\w+) …' or format = \"fortigate\""
                ),
            ));
        };
        if let Some((key, _)) = given.next() {
            return Err(spans.error(
                &["parsers", name, key],
                format!("parser `{name}` has more than one of format, grok and regex; keep one"),
            ));
        }
        if let ParserPattern::Format(format) = &pattern
            && hark_parse::builtin(format).is_none()
        {
            return Err(spans.error(
                &["parsers", name, "format"],
                format!(
                    "parser `{name}`: `{format}` is not a built-in format; use one of: {}",
                    hark_parse::BUILTIN.join(", ")
                ),
            ));
        }
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
    /// Name each sending peer by reverse DNS (`log.source.hostname`, and
    /// on the Sources page), resolved in the background and cached.
    #[serde(default)]
    pub reverse_dns: bool,
    /// The name servers reverse DNS asks; empty asks those of `/etc/resolv.conf`.
    #[serde(default)]
    pub dns_servers: Vec<SocketAddr>,
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
    /// `format` names no built-in format.
    #[error("parser {parser}: {format} is not a built-in format")]
    UnknownFormat {
        /// The parser's name.
        parser: String,
        /// The format asked for.
        format: String,
    },
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
            ParserBuildError::UnknownFormat { .. } => "format",
            ParserBuildError::Pattern(_) => match cfg.pattern {
                ParserPattern::Format(_) => "format",
                ParserPattern::Grok(_) => "grok",
                ParserPattern::Regex(_) => "regex",
            },
        }
    }
}

impl ParserConfig {
    /// The `match` query of the parser called `name`, compiled.
    pub fn matcher(&self, name: &str) -> Result<hark_parse::user::Matcher, ParserBuildError> {
        hark_parse::user::Matcher::new(&self.match_query).map_err(|source| {
            ParserBuildError::Match {
                parser: name.to_owned(),
                source,
            }
        })
    }

    /// The parser this table describes, called `name`: a built-in format
    /// behind the `match` query, or a grok or regex parser.
    pub fn build(&self, name: &str) -> Result<Arc<dyn EventParser>, ParserBuildError> {
        use hark_parse::user::{Pattern, UserParser, UserParserSpec};
        let matcher = self.matcher(name)?;
        let pattern = match &self.pattern {
            ParserPattern::Format(format) => {
                let format =
                    hark_parse::builtin(format).ok_or_else(|| ParserBuildError::UnknownFormat {
                        parser: name.to_owned(),
                        format: format.clone(),
                    })?;
                return Ok(Arc::new(hark_parse::MatchedStep::new(
                    name, matcher, format,
                )));
            }
            ParserPattern::Grok(g) => Pattern::Grok(g.clone()),
            ParserPattern::Regex(r) => Pattern::Regex(r.clone()),
        };
        let spec = UserParserSpec {
            matcher,
            pattern,
            renames: self.fields.clone(),
        };
        Ok(Arc::new(UserParser::new(name, spec)?))
    }
}
