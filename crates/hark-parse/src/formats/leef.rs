//! IBM QRadar Log Event Extended Format, versions 1.0 and 2.0.
//!
//! `LEEF:1.0|Vendor|Product|Version|EventID|` then `key=value` attributes
//! separated by tabs; LEEF 2.0 adds a sixth header field naming the
//! separator, as a character (`^`) or in hex (`x09`, `0x09`); an empty one
//! means tab. A value runs to the next separator and may hold `=`.
//!
//! | LEEF | ECS |
//! |---|---|
//! | Vendor / Product / Version | `observer.vendor` / `observer.product` / `observer.version` |
//! | EventID | `event.code` |
//! | `src` `dst` `srcPort` `dstPort` | `source.ip` `destination.ip` `source.port` `destination.port` |
//! | `srcPostNAT` `dstPostNAT` `srcPostNATPort` `dstPostNATPort` | `source.nat.*` `destination.nat.*` |
//! | `proto` | `network.transport` (lower case; 6/17/1 → tcp/udp/icmp) |
//! | `usrName` | `user.name` |
//! | `srcMAC` `dstMAC` | `source.mac` `destination.mac` |
//! | `srcBytes` `dstBytes` `srcPackets` `dstPackets` `totalPackets` | `source.bytes` `destination.bytes` `source.packets` `destination.packets` `network.packets` |
//! | `sev` | `event.severity` (number) |
//! | `url` | `url.original` |
//! | `identHostName` | `host.name` |
//! | `devTime` (+ `devTimeFormat`) | the event time, when it carries a zone or is epoch ms |
//!
//! Every other key is kept as `leef.<key>` (text); so is `devTime` when it
//! names no zone, and `devTimeFormat`.

use std::borrow::Cow;

use crate::formats::cef::extension::header_field;
use crate::formats::cef::time::{parse_java_time, transport};
use crate::{Body, Failure, Format, Out, ecs};

/// IBM LEEF.
pub struct Leef;

impl Format for Leef {
    fn name(&self) -> &'static str {
        "leef"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.message.starts_with("LEEF:")
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        parse(body.message, out)
    }
}

fn parse(text: &str, out: &mut Out<'_>) -> Result<(), Failure> {
    if !text.starts_with("LEEF:") {
        return Err(Failure::new(0, "expected LEEF:"));
    }
    out.put_str(ecs::EVENT_DATASET, "leef");
    let mut pos = 5;
    let mut field = |what: &str| -> Result<Cow<'_, str>, Failure> {
        let Some((value, next)) = header_field(text, pos) else {
            return Err(Failure::new(
                text.len(),
                format!("expected `|` after the {what}"),
            ));
        };
        pos = next;
        Ok(value)
    };
    let version = field("version")?;
    out.put("leef.version", &version);
    out.put(ecs::OBSERVER_VENDOR, &field("vendor")?);
    out.put(ecs::OBSERVER_PRODUCT, &field("product")?);
    out.put(ecs::OBSERVER_VERSION, &field("product version")?);
    out.put(ecs::EVENT_CODE, &field("event id")?);
    // A LEEF 2.0 header names its separator; a sixth field that is no
    // separator (`key=value…`) means the producer left it out: tab.
    let mut separator_char = '\t';
    if version.starts_with('2')
        && let Some((spec, next)) = header_field(text, pos)
        && let Some(c) = separator(&spec)
    {
        separator_char = c;
        pos = next;
    }
    let separator = separator_char;
    attributes(&text[pos..], separator, out);
    Ok(())
}

/// The attribute separator a LEEF 2.0 header names.
fn separator(spec: &str) -> Option<char> {
    let hex = spec
        .strip_prefix("0x")
        .or_else(|| spec.strip_prefix("x"))
        .or_else(|| spec.strip_prefix("\\x"));
    match hex {
        Some(h) if !h.is_empty() => u32::from_str_radix(h, 16).ok().and_then(char::from_u32),
        _ => {
            let mut chars = spec.chars();
            match (chars.next(), chars.next()) {
                (None, _) => Some('\t'),
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

fn attributes(text: &str, separator: char, out: &mut Out<'_>) {
    let mut dev_time = None;
    let mut dev_time_format = None;
    for attr in text.split(separator) {
        let attr = attr.trim_matches(|c| c == '\r' || c == '\n');
        let Some((key, value)) = attr.split_once('=') else {
            if !attr.trim().is_empty() {
                out.put_str("leef.unparsed", attr);
            }
            continue;
        };
        let key = key.trim();
        match key {
            "devTime" => dev_time = Some(value),
            "devTimeFormat" => dev_time_format = Some(value),
            _ if value.contains("\\=") => put_attribute(out, key, &value.replace("\\=", "=")),
            _ => put_attribute(out, key, value),
        }
    }
    if let Some(time) = dev_time {
        match parse_java_time(time, dev_time_format) {
            Some(ns) => out.set_timestamp(ns),
            None => out.put("leef.devTime", time),
        }
    }
    if let Some(format) = dev_time_format {
        out.put("leef.devTimeFormat", format);
    }
}

fn put_attribute(out: &mut Out<'_>, key: &str, value: &str) {
    let name = match key {
        "src" | "dst" | "srcPostNAT" | "dstPostNAT" => {
            let name = match key {
                "src" => ecs::SOURCE_IP,
                "dst" => ecs::DESTINATION_IP,
                "srcPostNAT" => ecs::SOURCE_NAT_IP,
                _ => ecs::DESTINATION_NAT_IP,
            };
            out.put(name, value);
            out.put(ecs::RELATED_IP, value);
            return;
        }
        "srcPort" => ecs::SOURCE_PORT,
        "dstPort" => ecs::DESTINATION_PORT,
        "srcPostNATPort" => ecs::SOURCE_NAT_PORT,
        "dstPostNATPort" => ecs::DESTINATION_NAT_PORT,
        "proto" => {
            out.put(ecs::NETWORK_TRANSPORT, &transport(value));
            return;
        }
        "usrName" => ecs::USER_NAME,
        "srcMAC" => ecs::SOURCE_MAC,
        "dstMAC" => ecs::DESTINATION_MAC,
        "srcBytes" => ecs::SOURCE_BYTES,
        "dstBytes" => ecs::DESTINATION_BYTES,
        "srcPackets" => ecs::SOURCE_PACKETS,
        "dstPackets" => ecs::DESTINATION_PACKETS,
        "totalPackets" => ecs::NETWORK_PACKETS,
        "sev" => ecs::EVENT_SEVERITY,
        "url" => ecs::URL_ORIGINAL,
        "identHostName" => ecs::HOST_NAME,
        _ => {
            if !key.is_empty() {
                out.put_str(&format!("leef.{key}"), value);
            }
            return;
        }
    };
    out.put(name, value);
}

#[cfg(test)]
mod tests {
    use hark_event::FieldValue;

    use super::*;

    use crate::testing::{Parsed, get, run_with, s};

    /// The fields, event time and result of parsing `text`.
    fn run(text: &str) -> Parsed {
        run_with(|out| parse(text, out))
    }

    #[test]
    fn leef1_tabs() {
        let (f, _, r) = run("LEEF:1.0|V|P|1|42|src=10.0.0.1\tdstPort=443\tsev=7\tq=a=b");
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "source.ip"), Some(&s("10.0.0.1")));
        assert_eq!(get(&f, "destination.port"), Some(&FieldValue::Int(443)));
        assert_eq!(get(&f, "event.severity"), Some(&FieldValue::Int(7)));
        assert_eq!(get(&f, "leef.q"), Some(&s("a=b")));
        assert_eq!(get(&f, "event.code"), Some(&s("42")));
    }

    #[test]
    fn leef2_delimiters() {
        for (spec, sep) in [("^", '^'), ("x5E", '^'), ("0x09", '\t'), ("", '\t')] {
            let text = format!("LEEF:2.0|V|P|1|42|{spec}|usrName=bob{sep}proto=17");
            let (f, _, r) = run(&text);
            assert_eq!(r, Ok(()), "{spec}");
            assert_eq!(get(&f, "user.name"), Some(&s("bob")), "{spec}");
            assert_eq!(get(&f, "network.transport"), Some(&s("udp")), "{spec}");
        }
        let (f, _, r) = run("LEEF:2.0|V|P|1|42|a=b\tc=d|\te=f\\=g");
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "leef.c"), Some(&s("d|")));
        assert_eq!(get(&f, "leef.e"), Some(&s("f=g")));
    }

    #[test]
    fn dev_time_with_and_without_zone() {
        let (_, ts, _) = run("LEEF:1.0|V|P|1|42|devTime=1543270652000");
        assert_eq!(ts, Some(1_543_270_652_000_000_000));
        let (f, ts, _) = run(
            "LEEF:1.0|V|P|1|42|devTime=Nov 26 2018 22:17:32\tdevTimeFormat=MMM dd yyyy HH:mm:ss",
        );
        assert_eq!(ts, None);
        assert_eq!(get(&f, "leef.devTime"), Some(&s("Nov 26 2018 22:17:32")));
    }

    #[test]
    fn truncated_header() {
        let (f, _, r) = run("LEEF:1.0|Vendor|Prod");
        assert_eq!(r, Err(Failure::new(20, "expected `|` after the product")));
        assert_eq!(get(&f, "observer.vendor"), Some(&s("Vendor")));
    }

    #[test]
    fn non_ascii_and_stray_text() {
        let (f, _, r) = run("LEEF:1.0|Ünï|P|1|42|naïve\tmsg=héllo");
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "leef.unparsed"), Some(&s("naïve")));
        assert_eq!(get(&f, "leef.msg"), Some(&s("héllo")));
        assert_eq!(separator("x110000"), None);
    }
}
