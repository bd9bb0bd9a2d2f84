//! `ufw allow` commands, inbound and outbound.

use std::fmt::Write;

use super::{Family, Format, comment, describe, local_flows, rules_header};
use crate::flow::{Direction, Endpoint, Flow, PortSpec, Transport};

/// ufw stores comments in its rule files; keep them short.
const COMMENT_MAX: usize = 200;

pub(super) fn render(flows: &[Flow]) -> String {
    let mut out = rules_header(Format::Ufw, false);
    for f in local_flows(flows, Direction::Inbound).chain(local_flows(flows, Direction::Outbound)) {
        let _ = writeln!(out, "# {} (loopback: ufw allows it)", describe(f));
    }
    for (direction, word) in [(Direction::Inbound, "in"), (Direction::Outbound, "out")] {
        for f in flows.iter().filter(|f| f.direction == direction) {
            let _ = writeln!(out, "# {}", describe(f));
            if f.transport == Transport::Icmp {
                let _ = writeln!(
                    out,
                    "# ufw has no command for ICMP: allow echo-request in /etc/ufw/before.rules."
                );
                continue;
            }
            if let Endpoint::Host(name) = &f.destination {
                let _ = writeln!(
                    out,
                    "# {name} is resolved when Hark connects, so the rule matches the port only."
                );
            }
            let to = match Family::of(f) {
                Family::AnyV4 => "0.0.0.0/0".to_owned(),
                Family::AnyBoth => "any".to_owned(),
                Family::Addr(ip) => ip.to_string(),
            };
            let port = match f.port {
                PortSpec::None => String::new(),
                p => format!(" port {}", p.joined(":").unwrap_or_default()),
            };
            let _ = writeln!(
                out,
                "ufw allow {word} proto {} to {to}{port} comment '{}'",
                f.transport.name(),
                comment(f, COMMENT_MAX)
            );
        }
    }
    out
}
