//! `kv`: generic `key=value` text and logfmt, the last format `auto` tries.
//!
//! Keys are `[A-Za-z_][A-Za-z0-9_.-]*`; values are bare (up to the next
//! space) or double-quoted with backslash escapes. Each pair is written
//! under its own key. Only a key that is exactly an ECS name is typed by
//! it (`destination.port=443` becomes a number, `source.ip=…` a canonical
//! address); every other value stays text, since logfmt values are text.
//! Words that are not pairs (`2016/01/01`, `=`, `a:b=c`) are skipped; the
//! message keeps them.
//!
//! `kv` claims a body only if it holds a pair that looks like logfmt: an
//! `=` with a valid key right before it, that key starting the body or
//! following whitespace. So `user root logged in` (no `=`), `a = b` (no
//! key before `=`) and `session opened (uid=0)` are not claimed.

pub(crate) mod scan;

use memchr::memchr_iter;

use crate::{Body, Failure, Format, Out};

use scan::{Pairs, is_key};

/// How many `=` signs `claims` looks at before giving up.
const CLAIM_CANDIDATES: usize = 32;

/// The longest key `claims` looks back for.
const MAX_KEY: usize = 128;

/// Generic `key=value` / logfmt bodies.
pub struct Kv;

impl Format for Kv {
    fn name(&self) -> &'static str {
        "kv"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        let bytes = body.message.as_bytes();
        memchr_iter(b'=', bytes)
            .take(CLAIM_CANDIDATES)
            .any(|eq| key_before(bytes, eq))
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        for pair in Pairs::new(body.message) {
            let pair = pair.map_err(|u| Failure::new(u.offset, "closing quote"))?;
            if is_key(pair.key) {
                out.put(pair.key, &pair.value);
            }
        }
        Ok(())
    }
}

/// Whether the `=` at `eq` has a valid key right before it that starts the
/// body or follows whitespace.
/// A key longer than [`MAX_KEY`] bytes is not taken for logfmt, which
/// bounds the look-back.
fn key_before(bytes: &[u8], eq: usize) -> bool {
    let from = eq.saturating_sub(MAX_KEY);
    let start = match bytes[from..eq].iter().rposition(u8::is_ascii_whitespace) {
        Some(ws) => from + ws + 1,
        None if from == 0 => 0,
        None => return false,
    };
    std::str::from_utf8(&bytes[start..eq]).is_ok_and(is_key)
}

#[cfg(test)]
mod tests {
    use hark_event::FieldValue;

    use super::*;

    use crate::testing::body;

    fn parse(message: &str) -> (Vec<(String, FieldValue)>, Result<(), Failure>) {
        let mut fields = Vec::new();
        let result = Kv.parse(&body(message), &mut Out::new(&mut fields));
        (fields, result)
    }

    #[test]
    fn claims_logfmt_not_prose() {
        assert!(Kv.claims(&body("at=info method=GET path=/")));
        assert!(Kv.claims(&body("2016/01/01 12:34:56 legacy=true")));
        assert!(!Kv.claims(&body("user root logged in")));
        assert!(!Kv.claims(&body("a = b")));
        assert!(!Kv.claims(&body("session opened for user root(uid=0)")));
        assert!(!Kv.claims(&body("=x")));
        assert!(!Kv.claims(&body("")));
    }

    #[test]
    fn ecs_names_are_typed_other_keys_stay_text() {
        let (fields, result) =
            parse("destination.port=443 source.ip=::ffff:10.0.0.1 count=42 port=22");
        assert_eq!(result, Ok(()));
        assert_eq!(
            fields,
            vec![
                ("destination.port".into(), FieldValue::Int(443)),
                (
                    "source.ip".into(),
                    FieldValue::Str("::ffff:10.0.0.1".into())
                ),
                ("count".into(), FieldValue::Str("42".into())),
                ("port".into(), FieldValue::Str("22".into())),
            ]
        );
    }

    #[test]
    fn a_bad_value_for_an_ecs_name_stays_text() {
        let (fields, _) = parse("source.port=http source.ip=999.1.1.1");
        assert_eq!(
            fields,
            vec![
                ("source.port".into(), FieldValue::Str("http".into())),
                ("source.ip".into(), FieldValue::Str("999.1.1.1".into())),
            ]
        );
    }

    #[test]
    fn invalid_keys_and_empty_values_are_dropped() {
        let (fields, _) = parse(r#"a:b=1 9x=2 @t=3 ok="" fine="v""#);
        assert_eq!(fields, vec![("fine".into(), FieldValue::Str("v".into()))]);
    }

    #[test]
    fn unterminated_quote_fails_after_the_pairs_before_it() {
        let (fields, result) = parse(r#"level=warn msg="cut off"#);
        assert_eq!(
            fields,
            vec![("level".into(), FieldValue::Str("warn".into()))]
        );
        assert_eq!(result, Err(Failure::new(15, "closing quote")));
    }
}
