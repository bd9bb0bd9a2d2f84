//! One row of the matrix and the small types it is made of. The JSON names
//! and values here are a stable interface (`flow.schema.json`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One flow: traffic Hark receives, sends, or exchanges with itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Which way the connection (or the datagram) goes, seen from this host.
    pub direction: Direction,
    /// Whether Hark is the listening or the connecting side.
    pub role: Role,
    /// Who opens the connection or sends the datagram.
    pub source: Endpoint,
    /// Who accepts it: for a listener, the address it is bound to.
    pub destination: Endpoint,
    /// Destination port or range; none for ICMP.
    pub port: PortSpec,
    /// Layer-4 protocol.
    pub transport: Transport,
    /// Application protocol, like `syslog`, `http`, `smtp`, `dns`.
    pub protocol: String,
    /// How the traffic is protected.
    pub security: Security,
    /// The configuration section responsible, like `inputs.syslog_udp` or `http`.
    pub component: String,
    /// What the flow is for, in a few words.
    pub purpose: String,
}

impl Flow {
    /// A flow to a socket Hark listens on. A loopback address makes it
    /// `local`; any other makes it `inbound` from anyone.
    pub fn listener(
        listen: SocketAddr,
        transport: Transport,
        protocol: &str,
        security: Security,
        component: &str,
        purpose: &str,
    ) -> Flow {
        let local = is_loopback(listen.ip());
        Flow {
            direction: if local {
                Direction::Local
            } else {
                Direction::Inbound
            },
            role: Role::Listen,
            source: if local {
                Endpoint::Local
            } else {
                Endpoint::Any
            },
            destination: Endpoint::Ip(listen.ip()),
            port: PortSpec::Single(listen.port()),
            transport,
            protocol: protocol.to_owned(),
            security,
            component: component.to_owned(),
            purpose: purpose.to_owned(),
        }
    }

    /// A flow Hark opens to `destination`. A loopback destination makes it
    /// `local`; any other makes it `outbound`.
    pub fn client(
        destination: Endpoint,
        port: PortSpec,
        transport: Transport,
        protocol: &str,
        security: Security,
        component: &str,
        purpose: &str,
    ) -> Flow {
        let local = destination.is_local();
        Flow {
            direction: if local {
                Direction::Local
            } else {
                Direction::Outbound
            },
            role: Role::Connect,
            source: if local {
                Endpoint::Local
            } else {
                Endpoint::Hark
            },
            destination,
            port,
            transport,
            protocol: protocol.to_owned(),
            security,
            component: component.to_owned(),
            purpose: purpose.to_owned(),
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Which way traffic goes, seen from the host Hark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the network to Hark.
    Inbound,
    /// Between Hark and this host only (loopback); never crosses the network.
    Local,
    /// From Hark to the network.
    Outbound,
}

impl Direction {
    /// `inbound`, `local` or `outbound`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Local => "local",
            Direction::Outbound => "outbound",
        }
    }
}

/// Hark's side of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Hark binds the destination address and waits.
    Listen,
    /// Hark opens the connection or sends the first datagram.
    Connect,
}

/// Layer-4 protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6 (echo), without ports.
    Icmp,
}

impl Transport {
    /// `tcp`, `udp` or `icmp`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
        }
    }
}

/// How a flow is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Nothing: readable and forgeable on the wire.
    Plain,
    /// TLS; the server is authenticated.
    Tls,
    /// Mutual TLS: both sides present certificates.
    Mtls,
    /// A bearer token authenticates the client (the transport itself may be plain).
    Token,
}

impl Security {
    /// `plain`, `tls`, `mtls` or `token`.
    pub fn name(self) -> &'static str {
        match self {
            Security::Plain => "plain",
            Security::Tls => "tls",
            Security::Mtls => "mtls",
            Security::Token => "token",
        }
    }
}

/// One end of a flow. In JSON a string: `any`, `localhost`, `hark`, an IP
/// address, or a host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Any address: senders are not restricted by Hark.
    Any,
    /// This host, over loopback.
    Local,
    /// The host Hark runs on, from whichever address the route picks.
    Hark,
    /// An address; for a listener, the one it binds (`0.0.0.0` or `::` for all).
    Ip(IpAddr),
    /// A host name, resolved when the connection is made.
    Host(String),
}

impl Endpoint {
    /// True for this host: `localhost` or a loopback address.
    pub fn is_local(&self) -> bool {
        match self {
            Endpoint::Local => true,
            Endpoint::Ip(ip) => is_loopback(*ip),
            Endpoint::Host(name) => name.eq_ignore_ascii_case("localhost"),
            Endpoint::Any | Endpoint::Hark => false,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Any => f.write_str("any"),
            Endpoint::Local => f.write_str("localhost"),
            Endpoint::Hark => f.write_str("hark"),
            Endpoint::Ip(ip) => write!(f, "{ip}"),
            Endpoint::Host(name) => f.write_str(name),
        }
    }
}

impl From<&str> for Endpoint {
    fn from(s: &str) -> Endpoint {
        match s {
            "any" => Endpoint::Any,
            "localhost" => Endpoint::Local,
            "hark" => Endpoint::Hark,
            _ => match s.parse::<IpAddr>() {
                Ok(ip) => Endpoint::Ip(ip),
                Err(_) => Endpoint::Host(s.to_owned()),
            },
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Endpoint::from(s.as_str()))
    }
}

/// The destination port of a flow. In JSON a number, a `"first-last"`
/// string, or null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PortSpec {
    /// No port (ICMP).
    None,
    /// One port.
    Single(u16),
    /// An inclusive range, first < last.
    Range(u16, u16),
}

impl PortSpec {
    /// The first port, if any.
    pub fn first(self) -> Option<u16> {
        self.bounds().map(|(a, _)| a)
    }

    /// The first and last port, if any.
    pub fn bounds(self) -> Option<(u16, u16)> {
        match self {
            PortSpec::None => None,
            PortSpec::Single(p) => Some((p, p)),
            PortSpec::Range(a, b) => Some((a, b)),
        }
    }

    /// Every port it covers, in order.
    pub fn ports(self) -> impl Iterator<Item = u16> {
        self.bounds().into_iter().flat_map(|(a, b)| a..=b)
    }

    /// The port with the range written `first{sep}last`, or `None` for no port.
    pub fn joined(self, sep: &str) -> Option<String> {
        match self {
            PortSpec::None => None,
            PortSpec::Single(p) => Some(p.to_string()),
            PortSpec::Range(a, b) => Some(format!("{a}{sep}{b}")),
        }
    }
}

impl fmt::Display for PortSpec {
    /// `514`, `6000-6010`, or `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.joined("-").as_deref().unwrap_or("-"))
    }
}

/// Why a port could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid port {0:?}: expected a number from 1 to 65535 or a range \"first-last\"")]
pub struct PortSpecError(String);

impl FromStr for PortSpec {
    type Err = PortSpecError;

    fn from_str(s: &str) -> Result<PortSpec, PortSpecError> {
        let err = || PortSpecError(s.to_owned());
        let port = |p: &str| p.trim().parse::<u16>().ok().filter(|p| *p != 0);
        match s.split_once('-') {
            None => port(s).map(PortSpec::Single).ok_or_else(err),
            Some((a, b)) => match (port(a), port(b)) {
                (Some(a), Some(b)) if a < b => Ok(PortSpec::Range(a, b)),
                (Some(a), Some(b)) if a == b => Ok(PortSpec::Single(a)),
                _ => Err(err()),
            },
        }
    }
}

impl Serialize for PortSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PortSpec::None => s.serialize_none(),
            PortSpec::Single(p) => s.serialize_u16(*p),
            PortSpec::Range(a, b) => s.collect_str(&format_args!("{a}-{b}")),
        }
    }
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u16),
            Text(String),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(PortSpec::None),
            Some(Raw::Number(p)) if p != 0 => Ok(PortSpec::Single(p)),
            Some(Raw::Number(_)) => Err(serde::de::Error::custom("port 0 is not a port")),
            Some(Raw::Text(t)) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn port_json_forms() {
        assert_eq!(
            serde_json::to_value(PortSpec::Single(514)).unwrap(),
            json!(514)
        );
        assert_eq!(
            serde_json::to_value(PortSpec::Range(6000, 6010)).unwrap(),
            json!("6000-6010")
        );
        assert_eq!(serde_json::to_value(PortSpec::None).unwrap(), json!(null));
        for p in [
            PortSpec::Single(1),
            PortSpec::Range(1, 65535),
            PortSpec::None,
        ] {
            let back: PortSpec = serde_json::from_value(serde_json::to_value(p).unwrap()).unwrap();
            assert_eq!(back, p);
        }
        assert!(serde_json::from_value::<PortSpec>(json!("10-5")).is_err());
        assert!(serde_json::from_value::<PortSpec>(json!(0)).is_err());
        assert!(serde_json::from_value::<PortSpec>(json!("x")).is_err());
        assert_eq!(PortSpec::Range(5, 7).ports().collect::<Vec<_>>(), [5, 6, 7]);
        assert_eq!(PortSpec::None.ports().count(), 0);
    }

    #[test]
    fn endpoint_json_forms() {
        for (e, s) in [
            (Endpoint::Any, "any"),
            (Endpoint::Local, "localhost"),
            (Endpoint::Hark, "hark"),
            (Endpoint::Ip("::".parse().unwrap()), "::"),
            (Endpoint::Ip("192.0.2.1".parse().unwrap()), "192.0.2.1"),
            (
                Endpoint::Host("mail.example.net".into()),
                "mail.example.net",
            ),
        ] {
            assert_eq!(serde_json::to_value(&e).unwrap(), json!(s));
            assert_eq!(serde_json::from_value::<Endpoint>(json!(s)).unwrap(), e);
        }
    }

    #[test]
    fn loopback_listeners_are_local_others_inbound_from_any() {
        let local = Flow::listener(
            "127.0.0.1:8514".parse().unwrap(),
            Transport::Tcp,
            "http",
            Security::Token,
            "http",
            "x",
        );
        assert_eq!(local.direction, Direction::Local);
        assert_eq!(local.source, Endpoint::Local);
        let mapped = Flow::listener(
            "[::ffff:127.0.0.1]:1".parse().unwrap(),
            Transport::Tcp,
            "http",
            Security::Token,
            "http",
            "x",
        );
        assert_eq!(mapped.direction, Direction::Local);
        let open = Flow::listener(
            "[::]:514".parse().unwrap(),
            Transport::Udp,
            "syslog",
            Security::Plain,
            "inputs.a",
            "x",
        );
        assert_eq!(open.direction, Direction::Inbound);
        assert_eq!(open.source, Endpoint::Any);
        assert_eq!(open.role, Role::Listen);
    }

    #[test]
    fn clients_to_loopback_are_local() {
        let f = |d: Endpoint| {
            Flow::client(
                d,
                PortSpec::Single(53),
                Transport::Udp,
                "dns",
                Security::Plain,
                "dns",
                "x",
            )
            .direction
        };
        assert_eq!(
            f(Endpoint::Ip("127.0.0.53".parse().unwrap())),
            Direction::Local
        );
        assert_eq!(f(Endpoint::Host("localhost".into())), Direction::Local);
        assert_eq!(
            f(Endpoint::Ip("192.0.2.53".parse().unwrap())),
            Direction::Outbound
        );
        let out = Flow::client(
            Endpoint::Host("mail.example.net".into()),
            PortSpec::Single(25),
            Transport::Tcp,
            "smtp",
            Security::Tls,
            "alerts.smtp",
            "x",
        );
        assert_eq!((out.source, out.role), (Endpoint::Hark, Role::Connect));
    }
}
