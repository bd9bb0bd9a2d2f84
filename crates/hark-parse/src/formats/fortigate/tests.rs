use hark_event::FieldValue;

use super::*;

use crate::testing::body;

struct Parsed {
    fields: Vec<(String, FieldValue)>,
    timestamp: Option<i64>,
    result: Result<(), Failure>,
}

fn parse(message: &str) -> Parsed {
    let mut fields = Vec::new();
    let mut out = Out::new(&mut fields);
    let result = Fortigate.parse(&body(message), &mut out);
    let timestamp = out.timestamp();
    Parsed {
        fields,
        timestamp,
        result,
    }
}

fn get<'a>(p: &'a Parsed, name: &str) -> Vec<&'a FieldValue> {
    p.fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

fn text(s: &str) -> FieldValue {
    FieldValue::Str(s.into())
}

#[test]
fn claims_fortigate_bodies_only() {
    assert!(Fortigate.claims(&body(r#"date=2024-01-01 time=00:00:00 type="traffic""#)));
    assert!(Fortigate.claims(&body(r#"logver=700 devname="a" type="event""#)));
    assert!(!Fortigate.claims(&body("date=2024-01-01 backup finished")));
    assert!(!Fortigate.claims(&body(r#"<189>date=2024-01-01 type="traffic""#)));
    assert!(!Fortigate.claims(&body("user=root type=login")));
    assert!(!Fortigate.claims(&body("")));
}

#[test]
fn quoted_values_keep_spaces_commas_and_escaped_quotes() {
    let p = parse(
        r#"date=2024-01-01 time=00:00:00 type="event" msg="Edit \"a, b\" done" cfgattr="x[->1],y" filename="dir\\f.txt""#,
    );
    assert_eq!(p.result, Ok(()));
    assert_eq!(
        get(&p, "fortinet.firewall.msg"),
        [&text(r#"Edit "a, b" done"#)]
    );
    assert_eq!(get(&p, "fortinet.firewall.cfgattr"), [&text("x[->1],y")]);
    assert_eq!(get(&p, "fortinet.firewall.filename"), [&text(r"dir\f.txt")]);
}

#[test]
fn bare_integers_become_numbers_quoted_ones_stay_text() {
    let p =
        parse(r#"date=2024-01-01 type="utm" sessionid=42 filesize="13824" icmpid="0x1474" neg=-3"#);
    assert_eq!(
        get(&p, "fortinet.firewall.sessionid"),
        [&FieldValue::Int(42)]
    );
    assert_eq!(get(&p, "fortinet.firewall.filesize"), [&text("13824")]);
    assert_eq!(get(&p, "fortinet.firewall.icmpid"), [&text("0x1474")]);
    assert_eq!(get(&p, "fortinet.firewall.neg"), [&FieldValue::Int(-3)]);
}

#[test]
fn nat_addresses_and_sums() {
    let p = parse(
        "date=2024-01-01 time=00:00:00 type=traffic srcip=10.0.0.1 transip=203.0.113.1 \
         transport=40000 dstip=198.51.100.7 tranip=10.1.1.1 tranport=8443 sentbyte=10 rcvdbyte=32 \
         sentpkt=1 rcvdpkt=2 proto=17",
    );
    assert_eq!(
        get(&p, "related.ip"),
        [
            &text("10.0.0.1"),
            &text("203.0.113.1"),
            &text("198.51.100.7"),
            &text("10.1.1.1")
        ]
    );
    assert_eq!(get(&p, "source.nat.port"), [&FieldValue::Int(40000)]);
    assert_eq!(get(&p, "destination.nat.ip"), [&text("10.1.1.1")]);
    assert_eq!(get(&p, "destination.nat.port"), [&FieldValue::Int(8443)]);
    assert_eq!(get(&p, "network.bytes"), [&FieldValue::Int(42)]);
    assert_eq!(get(&p, "network.packets"), [&FieldValue::Int(3)]);
    assert_eq!(get(&p, "network.transport"), [&text("udp")]);
    assert_eq!(get(&p, "network.iana_number"), [&text("17")]);
}

#[test]
fn invalid_numbers_and_addresses_are_kept_as_text() {
    let p =
        parse("date=2024-01-01 type=traffic srcip=N/A dstport=http sentbyte=x rcvdbyte=5 proto=99");
    assert_eq!(get(&p, "source.ip"), [&text("N/A")]);
    assert!(get(&p, "related.ip").is_empty());
    assert_eq!(get(&p, "destination.port"), [&text("http")]);
    assert_eq!(get(&p, "source.bytes"), [&text("x")]);
    assert!(get(&p, "network.bytes").is_empty());
    assert!(get(&p, "network.transport").is_empty());
    assert_eq!(get(&p, "network.iana_number"), [&text("99")]);
}

#[test]
fn event_time_prefers_date_time_and_zone() {
    let zoned = parse(
        r#"date=2023-05-09 time=01:14:16 eventtime=1683620056835075857 tz="-0700" type="traffic""#,
    );
    assert_eq!(zoned.timestamp, Some(1_683_620_056_000_000_000));
    let no_zone = parse(r#"date=2019-05-15 time=18:03:41 type="traffic" eventtime=1557968619"#);
    assert_eq!(no_zone.timestamp, Some(1_557_968_619_000_000_000));
    let neither = parse(r#"date=2019-05-15 time=18:03:41 type="traffic""#);
    assert_eq!(neither.timestamp, None);
    let only_eventtime = parse(r#"logid="0000000013" type="traffic" eventtime=1557968619000000"#);
    assert_eq!(only_eventtime.timestamp, Some(1_557_968_619_000_000_000));
}

#[test]
fn unterminated_quote_fails_and_keeps_what_was_read() {
    let p = parse(r#"date=2024-01-01 type="traffic" srcip=10.0.0.1 msg="cut"#);
    assert_eq!(p.result, Err(Failure::new(50, "closing quote")));
    assert_eq!(get(&p, "source.ip"), [&text("10.0.0.1")]);
    assert_eq!(get(&p, "event.outcome"), [&text("unknown")]);
}

#[test]
fn odd_keys_are_not_written() {
    let p = parse(r#"date=2024-01-01 type=event a:b=1 "q=2 ok=3"#);
    assert!(
        p.fields
            .iter()
            .all(|(k, _)| !k.contains(':') && !k.contains('"'))
    );
    assert_eq!(get(&p, "fortinet.firewall.ok"), [&FieldValue::Int(3)]);
}

#[test]
fn non_ascii_values_survive() {
    let p = parse(r#"date=2024-01-01 type="event" subtype="user" user="Zoë Łukasz" msg="naïve""#);
    assert_eq!(get(&p, "user.name"), [&text("Zoë Łukasz")]);
    assert_eq!(get(&p, "event.category"), [&text("authentication")]);
}
