//! Reading the parsed TOML tree with its spans.
//!
//! The document is parsed once into toml's span-keeping tree
//! ([`toml::de::DeTable`]); each section is then deserialized from its own
//! subtree, so every error, serde's or ours, carries the byte range of the
//! value or key it is about. Tagged tables (`[inputs.*]`, `[monitors.*]`)
//! are split here: the `type` key picks the struct, and the keys are shared
//! out between the common struct and the per-type one by the field names
//! serde itself knows for each (see [`fields_of`]), so no key is listed by
//! hand.

use std::ops::Range;

use serde::de::{self, DeserializeOwned, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A byte range in the configuration text.
pub(crate) type Span = Range<usize>;

/// A parsed TOML value with its span.
pub(crate) type Node<'i> = Spanned<DeValue<'i>>;

/// An error with the range of text it is about.
#[derive(Debug)]
pub(crate) struct Located {
    /// Where in the text.
    pub span: Span,
    /// What is wrong and the expected form.
    pub message: String,
}

impl Located {
    /// An error at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Located {
            span,
            message: message.into(),
        }
    }
}

/// A syntax error of the TOML parser.
pub(crate) fn parse_error(e: toml::de::Error) -> Located {
    Located {
        span: e.span().unwrap_or(0..0),
        message: e.message().trim().to_owned(),
    }
}

impl Located {
    /// The error in `file`, with the line and column of its span in `text`.
    pub fn at(self, file: &str, text: &str) -> crate::ConfigError {
        let (line, column) = line_col(text, self.span.start);
        let mut message = self.message;
        if message.contains("invalid socket address") {
            message.push_str("; expected IP:PORT, like \"0.0.0.0:10514\" or \"[::]:10514\"");
        }
        crate::ConfigError::Invalid {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }
}

/// Deserializes `node` into `T`; the error keeps the span serde's
/// deserializer gave it (the offending key or value), else `node`'s.
pub(crate) fn value<T: DeserializeOwned>(node: Node<'_>) -> Result<T, Located> {
    let span = node.span();
    T::deserialize(ValueDeserializer::from(node)).map_err(|e| Located {
        span: e.span().unwrap_or(span),
        message: e.message().trim().to_owned(),
    })
}

/// The table in `node`, or an error saying a table was expected.
pub(crate) fn table<'i>(node: Node<'i>, what: &str) -> Result<Spanned<DeTable<'i>>, Located> {
    let span = node.span();
    match node.into_inner() {
        DeValue::Table(t) => Ok(Spanned::new(span, t)),
        other => Err(Located::new(
            span,
            format!("{what} must be a table, not a {}", other.type_str()),
        )),
    }
}

/// Wraps a table back into a node.
pub(crate) fn node<'i>(table: Spanned<DeTable<'i>>) -> Node<'i> {
    let span = table.span();
    Spanned::new(span, DeValue::Table(table.into_inner()))
}

/// Removes and returns `type` as a string, for tagged tables.
pub(crate) fn take_type(
    table: &mut Spanned<DeTable<'_>>,
    section: &str,
    allowed: &[&str],
) -> Result<(String, Span), Located> {
    let expected = allowed
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(ty) = table.get_mut().remove("type") else {
        return Err(Located::new(
            table.span(),
            format!("missing field `type`; a {section} needs type = one of {expected}"),
        ));
    };
    let span = ty.span();
    match ty.into_inner() {
        DeValue::String(s) if allowed.contains(&s.as_ref()) => Ok((s.into_owned(), span)),
        DeValue::String(s) => Err(Located::new(
            span,
            format!("unknown variant `{s}`, expected one of {expected}"),
        )),
        other => Err(Located::new(
            span,
            format!(
                "invalid type: {}, expected a string, one of {expected}",
                other.type_str()
            ),
        )),
    }
}

/// Takes `type` out of a tagged table and returns the variant of `all`
/// that `name` gives that text (the error lists every name, see [`take_type`]).
pub(crate) fn take_tag<K: Copy>(
    table: &mut Spanned<DeTable<'_>>,
    section: &str,
    all: &[K],
    name: impl Fn(K) -> &'static str,
) -> Result<K, Located> {
    let names: Vec<&str> = all.iter().map(|k| name(*k)).collect();
    let (ty, span) = take_type(table, section, &names)?;
    all.iter()
        .copied()
        .find(|k| name(*k) == ty)
        .ok_or_else(|| Located::new(span, format!("unknown {section} type `{ty}`")))
}

/// Serde's "missing field `x`" about a table of type `ty` as "a {ty}
/// {noun} needs x; its keys are …"; any other error as it is.
pub(crate) fn name_missing_key(mut e: Located, ty: &str, noun: &str, keys: &[&str]) -> Located {
    if let Some(key) = e
        .message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        e.message = format!(
            "a {ty} {noun} needs {key}; its keys are {}",
            keys.join(", ")
        );
    }
    e
}

/// The error for `key` in a `noun` (an output, a channel) of type `ty`,
/// which does not take it: names the type whose key it is (`owner`), else
/// lists the keys every such table takes (`common`) and `ty`'s own.
pub(crate) fn key_not_applicable(
    noun: &str,
    ty: &str,
    key: &str,
    owner: Option<&str>,
    common: &[&str],
    own: &[&str],
) -> String {
    match owner {
        Some(owner) => format!(
            "{key} does not apply to a {ty} {noun} (it is a key of type = \"{owner}\"); its keys are {}",
            own.join(", ")
        ),
        None => format!(
            "unknown field `{key}`, expected one of {} or the {ty} keys {}",
            list(common),
            list(own)
        ),
    }
}

/// Moves the keys named in `fields` out of `table` into a new table with
/// the same span.
pub(crate) fn split_off<'i>(
    table: &mut Spanned<DeTable<'i>>,
    fields: &[&str],
) -> Spanned<DeTable<'i>> {
    let span = table.span();
    let mut taken = DeTable::new();
    for f in fields {
        if let Some((k, v)) = table.get_mut().remove_entry(*f) {
            taken.insert(k, v);
        }
    }
    Spanned::new(span, taken)
}

/// The first key of `table`, with its span, for "does not apply" errors.
pub(crate) fn first_key(table: &DeTable<'_>) -> Option<(String, Span)> {
    table
        .iter()
        .min_by_key(|(k, _)| k.span().start)
        .map(|(k, _)| (k.get_ref().to_string(), k.span()))
}

/// The field names a derived `Deserialize` struct accepts, as serde's
/// derive passes them to `deserialize_struct`. Used to share a table's keys
/// out between structs and to list the allowed keys in errors, so the names
/// live only in the structs.
pub(crate) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut found = None;
    let _ = T::deserialize(FieldProbe(&mut found));
    found.unwrap_or(&[])
}

/// A deserializer that records the field list of the struct asked for and
/// then fails.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("field probe"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("field probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// `a`, `b` and `c`: a list of keys for messages.
pub(crate) fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}

/// The span of every key in the document, by its path of names, recorded
/// before the tree is consumed; checks that run after deserializing
/// (listen clashes, parents) blame a key through it.
#[derive(Debug, Default)]
pub(crate) struct Spans(std::collections::BTreeMap<Vec<String>, Span>);

impl Spans {
    /// Records the keys of `root` and of every table below it.
    pub fn record(root: &DeTable<'_>) -> Spans {
        Self::record_under(&[], root)
    }

    /// Records the keys of `root`, a table that sits at `prefix`.
    pub fn record_under(prefix: &[&str], root: &DeTable<'_>) -> Spans {
        let mut spans = Spans::default();
        let mut path = prefix.iter().map(|s| (*s).to_owned()).collect();
        spans.walk(&mut path, root);
        spans
    }

    fn walk(&mut self, path: &mut Vec<String>, table: &DeTable<'_>) {
        for (k, v) in table.iter() {
            path.push(k.get_ref().to_string());
            self.0.insert(path.clone(), k.span());
            if let DeValue::Table(t) = v.get_ref() {
                self.walk(path, t);
            }
            path.pop();
        }
    }

    /// The span of the key at `path`, or of its nearest recorded parent
    /// (the start of the text when none is).
    pub fn at(&self, path: &[&str]) -> Span {
        let mut path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        while !path.is_empty() {
            if let Some(s) = self.0.get(&path) {
                return s.clone();
            }
            path.pop();
        }
        0..0
    }

    /// An error blaming the key at `path`.
    pub fn error(&self, path: &[&str], message: impl Into<String>) -> Located {
        Located::new(self.at(path), message)
    }
}
