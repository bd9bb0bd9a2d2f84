//! [`Networks`]: names for the address ranges of the user's own networks.

use std::net::IpAddr;

use ipnet::IpNet;

use super::EnrichError;

/// Named address ranges; an address gets the name of the most specific
/// range that holds it.
#[derive(Debug, Clone, Default)]
pub struct Networks {
    /// Ranges with their names, longest prefix first, so the first range
    /// that holds an address is the most specific one.
    ranges: Vec<(IpNet, String)>,
}

impl Networks {
    /// Reads `CIDR → name` pairs (`"10.0.0.0/8" = "internal"`). A bare
    /// address is a range of one; host bits after the prefix are ignored
    /// (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn new<K, V>(ranges: impl IntoIterator<Item = (K, V)>) -> Result<Networks, EnrichError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut parsed = Vec::new();
        for (cidr, name) in ranges {
            let text = cidr.as_ref().trim();
            let net = match text.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(e) => match text.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(EnrichError::Network {
                            network: text.to_owned(),
                            reason: e.to_string(),
                        });
                    }
                },
            };
            parsed.push((net, name.into()));
        }
        // Stable: of two equal ranges, the first one listed wins.
        parsed.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
        Ok(Networks { ranges: parsed })
    }

    /// Whether no range is named.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The name of the most specific range holding `ip`.
    pub fn name(&self, ip: IpAddr) -> Option<&str> {
        let ip = ip.to_canonical();
        self.ranges
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, name)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_longest_prefix_wins() {
        let nets = Networks::new([
            ("10.0.0.0/8", "internal"),
            ("192.168.1.0/24", "office"),
            ("10.20.0.0/16", "lab"),
            ("10.20.30.40", "printer"),
            ("2001:db8::/32", "v6"),
            ("2001:db8:aa::/48", "v6-dmz"),
        ])
        .unwrap();
        assert_eq!(nets.name(ip("10.1.2.3")), Some("internal"));
        assert_eq!(nets.name(ip("10.20.1.1")), Some("lab"));
        assert_eq!(nets.name(ip("10.20.30.40")), Some("printer"));
        assert_eq!(nets.name(ip("10.20.30.41")), Some("lab"));
        assert_eq!(nets.name(ip("192.168.1.200")), Some("office"));
        assert_eq!(nets.name(ip("192.168.2.1")), None);
        assert_eq!(nets.name(ip("2001:db8::1")), Some("v6"));
        assert_eq!(nets.name(ip("2001:db8:aa::1")), Some("v6-dmz"));
        assert_eq!(nets.name(ip("2001:db9::1")), None);
        // An IPv4 address written as IPv4-mapped IPv6.
        assert_eq!(nets.name(ip("::ffff:10.20.1.1")), Some("lab"));
    }

    #[test]
    fn host_bits_are_ignored_and_ties_keep_the_first() {
        let nets = Networks::new([("10.1.2.3/8", "a"), ("10.0.0.0/8", "b")]).unwrap();
        assert_eq!(nets.name(ip("10.200.0.1")), Some("a"));
    }

    #[test]
    fn a_bad_range_is_named_in_the_error() {
        let e = Networks::new([("10.0.0.0/33", "x")]).unwrap_err();
        assert!(
            matches!(&e, EnrichError::Network { network, .. } if network == "10.0.0.0/33"),
            "{e:?}"
        );
        assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
        assert!(Networks::new([("office", "x")]).is_err());
        assert!(
            Networks::new(Vec::<(String, String)>::new())
                .unwrap()
                .is_empty()
        );
    }
}
