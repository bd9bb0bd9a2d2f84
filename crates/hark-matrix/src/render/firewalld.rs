//! `firewall-cmd --permanent` commands: ports and rich rules in the default
//! zone for listeners, and a `hark-out` policy for outbound flows.

use std::fmt::Write;

use super::{Family, Format, describe, local_flows, rules_header};
use crate::flow::{Direction, Endpoint, Flow, PortSpec, Transport};

/// The policy that holds outbound rules (firewalld 0.9 and later).
const POLICY: &str = "hark-out";

pub(super) fn render(flows: &[Flow]) -> String {
    let mut out = rules_header(Format::Firewalld, false);
    out.push_str("# The commands act on the default zone; add --zone=NAME for another.\n");
    for f in local_flows(flows, Direction::Inbound).chain(local_flows(flows, Direction::Outbound)) {
        let _ = writeln!(out, "# {} (loopback: nothing to open)", describe(f));
    }
    for f in flows.iter().filter(|f| f.direction == Direction::Inbound) {
        let _ = writeln!(out, "# {}", describe(f));
        let cmd = match (Family::of(f), f.transport, f.port) {
            (Family::AnyBoth, Transport::Tcp | Transport::Udp, p) if p != PortSpec::None => {
                format!("--add-port={}/{}", port(p), f.transport.name())
            }
            (family, _, _) => format!("--add-rich-rule='{}'", rich_rule(family, f)),
        };
        let _ = writeln!(out, "firewall-cmd --permanent {cmd}");
    }
    let outbound: Vec<&Flow> = flows
        .iter()
        .filter(|f| f.direction == Direction::Outbound)
        .collect();
    if !outbound.is_empty() {
        let _ = writeln!(
            out,
            "# Outbound flows, in a policy from the host to any zone (fails if it exists already).\n\
             firewall-cmd --permanent --new-policy={POLICY}\n\
             firewall-cmd --permanent --policy={POLICY} --add-ingress-zone=HOST\n\
             firewall-cmd --permanent --policy={POLICY} --add-egress-zone=ANY"
        );
    }
    for f in outbound {
        let _ = writeln!(out, "# {}", describe(f));
        if let Endpoint::Host(name) = &f.destination {
            let _ = writeln!(
                out,
                "# {name} is resolved when Hark connects, so the rule matches the port only."
            );
        }
        let _ = writeln!(
            out,
            "firewall-cmd --permanent --policy={POLICY} --add-rich-rule='{}'",
            rich_rule(Family::of(f), f)
        );
    }
    out.push_str("firewall-cmd --reload\n");
    out
}

fn port(p: PortSpec) -> String {
    p.joined("-").unwrap_or_default()
}

/// A rich rule accepting the flow; the address is the destination both ways.
fn rich_rule(family: Family, f: &Flow) -> String {
    let mut rule = String::from("rule");
    match family {
        Family::AnyV4 => rule.push_str(" family=\"ipv4\""),
        Family::AnyBoth => {}
        Family::Addr(ip) => {
            let fam = if ip.is_ipv4() { "ipv4" } else { "ipv6" };
            let _ = write!(rule, " family=\"{fam}\" destination address=\"{ip}\"");
        }
    }
    match (f.transport, f.port) {
        (Transport::Icmp, _) => rule.push_str(" icmp-type name=\"echo-request\""),
        (t, PortSpec::None) => {
            let _ = write!(rule, " protocol value=\"{}\"", t.name());
        }
        (t, p) => {
            let _ = write!(rule, " port port=\"{}\" protocol=\"{}\"", port(p), t.name());
        }
    }
    rule.push_str(" accept");
    rule
}
