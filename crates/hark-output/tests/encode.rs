//! The encoders: what they write reads back (Hark's syslog parser, a JSON
//! parser, a CEF reader written from the specification), whatever text
//! the event holds.

use hark_config::OutputFormat;
use hark_event::{Event, Facility, FieldValue, Severity};
use hark_output::encode::{cef, ecs_json, rfc3164, rfc5424, syslog_message};
use hark_output::gelf::gelf_json;
use hark_proto::{ParseContext, parse_syslog};
use proptest::prelude::*;

fn sample() -> Event {
    let mut e = Event::new(1_767_323_045_000_006_000, "tcp");
    e.timestamp = 1_767_323_045_000_006_000;
    e.host = Some("web1".into());
    e.app = Some("sshd".into());
    e.procid = Some("42".into());
    e.msgid = Some("LOGIN".into());
    e.facility = Some(Facility::Auth);
    e.severity = Some(Severity::Warning);
    e.message = "Failed password for \"root\" | from 10.0.0.1 a=b \\ end".into();
    e.source = Some("10.0.0.9:514".into());
    e.push_field("sd.origin.ip", "10.0.0.1");
    e.push_field("sd.origin.software", "x]\"\\y");
    e.push_field("sd.meta@32473.sequenceId", FieldValue::Int(7));
    e.push_field("user.name", "root");
    e.push_field("ok", true);
    e
}

fn parse(bytes: &[u8]) -> Event {
    parse_syslog(bytes, &ParseContext::new(0, "test"))
}

#[test]
fn rfc5424_keeps_the_header_and_structured_data() {
    let e = sample();
    let mut out = Vec::new();
    rfc5424(&e, &mut out);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with("<36>1 2026-01-02T03:04:05.000006Z web1 sshd 42 LOGIN [origin ip=\"10.0.0.1\" software=\"x\\]\\\"\\\\y\"][meta@32473 sequenceId=\"7\"] "),
        "{text}"
    );
    let back = parse(&out);
    assert_eq!(back.timestamp, e.timestamp);
    assert_eq!(
        (&back.host, &back.app, &back.procid, &back.msgid),
        (&e.host, &e.app, &e.procid, &e.msgid)
    );
    assert_eq!((back.facility, back.severity), (e.facility, e.severity));
    assert_eq!(back.message, e.message);
    assert_eq!(
        back.field("sd.origin.software"),
        Some(&FieldValue::Str("x]\"\\y".into()))
    );
    assert_eq!(
        back.field("sd.origin.ip"),
        Some(&FieldValue::Str("10.0.0.1".into()))
    );
}

#[test]
fn rfc3164_reads_back_and_defaults_missing_fields() {
    let e = sample();
    let mut out = Vec::new();
    rfc3164(&e, &mut out);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        format!("<36>Jan  2 03:04:05 web1 sshd[42]: {}", e.message)
    );
    let back = parse(&out);
    assert_eq!(
        (back.host.as_deref(), back.app.as_deref()),
        (Some("web1"), Some("sshd"))
    );
    assert_eq!(back.message, e.message);

    let mut bare = Event::new(e.timestamp, "tcp");
    bare.message = "hello".into();
    let mut out = Vec::new();
    rfc3164(&bare, &mut out);
    // user.notice when facility and severity are unknown.
    assert!(
        out.starts_with(b"<13>Jan  2 03:04:05 - -: hello"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn long_and_lossily_decoded_messages_are_written_whole() {
    let mut e = sample();
    let raw = [b"head ".as_slice(), &[0xff, 0xfe], &vec![b'x'; 200_000]].concat();
    e.message = String::from_utf8_lossy(&raw).into_owned();
    e.raw = Some(raw);
    for format in [OutputFormat::Rfc5424, OutputFormat::Rfc3164] {
        let mut out = Vec::new();
        syslog_message(&e, format, &mut out);
        assert!(out.ends_with(e.message.as_bytes()), "{format:?}");
        assert_eq!(parse(&out).message, e.message, "{format:?}");
    }
    let json: serde_json::Value = serde_json::from_slice(&ecs_json(&e)).unwrap();
    assert_eq!(json["message"], e.message.as_str());
}

#[test]
fn ecs_json_is_dotted_and_typed() {
    let mut e = sample();
    e.push_field("message", "a field named like an ECS key");
    e.push_field("ratio", FieldValue::Float(f64::NAN));
    let v: serde_json::Value = serde_json::from_slice(&ecs_json(&e)).unwrap();
    assert_eq!(v["@timestamp"], "2026-01-02T03:04:05.000006000Z");
    assert_eq!(v["message"], e.message.as_str());
    assert_eq!(v["host.name"], "web1");
    assert_eq!(v["log.syslog.appname"], "sshd");
    assert_eq!(v["log.syslog.procid"], "42");
    assert_eq!(v["log.syslog.msgid"], "LOGIN");
    assert_eq!(v["log.syslog.facility.code"], 4);
    assert_eq!(v["log.syslog.facility.name"], "auth");
    assert_eq!(v["log.syslog.severity.code"], 4);
    assert_eq!(v["log.level"], "warning");
    assert_eq!(v["hark.peer"], "10.0.0.9:514");
    assert_eq!(v["hark.input"], "tcp");
    assert_eq!(v["sd.meta@32473.sequenceId"], 7);
    assert_eq!(v["ok"], true);
    assert_eq!(v["user.name"], "root");
    assert_eq!(v["fields.message"], "a field named like an ECS key");
    assert_eq!(v["ratio"], "NaN");
}

#[test]
fn cef_escapes_header_and_extension_as_the_specification_says() {
    let mut e = sample();
    e.message = "a|b\\c=d\r\ne".into();
    let line = cef(&e);
    assert!(!line.contains('\n') && !line.contains('\r'), "{line}");
    assert!(
        line.starts_with(&format!(
            "CEF:0|Hark|Hark|{}|LOGIN|a\\|b\\\\c=d  e|5|rt=1767323045000 dvchost=web1 dproc=sshd dvcpid=42 src=10.0.0.9 ",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
    let ext = read_cef(&line).expect("a CEF line");
    assert_eq!(ext["msg"], e.message);
    assert_eq!(ext["sd_origin_software"], "x]\"\\y");
    assert_eq!(ext["ok"], "true");
}

#[test]
fn gelf_messages_carry_the_fields() {
    let e = sample();
    let v: serde_json::Value = serde_json::from_slice(&gelf_json(&e)).unwrap();
    assert_eq!(v["version"], "1.1");
    assert_eq!(v["host"], "web1");
    assert_eq!(v["short_message"], e.message.as_str());
    assert_eq!(v["level"], 4);
    assert_eq!(v["_app"], "sshd");
    assert_eq!(v["_sd.meta_32473.sequenceId"], 7);
    assert_eq!(v["_user.name"], "root");
}

/// The extension of a CEF line, unescaped; `None` when the line does not
/// have 7 unescaped `|` after `CEF:`.
fn read_cef(line: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let body = line.strip_prefix("CEF:")?;
    let mut pipes = 0;
    let mut start = None;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '|') => {
                pipes += 1;
                if pipes == 7 {
                    start = Some(i + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    let ext = &body[start?..];
    // Unescaped `=` positions end keys; a key is the word before one.
    let chars: Vec<char> = ext.chars().collect();
    let mut eqs = Vec::new();
    let mut escaped = false;
    for (i, c) in chars.iter().enumerate() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '=') => eqs.push(i),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for (k, &eq) in eqs.iter().enumerate() {
        let key_start = chars[..eq]
            .iter()
            .rposition(|c| *c == ' ')
            .map_or(0, |p| p + 1);
        let key: String = chars[key_start..eq].iter().collect();
        let value_end = match eqs.get(k + 1) {
            Some(&next) => chars[..next].iter().rposition(|c| *c == ' ')?,
            None => chars.len(),
        };
        let mut value = String::new();
        let mut it = chars[eq + 1..value_end].iter();
        while let Some(&c) = it.next() {
            if c == '\\' {
                match it.next() {
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some(&other) => value.push(other),
                    None => return None,
                }
            } else {
                value.push(c);
            }
        }
        out.insert(key, value);
    }
    Some(out)
}

proptest! {
    #[test]
    fn any_text_makes_a_valid_cef_line_that_reads_back(
        message in any::<String>(),
        value in any::<String>(),
        app in "[a-z]{1,8}",
    ) {
        let mut e = Event::new(0, "t");
        e.message = message.clone();
        e.app = Some(app);
        e.push_field("k", value.as_str());
        let line = cef(&e);
        prop_assert!(!line.contains('\n') && !line.contains('\r'));
        let ext = read_cef(&line).expect("a CEF line");
        prop_assert_eq!(&ext["msg"], &message);
        prop_assert_eq!(&ext["k"], &value);
    }

    #[test]
    fn any_text_makes_json_that_parses_back(
        message in any::<String>(),
        key in any::<String>(),
        value in any::<String>(),
    ) {
        let mut e = Event::new(0, "t");
        e.message = message.clone();
        e.push_field(key.clone(), value.as_str());
        let bytes = ecs_json(&e);
        prop_assert!(!bytes.contains(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(v["message"].as_str(), Some(message.as_str()));
        let stored = v.get(&key).or_else(|| v.get(format!("fields.{key}")));
        prop_assert_eq!(stored.and_then(|s| s.as_str()), Some(value.as_str()));
    }

    #[test]
    fn any_header_text_makes_rfc5424_that_parses_back(
        host in any::<String>(),
        app in any::<String>(),
        sd_value in any::<String>(),
        message in "[^\r\n]{0,200}",
    ) {
        let mut e = Event::new(0, "t");
        e.host = Some(host);
        e.app = Some(app);
        e.severity = Some(Severity::Err);
        e.message = message;
        e.push_field("sd.x.v", sd_value.as_str());
        let mut out = Vec::new();
        rfc5424(&e, &mut out);
        let back = parse(&out);
        prop_assert_eq!(&back.parse_error, &None);
        prop_assert_eq!(back.severity, Some(Severity::Err));
        prop_assert_eq!(back.field("sd.x.v"), Some(&FieldValue::Str(sd_value)));
    }
}
