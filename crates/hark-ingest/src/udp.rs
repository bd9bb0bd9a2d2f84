//! Syslog over UDP: one datagram is one message, or several separated by LF.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::InputContext;
use crate::batch::{Batch, MAX_BATCH};

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

/// Receives until shutdown, batching whatever datagrams are already queued.
pub(crate) async fn run(socket: UdpSocket, ctx: InputContext) {
    let local = socket.local_addr().ok();
    let drops = local.map(|addr| tokio::spawn(watch_kernel_drops(addr, ctx.clone())));
    let mut buf = vec![0u8; DATAGRAM_BUF];
    let mut batch = Batch::new();
    loop {
        let (len, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(input = %ctx.name, "udp receive failed: {e}");
                    continue;
                }
            },
        };
        push_datagram(&ctx, &mut batch, &buf[..len], peer);
        // Drain what is already queued so one append carries many datagrams.
        while batch.len() < MAX_BATCH {
            match socket.try_recv_from(&mut buf) {
                Ok((len, peer)) => push_datagram(&ctx, &mut batch, &buf[..len], peer),
                Err(_) => break,
            }
        }
        if !batch.flush(&ctx).await {
            break;
        }
    }
    batch.flush(&ctx).await;
    if let Some(d) = drops {
        d.abort();
    }
}

fn push_datagram(ctx: &InputContext, batch: &mut Batch, data: &[u8], peer: SocketAddr) {
    let source = peer.to_string();
    let cut = data.len() > ctx.max_message;
    let data = if cut { &data[..ctx.max_message] } else { data };
    for msg in hark_proto::split_datagram(data) {
        batch.push_syslog(ctx, &source, msg, cut);
    }
}

/// The kernel counts datagrams it dropped for a full receive buffer per
/// socket in /proc/net/udp{,6}; export that as drops for this input.
pub(crate) async fn watch_kernel_drops(addr: SocketAddr, ctx: InputContext) {
    let counter = metrics::counter!(
        "hark_events_dropped_total",
        "input" => ctx.name.to_string(),
        "reason" => "udp_overflow"
    );
    counter.absolute(0);
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Some(n) = kernel_drops(addr) {
            counter.absolute(n);
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
