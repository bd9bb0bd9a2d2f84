//! `json`: a body that is one JSON object (`{"level":"info",…}`).
//!
//! The object is flattened into fields named by the dotted path of each
//! leaf (`{"source":{"ip":"10.0.0.1"}}` gives `source.ip`, and so does a
//! key written `"source.ip"`). Numbers stay numbers, booleans booleans,
//! arrays are kept as their JSON text and nulls are dropped. A string whose
//! path is an ECS name is typed by it: `"destination.port":"443"` becomes
//! a number and an address is written in its canonical form; a string that
//! does not fit is kept as text. Empty strings are skipped.
//!
//! Invalid JSON fails at the byte where `serde_json` stopped (the end of
//! the text when it ran out).

use hark_event::{FieldValue, flatten_json};
use serde_json::Value;

use crate::{Body, Failure, Format, Out};

/// JSON-object bodies.
pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.message.trim_start().starts_with('{')
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        let value: Value = serde_json::from_str(body.message).map_err(|e| {
            let offset = if e.is_eof() {
                body.message.len()
            } else {
                byte_offset(body.message, e.line(), e.column())
            };
            Failure::new(offset, reason(&e))
        })?;
        if !value.is_object() {
            return Err(Failure::new(0, "a JSON object"));
        }
        let mut flat = Vec::new();
        flatten_json(&mut String::new(), &value, &mut flat);
        for (name, value) in flat {
            if name.is_empty() {
                continue;
            }
            match value {
                FieldValue::Str(text) => out.put(&name, &text),
                other => out.put_value(&name, other),
            }
        }
        Ok(())
    }
}

/// What `serde_json` expected, without its own "at line L column C".
fn reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The byte offset of `line`:`column` (both counted from 1, the column in
/// bytes, as `serde_json` reports them) in `text`, at most its length.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::body;

    fn parse(message: &str) -> (Vec<(String, FieldValue)>, Result<(), Failure>) {
        let mut fields = Vec::new();
        let result = Json.parse(&body(message), &mut Out::new(&mut fields));
        (fields, result)
    }

    #[test]
    fn claims_objects_only() {
        assert!(Json.claims(&body("  {\"a\":1}")));
        assert!(!Json.claims(&body("[1,2]")));
        assert!(!Json.claims(&body("a={}")));
        assert!(!Json.claims(&body("")));
    }

    #[test]
    fn ecs_names_are_typed_by_their_kind() {
        let (fields, result) = parse(
            r#"{"source":{"ip":"10.000.0.1x","port":"8080"},"destination.ip":"::FFFF:10.0.0.2",
               "destination.port":"https","ok":true,"ratio":0.5,"tags":["a","b"],"none":null,"empty":""}"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            fields,
            vec![
                (
                    "destination.ip".into(),
                    FieldValue::Str("::ffff:10.0.0.2".into())
                ),
                ("destination.port".into(), FieldValue::Str("https".into())),
                ("ok".into(), FieldValue::Bool(true)),
                ("ratio".into(), FieldValue::Float(0.5)),
                ("source.ip".into(), FieldValue::Str("10.000.0.1x".into())),
                ("source.port".into(), FieldValue::Int(8080)),
                ("tags".into(), FieldValue::Str(r#"["a","b"]"#.into())),
            ]
        );
    }

    #[test]
    fn empty_keys_give_no_empty_names() {
        let (fields, _) = parse(r#"{"":1,"a":{"":2}}"#);
        assert_eq!(fields, vec![("a.".into(), FieldValue::Int(2))]);
    }

    #[test]
    fn invalid_json_fails_at_the_byte_serde_stopped() {
        let (fields, result) = parse("{\"a\":1,\n \"b\":}");
        assert!(fields.is_empty());
        let failure = result.expect_err("invalid");
        assert_eq!(failure.offset, 13);
        assert_eq!(failure.reason, "expected value");

        let (_, truncated) = parse(r#"{"a":"éé"#);
        assert_eq!(truncated.expect_err("truncated").offset, 10);

        let (_, trailing) = parse(r#"{"a":1} tail"#);
        assert_eq!(trailing.expect_err("trailing").offset, 8);
    }

    #[test]
    fn offsets_are_clamped_to_the_text() {
        assert_eq!(byte_offset("ab\ncd", 2, 2), 4);
        assert_eq!(byte_offset("ab", 1, 9), 2);
        assert_eq!(byte_offset("ab", 5, 1), 2);
        assert_eq!(byte_offset("", 0, 0), 0);
    }
}
