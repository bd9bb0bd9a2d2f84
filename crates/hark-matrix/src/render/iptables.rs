//! A filter table for `iptables-restore`: IPv4 only, as iptables is; rows
//! bound to an IPv6 address are named in comments.

use std::fmt::Write;

use super::{Family, Format, comment, describe, local_flows, rules_header};
use crate::flow::{Direction, Endpoint, Flow, PortSpec, Transport};

/// The comment match keeps at most 256 bytes.
const COMMENT_MAX: usize = 240;

pub(super) fn render(flows: &[Flow]) -> String {
    let mut out = rules_header(Format::Iptables, true);
    out.push_str(
        "*filter\n\
         :INPUT DROP [0:0]\n\
         :OUTPUT DROP [0:0]\n\
         -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
         -A INPUT -m conntrack --ctstate INVALID -j DROP\n\
         -A INPUT -i lo -j ACCEPT\n",
    );
    push_rules(&mut out, flows, Direction::Inbound);
    out.push_str(
        "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n\
         -A OUTPUT -o lo -j ACCEPT\n",
    );
    push_rules(&mut out, flows, Direction::Outbound);
    out.push_str("COMMIT\n");
    out
}

fn push_rules(out: &mut String, flows: &[Flow], direction: Direction) {
    let chain = if direction == Direction::Inbound {
        "INPUT"
    } else {
        "OUTPUT"
    };
    for f in local_flows(flows, direction) {
        let _ = writeln!(out, "# {} (allowed by the loopback rule)", describe(f));
    }
    for f in flows.iter().filter(|f| f.direction == direction) {
        let _ = writeln!(out, "# {}", describe(f));
        let family = Family::of(f);
        if !family.has_v4() {
            let _ = writeln!(out, "# IPv6 only: not expressible here, see ip6tables.");
            continue;
        }
        if let Endpoint::Host(name) = &f.destination {
            let _ = writeln!(
                out,
                "# {name} is resolved when Hark connects, so the rule matches the port only."
            );
        }
        let dest = match family {
            Family::Addr(ip) => format!(" -d {ip}/32"),
            Family::AnyV4 | Family::AnyBoth => String::new(),
        };
        let l4 = match (f.transport, f.port) {
            (Transport::Icmp, _) => " -p icmp -m icmp --icmp-type echo-request".to_owned(),
            (t, PortSpec::None) => format!(" -p {}", t.name()),
            (t, p) => format!(
                " -p {0} -m {0} --dport {1}",
                t.name(),
                p.joined(":").unwrap_or_default()
            ),
        };
        let _ = writeln!(
            out,
            "-A {chain}{dest}{l4} -m comment --comment \"{}\" -j ACCEPT",
            comment(f, COMMENT_MAX)
        );
    }
}
