//! Query text to a tantivy query.
//!
//! The text is parsed with tantivy's grammar; the syntax tree is then walked
//! here rather than handed to `QueryParser` whole, so that event names map to
//! schema fields (`timestamp` → `ts`, unknown names → `fields.<name>`), terms
//! with `*` become wildcard queries (also inside `fields`), `NOT x` alone
//! means "everything but x", and errors point at the offending text. Leaves
//! without wildcards still go through `QueryParser`, for its typing of
//! numbers, dates and JSON values.

use std::net::{IpAddr, Ipv6Addr};
use std::ops::Bound;

use hark_event::{Facility, Severity};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, Query, QueryParser, QueryParserError, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputBound, UserInputLeaf};
use tantivy::schema::{Field, FieldType, IndexRecordOption, Schema, Term};
use tantivy::tokenizer::TokenizerManager;

use crate::QueryError;
use crate::index::{SchemaFields, ip_field_name, names, resolve_user_field, to_v6};

/// Compiles query text against the split schema.
pub(crate) struct QueryCompiler {
    parser: QueryParser,
    schema: Schema,
}

/// A compiled query.
pub(crate) enum Compiled {
    /// Matches every event (empty query or `*`).
    All,
    /// Anything else.
    Query(Box<dyn Query>),
}

impl Compiled {
    /// The query as a tantivy query.
    pub fn into_query(self) -> Box<dyn Query> {
        match self {
            Compiled::All => Box::new(AllQuery),
            Compiled::Query(q) => q,
        }
    }
}

impl QueryCompiler {
    /// A compiler for `schema`, searching `message` when no field is named.
    pub fn new(schema: &Schema, fields: &SchemaFields) -> Self {
        let mut parser = QueryParser::new(
            schema.clone(),
            vec![fields.message],
            TokenizerManager::default(),
        );
        parser.set_conjunction_by_default();
        QueryCompiler {
            parser,
            schema: schema.clone(),
        }
    }

    /// Compiles `text`.
    pub fn compile(&self, text: &str) -> Result<Compiled, QueryError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "*" {
            return Ok(Compiled::All);
        }
        let ast = tantivy::query_grammar::parse_query(text).map_err(|_| syntax_error(text))?;
        if is_match_all(&ast) {
            return Ok(Compiled::All);
        }
        let ctx = Ctx { text };
        Ok(Compiled::Query(
            self.build(&ctx, ast)?
                .unwrap_or_else(|| Box::new(EmptyQuery)),
        ))
    }

    fn build(
        &self,
        ctx: &Ctx<'_>,
        ast: UserInputAst,
    ) -> Result<Option<Box<dyn Query>>, QueryError> {
        match ast {
            UserInputAst::Clause(subs) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(subs.len());
                for (occur, sub) in subs {
                    if let Some(q) = self.build(ctx, sub)? {
                        clauses.push((occur.unwrap_or(Occur::Must), q));
                    }
                }
                if clauses.is_empty() {
                    return Ok(None);
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
                    return Ok(clauses.pop().map(|(_, q)| q));
                }
                Ok(Some(Box::new(BooleanQuery::new(clauses))))
            }
            UserInputAst::Boost(inner, _) => self.build(ctx, *inner),
            UserInputAst::Leaf(leaf) => self.leaf(ctx, *leaf),
        }
    }

    fn leaf(
        &self,
        ctx: &Ctx<'_>,
        leaf: UserInputLeaf,
    ) -> Result<Option<Box<dyn Query>>, QueryError> {
        match leaf {
            UserInputLeaf::All => Ok(Some(Box::new(AllQuery))),
            UserInputLeaf::Literal(mut lit) => {
                let user = lit.field_name.clone();
                let path = target(user.as_deref());
                if lit.delimiter == Delimiter::None && has_wildcard(&lit.phrase) {
                    return self
                        .wildcard(ctx, user.as_deref(), &path, &lit.phrase)
                        .map(Some);
                }
                if let Some(q) = self.address(user.as_deref(), &lit.phrase) {
                    return Ok(Some(q));
                }
                lit.phrase = normalize_value(&path, &lit.phrase);
                let at = ctx.locate(user.as_deref(), &lit.phrase);
                let flag_unset = is_flag(&path) && lit.phrase.parse() == Ok(false);
                lit.field_name = Some(path);
                if flag_unset {
                    // Flags are indexed only when set.
                    lit.phrase = "true".into();
                    let set = self.delegate(UserInputLeaf::Literal(lit), user.as_deref(), at)?;
                    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                        vec![(Occur::Must, Box::new(AllQuery))];
                    clauses.extend(set.map(|q| (Occur::MustNot, q)));
                    return Ok(Some(Box::new(BooleanQuery::new(clauses))));
                }
                self.delegate(UserInputLeaf::Literal(lit), user.as_deref(), at)
            }
            UserInputLeaf::Range {
                field,
                lower,
                upper,
            } => {
                let Some(user) = field else {
                    let at = ctx.text.find('[').or_else(|| ctx.text.find('{'));
                    return Err(QueryError::Syntax {
                        message: "a range needs a field, e.g. severity_code:[0 TO 3]".into(),
                        position: at,
                    });
                };
                let path = resolve_user_field(&user);
                let at = ctx.locate(Some(&user), lower_text(&lower));
                if let Some(name) = address_field(&user) {
                    return self
                        .address_range(name, &user, &lower, &upper, at)
                        .map(Some);
                }
                let leaf = UserInputLeaf::Range {
                    field: Some(path),
                    lower,
                    upper,
                };
                self.delegate(leaf, Some(&user), at)
            }
            UserInputLeaf::Set { field, elements } => {
                let path = target(field.as_deref());
                let at = ctx.locate(field.as_deref(), "IN");
                let elements = elements.iter().map(|e| normalize_value(&path, e)).collect();
                let leaf = UserInputLeaf::Set {
                    field: Some(path),
                    elements,
                };
                self.delegate(leaf, field.as_deref(), at)
            }
            UserInputLeaf::Exists { field } => {
                let path = resolve_user_field(&field);
                match path.as_str() {
                    // Every event has these; they are not fast fields.
                    names::MESSAGE | names::TRUNCATED | names::PARSE_ERROR => {
                        Ok(Some(Box::new(AllQuery)))
                    }
                    _ => {
                        let at = ctx.locate(Some(&field), "*");
                        self.delegate(UserInputLeaf::Exists { field: path }, Some(&field), at)
                    }
                }
            }
            UserInputLeaf::Regex { field, pattern } => {
                let path = target(field.as_deref());
                let at = ctx.locate(field.as_deref(), &pattern);
                self.regex(field.as_deref(), &path, &pattern, at).map(Some)
            }
        }
    }

    /// The query for `value` on an ECS address field: one address, or a
    /// CIDR block as the range of its addresses. `None` when the field is
    /// not an address field or the value is no address, and the value is
    /// matched as text; a block on a split written before the IP fields
    /// existed matches nothing there.
    fn address(&self, user_field: Option<&str>, value: &str) -> Option<Box<dyn Query>> {
        let name = address_field(user_field?)?;
        let (lo, hi) = cidr_bounds(value)?;
        let Some(field) = self.ip_field(name) else {
            if lo == hi {
                // An exact address is still found as text in older splits.
                return None;
            }
            return Some(Box::new(EmptyQuery));
        };
        if lo == hi {
            return Some(Box::new(TermQuery::new(
                Term::from_field_ip_addr(field, lo),
                IndexRecordOption::Basic,
            )));
        }
        Some(Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_ip_addr(field, lo)),
            Bound::Included(Term::from_field_ip_addr(field, hi)),
        )))
    }

    /// `source.ip:[10.0.0.1 TO 10.0.0.255]`, `source.ip:>=10.0.0.0`.
    fn address_range(
        &self,
        name: &str,
        user: &str,
        lower: &UserInputBound,
        upper: &UserInputBound,
        at: Option<usize>,
    ) -> Result<Box<dyn Query>, QueryError> {
        let Some(field) = self.ip_field(name) else {
            return Ok(Box::new(EmptyQuery));
        };
        let bound = |b: &UserInputBound| -> Result<Bound<Term>, QueryError> {
            let term = |text: &str| {
                text.parse::<IpAddr>()
                    .map(|ip| Term::from_field_ip_addr(field, to_v6(ip)))
                    .map_err(|_| QueryError::Syntax {
                        message: format!("{user}: {text:?} is not an IP address"),
                        position: at,
                    })
            };
            Ok(match b {
                UserInputBound::Inclusive(t) => Bound::Included(term(t)?),
                UserInputBound::Exclusive(t) => Bound::Excluded(term(t)?),
                UserInputBound::Unbounded => Bound::Unbounded,
            })
        };
        Ok(Box::new(RangeQuery::new(bound(lower)?, bound(upper)?)))
    }

    /// The IP field of an ECS address field, when this schema has it.
    fn ip_field(&self, name: &str) -> Option<Field> {
        self.schema.get_field(&ip_field_name(name)?).ok()
    }

    /// Lets tantivy's parser build a leaf that needs no rewriting.
    fn delegate(
        &self,
        leaf: UserInputLeaf,
        user_field: Option<&str>,
        at: Option<usize>,
    ) -> Result<Option<Box<dyn Query>>, QueryError> {
        let q = self
            .parser
            .build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(leaf)))
            .map_err(|e| QueryError::Syntax {
                message: match user_field {
                    Some(f) => format!("{f}: {}", describe(&e)),
                    None => describe(&e),
                },
                position: at,
            })?;
        // A leaf that analyzes to no terms (only punctuation) constrains nothing.
        if q.is::<EmptyQuery>() {
            return Ok(None);
        }
        Ok(Some(q))
    }

    fn wildcard(
        &self,
        ctx: &Ctx<'_>,
        user_field: Option<&str>,
        path: &str,
        pattern: &str,
    ) -> Result<Box<dyn Query>, QueryError> {
        let at = ctx.locate(user_field, pattern);
        let lowercase = path == names::MESSAGE;
        let regex = wildcard_to_regex(pattern, lowercase);
        self.regex(user_field, path, &regex, at)
    }

    /// A query matching terms of `path` (a text field or a `fields` key) against `regex`.
    fn regex(
        &self,
        user_field: Option<&str>,
        path: &str,
        regex: &str,
        at: Option<usize>,
    ) -> Result<Box<dyn Query>, QueryError> {
        let shown = user_field.unwrap_or(names::MESSAGE);
        let bad = |message: String| QueryError::Syntax {
            message,
            position: at,
        };
        let (field, json_path) = self
            .schema
            .find_field(path)
            .ok_or_else(|| bad(format!("unknown field {shown}")))?;
        let full = match self.schema.get_field_entry(field).field_type() {
            FieldType::Str(_) if json_path.is_empty() => regex.to_owned(),
            FieldType::JsonObject(_) if !json_path.is_empty() => {
                let mut term = Term::from_field_json_path(field, json_path, true);
                term.append_type_and_str("");
                let prefix = String::from_utf8_lossy(term.serialized_value_bytes()).into_owned();
                format!("{}{regex}", escape_regex(&prefix))
            }
            _ => {
                return Err(bad(format!(
                    "{shown}: wildcards and regular expressions work on text fields only"
                )));
            }
        };
        RegexQuery::from_pattern(&full, field)
            .map(|q| Box::new(q) as Box<dyn Query>)
            .map_err(|e| bad(format!("{shown}: {e}")))
    }
}

/// The query text, for locating errors.
struct Ctx<'a> {
    text: &'a str,
}

impl Ctx<'_> {
    /// Best guess at the byte offset of a leaf: its `field:` prefix, or its text.
    fn locate(&self, field: Option<&str>, value: &str) -> Option<usize> {
        field
            .and_then(|f| self.text.find(&format!("{f}:")))
            .or_else(|| (!value.is_empty()).then(|| self.text.find(value)).flatten())
    }
}

fn is_match_all(ast: &UserInputAst) -> bool {
    match ast {
        UserInputAst::Leaf(leaf) => matches!(**leaf, UserInputLeaf::All),
        UserInputAst::Clause(subs) => {
            subs.len() == 1
                && subs[0].0.is_none_or(|o| o != Occur::MustNot)
                && is_match_all(&subs[0].1)
        }
        UserInputAst::Boost(inner, _) => is_match_all(inner),
    }
}

/// Whether `path` is one of the boolean flags, indexed only when true.
fn is_flag(path: &str) -> bool {
    path == names::TRUNCATED || path == names::PARSE_ERROR
}

/// The schema path a leaf searches: `message` when no field is named.
fn target(user_field: Option<&str>) -> String {
    user_field.map_or_else(|| names::MESSAGE.to_owned(), resolve_user_field)
}

/// The ECS address field a user's field name is, if it is one.
fn address_field(user: &str) -> Option<&'static str> {
    let name = user.strip_prefix("fields.").unwrap_or(user);
    hark_parse::ecs::IP_FIELDS
        .iter()
        .find(|f| **f == name)
        .copied()
}

/// The first and last address of `text`: an address (both the same) or a
/// CIDR block (`10.0.0.0/8`, `2001:db8::/32`), as tantivy keeps addresses.
fn cidr_bounds(text: &str) -> Option<(Ipv6Addr, Ipv6Addr)> {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len.parse::<u32>().ok()?)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let v6 = u128::from(to_v6(ip));
    let bits = match (ip, len) {
        (_, None) => 128,
        (IpAddr::V4(_), Some(n)) if n <= 32 => 96 + n,
        (IpAddr::V6(_), Some(n)) if n <= 128 => n,
        _ => return None,
    };
    let host_mask = u128::MAX.checked_shr(bits).unwrap_or(0);
    Some((
        Ipv6Addr::from(v6 & !host_mask),
        Ipv6Addr::from(v6 | host_mask),
    ))
}

fn lower_text(bound: &UserInputBound) -> &str {
    bound.term_str()
}

/// Severity and facility are stored by canonical name; accept aliases and codes.
fn normalize_value(path: &str, value: &str) -> String {
    let canonical = match path {
        names::SEVERITY => Severity::parse(value).map(Severity::name),
        names::FACILITY => Facility::parse(value).map(Facility::name),
        _ => None,
    };
    canonical.map_or_else(|| value.to_owned(), str::to_owned)
}

/// Whether a term has an unescaped `*`.
fn has_wildcard(term: &str) -> bool {
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

/// `web*` → `web.*`, every other character literal (`\*` is a literal star).
fn wildcard_to_regex(pattern: &str, lowercase: bool) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut escaped = false;
    for c in pattern.chars() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '*') => out.push_str(".*"),
            (_, c) => {
                escaped = false;
                let c = if lowercase {
                    c.to_lowercase().next().unwrap_or(c)
                } else {
                    c
                };
                push_literal(&mut out, c);
            }
        }
    }
    out
}

fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        push_literal(&mut out, c);
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{:02X}", c as u32));
    }
}

/// Says what a value should have looked like, in the words of the query language.
fn describe(e: &QueryParserError) -> String {
    match e {
        QueryParserError::ExpectedInt(_) => "expected a whole number".into(),
        QueryParserError::ExpectedFloat(_) => "expected a number".into(),
        QueryParserError::ExpectedBool(_) => "expected true or false".into(),
        QueryParserError::DateFormatError(_) => {
            "expected an RFC 3339 timestamp such as 2026-01-01T00:00:00Z".into()
        }
        QueryParserError::RangeMustNotHavePhrase => "a range bound cannot be a phrase".into(),
        QueryParserError::PhrasePrefixRequiresAtLeastTwoTerms { .. } => {
            "a quoted prefix needs at least two words; use a wildcard such as word*".into()
        }
        other => other.to_string(),
    }
}

/// A syntax error, located with tantivy's lenient parser when it can.
fn syntax_error(text: &str) -> QueryError {
    let (_, errors) = tantivy::query_grammar::parse_query_lenient(text);
    match errors.into_iter().next() {
        // An unclosed bracket or quote is best shown where it opens.
        Some(e) => QueryError::Syntax {
            message: format!("invalid query: {}", e.message),
            position: unbalanced(text).or(Some(e.pos.min(text.len()))),
        },
        None => QueryError::Syntax {
            message: "invalid query".into(),
            position: unbalanced(text).or_else(|| first_bad_token(text)),
        },
    }
}

/// Start of the first whitespace-separated token after which the text no longer parses.
fn first_bad_token(text: &str) -> Option<usize> {
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, c.is_whitespace()) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                if tantivy::query_grammar::parse_query(&text[..i]).is_err() {
                    return Some(s);
                }
                start = None;
            }
            _ => {}
        }
    }
    None
}

/// Where an unbalanced quote or bracket starts, if there is one.
fn unbalanced(text: &str) -> Option<usize> {
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut in_quote: Option<usize> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_quote = if in_quote.is_some() { None } else { Some(i) },
            _ if in_quote.is_some() => {}
            '(' | '[' | '{' => stack.push((c, i)),
            // Popping in the guard: a closer without an opener is the problem.
            ')' | ']' | '}' if stack.pop().is_none() => return Some(i),
            _ => {}
        }
    }
    in_quote.or_else(|| stack.first().map(|(_, i)| *i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_regexes() {
        assert_eq!(wildcard_to_regex("web*", false), "web.*");
        assert_eq!(wildcard_to_regex("*.Example", false), ".*\\x2EExample");
        assert_eq!(wildcard_to_regex("Fail*", true), "fail.*");
        assert_eq!(wildcard_to_regex("a\\*b*", false), "a\\x2Ab.*");
        assert!(has_wildcard("web*"));
        assert!(!has_wildcard("web\\*"));
    }

    #[test]
    fn unbalanced_brackets_are_found() {
        assert_eq!(unbalanced("a AND (b"), Some(6));
        assert_eq!(unbalanced("msg:\"abc"), Some(4));
        assert_eq!(unbalanced("a)"), Some(1));
        assert_eq!(unbalanced("(a) [b TO c]"), None);
    }

    #[test]
    fn severity_aliases_are_normalized() {
        assert_eq!(normalize_value("severity", "error"), "err");
        assert_eq!(normalize_value("severity", "3"), "err");
        assert_eq!(normalize_value("facility", "LOCAL4"), "local4");
        assert_eq!(normalize_value("host", "Error"), "Error");
    }
}
