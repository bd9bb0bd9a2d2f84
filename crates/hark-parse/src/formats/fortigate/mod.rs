//! `fortigate`: Fortinet FortiGate (FortiOS 6.x and 7.x) `key=value` logs.
//!
//! A FortiGate log is a list of `key=value` pairs, values quoted when they
//! are text (`devname="FGT-1"`, `msg="URL was blocked"`; `\"` and `\\`
//! escape inside quotes) and bare when they are numbers or addresses.
//! Keys ECS has a name for are written under it, once:
//!
//! | FortiGate | ECS |
//! |---|---|
//! | `srcip`, `dstip` | `source.ip`, `destination.ip` (and `related.ip`) |
//! | `srcport`, `dstport` | `source.port`, `destination.port` |
//! | `transip`, `transport` | `source.nat.ip` (and `related.ip`), `source.nat.port` |
//! | `tranip`, `tranport` | `destination.nat.ip` (and `related.ip`), `destination.nat.port` |
//! | `proto` | `network.iana_number`, and `network.transport` (`tcp`, `udp`, `icmp`…) |
//! | `sentbyte`, `rcvdbyte` | `source.bytes`, `destination.bytes`; `network.bytes` their sum |
//! | `sentpkt`, `rcvdpkt` | `source.packets`, `destination.packets`; `network.packets` their sum |
//! | `action` | `event.action` (and `event.outcome`) |
//! | `policyid`, `policyname` | `rule.id`, `rule.name` |
//! | `devname`, `devid` | `observer.hostname`, `observer.serial_number` |
//! | `srcintf`, `dstintf` | `observer.ingress.interface.name`, `observer.egress.interface.name` |
//! | `user` | `user.name` |
//! | `srccountry`, `dstcountry` | `source.geo.country_name`, `destination.geo.country_name` |
//! | `url`, `hostname` | `url.original`, `url.domain` |
//! | `app` | `network.application` |
//! | `logid` | `event.code` |
//!
//! Every other key is kept as `fortinet.firewall.<key>` (`type`, `subtype`,
//! `level`, `msg`, `vd`, `service`, `tz`, `eventtime`…): a bare integer as a
//! number, anything else as text. `date` and `time` become the event time
//! (in the zone `tz`; without `tz`, `eventtime` is used) and are not
//! repeated as fields. `type`, `subtype`, `action` and `status` give
//! `event.category`, `event.type` and `event.outcome` (see [`classify`]).

mod classify;
mod time;

use std::borrow::Cow;

use memchr::memmem;

use crate::ecs;
use crate::formats::kv::scan::{Pair, Pairs, integer, is_key};
use crate::{Body, Failure, Format, Out};

use classify::{classes, outcome};

/// The keys a FortiGate log starts with: `date` by default, `logver` (or
/// `devname`, `eventtime`, `logid`) when the device puts its header first.
const PREFIXES: &[&str] = &["date=", "logver=", "devname=", "eventtime=", "logid="];

/// How far into the body `claims` looks for `type=`.
const CLAIM_WINDOW: usize = 512;

/// Fortinet FortiGate key=value logs.
pub struct Fortigate;

impl Format for Fortigate {
    fn name(&self) -> &'static str {
        "fortigate"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        let message = body.message;
        if !PREFIXES.iter().any(|p| message.starts_with(p)) {
            return false;
        }
        let window = &message.as_bytes()[..message.len().min(CLAIM_WINDOW)];
        memmem::find(window, b"type=").is_some()
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        out.put_str(ecs::OBSERVER_VENDOR, "Fortinet");
        out.put_str(ecs::OBSERVER_PRODUCT, "FortiGate");
        out.put_str(ecs::OBSERVER_TYPE, "firewall");
        out.put_str(ecs::EVENT_DATASET, "fortinet.firewall");
        let mut seen = Seen::default();
        let mut failure = None;
        for pair in Pairs::new(body.message) {
            match pair {
                Ok(pair) => write_pair(pair, &mut seen, out),
                Err(open) => {
                    failure = Some(Failure::new(open.offset, "closing quote"));
                    break;
                }
            }
        }
        seen.finish(out);
        failure.map_or(Ok(()), Err)
    }
}

/// The values read so far that later fields are derived from.
#[derive(Default)]
struct Seen<'a> {
    date: Option<Cow<'a, str>>,
    time: Option<Cow<'a, str>>,
    tz: Option<Cow<'a, str>>,
    eventtime: Option<i64>,
    kind: Option<Cow<'a, str>>,
    subtype: Option<Cow<'a, str>>,
    action: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    sent_bytes: Option<i64>,
    received_bytes: Option<i64>,
    sent_packets: Option<i64>,
    received_packets: Option<i64>,
}

impl Seen<'_> {
    /// Writes the fields derived from several keys, and the event time.
    fn finish(&self, out: &mut Out<'_>) {
        if let (Some(sent), Some(received)) = (self.sent_bytes, self.received_bytes)
            && let Some(total) = sent.checked_add(received)
        {
            out.put_int(ecs::NETWORK_BYTES, total);
        }
        if let (Some(sent), Some(received)) = (self.sent_packets, self.received_packets)
            && let Some(total) = sent.checked_add(received)
        {
            out.put_int(ecs::NETWORK_PACKETS, total);
        }
        let action = self.action.as_deref();
        let outcome = outcome(action, self.status.as_deref());
        out.put_str(ecs::EVENT_OUTCOME, outcome.as_str());
        let classes = classes(
            self.kind.as_deref(),
            self.subtype.as_deref(),
            action,
            outcome,
        );
        for category in classes.categories {
            out.put_str(ecs::EVENT_CATEGORY, category);
        }
        for kind in classes.types {
            out.put_str(ecs::EVENT_TYPE, kind);
        }
        let zoned = match (&self.date, &self.time, &self.tz) {
            (Some(date), Some(time), Some(tz)) => time::from_date_time(date, time, tz),
            _ => None,
        };
        if let Some(nanos) = zoned.or_else(|| self.eventtime.and_then(time::from_eventtime)) {
            out.set_timestamp(nanos);
        }
    }
}

/// Writes one pair under its ECS name or the vendor prefix, and keeps what
/// later fields need.
fn write_pair<'a>(pair: Pair<'a>, seen: &mut Seen<'a>, out: &mut Out<'_>) {
    let value = pair.value.as_ref();
    let ecs_name = match pair.key {
        "date" => {
            seen.date = Some(pair.value);
            return;
        }
        "time" => {
            seen.time = Some(pair.value);
            return;
        }
        "tz" => {
            out.put_str("fortinet.firewall.tz", value);
            seen.tz = Some(pair.value);
            return;
        }
        "eventtime" => {
            seen.eventtime = integer(value);
            write_vendor(&pair, out);
            return;
        }
        "type" => {
            write_vendor(&pair, out);
            seen.kind = Some(pair.value);
            return;
        }
        "subtype" => {
            write_vendor(&pair, out);
            seen.subtype = Some(pair.value);
            return;
        }
        "status" => {
            write_vendor(&pair, out);
            seen.status = Some(pair.value);
            return;
        }
        "action" => {
            out.put(ecs::EVENT_ACTION, value);
            seen.action = Some(pair.value);
            return;
        }
        "proto" => {
            out.put(ecs::NETWORK_IANA_NUMBER, value);
            if let Some(transport) = transport(value) {
                out.put_str(ecs::NETWORK_TRANSPORT, transport);
            }
            return;
        }
        "srcip" | "dstip" | "transip" | "tranip" => {
            let name = match pair.key {
                "srcip" => ecs::SOURCE_IP,
                "dstip" => ecs::DESTINATION_IP,
                "transip" => ecs::SOURCE_NAT_IP,
                _ => ecs::DESTINATION_NAT_IP,
            };
            out.put(name, value);
            if value.parse::<std::net::IpAddr>().is_ok() {
                out.put(ecs::RELATED_IP, value);
            }
            return;
        }
        "sentbyte" => {
            seen.sent_bytes = integer(value);
            ecs::SOURCE_BYTES
        }
        "rcvdbyte" => {
            seen.received_bytes = integer(value);
            ecs::DESTINATION_BYTES
        }
        "sentpkt" => {
            seen.sent_packets = integer(value);
            ecs::SOURCE_PACKETS
        }
        "rcvdpkt" => {
            seen.received_packets = integer(value);
            ecs::DESTINATION_PACKETS
        }
        "srcport" => ecs::SOURCE_PORT,
        "dstport" => ecs::DESTINATION_PORT,
        "transport" => ecs::SOURCE_NAT_PORT,
        "tranport" => ecs::DESTINATION_NAT_PORT,
        "policyid" => ecs::RULE_ID,
        "policyname" => ecs::RULE_NAME,
        "devname" => ecs::OBSERVER_HOSTNAME,
        "devid" => ecs::OBSERVER_SERIAL_NUMBER,
        "srcintf" => ecs::OBSERVER_INGRESS_INTERFACE_NAME,
        "dstintf" => ecs::OBSERVER_EGRESS_INTERFACE_NAME,
        "user" => ecs::USER_NAME,
        "srccountry" => ecs::SOURCE_GEO_COUNTRY_NAME,
        "dstcountry" => ecs::DESTINATION_GEO_COUNTRY_NAME,
        "url" => ecs::URL_ORIGINAL,
        "hostname" => ecs::URL_DOMAIN,
        "app" => ecs::APPLICATION,
        "logid" => ecs::EVENT_CODE,
        _ => {
            write_vendor(&pair, out);
            return;
        }
    };
    out.put(ecs_name, value);
}

/// Writes `fortinet.firewall.<key>`: a bare integer as a number, other
/// values as text; empty values and keys that are not names are skipped.
fn write_vendor(pair: &Pair<'_>, out: &mut Out<'_>) {
    if pair.value.is_empty() || !is_key(pair.key) {
        return;
    }
    let name = format!("fortinet.firewall.{}", pair.key);
    match integer(&pair.value).filter(|_| !pair.quoted) {
        Some(n) => out.put_int(&name, n),
        None => out.put_str(&name, pair.value.as_ref()),
    }
}

/// The ECS transport name of IANA protocol number `proto`.
fn transport(proto: &str) -> Option<&'static str> {
    Some(match proto {
        "1" => "icmp",
        "2" => "igmp",
        "6" => "tcp",
        "17" => "udp",
        "47" => "gre",
        "50" => "esp",
        "51" => "ah",
        "58" => "ipv6-icmp",
        "132" => "sctp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
