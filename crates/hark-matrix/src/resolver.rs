//! DNS rows: the host's resolvers, needed as soon as any flow names its
//! destination by host name.

use std::net::IpAddr;

use crate::flow::{Endpoint, Flow, PortSpec, Security, Transport};

/// Where the system resolver's configuration lives.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The nameserver addresses of a resolv.conf text, in order, without duplicates.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for line in resolv_conf.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        // A scoped IPv6 address (fe80::1%eth0) keeps only the address.
        let Some(ip) = words
            .next()
            .and_then(|w| w.split('%').next())
            .and_then(|w| w.parse().ok())
        else {
            continue;
        };
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

/// Adds DNS rows (UDP, and TCP for truncated answers) for each nameserver
/// when some flow's destination is a host name. `read_resolv_conf` is only
/// called then; with no nameserver, resolvers default to this host.
pub fn add_resolver_flows(flows: &mut Vec<Flow>, read_resolv_conf: impl FnOnce() -> String) {
    let names: Vec<String> = flows
        .iter()
        .filter_map(|f| match &f.destination {
            Endpoint::Host(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return;
    }
    let mut servers = nameservers(&read_resolv_conf());
    if servers.is_empty() {
        servers.push(IpAddr::from([127, 0, 0, 1]));
    }
    let purpose = format!("name resolution for {}", names.join(", "));
    for ns in servers {
        for transport in [Transport::Udp, Transport::Tcp] {
            flows.push(Flow::client(
                Endpoint::Ip(ns),
                PortSpec::Single(53),
                transport,
                "dns",
                Security::Plain,
                "resolver (/etc/resolv.conf)",
                &purpose,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Direction;

    const CONF: &str = "# generated\nsearch example.net\nnameserver 192.0.2.53\n\
                        nameserver fe80::1%eth0\nnameserver 192.0.2.53\nnameserver bogus\n\
                        options edns0\n";

    #[test]
    fn parses_nameservers() {
        assert_eq!(
            nameservers(CONF),
            vec![
                "192.0.2.53".parse::<IpAddr>().unwrap(),
                "fe80::1".parse().unwrap()
            ]
        );
    }

    fn smtp_to(dest: Endpoint) -> Flow {
        Flow::client(
            dest,
            PortSpec::Single(25),
            Transport::Tcp,
            "smtp",
            Security::Plain,
            "alerts.smtp",
            "alert mail",
        )
    }

    #[test]
    fn no_dns_rows_without_host_names() {
        let mut flows = vec![smtp_to(Endpoint::Ip("192.0.2.25".parse().unwrap()))];
        add_resolver_flows(&mut flows, || panic!("must not read resolv.conf"));
        assert_eq!(flows.len(), 1);
    }

    #[test]
    fn host_names_bring_one_udp_and_one_tcp_row_per_nameserver() {
        let mut flows = vec![smtp_to(Endpoint::Host("mail.example.net".into()))];
        add_resolver_flows(&mut flows, || CONF.to_owned());
        let dns: Vec<_> = flows.iter().filter(|f| f.protocol == "dns").collect();
        assert_eq!(dns.len(), 4);
        assert!(dns.iter().all(|f| f.direction == Direction::Outbound));
        assert!(dns[0].purpose.contains("mail.example.net"));

        let mut flows = vec![smtp_to(Endpoint::Host("mail.example.net".into()))];
        add_resolver_flows(&mut flows, String::new);
        assert_eq!(flows[1].direction, Direction::Local);
    }
}
