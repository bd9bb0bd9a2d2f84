//! Palo Alto Networks PAN-OS syslog in its default CSV form:
//! `FUTURE_USE,Receive Time,Serial,Type,Subtype,FUTURE_USE,Generated Time,…`.
//!
//! The type column (the fourth) chooses the column names: TRAFFIC, THREAT,
//! SYSTEM, CONFIG (with or without the change-detail columns),
//! GLOBALPROTECT and USERID, as PAN-OS 10.x/11.x lay them out; another type
//! gets the shared first seven columns named and the rest as
//! `panw.panos.extra_N`. Columns past the known ones are kept as
//! `panw.panos.extra_N` (N counts from 0 over the whole line); missing
//! trailing columns are not an error. FUTURE_USE columns and empty values
//! are not written.
//!
//! An RFC 3164 header parser takes `1,2024/01/15` for the tag of
//! `host 1,2024/01/15 10:20:30,…`, so when the application name has that
//! shape the body is read as application name, space, message. A line
//! without a host name loses `1,2024/01/15` to the host instead; the body
//! `10:20:30,<serial>,<TYPE>,…` is read with its first column put back
//! empty, so `receive_time` holds only the time of day.
//!
//! | PAN-OS column | ECS |
//! |---|---|
//! | `src` `dst` (USERID `ip`, GLOBALPROTECT `public_ip`) | `source.ip` `destination.ip` (+ `related.ip`) |
//! | `natsrc` `natdst` `natsport` `natdport` | `source.nat.ip` `destination.nat.ip` `source.nat.port` `destination.nat.port` (`0.0.0.0` and port 0 mean no NAT: not written) |
//! | `sport` `dport` | `source.port` `destination.port` |
//! | `proto` | `network.transport` |
//! | `action` | `event.action`, `event.outcome` (allow/alert: success; deny, drop, reset-*, block-*, sinkhole: failure) |
//! | `rule` `rule_uuid` | `rule.name` `rule.id` |
//! | `srcuser` `dstuser` | `source.user.name` `destination.user.name` |
//! | USERID `user`, CONFIG `admin` | `user.name` |
//! | `app` | `network.application` |
//! | `bytes` `bytes_sent` `bytes_received` | `network.bytes` `source.bytes` `destination.bytes` |
//! | `packets` `pkts_sent` `pkts_received` | `network.packets` `source.packets` `destination.packets` |
//! | `elapsed` (seconds) | `event.duration` (nanoseconds) |
//! | `from` `to` | `observer.ingress.zone` `observer.egress.zone` |
//! | `inbound_if` `outbound_if` | `observer.ingress.interface.name` `observer.egress.interface.name` |
//! | `serial` `device_name` | `observer.serial_number` `observer.hostname` |
//! | THREAT `threatid` `Name(1234)` | `threat.indicator.name` = Name, `panw.panos.threat_id` = 1234 |
//! | THREAT `misc` of a `url` log | `url.original` |
//! | `http_method` `user_agent` `referer` | `http.request.method` `user_agent.original` `http.request.referrer` |
//! | SYSTEM/GLOBALPROTECT/USERID `eventid`, CONFIG `cmd` | `event.action` |
//! | CONFIG `result` Succeeded/Failed | `event.outcome` success/failure (the word kept as `panw.panos.result`) |
//! | GLOBALPROTECT `status` success/failure | `event.outcome` (the word kept as `panw.panos.status`) |
//! | `high_res_timestamp` | the event time |
//!
//! Every other column is kept as `panw.panos.<name>` (counts and ids as
//! numbers). `receive_time` and `time_generated` carry no zone (the
//! firewall's local time), so they are kept as text and the event time
//! comes from `high_res_timestamp` when present, else from the header.

mod columns;
mod csv;

use std::borrow::Cow;

use crate::{Body, Failure, Format, Out, ecs};

use columns::{LogType, column};
use csv::Columns;

/// Palo Alto Networks PAN-OS CSV syslog.
pub struct Panos;

impl Format for Panos {
    fn name(&self) -> &'static str {
        "panos"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        looks_like_panos(body.message) || split_by_tag(body).is_some() || lost_to_host(body)
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        let text: Cow<'_, str> = match split_by_tag(body) {
            Some(app) if !looks_like_panos(body.message) => {
                Cow::Owned(format!("{app} {}", body.message))
            }
            _ if lost_to_host(body) => Cow::Owned(format!(",{}", body.message)),
            _ => Cow::Borrowed(body.message),
        };
        parse(&text, out)
    }
}

/// A line without a host name, `Oct 30 09:46:12 1,2012/10/30 09:46:12,…`:
/// a header parser takes `1,2012/10/30` for the host, leaving
/// `09:46:12,<serial>,<TYPE>,…` with no application name. The first column
/// and the receive date are gone; the rest still lines up once an empty
/// first column is put back.
fn lost_to_host(body: &Body<'_>) -> bool {
    if body.app.is_some() {
        return false;
    }
    let m = body.message.as_bytes();
    let time = m.len() > 9
        && m[..8].iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b':',
            _ => c.is_ascii_digit(),
        })
        && m[8] == b',';
    time && serial_and_type(&m[9..])
}

/// `<serial>,<TYPE>,` at the front of `b`.
fn serial_and_type(b: &[u8]) -> bool {
    let b = &b[..b.len().min(64)];
    let serial = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
        .count();
    let Some(rest) = b[serial..].strip_prefix(b",") else {
        return false;
    };
    let kind = rest
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || **c == b'-')
        .count();
    kind > 0 && rest.get(kind) == Some(&b',')
}

/// `<digits or nothing>,YYYY/MM/DD HH:MM:SS,<serial>,<TYPE>,` at the front.
fn looks_like_panos(text: &str) -> bool {
    let b = &text.as_bytes()[..text.len().min(64)];
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let Some(rest) = b[digits..].strip_prefix(b",") else {
        return false;
    };
    if !is_date_time(rest) {
        return false;
    }
    let rest = &rest[19..];
    rest.strip_prefix(b",").is_some_and(serial_and_type)
}

/// `YYYY/MM/DD HH:MM:SS` at the front of `b`.
fn is_date_time(b: &[u8]) -> bool {
    const SHAPE: &[u8; 19] = b"0000/00/00 00:00:00";
    b.len() >= SHAPE.len()
        && SHAPE.iter().zip(b).all(|(s, c)| match s {
            b'0' => c.is_ascii_digit(),
            s => s == c,
        })
}

/// The application name when a header parser took the front of a PAN-OS
/// line for the tag: app `1,2024/01/15`, message `10:20:30,serial,TYPE,…`.
fn split_by_tag<'a>(body: &Body<'a>) -> Option<&'a str> {
    let app = body.app?;
    let b = app.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let date = b[digits..].strip_prefix(b",")?;
    let shaped = date.len() == 10
        && date.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'/',
            _ => c.is_ascii_digit(),
        });
    let m = body.message.as_bytes();
    let time_next = m.len() > 9
        && m[..8].iter().enumerate().all(|(i, c)| match i {
            2 | 5 => *c == b':',
            _ => c.is_ascii_digit(),
        })
        && m[8] == b',';
    (shaped && time_next).then_some(app)
}

fn parse(text: &str, out: &mut Out<'_>) -> Result<(), Failure> {
    out.put_str(ecs::OBSERVER_VENDOR, "Palo Alto Networks");
    out.put_str(ecs::OBSERVER_PRODUCT, "PAN-OS");
    out.put_str(ecs::OBSERVER_TYPE, "firewall");
    out.put_str(ecs::EVENT_DATASET, "panw.panos");
    let mut log_type = LogType::Other;
    let mut short_config = false;
    let mut subtype = "";
    let mut action = None;
    // CONFIG comes in two layouts: the short one has the action flags
    // (`0x…`) where the long one has its After Change Detail.
    let values: Vec<_> = Columns::new(text).collect();
    for (n, value) in values.iter().enumerate() {
        let (_, value) = match value {
            Ok(v) => v,
            Err(e) => {
                return Err(Failure::new(e.offset, "expected a closing quote"));
            }
        };
        if n == 3 {
            log_type = LogType::of(value);
            out.put_str("panw.panos.type", value.as_ref());
            categorise(out, log_type);
            short_config = log_type == LogType::Config
                && values
                    .get(15)
                    .is_some_and(|v| v.as_ref().is_ok_and(|(_, v)| v.starts_with("0x")));
            continue;
        }
        if n == 4 {
            subtype = value.as_ref();
        }
        let name = column(log_type, short_config, n);
        if name == Some("") || value.is_empty() {
            continue;
        }
        let extra;
        let name = match name {
            Some(name) => name,
            None => {
                extra = format!("panw.panos.extra_{n}");
                out.put_str(&extra, value.as_ref());
                continue;
            }
        };
        if name == "action" || (name == "cmd" && log_type == LogType::Config) {
            action = Some(value.as_ref());
        }
        put_column(out, log_type, subtype, name, value);
    }
    if let Some(action) = action {
        outcome(out, log_type, action);
    }
    if values.len() <= 3 {
        return Err(Failure::new(text.len(), "expected the log type column"));
    }
    Ok(())
}

fn categorise(out: &mut Out<'_>, log_type: LogType) {
    let category = match log_type {
        LogType::Traffic => "network",
        LogType::Threat => "intrusion_detection",
        LogType::Config => "configuration",
        LogType::GlobalProtect => "session",
        LogType::UserId => "iam",
        LogType::System | LogType::Other => return,
    };
    out.put_str(ecs::EVENT_CATEGORY, category);
    if log_type == LogType::Threat {
        out.put_str(ecs::EVENT_CATEGORY, "network");
    }
}

/// `event.outcome` and `event.type` from the action.
fn outcome(out: &mut Out<'_>, log_type: LogType, action: &str) {
    if log_type == LogType::Config {
        out.put_str(ecs::EVENT_TYPE, "change");
        return;
    }
    let (outcome, kind) = match action {
        "allow" | "alert" => ("success", "allowed"),
        "deny" | "drop" | "drop-icmp" | "drop-all-packets" | "reset-client" | "reset-server"
        | "reset-both" | "block-url" | "block-ip" | "block-continue" | "block-override"
        | "sinkhole" => ("failure", "denied"),
        _ => ("unknown", "info"),
    };
    out.put_str(ecs::EVENT_OUTCOME, outcome);
    out.put_str(ecs::EVENT_TYPE, kind);
}

/// Vendor columns written as numbers when they parse.
const NUMERIC: &[&str] = &[
    "sessionid",
    "repeatcnt",
    "seqno",
    "parent_session_id",
    "assoc_id",
    "chunks",
    "chunks_sent",
    "chunks_received",
    "http2_connection",
    "link_change_count",
    "dg_hier_level_1",
    "dg_hier_level_2",
    "dg_hier_level_3",
    "dg_hier_level_4",
    "vsys_id",
    "pcap_id",
    "url_idx",
    "reportid",
    "login_duration",
    "response_time",
    "timeout",
    "factorno",
    "beginport",
    "endport",
    "risk_of_app",
    "partial_hash",
    "ppid",
    "dg_id",
];

fn put_column(out: &mut Out<'_>, log_type: LogType, subtype: &str, name: &str, value: &str) {
    let ecs_name = match (log_type, name) {
        (_, "src" | "dst") | (LogType::UserId, "ip") | (LogType::GlobalProtect, "public_ip") => {
            let field = if name == "dst" {
                ecs::DESTINATION_IP
            } else {
                ecs::SOURCE_IP
            };
            out.put(field, value);
            out.put(ecs::RELATED_IP, value);
            return;
        }
        (_, "natsrc" | "natdst") => {
            if value != "0.0.0.0" {
                let field = if name == "natsrc" {
                    ecs::SOURCE_NAT_IP
                } else {
                    ecs::DESTINATION_NAT_IP
                };
                out.put(field, value);
                out.put(ecs::RELATED_IP, value);
            }
            return;
        }
        (_, "natsport" | "natdport") => {
            if value != "0" {
                let field = if name == "natsport" {
                    ecs::SOURCE_NAT_PORT
                } else {
                    ecs::DESTINATION_NAT_PORT
                };
                out.put(field, value);
            }
            return;
        }
        (_, "sport") => ecs::SOURCE_PORT,
        (_, "dport") => ecs::DESTINATION_PORT,
        (_, "proto") => {
            out.put(
                ecs::NETWORK_TRANSPORT,
                &crate::formats::cef::time::transport(value),
            );
            return;
        }
        (_, "action") | (LogType::Config, "cmd") => ecs::EVENT_ACTION,
        (LogType::System | LogType::GlobalProtect | LogType::UserId, "eventid") => {
            ecs::EVENT_ACTION
        }
        (LogType::Config, "result") => {
            let outcome = match value {
                "Succeeded" => "success",
                "Failed" => "failure",
                _ => "unknown",
            };
            out.put_str(ecs::EVENT_OUTCOME, outcome);
            "panw.panos.result"
        }
        (LogType::GlobalProtect, "status") => {
            let outcome = match value {
                "success" => "success",
                "failure" => "failure",
                _ => "unknown",
            };
            out.put_str(ecs::EVENT_OUTCOME, outcome);
            "panw.panos.status"
        }
        (_, "rule") => ecs::RULE_NAME,
        (_, "rule_uuid") => ecs::RULE_ID,
        (_, "srcuser") => ecs::SOURCE_USER_NAME,
        (_, "dstuser") => ecs::DESTINATION_USER_NAME,
        (LogType::UserId, "user") | (LogType::Config, "admin") => ecs::USER_NAME,
        (_, "app") => ecs::APPLICATION,
        (_, "bytes") => ecs::NETWORK_BYTES,
        (_, "bytes_sent") => ecs::SOURCE_BYTES,
        (_, "bytes_received") => ecs::DESTINATION_BYTES,
        (_, "packets") => ecs::NETWORK_PACKETS,
        (_, "pkts_sent") => ecs::SOURCE_PACKETS,
        (_, "pkts_received") => ecs::DESTINATION_PACKETS,
        (_, "from") => ecs::OBSERVER_INGRESS_ZONE,
        (_, "to") => ecs::OBSERVER_EGRESS_ZONE,
        (_, "inbound_if") => ecs::OBSERVER_INGRESS_INTERFACE_NAME,
        (_, "outbound_if") => ecs::OBSERVER_EGRESS_INTERFACE_NAME,
        (_, "serial") => ecs::OBSERVER_SERIAL_NUMBER,
        (_, "device_name") => ecs::OBSERVER_HOSTNAME,
        (_, "http_method") => ecs::HTTP_REQUEST_METHOD,
        (_, "user_agent") => ecs::USER_AGENT_ORIGINAL,
        (_, "referer") => ecs::HTTP_REQUEST_REFERRER,
        (LogType::Threat, "misc") if subtype == "url" => ecs::URL_ORIGINAL,
        (LogType::Threat, "threatid") => {
            threat(out, value);
            return;
        }
        (_, "elapsed") => match value
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
        {
            Some(ns) => {
                out.put_int(ecs::EVENT_DURATION, ns);
                return;
            }
            None => "panw.panos.elapsed",
        },
        (_, "high_res_timestamp") => match hark_event::parse_rfc3339_nanos(value) {
            Some(ns) => {
                out.set_timestamp(ns);
                return;
            }
            None => "panw.panos.high_res_timestamp",
        },
        _ => {
            let field = format!("panw.panos.{name}");
            match value.parse::<i64>() {
                Ok(n) if NUMERIC.contains(&name) => out.put_int(&field, n),
                _ => out.put_str(&field, value),
            }
            return;
        }
    };
    out.put(ecs_name, value);
}

/// `Name(1234)`: the threat's name and its numeric id.
fn threat(out: &mut Out<'_>, value: &str) {
    let parsed = value
        .strip_suffix(')')
        .and_then(|v| v.rsplit_once('('))
        .and_then(|(name, id)| Some((name.trim_end(), id.parse::<i64>().ok()?)));
    match parsed {
        Some((name, id)) => {
            out.put(ecs::THREAT_NAME, name);
            out.put_int("panw.panos.threat_id", id);
        }
        None => out.put(ecs::THREAT_NAME, value),
    }
}

#[cfg(test)]
mod tests;
