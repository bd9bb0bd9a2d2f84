//! Listeners: bind the exact address and port the way the inputs do, and
//! on failure say who holds the port or what is missing.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use socket2::{Domain, Socket, Type};

use super::holder;
use super::privilege::Privilege;
use super::{ProbeError, os_message};
use crate::flow::{Endpoint, Flow, Transport};

/// Binds each port of a listener's flow and lets it go again.
pub(super) fn check_listener(flow: &Flow) -> Result<String, ProbeError> {
    let ip = match &flow.destination {
        Endpoint::Ip(ip) => *ip,
        Endpoint::Local => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Endpoint::Any | Endpoint::Hark => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Endpoint::Host(name) => {
            return Err(ProbeError::NoAddress(format!(
                "a listener binds an address, not the host name {name}"
            )));
        }
    };
    if flow.transport == Transport::Icmp {
        return Ok("nothing to bind for ICMP".to_owned());
    }
    let privilege = Privilege::current();
    let transport = flow.transport.name();
    let mut bound = Vec::new();
    for port in flow.port.ports() {
        let addr = SocketAddr::new(ip, port);
        let note = privilege.describe(port);
        if let Err(e) = try_bind(addr, flow.transport) {
            return Err(match e.kind() {
                io::ErrorKind::AddrInUse => ProbeError::InUse {
                    addr,
                    transport,
                    holders: holder::describe(&holder::holders(addr, flow.transport)),
                    privilege: note,
                },
                io::ErrorKind::PermissionDenied => ProbeError::PermissionDenied {
                    addr,
                    transport,
                    privilege: note,
                },
                io::ErrorKind::AddrNotAvailable => {
                    ProbeError::AddressNotAvailable { addr, transport }
                }
                _ => ProbeError::Bind {
                    addr,
                    transport,
                    message: os_message(&e),
                },
            });
        }
        bound.push((addr, note));
    }
    Ok(match bound.as_slice() {
        [] => "no port to bind".to_owned(),
        [(addr, note)] => format!("{addr}/{transport} can be bound; {note}"),
        [(first, note), .., (last, _)] => format!(
            "{ip} ports {}-{}/{transport} can be bound; {note}",
            first.port(),
            last.port()
        ),
    })
}

/// Binds like the inputs do: dual-stack on `::`, address reuse for TCP
/// (so connections in TIME_WAIT do not count), and `listen` for TCP, where
/// a clash with another listener shows up.
fn try_bind(addr: SocketAddr, transport: Transport) -> io::Result<()> {
    let ty = match transport {
        Transport::Udp => Type::DGRAM,
        Transport::Tcp | Transport::Icmp => Type::STREAM,
    };
    let socket = Socket::new(Domain::for_address(addr), ty, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(false)?;
    }
    if transport == Transport::Tcp {
        socket.set_reuse_address(true)?;
    }
    socket.bind(&addr.into())?;
    if transport == Transport::Tcp {
        socket.listen(1)?;
    }
    Ok(())
}
