//! Name resolution and TCP connections shared by the checks.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::ProtocolConfig;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use tokio::net::{TcpStream, UdpSocket};

use super::progress::{Phase, Progress};

/// The system's resolver configuration, read once: a caching resolver for
/// host names (honouring `/etc/hosts` and `/etc/resolv.conf`) and the
/// name servers DNS checks ask when they name none.
pub(crate) struct Resolver {
    /// The caching resolver; `None` when `/etc/resolv.conf` could not be
    /// read, and then names go through the C library (`getaddrinfo`).
    hickory: Option<TokioResolver>,
    /// The system's name servers, for DNS checks without `server`.
    system_servers: Vec<SocketAddr>,
    /// Why the system configuration could not be used, if it could not.
    pub(crate) system_note: Option<String>,
}

impl Resolver {
    /// Reads the system configuration; never fails (see the fields).
    pub(crate) fn from_system() -> Resolver {
        match hickory_resolver::system_conf::read_system_conf() {
            Ok((config, options)) => {
                let system_servers = config
                    .name_servers()
                    .iter()
                    .filter_map(|ns| {
                        let port = ns
                            .connections
                            .iter()
                            .find(|c| matches!(c.protocol, ProtocolConfig::Udp))
                            .map(|c| c.port)?;
                        Some(SocketAddr::new(ns.ip, port))
                    })
                    .collect();
                let mut builder =
                    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
                *builder.options_mut() = options;
                match builder.build() {
                    Ok(r) => Resolver {
                        hickory: Some(r),
                        system_servers,
                        system_note: None,
                    },
                    Err(e) => Resolver {
                        hickory: None,
                        system_servers,
                        system_note: Some(format!("cannot build the DNS resolver: {e}")),
                    },
                }
            }
            Err(e) => Resolver {
                hickory: None,
                system_servers: Vec::new(),
                system_note: Some(format!("cannot read /etc/resolv.conf: {e}")),
            },
        }
    }

    /// The system's name servers (from `/etc/resolv.conf`).
    pub(crate) fn system_servers(&self) -> &[SocketAddr] {
        &self.system_servers
    }

    /// The addresses of `host`: an IP address as is (brackets allowed),
    /// a name through the resolver. The error is a sentence for the output.
    pub(crate) async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        if bare.is_empty() {
            return Err("no host name given".into());
        }
        let addrs: Vec<IpAddr> = match &self.hickory {
            Some(r) => match r.lookup_ip(bare).await {
                Ok(found) => found.iter().collect(),
                Err(e) if e.is_nx_domain() => {
                    return Err(format!("cannot resolve {bare}: no such domain (NXDOMAIN)"));
                }
                Err(e) if e.is_no_records_found() => {
                    return Err(format!("cannot resolve {bare}: no address records"));
                }
                Err(e) => return Err(format!("cannot resolve {bare}: {e}")),
            },
            None => match tokio::net::lookup_host((bare, 0)).await {
                Ok(found) => found.map(|sa| sa.ip()).collect(),
                Err(e) => return Err(format!("cannot resolve {bare}: {e}")),
            },
        };
        if addrs.is_empty() {
            Err(format!("cannot resolve {bare}: no addresses"))
        } else {
            Ok(addrs)
        }
    }
}

/// A sentence for a failed connection: `connection to 127.0.0.1:9 refused`.
pub(crate) fn connect_error(addr: SocketAddr, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => format!("connection to {addr} refused"),
        io::ErrorKind::ConnectionReset => format!("connection to {addr} reset"),
        io::ErrorKind::HostUnreachable => format!("cannot connect to {addr}: host unreachable"),
        io::ErrorKind::NetworkUnreachable => {
            format!("cannot connect to {addr}: network unreachable")
        }
        _ => format!("cannot connect to {addr}: {e}"),
    }
}

/// A TCP connection to `port` on the first of `addrs` that accepts, with
/// `TCP_NODELAY`; the time the successful connect took; the address used.
pub(crate) async fn connect(
    addrs: &[IpAddr],
    port: u16,
    progress: &Progress,
) -> Result<(TcpStream, SocketAddr, Duration), String> {
    progress.set(Phase::Connecting);
    let mut last = String::from("no address to connect to");
    for ip in addrs {
        let addr = SocketAddr::new(*ip, port);
        let started = tokio::time::Instant::now();
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let took = started.elapsed();
                // Small requests go out at once; failure to set it is harmless.
                let _ = stream.set_nodelay(true);
                return Ok((stream, addr, took));
            }
            Err(e) => last = connect_error(addr, &e),
        }
    }
    Err(last)
}

/// `host:port` for people, with brackets around IPv6 addresses.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A UDP socket bound to an ephemeral port of `peer`'s address family and
/// connected to `peer`; `Err` says which of the two steps failed.
pub(crate) async fn udp_to(peer: SocketAddr) -> Result<UdpSocket, (&'static str, io::Error)> {
    let bind: SocketAddr = if peer.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(bind).await.map_err(|e| ("open", e))?;
    socket.connect(peer).await.map_err(|e| ("reach", e))?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_need_no_lookup() {
        let r = Resolver::from_system();
        assert_eq!(
            r.lookup("[::1]").await.unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            r.lookup("127.0.0.1").await.unwrap(),
            vec!["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert!(r.lookup("").await.is_err());
    }

    #[tokio::test]
    async fn localhost_resolves_from_the_hosts_file() {
        let r = Resolver::from_system();
        let addrs = r.lookup("localhost").await.unwrap();
        assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
    }

    #[test]
    fn host_port_brackets_ipv6() {
        assert_eq!(host_port("::1", 80), "[::1]:80");
        assert_eq!(host_port("a.test", 80), "a.test:80");
    }
}
