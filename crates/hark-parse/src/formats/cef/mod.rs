//! ArcSight Common Event Format:
//! `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
//!
//! The header's `\|` and `\\` and the extension's `\=`, `\\`, `\n` and `\r`
//! are undone; an extension value runs until the next ` key=`, so it may
//! hold spaces. The body must start with `CEF:` (a syslog header before it
//! has already been taken off by the input).
//!
//! | CEF | ECS |
//! |---|---|
//! | Device Vendor / Product / Version | `observer.vendor` / `observer.product` / `observer.version` |
//! | Signature ID | `event.code` |
//! | Name | `cef.name` |
//! | Severity 0–10 | `event.severity` (number); `Low`/`Medium`/`High`/`Very-High` → 3/6/8/10, also kept as `cef.severity` |
//! | `src` `dst` `spt` `dpt` | `source.ip` `destination.ip` `source.port` `destination.port` |
//! | `sourceTranslatedAddress/Port`, `destinationTranslatedAddress/Port` | `source.nat.*`, `destination.nat.*` |
//! | `proto` | `network.transport` (lower case; 6/17/1 → tcp/udp/icmp) |
//! | `app` | `network.protocol` (lower case) |
//! | `act` | `event.action` |
//! | `outcome` | `event.outcome` when it is success/failure/unknown |
//! | `suser` `duser` | `source.user.name` `destination.user.name` |
//! | `shost` `dhost` | `source.domain` `destination.domain` |
//! | `smac` `dmac` | `source.mac` `destination.mac` |
//! | `request` `requestMethod` `requestClientApplication` | `url.original` `http.request.method` `user_agent.original` |
//! | `in` `out` | `source.bytes` `destination.bytes` |
//! | `rt` | the event time (epoch ms, RFC 3339 or `MMM dd yyyy HH:mm:ss[.SSS] zone`) |
//! | `start` `end` | `event.start` `event.end` (RFC 3339) |
//! | `deviceExternalId` `dvchost` `dvc` | `observer.name` `observer.hostname` `observer.ip` |
//! | `deviceInboundInterface` `deviceOutboundInterface` | `observer.ingress/egress.interface.name` |
//! | `deviceDirection` 0/1 | `network.direction` inbound/outbound |
//! | `fname` `filePath` `fsize` | `file.name` `file.path` `file.size` |
//! | `reason` | `event.reason` |
//!
//! Every other key, the custom fields included, is kept as
//! `cef.extensions.<key>`: `cs1` and `cs1Label` stay side by side (a label
//! is free text, often with spaces, so it does not become a field name);
//! `cn1`–`cn3`, `cnt` and other counts become numbers when they parse.
//! A time that names no zone is kept as text and the header's time stays.

pub(crate) mod extension;
pub(crate) mod time;

use crate::{Body, Failure, Format, Out, ecs};

use extension::{Item, Pairs, header_field};
use time::{parse_cef_time, transport};

/// ArcSight CEF.
pub struct Cef;

/// The dataset CEF events are filed under.
const DATASET: &str = "cef";

impl Format for Cef {
    fn name(&self) -> &'static str {
        "cef"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.message.starts_with("CEF:")
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        parse(body.message, out)
    }
}

fn parse(text: &str, out: &mut Out<'_>) -> Result<(), Failure> {
    let Some(mut pos) = text.starts_with("CEF:").then_some(4) else {
        return Err(Failure::new(0, "expected CEF:"));
    };
    out.put_str(ecs::EVENT_DATASET, DATASET);
    const HEADER: [&str; 7] = [
        "version",
        "device vendor",
        "device product",
        "device version",
        "signature id",
        "name",
        "severity",
    ];
    for (n, what) in HEADER.iter().enumerate() {
        let Some((value, next)) = header_field(text, pos) else {
            return Err(Failure::new(
                text.len(),
                format!("expected `|` after the {what}"),
            ));
        };
        header(out, n, value.trim());
        pos = next;
    }
    let extension = &text[pos..];
    for item in Pairs::new(extension) {
        match item {
            Item::Pair(key, value) => put_extension(out, key, &value),
            Item::Stray(at) => {
                return Err(Failure::new(pos + at, "expected key=value"));
            }
        }
    }
    Ok(())
}

fn header(out: &mut Out<'_>, n: usize, value: &str) {
    match n {
        0 => match value.parse::<i64>() {
            Ok(v) => out.put_int("cef.version", v),
            Err(_) => out.put_str("cef.version", value),
        },
        1 => out.put(ecs::OBSERVER_VENDOR, value),
        2 => out.put(ecs::OBSERVER_PRODUCT, value),
        3 => out.put(ecs::OBSERVER_VERSION, value),
        4 => out.put(ecs::EVENT_CODE, value),
        5 => out.put("cef.name", value),
        _ => severity(out, value),
    }
}

/// Severity 0–10, or one of CEF's words for it.
fn severity(out: &mut Out<'_>, value: &str) {
    if let Ok(n) = value.parse::<i64>() {
        out.put_int(ecs::EVENT_SEVERITY, n);
        return;
    }
    let n = match value.to_ascii_lowercase().as_str() {
        "low" => Some(3),
        "medium" => Some(6),
        "high" => Some(8),
        "very-high" | "very high" => Some(10),
        _ => None,
    };
    if let Some(n) = n {
        out.put_int(ecs::EVENT_SEVERITY, n);
    }
    out.put("cef.severity", value);
}

/// Keys whose values are counts: numbers when they parse.
const NUMERIC: &[&str] = &[
    "cn1",
    "cn2",
    "cn3",
    "cnt",
    "dpid",
    "spid",
    "dvcpid",
    "oldFileSize",
    "type",
];

fn put_extension(out: &mut Out<'_>, key: &str, value: &str) {
    let ecs_name = match key {
        "src" | "sourceTranslatedAddress" | "dst" | "destinationTranslatedAddress" | "dvc" => {
            let name = match key {
                "src" => ecs::SOURCE_IP,
                "sourceTranslatedAddress" => ecs::SOURCE_NAT_IP,
                "dst" => ecs::DESTINATION_IP,
                "destinationTranslatedAddress" => ecs::DESTINATION_NAT_IP,
                _ => ecs::OBSERVER_IP,
            };
            out.put(name, value);
            out.put(ecs::RELATED_IP, value);
            return;
        }
        "spt" => ecs::SOURCE_PORT,
        "dpt" => ecs::DESTINATION_PORT,
        "sourceTranslatedPort" => ecs::SOURCE_NAT_PORT,
        "destinationTranslatedPort" => ecs::DESTINATION_NAT_PORT,
        "proto" => {
            out.put(ecs::NETWORK_TRANSPORT, &transport(value));
            return;
        }
        "app" => {
            out.put(ecs::NETWORK_PROTOCOL, &value.to_ascii_lowercase());
            return;
        }
        "act" => ecs::EVENT_ACTION,
        "outcome" => match value.to_ascii_lowercase().as_str() {
            v @ ("success" | "failure" | "unknown") => {
                out.put(ecs::EVENT_OUTCOME, v);
                return;
            }
            _ => "cef.extensions.outcome",
        },
        "suser" => ecs::SOURCE_USER_NAME,
        "duser" => ecs::DESTINATION_USER_NAME,
        "shost" => ecs::SOURCE_DOMAIN,
        "dhost" => ecs::DESTINATION_DOMAIN,
        "smac" => ecs::SOURCE_MAC,
        "dmac" => ecs::DESTINATION_MAC,
        "request" => ecs::URL_ORIGINAL,
        "requestMethod" => ecs::HTTP_REQUEST_METHOD,
        "requestClientApplication" => ecs::USER_AGENT_ORIGINAL,
        "in" => ecs::SOURCE_BYTES,
        "out" => ecs::DESTINATION_BYTES,
        "deviceExternalId" => ecs::OBSERVER_NAME,
        "dvchost" => ecs::OBSERVER_HOSTNAME,
        "deviceInboundInterface" => ecs::OBSERVER_INGRESS_INTERFACE_NAME,
        "deviceOutboundInterface" => ecs::OBSERVER_EGRESS_INTERFACE_NAME,
        "deviceDirection" => match value {
            "0" => {
                out.put(ecs::NETWORK_DIRECTION, "inbound");
                return;
            }
            "1" => {
                out.put(ecs::NETWORK_DIRECTION, "outbound");
                return;
            }
            _ => "cef.extensions.deviceDirection",
        },
        "fname" => ecs::FILE_NAME,
        "filePath" => ecs::FILE_PATH,
        "fsize" => ecs::FILE_SIZE,
        "reason" => ecs::EVENT_REASON,
        "rt" | "start" | "end" => {
            if let Some(ns) = parse_cef_time(value) {
                match key {
                    "rt" => out.set_timestamp(ns),
                    "start" => out.put(ecs::EVENT_START, &rfc3339(ns)),
                    _ => out.put(ecs::EVENT_END, &rfc3339(ns)),
                }
                return;
            }
            match key {
                "rt" => "cef.extensions.rt",
                "start" => "cef.extensions.start",
                _ => "cef.extensions.end",
            }
        }
        _ => {
            let name = format!("cef.extensions.{key}");
            match value.parse::<i64>() {
                Ok(n) if NUMERIC.contains(&key) => out.put_int(&name, n),
                _ => out.put_str(&name, value),
            }
            return;
        }
    };
    out.put(ecs_name, value);
}

fn rfc3339(ns: i64) -> String {
    hark_event::format_rfc3339_nanos(ns)
}

#[cfg(test)]
mod tests;
