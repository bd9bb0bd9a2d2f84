//! Clients: resolve the peer, then connect (TCP) or ask a question the
//! protocol must answer (UDP), each within the time limit.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

use super::{ProbeError, dns, os_message};
use crate::flow::{Endpoint, Flow, Transport};

/// Resolves and reaches a client flow's destination.
pub(super) async fn check_client(flow: &Flow, timeout: Duration) -> Result<String, ProbeError> {
    // ICMP has no port; resolve with a placeholder.
    let port = flow.port.first().unwrap_or(0);
    let (addrs, resolved) = resolve(&flow.destination, port, timeout).await?;
    let mut last_error = None;
    for addr in &addrs {
        let attempt = match flow.transport {
            Transport::Tcp => connect_tcp(*addr, timeout).await,
            Transport::Udp if flow.protocol == "dns" => dns::probe(*addr, timeout).await,
            Transport::Udp => {
                return Ok(format!(
                    "{resolved}no probe for {} over UDP: reachability not verified",
                    flow.protocol
                ));
            }
            Transport::Icmp => {
                return Ok(format!("{resolved}ICMP echo is not probed"));
            }
        };
        match attempt {
            Ok(found) => return Ok(format!("{resolved}{found}")),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| ProbeError::NoAddress("no address to try".to_owned())))
}

/// The addresses to try, and a note on the resolution for the reason text
/// (empty for a literal address).
async fn resolve(
    destination: &Endpoint,
    port: u16,
    timeout: Duration,
) -> Result<(Vec<SocketAddr>, String), ProbeError> {
    let host = match destination {
        Endpoint::Ip(ip) => return Ok((vec![SocketAddr::new(*ip, port)], String::new())),
        Endpoint::Local => {
            let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
            return Ok((vec![lo], String::new()));
        }
        Endpoint::Any | Endpoint::Hark => {
            return Err(ProbeError::NoAddress(format!(
                "no peer to connect to (destination {destination})"
            )));
        }
        Endpoint::Host(host) => host,
    };
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(timeout, lookup).await {
        Ok(Ok(found)) => found.collect(),
        Ok(Err(e)) => {
            return Err(ProbeError::Resolve {
                host: host.clone(),
                message: os_message(&e),
            });
        }
        Err(_) => {
            return Err(ProbeError::Resolve {
                host: host.clone(),
                message: format!("no answer within {:.1} s", timeout.as_secs_f64()),
            });
        }
    };
    if addrs.is_empty() {
        return Err(ProbeError::Resolve {
            host: host.clone(),
            message: "no address".to_owned(),
        });
    }
    let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    let note = format!("{host} resolves to {}; ", list.join(", "));
    Ok((addrs, note))
}

async fn connect_tcp(addr: SocketAddr, timeout: Duration) -> Result<String, ProbeError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => Ok(format!("connected to {addr}/tcp")),
        Ok(Err(e)) => Err(connect_error(addr, "tcp", &e)),
        Err(_) => Err(ProbeError::Timeout {
            addr,
            transport: "tcp",
            secs: timeout.as_secs_f64(),
        }),
    }
}

/// A connection or probe error as a reason.
pub(super) fn connect_error(
    addr: SocketAddr,
    transport: &'static str,
    e: &io::Error,
) -> ProbeError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ProbeError::Refused { addr, transport },
        _ => ProbeError::Connect {
            addr,
            transport,
            message: os_message(e),
        },
    }
}
