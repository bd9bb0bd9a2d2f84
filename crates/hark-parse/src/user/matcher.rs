//! [`Matcher`]: which events a user-defined parser applies to, written in
//! the query language of the search bar and tested on one event in memory.
//!
//! The rules follow the search so that a `match` finds what the same text
//! typed into the search bar would:
//! - A bare word or a `message:` term matches words of the message, case
//!   insensitively; several words (`"connection closed"`, or `10.0.0.1`,
//!   which is the words 10 0 0 1) must follow each other. `fail*` matches a
//!   word that starts with `fail`.
//! - A header field (`host`, `app`, `procid`, `msgid`, `input`, `source`)
//!   or an extra field (`source.ip`, or `fields.source.ip`) matches when its
//!   whole value equals the term, case sensitively; `*` in the term is a
//!   wildcard over the whole value, `field:*` asks that the field exists.
//!   An extra field named more than once matches if any value does; numbers
//!   and booleans are compared in their text form (`404`, `true`).
//! - `severity` and `facility` take a name, an alias (`error`, `warn`) or a
//!   code; `severity_code` takes the number. `truncated` and `parse_error`
//!   take `true` or `false`.
//! - Terms next to each other must all match (`AND` is the default);
//!   `OR`, `NOT`, `-term`, `+term` and parentheses work as in the search.
//!   A query of only negated terms matches every event but those.
//! - The empty query and `*` match every event.
//!
//! Ranges, sets, regular expressions, proximity (`"a b"~2`) and the time
//! fields are refused with an error saying so: they need the index, or
//! make no sense before an event is stored.

use hark_event::{Event, Facility, Severity};
use tantivy_query_grammar::{Delimiter, Occur, UserInputAst, UserInputLeaf, UserInputLiteral};

use super::text::{Glob, contains_phrase, has_wildcard, unescape, words};

/// A compiled `match` query, tested on events one at a time.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The query as written, for messages.
    text: String,
    /// The test; `None` matches every event.
    root: Option<Node>,
}

/// Why a `match` query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// The text is not a query.
    #[error("match {query:?}: invalid query{}{}", near(*.position), because(.reason))]
    Syntax {
        /// The query text.
        query: String,
        /// What the parser expected there, when it says.
        reason: Option<String>,
        /// Byte offset of the first place the parser could not read, when known.
        position: Option<usize>,
    },
    /// A form of the query language that a match cannot evaluate.
    #[error(
        "match {query:?}: {what} are not supported here; use field:value, wildcards, AND, OR and NOT"
    )]
    Unsupported {
        /// The query text.
        query: String,
        /// What was used (`ranges`, `sets`, `regular expressions`…).
        what: &'static str,
    },
    /// A value that cannot be what its field holds.
    #[error("match {query:?}: {field}:{value} is not {expected}")]
    BadValue {
        /// The query text.
        query: String,
        /// The field named.
        field: String,
        /// The value given.
        value: String,
        /// What the field takes.
        expected: &'static str,
    },
}

fn near(position: Option<usize>) -> String {
    position.map_or_else(String::new, |p| format!(" near byte {p}"))
}

fn because(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map_or_else(String::new, |r| format!(": {r}"))
}

/// One test of the compiled query.
#[derive(Debug, Clone)]
enum Node {
    /// Every `must` holds, no `must_not` holds, and when there is no `must`,
    /// one of `should` holds (there is always a `must` or a `should`).
    Bool {
        must: Vec<Node>,
        should: Vec<Node>,
        must_not: Vec<Node>,
    },
    /// Every event.
    All,
    /// One field and what it must hold.
    Leaf(Target, Test),
}

/// What a leaf looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Message,
    Host,
    App,
    Procid,
    Msgid,
    Input,
    Source,
    Severity,
    SeverityCode,
    Facility,
    Truncated,
    ParseError,
    /// An extra field, by name.
    Field(String),
}

/// What the value of a target must be.
#[derive(Debug, Clone)]
enum Test {
    /// The field is set.
    Exists,
    /// The whole value equals this text.
    Equals(String),
    /// The whole value matches this pattern.
    Glob(Glob),
    /// The message has these words in a row.
    Words(Vec<String>),
    /// A word of the message matches this pattern (lower case).
    WordGlob(Glob),
    /// The flag has this value.
    Flag(bool),
}

impl Matcher {
    /// Compiles `query`. The empty query matches every event.
    pub fn new(query: &str) -> Result<Matcher, MatchError> {
        let trimmed = query.trim();
        let root = if trimmed.is_empty() {
            None
        } else {
            let ast = tantivy_query_grammar::parse_query(trimmed).map_err(|_| {
                let lead = query.len() - query.trim_start().len();
                let (position, reason) = syntax_position(trimmed);
                MatchError::Syntax {
                    query: query.to_owned(),
                    position: position.map(|p| p + lead),
                    reason,
                }
            })?;
            let ctx = Ctx { query };
            ctx.node(ast)?.filter(|node| !matches!(node, Node::All))
        };
        Ok(Matcher {
            text: query.to_owned(),
            root,
        })
    }

    /// A matcher that accepts every event.
    pub fn all() -> Matcher {
        Matcher {
            text: String::new(),
            root: None,
        }
    }

    /// The query as written.
    pub fn query(&self) -> &str {
        &self.text
    }

    /// Whether this matcher accepts every event.
    pub fn is_all(&self) -> bool {
        self.root.is_none()
    }

    /// Whether `event` satisfies the query.
    pub fn matches(&self, event: &Event) -> bool {
        match &self.root {
            None => true,
            Some(node) => node.eval(&mut View::new(event)),
        }
    }
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher::all()
    }
}

/// Where the lenient parser first stumbled and what it expected, if it says.
fn syntax_position(text: &str) -> (Option<usize>, Option<String>) {
    let (_, errors) = tantivy_query_grammar::parse_query_lenient(text);
    match errors.into_iter().next() {
        Some(e) => (Some(e.pos.min(text.len())), Some(e.message)),
        None => (None, None),
    }
}

/// The query being compiled, for errors.
struct Ctx<'a> {
    query: &'a str,
}

impl Ctx<'_> {
    fn unsupported(&self, what: &'static str) -> MatchError {
        MatchError::Unsupported {
            query: self.query.to_owned(),
            what,
        }
    }

    fn bad_value(&self, field: &str, value: &str, expected: &'static str) -> MatchError {
        MatchError::BadValue {
            query: self.query.to_owned(),
            field: field.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }

    /// The node for `ast`; `None` when it constrains nothing (a term with
    /// no words, such as `"..."`), which the enclosing clause then drops.
    fn node(&self, ast: UserInputAst) -> Result<Option<Node>, MatchError> {
        match ast {
            UserInputAst::Clause(subs) => {
                let (mut must, mut should, mut must_not) = (Vec::new(), Vec::new(), Vec::new());
                for (occur, sub) in subs {
                    let Some(node) = self.node(sub)? else {
                        continue;
                    };
                    match occur {
                        None | Some(Occur::Must) => must.push(node),
                        Some(Occur::Should) => should.push(node),
                        Some(Occur::MustNot) => must_not.push(node),
                    }
                }
                if must.is_empty() && should.is_empty() {
                    if must_not.is_empty() {
                        return Ok(None);
                    }
                    must.push(Node::All);
                }
                if must.len() + should.len() == 1 && must_not.is_empty() {
                    return Ok(must.pop().or_else(|| should.pop()));
                }
                Ok(Some(Node::Bool {
                    must,
                    should,
                    must_not,
                }))
            }
            UserInputAst::Boost(inner, _) => self.node(*inner),
            UserInputAst::Leaf(leaf) => self.leaf(*leaf),
        }
    }

    fn leaf(&self, leaf: UserInputLeaf) -> Result<Option<Node>, MatchError> {
        match leaf {
            UserInputLeaf::All => Ok(Some(Node::All)),
            UserInputLeaf::Exists { field } => {
                let target = target(&field).map_err(|what| self.unsupported(what))?;
                Ok(Some(match target {
                    // Every event has a message and both flags.
                    Target::Message | Target::Truncated | Target::ParseError => Node::All,
                    target => Node::Leaf(target, Test::Exists),
                }))
            }
            UserInputLeaf::Literal(literal) => self.literal(literal),
            UserInputLeaf::Range { .. } => Err(self.unsupported("ranges")),
            UserInputLeaf::Set { .. } => Err(self.unsupported("sets (IN [...])")),
            UserInputLeaf::Regex { .. } => Err(self.unsupported("regular expressions")),
        }
    }

    fn literal(&self, literal: UserInputLiteral) -> Result<Option<Node>, MatchError> {
        let UserInputLiteral {
            field_name,
            phrase,
            delimiter,
            slop,
            prefix,
        } = literal;
        if slop > 0 {
            return Err(self.unsupported("proximity searches (~N)"));
        }
        if prefix {
            return Err(self.unsupported("quoted prefixes (\"...\"*)"));
        }
        let target = match field_name.as_deref() {
            None => Target::Message,
            Some(name) => target(name).map_err(|what| self.unsupported(what))?,
        };
        let shown = field_name.as_deref().unwrap_or("message");
        let wildcard = delimiter == Delimiter::None && has_wildcard(&phrase);
        let value = if delimiter == Delimiter::None {
            unescape(&phrase)
        } else {
            phrase.clone()
        };
        let test = match &target {
            Target::Message if wildcard => Test::WordGlob(Glob::new(&phrase, true)),
            Target::Message => {
                let words = words(&value);
                if words.is_empty() {
                    return Ok(None);
                }
                Test::Words(words)
            }
            Target::Severity if !wildcard => {
                let severity = Severity::parse(&value).ok_or_else(|| {
                    self.bad_value(shown, &value, "a severity (err, warning, 3…)")
                })?;
                Test::Equals(severity.name().to_owned())
            }
            Target::Facility if !wildcard => {
                let facility = Facility::parse(&value).ok_or_else(|| {
                    self.bad_value(shown, &value, "a facility (auth, local0, 4…)")
                })?;
                Test::Equals(facility.name().to_owned())
            }
            Target::SeverityCode => {
                let code = value
                    .parse::<u8>()
                    .ok()
                    .and_then(Severity::from_code)
                    .ok_or_else(|| self.bad_value(shown, &value, "a severity code from 0 to 7"))?;
                Test::Equals((code as u8).to_string())
            }
            Target::Truncated | Target::ParseError => {
                let flag = value
                    .parse::<bool>()
                    .map_err(|_| self.bad_value(shown, &value, "true or false"))?;
                Test::Flag(flag)
            }
            _ if wildcard => Test::Glob(Glob::new(&phrase, false)),
            _ => Test::Equals(value),
        };
        Ok(Some(Node::Leaf(target, test)))
    }
}

/// The target a field name in a query stands for, or what is unsupported.
fn target(name: &str) -> Result<Target, &'static str> {
    Ok(match name {
        "message" => Target::Message,
        "host" => Target::Host,
        "app" => Target::App,
        "procid" => Target::Procid,
        "msgid" => Target::Msgid,
        "input" => Target::Input,
        "source" => Target::Source,
        "severity" => Target::Severity,
        "severity_code" => Target::SeverityCode,
        "facility" => Target::Facility,
        "truncated" => Target::Truncated,
        "parse_error" => Target::ParseError,
        "timestamp" | "received_at" => return Err("the time fields"),
        "fields" => return Err("the fields object as a whole"),
        other => Target::Field(other.strip_prefix("fields.").unwrap_or(other).to_owned()),
    })
}

/// An event as the leaves see it; the message's words are split once, on
/// first use.
struct View<'a> {
    event: &'a Event,
    words: Option<Vec<String>>,
}

impl<'a> View<'a> {
    fn new(event: &'a Event) -> View<'a> {
        View { event, words: None }
    }

    fn words(&mut self) -> &[String] {
        self.words.get_or_insert_with(|| words(&self.event.message))
    }
}

impl Node {
    fn eval(&self, view: &mut View<'_>) -> bool {
        match self {
            Node::All => true,
            Node::Bool {
                must,
                should,
                must_not,
            } => {
                must.iter().all(|n| n.eval(view))
                    && !must_not.iter().any(|n| n.eval(view))
                    && (!must.is_empty() || should.iter().any(|n| n.eval(view)))
            }
            Node::Leaf(target, test) => leaf(target, test, view),
        }
    }
}

fn leaf(target: &Target, test: &Test, view: &mut View<'_>) -> bool {
    let event = view.event;
    let header = |value: Option<&str>| value.is_some_and(|v| text_test(test, v));
    match target {
        Target::Message => match test {
            Test::Words(needle) => contains_phrase(view.words(), needle),
            Test::WordGlob(glob) => view.words().iter().any(|w| glob.matches(w)),
            _ => false,
        },
        Target::Host => header(event.host.as_deref()),
        Target::App => header(event.app.as_deref()),
        Target::Procid => header(event.procid.as_deref()),
        Target::Msgid => header(event.msgid.as_deref()),
        Target::Input => header(Some(&event.input)),
        Target::Source => header(event.source.as_deref()),
        Target::Severity => header(event.severity.map(Severity::name)),
        Target::Facility => header(event.facility.map(Facility::name)),
        Target::SeverityCode => match event.severity_code() {
            Some(code) => text_test(test, &code.to_string()),
            None => false,
        },
        Target::Truncated => matches!(test, Test::Flag(f) if *f == event.truncated),
        Target::ParseError => matches!(test, Test::Flag(f) if *f == event.parse_error.is_some()),
        Target::Field(name) => event
            .fields
            .iter()
            .filter(|(k, _)| k == name)
            .any(|(_, v)| match test {
                Test::Exists => true,
                _ => text_test(test, &v.to_string()),
            }),
    }
}

/// A whole-value test on one text value.
fn text_test(test: &Test, value: &str) -> bool {
    match test {
        Test::Exists => true,
        Test::Equals(expected) => value == expected,
        Test::Glob(glob) => glob.matches(value),
        Test::Words(_) | Test::WordGlob(_) | Test::Flag(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use hark_event::FieldValue;

    use super::*;

    fn event() -> Event {
        let mut ev = Event::new(0, "syslog_udp");
        ev.host = Some("web01".into());
        ev.app = Some("shop".into());
        ev.procid = Some("4242".into());
        ev.severity = Some(Severity::Err);
        ev.facility = Some(Facility::Local4);
        ev.source = Some("10.1.2.3:514".into());
        ev.message = "Connection closed by 192.168.1.5 port 22 [preauth]".into();
        ev.push_field("source.ip", "192.168.1.5");
        ev.push_field("http.response.status_code", 404i64);
        ev.push_field("related.ip", "10.0.0.1");
        ev.push_field("related.ip", "10.0.0.2");
        ev.push_field("tls.established", FieldValue::Bool(true));
        ev
    }

    fn check(query: &str) -> bool {
        let matcher = Matcher::new(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        matcher.matches(&event())
    }

    #[test]
    fn truth_table() {
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("   ", true),
            ("*", true),
            ("app:shop", true),
            ("app:Shop", false),
            ("app:sho", false),
            ("app:sh*", true),
            ("app:*op", true),
            ("app:*", true),
            ("msgid:*", false),
            ("host:web01", true),
            ("host:web*", true),
            ("host:db*", false),
            ("procid:4242", true),
            ("input:syslog_udp", true),
            ("source:\"10.1.2.3:514\"", true),
            ("severity:err", true),
            ("severity:error", true),
            ("severity:ERROR", true),
            ("severity:3", true),
            ("severity:warning", false),
            ("severity_code:3", true),
            ("severity_code:4", false),
            ("facility:local4", true),
            ("facility:20", true),
            ("facility:auth", false),
            ("truncated:false", true),
            ("truncated:true", false),
            ("parse_error:false", true),
            // Words of the message, case-insensitive.
            ("closed", true),
            ("CLOSED", true),
            ("close", false),
            ("clos*", true),
            ("Conn*", true),
            ("preauth", true),
            ("\"closed by\"", true),
            ("\"by closed\"", false),
            ("message:\"port 22\"", true),
            ("192.168.1.5", true),
            ("192.168.1.6", false),
            // Extra fields, whole values, any of repeated names.
            ("source.ip:192.168.1.5", true),
            ("fields.source.ip:192.168.1.5", true),
            ("source.ip:192.168.1.*", true),
            ("source.ip:192.168.1", false),
            ("http.response.status_code:404", true),
            ("http.response.status_code:4*", true),
            ("http.response.status_code:500", false),
            ("related.ip:10.0.0.2", true),
            ("tls.established:true", true),
            ("destination.ip:*", false),
            ("source.ip:*", true),
            // Boolean structure.
            ("app:shop AND host:web01", true),
            ("app:shop host:web01", true),
            ("app:shop host:db01", false),
            ("app:shop AND host:db01", false),
            ("app:shop OR host:db01", true),
            ("app:x OR host:db01", false),
            ("NOT app:shop", false),
            ("NOT app:x", true),
            ("-app:x", true),
            ("-app:shop", false),
            ("app:shop -closed", false),
            ("app:shop -opened", true),
            ("+app:shop +closed", true),
            ("(app:x OR app:shop) AND severity:err", true),
            ("(app:x OR app:y) AND severity:err", false),
            ("app:shop AND NOT (host:db01 OR host:db02)", true),
            ("app:shop AND NOT (host:db01 OR host:web01)", false),
            ("app:shop^2", true),
        ];
        for (query, expected) in cases {
            assert_eq!(check(query), *expected, "{query}");
        }
    }

    #[test]
    fn empty_matcher_accepts_everything() {
        let m = Matcher::new("").unwrap();
        assert!(m.is_all());
        assert!(m.matches(&Event::new(0, "x")));
        assert!(Matcher::new("*").unwrap().is_all());
        assert!(!Matcher::new("app:shop").unwrap().is_all());
    }

    #[test]
    fn absent_header_fields_do_not_match() {
        let ev = Event::new(0, "in");
        assert!(!Matcher::new("host:*").unwrap().matches(&ev));
        assert!(!Matcher::new("severity:err").unwrap().matches(&ev));
        assert!(!Matcher::new("severity_code:3").unwrap().matches(&ev));
        assert!(Matcher::new("NOT host:web01").unwrap().matches(&ev));
        assert!(!Matcher::new("anything").unwrap().matches(&ev));
    }

    #[test]
    fn punctuation_only_terms_constrain_nothing() {
        assert!(Matcher::new("\"...\"").unwrap().is_all());
        assert!(check("app:shop \"--\""));
    }

    #[test]
    fn escaped_star_is_literal() {
        let mut ev = Event::new(0, "in");
        ev.app = Some("a*b".into());
        assert!(Matcher::new(r"app:a\*b").unwrap().matches(&ev));
        ev.app = Some("axb".into());
        assert!(!Matcher::new(r"app:a\*b").unwrap().matches(&ev));
        assert!(Matcher::new("app:a*b").unwrap().matches(&ev));
    }

    #[test]
    fn unsupported_forms_are_refused() {
        let cases: &[(&str, &str)] = &[
            ("http.response.status_code:[400 TO 499]", "ranges"),
            ("http.response.status_code:>400", "ranges"),
            ("host: IN [a b]", "sets"),
            ("host:/web[0-9]+/", "regular expressions"),
            ("\"closed by\"~2", "proximity"),
            ("timestamp:2026-01-01", "time fields"),
        ];
        for (query, what) in cases {
            match Matcher::new(query) {
                Err(e @ MatchError::Unsupported { .. }) => {
                    assert!(e.to_string().contains(what), "{query}: {e}")
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_values_are_refused() {
        for (query, field) in [
            ("severity:loud", "severity"),
            ("facility:kitchen", "facility"),
            ("severity_code:9", "severity_code"),
            ("truncated:maybe", "truncated"),
        ] {
            match Matcher::new(query) {
                Err(MatchError::BadValue { field: f, .. }) => assert_eq!(f, field, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
        let e = Matcher::new("severity:loud").unwrap_err().to_string();
        assert!(e.contains("severity:loud is not a severity"), "{e}");
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = Matcher::new("app:shop AND (host:web01").unwrap_err();
        assert!(matches!(e, MatchError::Syntax { .. }), "{e:?}");
        assert!(e.to_string().contains("invalid query"), "{e}");
        let e = Matcher::new("app:").unwrap_err();
        assert_eq!(
            e,
            MatchError::Syntax {
                query: "app:".into(),
                position: Some(4),
                reason: Some("expected word".into()),
            }
        );
    }
}
