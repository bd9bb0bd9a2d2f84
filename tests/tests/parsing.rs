//! Vendor bodies sent by a real `logger` become typed ECS fields: one query
//! with a CIDR block, a port and an action covers them, numbers compare as
//! numbers, top values count typed fields, and a body a parser cannot read
//! is kept whole with the parser's reason.

use std::time::Duration;

use hark_e2e::{Hark, str_of};
use hark_testkit::peers::run_logger;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// Sends `text` tagged `tag` over UDP with `logger`.
fn send(hark: &Hark, tag: &str, text: &str) {
    let port = hark.port("udp").to_string();
    run_logger(&["-d", "-n", "127.0.0.1", "-P", &port, "-t", tag, text]);
}

fn field(ev: &Value, name: &str) -> Value {
    ev["fields"].get(name).cloned().unwrap_or(Value::Null)
}

#[test]
fn vendor_bodies_are_searchable_by_typed_ecs_fields() {
    let hark = Hark::start(
        "[enrich.networks]\n\"10.0.0.0/8\" = \"internal\"\n\"203.0.113.0/24\" = \"partner\"\n",
    );
    let fortigate = [
        r#"date=2024-05-01 time=10:20:30 devname="FGT-1" logid="0000000013" type="traffic" subtype="forward" srcip=10.1.2.3 srcport=51234 dstip=192.0.2.8 dstport=3389 proto=6 action="deny" sentbyte=120 rcvdbyte=0 tz="+0000""#,
        r#"date=2024-05-01 time=10:20:31 devname="FGT-1" logid="0000000013" type="traffic" subtype="forward" srcip=10.1.2.4 srcport=51235 dstip=192.0.2.9 dstport=443 proto=6 action="accept" sentbyte=2000000000 rcvdbyte=5000 tz="+0000""#,
    ];
    for line in fortigate {
        send(&hark, "fw", line);
    }
    send(
        &hark,
        "ids",
        "CEF:0|Acme|Sensor|2.1|4711|Port scan|7|src=2001:db8::5 dst=192.0.2.8 dpt=3389 act=blocked",
    );
    send(&hark, "ids", "CEF:0|Acme|Sensor");
    send(
        &hark,
        "sshd",
        "Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2",
    );
    send(&hark, "app", "plain words with no format at all");
    assert_eq!(hark.wait_total("*", 6, WAIT), 6, "{}", hark.output());

    // One query over every vendor: a block, a port, an action.
    let denied_rdp = hark.hits(
        "source.ip:10.0.0.0/8 AND destination.port:3389 AND event.action:deny",
        10,
    );
    assert_eq!(denied_rdp.len(), 1, "{denied_rdp:?}");
    let fw = &denied_rdp[0];
    assert_eq!(field(fw, "observer.vendor"), "Fortinet");
    assert_eq!(field(fw, "source.port"), 51234);
    assert_eq!(field(fw, "source.network.name"), "internal");
    assert_eq!(
        str_of(fw, "timestamp"),
        Some("2024-05-01T10:20:30.000000000Z")
    );

    assert_eq!(hark.total("destination.port:3389"), 2);
    assert_eq!(hark.total("source.ip:\"2001:db8::/32\""), 1);
    assert_eq!(hark.total("source.ip:[10.1.2.0 TO 10.1.2.3]"), 1);
    assert_eq!(hark.total("source.ip:[10.1.2.0 TO 10.1.2.255]"), 2);
    assert_eq!(hark.total("network.bytes:>1000000000"), 1);
    assert_eq!(hark.total("source.bytes:[100 TO 200]"), 1);
    // The sending peer is observer.ip, and log.source.address its ECS alias.
    assert_eq!(hark.total("observer.ip:127.0.0.0/8"), 6);
    assert_eq!(hark.total("log.source.address:127.0.0.1*"), 6);
    assert_eq!(hark.total("observer.ip:10.0.0.0/8"), 0);

    let ssh = hark.hits("event.outcome:failure AND source.network.name:partner", 10);
    assert_eq!(ssh.len(), 1, "{ssh:?}");
    assert_eq!(field(&ssh[0], "user.name"), "admin");
    assert_eq!(field(&ssh[0], "event.dataset"), "system.auth");

    // Top values count the typed fields exactly (values are shown as text).
    let top = hark.search("*", &[("top", "destination.port"), ("limit", "1")]);
    let ports: Vec<(Value, Value)> = top["top"]["destination.port"]
        .as_array()
        .unwrap_or_else(|| panic!("no top values in {top}"))
        .iter()
        .map(|v| (v["value"].clone(), v["count"].clone()))
        .collect();
    assert_eq!(ports[0], (Value::from("3389"), Value::from(2)), "{top}");
    assert_eq!(ports.len(), 2, "{top}");

    // A body cut short: kept whole, flagged, with the parser's reason.
    let broken = hark.hits("parse_error:true", 10);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(str_of(&broken[0], "message"), Some("CEF:0|Acme|Sensor"));
    let reason = str_of(&broken[0], "parse_error_reason").unwrap_or_default();
    assert!(reason.starts_with("cef: "), "{reason}");

    // ECS fields that arrive already named (NDJSON here, as from Filebeat)
    // are the same typed fields.
    let ndjson = r#"{"message":"shipped by an agent","source":{"ip":"10.77.0.1","port":40000},"destination":{"port":3389}}"#;
    let (status, body) = hark.post_as("/api/v1/ingest", Some(hark.token()), ndjson);
    assert_eq!(status, 200, "{body}");
    assert_eq!(hark.wait_total("*", 7, WAIT), 7, "{}", hark.output());
    assert_eq!(
        hark.total("source.ip:10.77.0.0/16 AND destination.port:3389"),
        1
    );
    assert_eq!(hark.total("destination.port:3389"), 3);

    // Plain text gains nothing beyond logger's own structured data.
    let plain = hark.hits("plain", 10);
    let fields = plain[0]["fields"].as_object().cloned().unwrap_or_default();
    assert!(fields.keys().all(|k| k.starts_with("sd.")), "{plain:?}");
}
