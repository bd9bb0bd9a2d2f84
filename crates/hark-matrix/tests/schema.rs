//! The JSON form keeps to its documented schema (`flow.schema.json`, which
//! the OpenAPI document embeds as `Flow`).

use std::collections::BTreeSet;

use hark_matrix::{Direction, Endpoint, FLOW_SCHEMA, Flow, PortSpec, Role, Security, Transport};
use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(FLOW_SCHEMA).expect("flow.schema.json is JSON")
}

fn enum_of(schema: &Value, key: &str) -> BTreeSet<String> {
    schema["properties"][key]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{key} has no enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn names<T: serde::Serialize>(values: &[T]) -> BTreeSet<String> {
    values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Every variant; the matches have no wildcard, so a new one must be listed.
fn all_variants() -> (Vec<Direction>, Vec<Role>, Vec<Transport>, Vec<Security>) {
    let d = [Direction::Inbound, Direction::Local, Direction::Outbound];
    let r = [Role::Listen, Role::Connect];
    let t = [Transport::Tcp, Transport::Udp, Transport::Icmp];
    let s = [
        Security::Plain,
        Security::Tls,
        Security::Mtls,
        Security::Token,
    ];
    for x in d {
        match x {
            Direction::Inbound | Direction::Local | Direction::Outbound => {}
        }
    }
    for x in r {
        match x {
            Role::Listen | Role::Connect => {}
        }
    }
    for x in t {
        match x {
            Transport::Tcp | Transport::Udp | Transport::Icmp => {}
        }
    }
    for x in s {
        match x {
            Security::Plain | Security::Tls | Security::Mtls | Security::Token => {}
        }
    }
    (d.to_vec(), r.to_vec(), t.to_vec(), s.to_vec())
}

#[test]
fn enums_match_the_schema() {
    let s = schema();
    let (d, r, t, sec) = all_variants();
    assert_eq!(enum_of(&s, "direction"), names(&d));
    assert_eq!(enum_of(&s, "role"), names(&r));
    assert_eq!(enum_of(&s, "transport"), names(&t));
    assert_eq!(enum_of(&s, "security"), names(&sec));
}

#[test]
fn every_field_is_documented_and_required() {
    let s = schema();
    let flow = Flow::listener(
        "0.0.0.0:514".parse().unwrap(),
        Transport::Udp,
        "syslog",
        Security::Plain,
        "inputs.a",
        "p",
    );
    let json = serde_json::to_value(&flow).unwrap();
    let keys: BTreeSet<String> = json.as_object().unwrap().keys().cloned().collect();
    let documented: BTreeSet<String> = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let required: BTreeSet<String> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, documented);
    assert_eq!(keys, required);
    for key in [
        "direction",
        "source",
        "destination",
        "port",
        "transport",
        "protocol",
        "security",
        "component",
        "purpose",
    ] {
        assert!(keys.contains(key), "{key} is part of the stable interface");
    }
}

#[test]
fn ports_take_the_three_documented_forms() {
    let s = schema();
    let forms = s["properties"]["port"]["oneOf"].as_array().unwrap();
    let types: Vec<&str> = forms.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["integer", "string", "null"]);
    let pattern = forms[1]["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[0-9]{1,5}-[0-9]{1,5}$");
    let json = |p: PortSpec| {
        let f = Flow::client(
            Endpoint::Any,
            p,
            Transport::Tcp,
            "x",
            Security::Plain,
            "c",
            "p",
        );
        serde_json::to_value(f).unwrap()["port"].clone()
    };
    assert!(json(PortSpec::Single(514)).is_u64());
    let range = json(PortSpec::Range(6000, 6010));
    let text = range.as_str().unwrap();
    let (a, b) = text.split_once('-').unwrap();
    assert!(a.len() <= 5 && b.len() <= 5 && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()));
    assert!(json(PortSpec::None).is_null());
}
