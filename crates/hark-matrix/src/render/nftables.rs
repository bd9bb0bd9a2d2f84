//! A complete `table inet hark` for `nft -f`: input and output chains that
//! drop what the matrix does not list.

use std::fmt::Write;
use std::net::IpAddr;

use super::{Family, Format, comment, describe, local_flows, rules_header};
use crate::flow::{Direction, Endpoint, Flow, PortSpec, Transport};

/// nft keeps at most 128 bytes of a rule comment.
const COMMENT_MAX: usize = 120;

pub(super) fn render(flows: &[Flow]) -> String {
    let mut out = String::from("#!/usr/sbin/nft -f\n");
    out.push_str(&rules_header(Format::Nftables, true));
    // Declaring then deleting makes reloading the file replace the table
    // instead of failing on the first load or appending on later ones.
    out.push_str("table inet hark {}\ndelete table inet hark\n\n");
    out.push_str("table inet hark {\n");
    out.push_str(
        "\tchain input {\n\
         \t\ttype filter hook input priority filter; policy drop;\n\
         \t\tct state established,related accept\n\
         \t\tct state invalid drop\n\
         \t\tiif \"lo\" accept\n\
         \t\t# IPv6 does not work without neighbour discovery.\n\
         \t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept\n",
    );
    push_rules(&mut out, flows, Direction::Inbound);
    out.push_str("\t}\n\n");
    out.push_str(
        "\tchain output {\n\
         \t\ttype filter hook output priority filter; policy drop;\n\
         \t\tct state established,related accept\n\
         \t\toif \"lo\" accept\n\
         \t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n",
    );
    push_rules(&mut out, flows, Direction::Outbound);
    out.push_str("\t}\n}\n");
    out
}

/// The chain's rules for flows going `direction`, and a comment for each
/// local flow the loopback rule already allows.
fn push_rules(out: &mut String, flows: &[Flow], direction: Direction) {
    for f in local_flows(flows, direction) {
        let _ = writeln!(out, "\t\t# {} (allowed by the loopback rule)", describe(f));
    }
    for f in flows.iter().filter(|f| f.direction == direction) {
        let _ = writeln!(out, "\t\t# {}", describe(f));
        if let Endpoint::Host(name) = &f.destination {
            let _ = writeln!(
                out,
                "\t\t# {name} is resolved when Hark connects, so the rule matches the port only."
            );
        }
        for (family_match, l4) in matches(Family::of(f), f.transport) {
            let port = match (f.transport, f.port) {
                (Transport::Icmp, _) | (_, PortSpec::None) => String::new(),
                (_, p) => format!(" dport {}", p.joined("-").unwrap_or_default()),
            };
            let _ = writeln!(
                out,
                "\t\t{family_match}{l4}{port} accept comment \"{}\"",
                comment(f, COMMENT_MAX)
            );
        }
    }
}

/// The family/address part and the layer-4 part of each rule a flow needs.
/// The address to match is the destination both ways: a listener's own
/// address on input, the peer's on output.
fn matches(family: Family, transport: Transport) -> Vec<(String, &'static str)> {
    let icmp = |v6: bool| {
        if v6 {
            "icmpv6 type echo-request"
        } else {
            "icmp type echo-request"
        }
    };
    let l4 = match transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
        Transport::Icmp => "",
    };
    match (family, transport) {
        (Family::AnyV4, Transport::Icmp) => vec![(String::new(), icmp(false))],
        (Family::AnyBoth, Transport::Icmp) => {
            vec![(String::new(), icmp(false)), (String::new(), icmp(true))]
        }
        (Family::Addr(ip), Transport::Icmp) => vec![(ip_match(ip), icmp(ip.is_ipv6()))],
        (Family::AnyV4, _) => vec![("meta nfproto ipv4 ".to_owned(), l4)],
        (Family::AnyBoth, _) => vec![(String::new(), l4)],
        (Family::Addr(ip), _) => vec![(ip_match(ip), l4)],
    }
}

fn ip_match(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip daddr {v4} "),
        IpAddr::V6(v6) => format!("ip6 daddr {v6} "),
    }
}
