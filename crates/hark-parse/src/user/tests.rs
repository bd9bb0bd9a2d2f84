use std::collections::BTreeMap;

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue};

use super::*;

const SHOP_GROK: &str = "%{IPORHOST:source.ip} %{WORD:http.request.method} %{URIPATHPARAM:url.original} %{NUMBER:http.response.status_code:int} %{NUMBER:event.duration:int}";

fn spec(matcher: &str, pattern: Pattern, renames: &[(&str, &str)]) -> UserParserSpec {
    UserParserSpec {
        matcher: Matcher::new(matcher).unwrap(),
        pattern,
        renames: renames
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn event(app: &str, message: &str) -> Event {
    let mut ev = Event::new(0, "syslog_udp");
    ev.app = Some(app.into());
    ev.message = message.into();
    ev
}

use crate::testing::s;

fn sorted(ev: &Event) -> Vec<(String, FieldValue)> {
    let mut fields = ev.fields.clone();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields
}

fn shop() -> UserParser {
    UserParser::new(
        "shop_access",
        spec("app:shop", Pattern::Grok(SHOP_GROK.into()), &[]),
    )
    .unwrap()
}

#[test]
fn grok_reads_access_lines_with_types() {
    let parser = shop();
    assert_eq!(parser.name(), "shop_access");
    let mut ev = event("shop", "203.0.113.7 GET /cart/add?item=42&qty=1 200 153");
    assert!(parser.parse(&mut ev));
    assert_eq!(
        sorted(&ev),
        vec![
            ("event.duration".into(), FieldValue::Int(153)),
            ("http.request.method".into(), s("GET")),
            ("http.response.status_code".into(), FieldValue::Int(200)),
            ("source.ip".into(), s("203.0.113.7")),
            ("url.original".into(), s("/cart/add?item=42&qty=1")),
        ]
    );
    assert_eq!(ev.parse_error, None);
    assert_eq!(
        ev.message,
        "203.0.113.7 GET /cart/add?item=42&qty=1 200 153"
    );

    // A host name where the address would be, and an IPv6 address.
    let mut ev = event("shop", "lb-1.example.net POST /api/v2/orders 503 30012");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("source.ip"), Some(&s("lb-1.example.net")));
    assert_eq!(
        ev.field("http.response.status_code"),
        Some(&FieldValue::Int(503))
    );
    assert_eq!(ev.field("url.original"), Some(&s("/api/v2/orders")));

    let mut ev = event("shop", "2001:db8::17 DELETE /cart/9 204 7");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("source.ip"), Some(&s("2001:db8::17")));
    assert_eq!(ev.field("event.duration"), Some(&FieldValue::Int(7)));
}

#[test]
fn grok_leaves_other_events_alone() {
    let parser = shop();
    // Another application: the matcher refuses it.
    let mut ev = event("billing", "203.0.113.7 GET /cart 200 153");
    assert!(!parser.parse(&mut ev));
    assert!(ev.fields.is_empty());
    // The application, but a line the pattern does not fit: untouched, no error.
    let mut ev = event("shop", "cache warmed in 3s");
    assert!(!parser.parse(&mut ev));
    assert!(ev.fields.is_empty());
    assert_eq!(ev.parse_error, None);
}

#[test]
fn a_typed_capture_that_does_not_parse_is_kept_as_text() {
    let parser = UserParser::new(
        "t",
        spec(
            "",
            Pattern::Grok(
                "took %{NUMBER:event.duration:int} ok=%{WORD:ok:bool} load=%{NUMBER:load:float}"
                    .into(),
            ),
            &[],
        ),
    )
    .unwrap();
    let mut ev = event("x", "took 2.5 ok=yes load=0.75");
    assert!(parser.parse(&mut ev));
    // 2.5 is not a whole number: kept as text, not lost.
    assert_eq!(ev.field("event.duration"), Some(&s("2.5")));
    assert_eq!(ev.field("ok"), Some(&s("yes")));
    assert_eq!(ev.field("load"), Some(&FieldValue::Float(0.75)));
    let mut ev = event("x", "took 12 ok=TRUE load=3");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("event.duration"), Some(&FieldValue::Int(12)));
    assert_eq!(ev.field("ok"), Some(&FieldValue::Bool(true)));
    assert_eq!(ev.field("load"), Some(&FieldValue::Float(3.0)));
}

#[test]
fn untyped_captures_follow_ecs_kinds() {
    let parser = UserParser::new(
        "ecs",
        spec(
            "",
            Pattern::Grok(
                "%{IP:source.ip}:%{POSINT:source.port} user %{USERNAME:user.name}".into(),
            ),
            &[],
        ),
    )
    .unwrap();
    let mut ev = event("x", "10.0.0.5:4022 user alice");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("source.port"), Some(&FieldValue::Int(4022)));
    assert_eq!(ev.field("user.name"), Some(&s("alice")));

    let parser = UserParser::new(
        "v6",
        spec("", Pattern::Regex(r"^from (?P<source.ip>\S+)$".into()), &[]),
    )
    .unwrap();
    let mut ev = event("x", "from 2001:0DB8:0000:0000:0000:0000:0000:0001");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("source.ip"), Some(&s("2001:db8::1")));
}

#[test]
fn grok_standard_patterns_compile_and_match() {
    let parser = UserParser::new(
        "app_log",
        spec(
            "",
            Pattern::Grok(
                "%{TIMESTAMP_ISO8601:event.created} %{LOGLEVEL:log.level} \\[%{DATA:process.thread.name}\\] %{GREEDYDATA:event.original}".into(),
            ),
            &[],
        ),
    )
    .unwrap();
    let mut ev = event(
        "x",
        "2024-03-05T14:22:01.123+01:00 WARN [pool-3-thread-1] retrying connection to db01",
    );
    assert!(parser.parse(&mut ev));
    assert_eq!(
        ev.field("event.created"),
        Some(&s("2024-03-05T14:22:01.123+01:00"))
    );
    assert_eq!(ev.field("log.level"), Some(&s("WARN")));
    assert_eq!(ev.field("process.thread.name"), Some(&s("pool-3-thread-1")));
    assert_eq!(
        ev.field("event.original"),
        Some(&s("retrying connection to db01"))
    );
}

#[test]
fn renames_map_the_legacy_apache_names() {
    // The example line of the Apache HTTP Server's log documentation.
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
    let renames = [
        ("clientip", "source.ip"),
        ("ident", "apache.access.ident"),
        ("auth", "user.name"),
        ("timestamp", "apache.access.time"),
        ("verb", "http.request.method"),
        ("request", "url.original"),
        ("httpversion", "http.version"),
        ("response", "http.response.status_code"),
        ("bytes", "http.response.body.bytes:int"),
        ("referrer", "http.request.referrer"),
        ("agent", "user_agent.original"),
    ];
    let parser = UserParser::new(
        "apache",
        spec(
            "app:httpd",
            Pattern::Grok("%{COMBINEDAPACHELOG}".into()),
            &renames,
        ),
    )
    .unwrap();
    let mut ev = event("httpd", line);
    assert!(parser.parse(&mut ev));
    assert_eq!(
        sorted(&ev),
        vec![
            ("apache.access.ident".into(), s("-")),
            ("apache.access.time".into(), s("10/Oct/2000:13:55:36 -0700")),
            ("http.request.method".into(), s("GET")),
            (
                "http.request.referrer".into(),
                s("\"http://www.example.com/start.html\"")
            ),
            ("http.response.body.bytes".into(), FieldValue::Int(2326)),
            ("http.response.status_code".into(), FieldValue::Int(200)),
            ("http.version".into(), s("1.0")),
            ("source.ip".into(), s("127.0.0.1")),
            ("url.original".into(), s("/apache_pb.gif")),
            ("user.name".into(), s("frank")),
            (
                "user_agent.original".into(),
                s("\"Mozilla/4.08 [en] (Win98; I ;Nav)\"")
            ),
        ]
    );
}

#[test]
fn regex_named_groups_with_dots_renames_and_types() {
    let parser = UserParser::new(
        "login",
        spec(
            "app:portal AND logged",
            Pattern::Regex(
                r"^(?P<user.name>\w+) logged in from (?P<source.ip>\S+) after (?P<ms>\d+) ms(?: \(mfa=(?P<mfa>\w+)\))?$"
                    .into(),
            ),
            &[("ms", "event.duration:int"), ("mfa", "user.mfa:bool")],
        ),
    )
    .unwrap();
    let mut ev = event(
        "portal",
        "alice logged in from 198.51.100.23 after 840 ms (mfa=true)",
    );
    assert!(parser.parse(&mut ev));
    assert_eq!(
        sorted(&ev),
        vec![
            ("event.duration".into(), FieldValue::Int(840)),
            ("source.ip".into(), s("198.51.100.23")),
            ("user.mfa".into(), FieldValue::Bool(true)),
            ("user.name".into(), s("alice")),
        ]
    );
    // The optional group did not take part: no field for it.
    let mut ev = event("portal", "bob logged in from 198.51.100.24 after 12 ms");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.field("user.mfa"), None);
    assert_eq!(ev.fields.len(), 3);
    // The matcher wants the word "logged".
    let mut ev = event("portal", "bob logged out");
    assert!(!parser.parse(&mut ev));
}

#[test]
fn fields_are_appended_after_existing_ones() {
    let parser = shop();
    let mut ev = event("shop", "203.0.113.7 GET / 200 1");
    ev.push_field("sd.meta.id", "7");
    assert!(parser.parse(&mut ev));
    assert_eq!(ev.fields[0], ("sd.meta.id".into(), s("7")));
    assert_eq!(ev.fields.len(), 6);
}

#[test]
fn errors_name_the_parser_and_the_problem() {
    let err = |pattern: Pattern, renames: &[(&str, &str)]| {
        UserParser::new("p1", spec("", pattern, renames)).unwrap_err()
    };

    let e = err(Pattern::Grok("%{IPORHOSTT:source.ip}".into()), &[]);
    assert_eq!(
        e,
        UserParserError::UnknownGrokPattern {
            parser: "p1".into(),
            name: "IPORHOSTT".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "parser p1: unknown grok pattern %{IPORHOSTT}"
    );

    let e = err(Pattern::Grok("%{WORD:a} (unclosed".into()), &[]);
    assert!(matches!(e, UserParserError::Grok { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("parser p1: grok pattern does not compile"),
        "{e}"
    );

    let e = err(Pattern::Regex(r"^(?P<user.name>\w+) \q".into()), &[]);
    match &e {
        UserParserError::Regex { position, .. } => assert_eq!(*position, 20, "{e}"),
        other => panic!("{other:?}"),
    }
    let e = err(Pattern::Regex(r"a{2,1}".into()), &[]);
    assert!(
        e.to_string()
            .starts_with("parser p1: invalid regex at byte 1"),
        "{e}"
    );

    let e = err(Pattern::Regex(r"^\w+ logged in$".into()), &[]);
    assert_eq!(
        e,
        UserParserError::NoCaptures {
            parser: "p1".into()
        }
    );
    let e = err(Pattern::Grok("%{WORD} %{NUMBER}".into()), &[]);
    assert_eq!(
        e,
        UserParserError::NoCaptures {
            parser: "p1".into()
        }
    );

    let e = err(Pattern::Grok("%{NUMBER:n:long}".into()), &[]);
    assert_eq!(
        e,
        UserParserError::UnknownType {
            parser: "p1".into(),
            capture: "n".into(),
            ty: "long".into()
        }
    );
    let e = err(
        Pattern::Regex(r"(?P<n>\d+)".into()),
        &[("n", "count:integer")],
    );
    assert!(matches!(e, UserParserError::UnknownType { .. }), "{e:?}");

    let e = err(Pattern::Regex(r"(?P<n>\d+)".into()), &[("m", "count")]);
    assert_eq!(
        e,
        UserParserError::UnknownRename {
            parser: "p1".into(),
            capture: "m".into()
        }
    );

    let e = err(Pattern::Grok("%{COMBINEDAPACHELOG}".into()), &[]);
    assert_eq!(
        e,
        UserParserError::ReservedField {
            parser: "p1".into(),
            capture: "timestamp".into(),
            field: "timestamp".into()
        }
    );
    let e = err(Pattern::Regex(r"(?P<h>\S+)".into()), &[("h", "host")]);
    assert!(matches!(e, UserParserError::ReservedField { .. }), "{e:?}");
}

#[test]
fn a_hostile_message_does_not_panic() {
    let parser = shop();
    for message in [
        "",
        " ",
        "\u{0}\u{fffd}",
        &"9 ".repeat(10_000),
        &"a".repeat(100_000),
    ] {
        let mut ev = event("shop", message);
        assert!(!parser.parse(&mut ev));
    }
}

#[test]
fn grok_syntax_errors_speak_of_what_the_user_wrote() {
    let message = |text: &str| {
        UserParser::new("p", spec("", Pattern::Grok(text.into()), &[]))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        message("%{WORD:a} (unclosed"),
        "parser p: grok pattern does not compile: unclosed open paren"
    );
    assert!(message("%{WORD:a} %{").contains("a %{...} reference is malformed"));
}
