//! Syslog over UDP: one datagram is one message, or several separated by LF.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::batch::Batch;
use crate::datagram::{self, DatagramHandler};
use crate::{InputContext, telemetry};

/// Largest datagram we read; anything over the input's maximum is cut and flagged.
pub(crate) const DATAGRAM_BUF: usize = 65_536;

/// Binds a UDP socket with the asked receive buffer (the kernel may grant less).
pub(crate) fn bind(addr: SocketAddr, recv_buffer: u64) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(false).ok();
    }
    socket.set_recv_buffer_size(usize::try_from(recv_buffer).unwrap_or(usize::MAX))?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Receives syslog datagrams until shutdown.
pub(crate) async fn run(socket: UdpSocket, ctx: InputContext) {
    datagram::run(Arc::new(socket), ctx, SyslogDatagrams).await;
}

/// Syslog over UDP: each datagram holds one message, or several split by LF.
struct SyslogDatagrams;

impl DatagramHandler for SyslogDatagrams {
    fn push(&mut self, ctx: &InputContext, batch: &mut Batch, data: &[u8], peer: SocketAddr) {
        let source = peer.to_string();
        let cut = data.len() > ctx.max_message;
        let data = if cut { &data[..ctx.max_message] } else { data };
        for msg in hark_proto::split_datagram(data) {
            batch.push_syslog(ctx, &source, msg, cut);
        }
    }

    async fn submit(&mut self, ctx: &InputContext, batch: &mut Batch) -> bool {
        batch.flush(ctx).await
    }
}

/// The kernel counts datagrams it dropped for a full receive buffer per
/// socket in /proc/net/udp{,6}; export that as drops for this input.
pub(crate) async fn watch_kernel_drops(addr: SocketAddr, ctx: InputContext) {
    telemetry::kernel_drops(&ctx.name, 0);
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Some(n) = kernel_drops(addr) {
            telemetry::kernel_drops(&ctx.name, n);
        }
    }
}

fn kernel_drops(addr: SocketAddr) -> Option<u64> {
    let file = if addr.is_ipv4() {
        "/proc/net/udp"
    } else {
        "/proc/net/udp6"
    };
    let text = std::fs::read_to_string(file).ok()?;
    let port = format!(":{:04X}", addr.port());
    let total = text
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|local| local.ends_with(&port))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    Some(total)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernel_drops_reads_proc_for_a_bound_socket() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = s.local_addr().unwrap();
        assert_eq!(super::kernel_drops(addr), Some(0));
    }
}
