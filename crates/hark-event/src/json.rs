//! The JSON shape of an event, as the API, the CLI and exports show it.

use crate::{Event, Facility, FieldValue, Severity, format_rfc3339_nanos, parse_rfc3339_nanos};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// An event in its public JSON form: RFC 3339 timestamps, severity and facility
/// by name, `severity_code`, `fields` as a plain object, `raw` as lossy text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventJson {
    /// Event time, RFC 3339 with nanoseconds.
    pub timestamp: String,
    /// Receive time, RFC 3339 with nanoseconds.
    pub received_at: String,
    /// Host.
    pub host: Option<String>,
    /// Application.
    pub app: Option<String>,
    /// Process id.
    pub procid: Option<String>,
    /// Message id.
    pub msgid: Option<String>,
    /// Facility name.
    pub facility: Option<String>,
    /// Severity name.
    pub severity: Option<String>,
    /// Severity code 0–7.
    pub severity_code: Option<u8>,
    /// Message text.
    pub message: String,
    /// Extra fields.
    pub fields: Map<String, Value>,
    /// Peer address.
    pub source: Option<String>,
    /// Input name.
    pub input: String,
    /// Raw bytes as lossy UTF-8, when kept.
    pub raw: Option<String>,
    /// Cut to the maximum size.
    pub truncated: bool,
    /// Did not parse.
    pub parse_error: bool,
    /// Why it did not parse.
    pub parse_error_reason: Option<String>,
}

impl FieldValue {
    /// The value as JSON (a string, a number or a boolean).
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Int(n) => Value::Number((*n).into()),
            FieldValue::Float(x) => Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string())),
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::Bool(b) => Value::Bool(*b),
        }
    }

    /// A field value from JSON: numbers stay numbers, booleans booleans, anything else becomes its text.
    pub fn from_json(v: &Value) -> FieldValue {
        match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => FieldValue::Int(i),
                None => FieldValue::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => FieldValue::Str(s.clone()),
            Value::Bool(b) => FieldValue::Bool(*b),
            other => FieldValue::Str(other.to_string()),
        }
    }
}

impl Severity {
    /// A severity from JSON: a name (`warn`, `ERROR`…) or a code 0–7.
    pub fn from_json(v: &Value) -> Option<Severity> {
        match v {
            Value::String(s) => Severity::parse(s),
            Value::Number(n) => n
                .as_u64()
                .and_then(|c| u8::try_from(c).ok())
                .and_then(Severity::from_code),
            _ => None,
        }
    }
}

/// Appends the leaves of `value` to `out` as fields named by their dotted
/// path after `prefix` (`{"log":{"file":{"path":…}}}` → `log.file.path`).
/// Numbers stay numbers, arrays are kept as their JSON text, nulls are dropped.
pub fn flatten_json(prefix: &mut String, value: &Value, out: &mut Vec<(String, FieldValue)>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (key, inner) in map {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(key);
                flatten_json(prefix, inner, out);
                prefix.truncate(len);
            }
        }
        Value::Array(_) => out.push((prefix.clone(), FieldValue::Str(value.to_string()))),
        leaf => out.push((prefix.clone(), FieldValue::from_json(leaf))),
    }
}

impl From<&Event> for EventJson {
    fn from(e: &Event) -> Self {
        EventJson {
            timestamp: format_rfc3339_nanos(e.timestamp),
            received_at: format_rfc3339_nanos(e.received_at),
            host: e.host.clone(),
            app: e.app.clone(),
            procid: e.procid.clone(),
            msgid: e.msgid.clone(),
            facility: e.facility.map(|f| f.name().to_owned()),
            severity: e.severity.map(|s| s.name().to_owned()),
            severity_code: e.severity_code(),
            message: e.message.clone(),
            fields: e
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
            source: e.source.clone(),
            input: e.input.clone(),
            raw: e
                .raw
                .as_ref()
                .map(|r| String::from_utf8_lossy(r).into_owned()),
            truncated: e.truncated,
            parse_error: e.parse_error.is_some(),
            parse_error_reason: e.parse_error.clone(),
        }
    }
}

impl EventJson {
    /// Back to an [`Event`]; unparseable timestamps become 0.
    pub fn to_event(&self) -> Event {
        Event {
            timestamp: parse_rfc3339_nanos(&self.timestamp).unwrap_or(0),
            received_at: parse_rfc3339_nanos(&self.received_at).unwrap_or(0),
            host: self.host.clone(),
            app: self.app.clone(),
            procid: self.procid.clone(),
            msgid: self.msgid.clone(),
            facility: self.facility.as_deref().and_then(Facility::parse),
            severity: self
                .severity_code
                .and_then(Severity::from_code)
                .or_else(|| self.severity.as_deref().and_then(Severity::parse)),
            message: self.message.clone(),
            fields: self
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), FieldValue::from_json(v)))
                .collect(),
            source: self.source.clone(),
            input: self.input.clone(),
            raw: self.raw.as_ref().map(|r| r.clone().into_bytes()),
            truncated: self.truncated,
            parse_error: self.parse_error_reason.clone(),
        }
    }
}
