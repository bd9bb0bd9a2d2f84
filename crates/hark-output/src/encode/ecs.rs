//! Events as ECS-shaped JSON objects.
//!
//! Every key is written dotted at the top level (`host.name`, not
//! `{"host": {"name": …}}`), Hark's own as well as the event's fields,
//! which keep their names (`sd.origin.ip`, `source.ip`). A field whose name
//! Hark has already written is written as `fields.NAME`. Values keep their
//! type: text as strings, numbers as numbers, booleans as booleans (a
//! float that JSON cannot hold, NaN or infinite, as a string).

use hark_event::{Event, FieldValue, format_rfc3339_nanos};
use serde_json::{Map, Value};

/// `event` as an ECS-shaped JSON object.
pub fn ecs_object(event: &Event) -> Map<String, Value> {
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_owned(), v);
    };
    put("@timestamp", format_rfc3339_nanos(event.timestamp).into());
    put("message", event.message.clone().into());
    let text = |s: &Option<String>| s.clone().map(Value::String);
    if let Some(v) = text(&event.host) {
        put("host.name", v);
    }
    if let Some(v) = text(&event.app) {
        put("log.syslog.appname", v);
    }
    if let Some(v) = text(&event.procid) {
        put("log.syslog.procid", v);
    }
    if let Some(v) = text(&event.msgid) {
        put("log.syslog.msgid", v);
    }
    if let Some(f) = event.facility {
        put("log.syslog.facility.code", (f as u8).into());
        put("log.syslog.facility.name", f.name().into());
    }
    if let Some(s) = event.severity {
        put("log.syslog.severity.code", (s as u8).into());
        put("log.syslog.severity.name", s.name().into());
        put("log.level", s.name().into());
    }
    put(
        "event.created",
        format_rfc3339_nanos(event.received_at).into(),
    );
    if let Some(v) = text(&event.source) {
        put("hark.peer", v);
    }
    put("hark.input", event.input.clone().into());
    if event.truncated {
        put("hark.truncated", true.into());
    }
    if let Some(v) = text(&event.parse_error) {
        put("hark.parse_error", v);
    }
    for (name, value) in &event.fields {
        let value = match value {
            FieldValue::Int(n) => Value::from(*n),
            FieldValue::Float(x) => serde_json::Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string())),
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::Bool(b) => Value::Bool(*b),
        };
        let key = if o.contains_key(name) {
            format!("fields.{name}")
        } else {
            name.clone()
        };
        o.insert(key, value);
    }
    o
}

/// `event` as one line of ECS-shaped JSON (no line feed: JSON escapes
/// every control character inside strings).
pub fn ecs_json(event: &Event) -> Vec<u8> {
    Value::Object(ecs_object(event)).to_string().into_bytes()
}
