//! The small JSON path language of `json_path`: `$`, `.key`, `['key']`,
//! `["key"]` and `[index]` (negative counts from the end), like
//! `$.checks[0].status` or `$['a b'][-1]`.

use hark_config::monitor::JsonExpect;
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
}

/// Parses a path; the error says what is wrong and where.
fn parse(path: &str) -> Result<Vec<Step>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("json_path {path:?} must start with $"))?;
    let bytes = rest.as_bytes();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                let start = i + 1;
                let end = rest[start..]
                    .find(['.', '['])
                    .map_or(rest.len(), |e| start + e);
                if end == start {
                    return Err(format!("json_path {path:?}: empty key after '.'"));
                }
                steps.push(Step::Key(rest[start..end].to_owned()));
                i = end;
            }
            b'[' => {
                let open = i + 1;
                let quote = rest[open..]
                    .chars()
                    .next()
                    .filter(|c| *c == '\'' || *c == '"');
                if let Some(q) = quote {
                    // A quoted key may contain ']': find its closing quote first.
                    let key_start = open + 1;
                    let key_end = rest[key_start..]
                        .find(q)
                        .map(|e| key_start + e)
                        .ok_or_else(|| format!("json_path {path:?}: unclosed quote"))?;
                    if rest.as_bytes().get(key_end + 1) != Some(&b']') {
                        return Err(format!(
                            "json_path {path:?}: expected ']' after the quoted key"
                        ));
                    }
                    steps.push(Step::Key(rest[key_start..key_end].to_owned()));
                    i = key_end + 2;
                } else {
                    let close = rest[open..]
                        .find(']')
                        .map(|e| open + e)
                        .ok_or_else(|| format!("json_path {path:?}: '[' without ']'"))?;
                    let inner = rest[open..close].trim();
                    let n = inner.parse::<i64>().map_err(|_| {
                        format!(
                            "json_path {path:?}: [{inner}] is neither an index nor a quoted key"
                        )
                    })?;
                    steps.push(Step::Index(n));
                    i = close + 1;
                }
            }
            other => {
                return Err(format!(
                    "json_path {path:?}: unexpected {:?} at position {}",
                    other as char,
                    i + 1
                ));
            }
        }
    }
    Ok(steps)
}

/// The value at `path` in `doc`: `Ok(None)` when the path leads nowhere.
pub(crate) fn lookup<'a>(doc: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let steps = parse(path)?;
    let mut cur = doc;
    for step in &steps {
        let next = match (step, cur) {
            (Step::Key(k), Value::Object(map)) => map.get(k),
            (Step::Index(n), Value::Array(items)) => {
                let idx = if *n < 0 {
                    i64::try_from(items.len())
                        .ok()
                        .and_then(|len| usize::try_from(len + n).ok())
                } else {
                    usize::try_from(*n).ok()
                };
                idx.and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// Whether `value` is what `expect` asks for. A string expectation also
/// matches a number or boolean written the same way (`"200"` and `200`);
/// numbers compare as numbers.
pub(crate) fn matches(value: &Value, expect: &JsonExpect) -> bool {
    match (expect, value) {
        (JsonExpect::Bool(b), Value::Bool(v)) => b == v,
        (JsonExpect::Number(n), Value::Number(v)) => v.as_f64() == Some(*n),
        (JsonExpect::String(s), Value::String(v)) => s == v,
        (JsonExpect::String(s), Value::Number(v)) => {
            s == &v.to_string() || s.parse::<f64>().ok() == v.as_f64()
        }
        (JsonExpect::String(s), Value::Bool(v)) => s == if *v { "true" } else { "false" },
        _ => false,
    }
}

/// An expectation as JSON text, for outputs.
pub(crate) fn describe(expect: &JsonExpect) -> String {
    match expect {
        JsonExpect::Bool(b) => b.to_string(),
        JsonExpect::Number(n) => super::format::number(*n),
        JsonExpect::String(s) => Value::String(s.clone()).to_string(),
    }
}

/// A found value as short JSON text, for outputs.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(80).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_parse() {
        assert_eq!(parse("$").unwrap(), vec![]);
        assert_eq!(
            parse("$.a.b[0]['c d'][\"e\"][-1]").unwrap(),
            vec![
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0),
                Step::Key("c d".into()),
                Step::Key("e".into()),
                Step::Index(-1),
            ]
        );
        for bad in ["a", "$.", "$[", "$[x]", "$x", "$..a", "$['a'", "$['a'x]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lookups() {
        let doc =
            json!({"status": "ok", "checks": [{"ok": true}, {"ok": false, "n": 3}], "a b": 1});
        assert_eq!(lookup(&doc, "$.status").unwrap(), Some(&json!("ok")));
        assert_eq!(lookup(&doc, "$.checks[1].n").unwrap(), Some(&json!(3)));
        assert_eq!(
            lookup(&doc, "$.checks[-1].ok").unwrap(),
            Some(&json!(false))
        );
        assert_eq!(lookup(&doc, "$['a b']").unwrap(), Some(&json!(1)));
        let odd = json!({"x]y": 2});
        assert_eq!(lookup(&odd, "$['x]y']").unwrap(), Some(&json!(2)));
        assert_eq!(lookup(&doc, "$.checks[5]").unwrap(), None);
        assert_eq!(lookup(&doc, "$.checks[-5]").unwrap(), None);
        assert_eq!(lookup(&doc, "$.status.x").unwrap(), None);
        assert_eq!(lookup(&doc, "$").unwrap(), Some(&doc));
    }

    #[test]
    fn comparisons() {
        assert!(matches(&json!("ok"), &JsonExpect::String("ok".into())));
        assert!(!matches(&json!("OK"), &JsonExpect::String("ok".into())));
        assert!(matches(&json!(200), &JsonExpect::Number(200.0)));
        assert!(matches(&json!(2.5), &JsonExpect::Number(2.5)));
        assert!(matches(&json!(200), &JsonExpect::String("200".into())));
        assert!(matches(&json!(true), &JsonExpect::Bool(true)));
        assert!(matches(&json!(true), &JsonExpect::String("true".into())));
        assert!(!matches(&json!(null), &JsonExpect::String("null".into())));
        assert!(!matches(&json!("1"), &JsonExpect::Number(1.0)));
        assert_eq!(describe(&JsonExpect::String("a\"b".into())), "\"a\\\"b\"");
    }
}
