//! Beats events (JSON) and v1 data frames (key/value pairs) as Hark events.

use bytes::Bytes;
use chrono::{NaiveDateTime, TimeZone};
use hark_event::{Event, Facility, Severity, flatten_json, parse_rfc3339_nanos};
use serde_json::{Map, Value};

use crate::syslog::ParseContext;

/// Messages longer than this are cut (at a UTF-8 boundary) and flagged truncated.
pub const MAX_MESSAGE: usize = 64_000;

/// Turns one Beats event (the JSON of a `J` frame) into an [`Event`].
///
/// * `@timestamp` (RFC 3339) → `timestamp`; without it, the receive time.
/// * `message` → `message`, cut to [`MAX_MESSAGE`] bytes with `truncated` set.
/// * `host.name`, else `host.hostname`, else a plain string `host` → `host`.
/// * `agent.type`, else `@metadata.beat` → `app`: the kind of shipper
///   (`filebeat`, `winlogbeat`…), since a Beats event names no program.
/// * `log.level`, else a top-level `severity`, else
///   `log.syslog.severity.code` → `severity`, when recognisable;
///   `log.syslog.facility.code` → `facility`.
/// * Everything else → `fields`, flattened with dots (`log.file.path`,
///   `agent.version`, `fields.env`, `winlog.event_id`): numbers stay
///   numbers, booleans become `true`/`false`, arrays their JSON text, and
///   nulls are left out.
///
/// The keys that became `timestamp`, `message` and `host` are not repeated
/// in `fields`; the ones `app` and `severity` were derived from are.
/// Input that is not a JSON object is stored whole as the message, with
/// `raw` and `parse_error` set.
///
/// ```
/// use hark_proto::ParseContext;
/// use hark_proto::lumberjack::beats_event_to_event;
/// use hark_event::FieldValue;
///
/// let json = br#"{"@timestamp":"2024-01-15T10:00:00.000Z","message":"hi",
///   "host":{"name":"web1"},"agent":{"type":"filebeat"},"log":{"offset":42}}"#;
/// let ev = beats_event_to_event(json, &ParseContext::new(0, "beats"));
/// assert_eq!(ev.timestamp, 1_705_312_800_000_000_000);
/// assert_eq!((ev.message.as_str(), ev.host.as_deref(), ev.app.as_deref()), ("hi", Some("web1"), Some("filebeat")));
/// assert_eq!(ev.field("log.offset"), Some(&FieldValue::Int(42)));
/// ```
pub fn beats_event_to_event(json: &[u8], ctx: &ParseContext) -> Event {
    let mut ev = new_event(ctx);
    let mut obj = match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => return failed(ev, json, "JSON event is not an object".to_owned()),
        Err(e) => return failed(ev, json, format!("invalid JSON: {e}")),
    };
    if let Some(ts) = obj
        .get("@timestamp")
        .and_then(Value::as_str)
        .and_then(|s| parse_timestamp(s, ctx))
    {
        ev.timestamp = ts;
        obj.remove("@timestamp");
    }
    match obj.remove("message") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => set_message(&mut ev, s),
        Some(other) => set_message(&mut ev, other.to_string()),
    }
    ev.host = take_str(&mut obj, &["host", "name"])
        .or_else(|| take_str(&mut obj, &["host", "hostname"]))
        .or_else(|| take_str(&mut obj, &["host"]));
    ev.app = get_str(&obj, &["agent", "type"])
        .or_else(|| get_str(&obj, &["@metadata", "beat"]))
        .map(str::to_owned);
    ev.severity = get(&obj, &["log", "level"])
        .and_then(Severity::from_json)
        .or_else(|| obj.get("severity").and_then(Severity::from_json))
        .or_else(|| {
            get(&obj, &["log", "syslog", "severity", "code"]).and_then(Severity::from_json)
        });
    ev.facility = get(&obj, &["log", "syslog", "facility", "code"])
        .and_then(Value::as_u64)
        .and_then(|c| u8::try_from(c).ok())
        .and_then(Facility::from_code);
    flatten_json(&mut String::new(), &Value::Object(obj), &mut ev.fields);
    ev
}

/// Turns one v1 data frame's pairs into an [`Event`]: `line` (or `message`)
/// → `message`, `host` → `host`, `@timestamp`/`timestamp` → `timestamp`,
/// `file` → the field `log.file.path`, `offset` → `log.offset`, and every
/// other pair → a text field of the same name.
pub fn data_pairs_to_event(pairs: &[(Bytes, Bytes)], ctx: &ParseContext) -> Event {
    let mut ev = new_event(ctx);
    let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
    let has_message = pairs.iter().any(|(k, _)| &k[..] == b"message");
    for (k, v) in pairs {
        let key = text(k);
        let value = text(v);
        match key.as_str() {
            "message" => set_message(&mut ev, value),
            "line" if !has_message => set_message(&mut ev, value),
            "host" => ev.host = Some(value),
            "@timestamp" | "timestamp" => match parse_timestamp(&value, ctx) {
                Some(ts) => ev.timestamp = ts,
                None => ev.push_field(key, value),
            },
            "file" => ev.push_field("log.file.path", value),
            "offset" => match value.parse::<i64>() {
                Ok(n) => ev.push_field("log.offset", n),
                Err(_) => ev.push_field("log.offset", value),
            },
            _ => ev.push_field(key, value),
        }
    }
    ev
}

fn new_event(ctx: &ParseContext) -> Event {
    let mut ev = Event::new(ctx.received_at, ctx.input);
    ev.source = ctx.source.map(str::to_owned);
    ev
}

/// The event for bytes that are not a JSON object: kept whole, with the reason.
fn failed(mut ev: Event, bytes: &[u8], reason: String) -> Event {
    set_message(&mut ev, String::from_utf8_lossy(bytes).into_owned());
    ev.raw = Some(bytes.to_vec());
    ev.parse_error = Some(reason);
    ev
}

/// Sets the message, cut to [`MAX_MESSAGE`] bytes at a character boundary.
fn set_message(ev: &mut Event, mut message: String) {
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        ev.truncated = true;
    }
    ev.message = message;
}

/// RFC 3339, or the same without an offset (read in the default zone).
fn parse_timestamp(s: &str, ctx: &ParseContext) -> Option<i64> {
    parse_rfc3339_nanos(s).or_else(|| {
        let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").ok()?;
        ctx.default_offset
            .from_local_datetime(&naive)
            .single()?
            .timestamp_nanos_opt()
    })
}

fn get<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(obj.get(*first)?, |v, key| v.get(key))
}

fn get_str<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    get(obj, path)?.as_str().filter(|s| !s.is_empty())
}

/// Removes and returns the non-empty string at `path`, if there is one.
fn take_str(obj: &mut Map<String, Value>, path: &[&str]) -> Option<String> {
    let (last, parents) = path.split_last()?;
    let mut map = obj;
    for key in parents {
        map = map.get_mut(*key)?.as_object_mut()?;
    }
    match map.get(*last) {
        Some(Value::String(s)) if !s.is_empty() => match map.remove(*last) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_event::FieldValue;

    fn ctx() -> ParseContext<'static> {
        ParseContext::new(1_000, "beats")
    }

    #[test]
    fn nested_fields_are_flattened_with_their_types() {
        let ev = beats_event_to_event(
            br#"{"message":"m","fields":{"env":"prod","n":1.5},"tags":["a","b"],
                 "winlog":{"event_id":4625,"ok":true},"gone":null,"empty":{}}"#,
            &ctx(),
        );
        assert_eq!(
            ev.field("fields.env"),
            Some(&FieldValue::Str("prod".into()))
        );
        assert_eq!(ev.field("fields.n"), Some(&FieldValue::Float(1.5)));
        assert_eq!(
            ev.field("tags"),
            Some(&FieldValue::Str(r#"["a","b"]"#.into()))
        );
        assert_eq!(ev.field("winlog.event_id"), Some(&FieldValue::Int(4625)));
        assert_eq!(ev.field("winlog.ok"), Some(&FieldValue::Bool(true)));
        assert_eq!(ev.field("gone"), None);
        assert_eq!(ev.fields.len(), 5);
        assert_eq!(ev.timestamp, 1_000, "no @timestamp: the receive time");
    }

    #[test]
    fn host_comes_from_name_hostname_or_a_plain_string() {
        let ev = beats_event_to_event(
            br#"{"host":{"hostname":"h2","os":{"family":"debian"}}}"#,
            &ctx(),
        );
        assert_eq!(ev.host.as_deref(), Some("h2"));
        assert_eq!(
            ev.field("host.os.family"),
            Some(&FieldValue::Str("debian".into()))
        );
        assert_eq!(ev.field("host.hostname"), None);
        let ev = beats_event_to_event(
            br#"{"host":"plain","@metadata":{"beat":"winlogbeat"}}"#,
            &ctx(),
        );
        assert_eq!(ev.host.as_deref(), Some("plain"));
        assert_eq!(ev.app.as_deref(), Some("winlogbeat"));
        assert_eq!(
            ev.field("@metadata.beat"),
            Some(&FieldValue::Str("winlogbeat".into()))
        );
    }

    #[test]
    fn severity_from_log_level_or_severity_or_syslog_code() {
        let sev = |j: &str| beats_event_to_event(j.as_bytes(), &ctx()).severity;
        assert_eq!(sev(r#"{"log":{"level":"WARN"}}"#), Some(Severity::Warning));
        assert_eq!(sev(r#"{"severity":"error"}"#), Some(Severity::Err));
        assert_eq!(sev(r#"{"severity":2}"#), Some(Severity::Crit));
        assert_eq!(sev(r#"{"log":{"level":"verbose"}}"#), None);
        let ev = beats_event_to_event(
            br#"{"log":{"syslog":{"severity":{"code":3},"facility":{"code":4}}}}"#,
            &ctx(),
        );
        assert_eq!(
            (ev.severity, ev.facility),
            (Some(Severity::Err), Some(Facility::Auth))
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let long = format!("{}é", "a".repeat(MAX_MESSAGE - 1));
        let json = serde_json::json!({ "message": long }).to_string();
        let ev = beats_event_to_event(json.as_bytes(), &ctx());
        assert!(ev.truncated);
        assert_eq!(ev.message.len(), MAX_MESSAGE - 1);
        let ev = beats_event_to_event(br#"{"message":"short"}"#, &ctx());
        assert!(!ev.truncated);
    }

    #[test]
    fn invalid_json_is_kept_whole() {
        let ev = beats_event_to_event(b"{\"message\": nope", &ctx());
        assert_eq!(ev.message, "{\"message\": nope");
        assert_eq!(ev.raw.as_deref(), Some(&b"{\"message\": nope"[..]));
        assert!(ev.parse_error.unwrap().starts_with("invalid JSON"));
        let ev = beats_event_to_event(b"[1,2]", &ctx());
        assert!(ev.parse_error.is_some());
    }

    #[test]
    fn timestamps_without_offset_use_the_default_zone() {
        let mut c = ctx();
        c.default_offset = chrono::FixedOffset::east_opt(3600).unwrap();
        let ev = beats_event_to_event(br#"{"@timestamp":"2024-01-15T11:00:00.5"}"#, &c);
        assert_eq!(ev.timestamp, 1_705_312_800_500_000_000);
        let ev = beats_event_to_event(br#"{"@timestamp":"soon"}"#, &c);
        assert_eq!(ev.timestamp, 1_000);
        assert_eq!(
            ev.field("@timestamp"),
            Some(&FieldValue::Str("soon".into()))
        );
    }

    #[test]
    fn v1_pairs_map_line_host_and_file() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        let pairs = vec![
            (b("file"), b("/var/log/auth.log")),
            (b("host"), b("LabSZ")),
            (b("offset"), b("0")),
            (b("line"), b("Dec 10 06:55:46 LabSZ sshd[24200]: x")),
            (b("type"), b("syslog")),
        ];
        let ev = data_pairs_to_event(&pairs, &ctx());
        assert_eq!(ev.message, "Dec 10 06:55:46 LabSZ sshd[24200]: x");
        assert_eq!(ev.host.as_deref(), Some("LabSZ"));
        assert_eq!(
            ev.field("log.file.path"),
            Some(&FieldValue::Str("/var/log/auth.log".into()))
        );
        assert_eq!(ev.field("log.offset"), Some(&FieldValue::Int(0)));
        assert_eq!(ev.field("type"), Some(&FieldValue::Str("syslog".into())));
    }
}
