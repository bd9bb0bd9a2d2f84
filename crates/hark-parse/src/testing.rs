//! What the parsers' unit tests share.

use hark_event::FieldValue;

use crate::{Body, Failure, Out};

/// The fields, event time and result of one parse.
pub(crate) type Parsed = (Vec<(String, FieldValue)>, Option<i64>, Result<(), Failure>);

/// A body of `message` alone: no application name, no fields yet.
pub(crate) fn body(message: &str) -> Body<'_> {
    Body {
        message,
        app: None,
        fields: &[],
    }
}

/// Runs `parse` on a fresh [`Out`].
pub(crate) fn run_with(parse: impl FnOnce(&mut Out<'_>) -> Result<(), Failure>) -> Parsed {
    let mut fields = Vec::new();
    let mut out = Out::new(&mut fields);
    let result = parse(&mut out);
    let ts = out.timestamp();
    (fields, ts, result)
}

/// The first field called `name`.
pub(crate) fn get<'a>(fields: &'a [(String, FieldValue)], name: &str) -> Option<&'a FieldValue> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A text value.
pub(crate) fn s(v: &str) -> FieldValue {
    FieldValue::Str(v.to_owned())
}
