//! The loop every datagram input shares (syslog, GELF and SNMP traps over
//! UDP): receive until shutdown, drain what is already queued into one
//! batch, hand it on. UDP cannot slow a sender down, so while the sink
//! waits the kernel's receive buffer fills and its drops are counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use crate::InputContext;
use crate::batch::{Batch, MAX_BATCH};
use crate::udp::{DATAGRAM_BUF, watch_kernel_drops};

/// How often [`DatagramHandler::tick`] runs.
const TICK: Duration = Duration::from_secs(1);

/// One datagram protocol's side of a UDP input.
pub(crate) trait DatagramHandler: Send {
    /// Adds what one datagram from `peer` carries to `batch`.
    fn push(&mut self, ctx: &InputContext, batch: &mut Batch, data: &[u8], peer: SocketAddr);

    /// Hands a batch on; false stops the input (the sink is closing).
    fn submit(
        &mut self,
        ctx: &InputContext,
        batch: &mut Batch,
    ) -> impl Future<Output = bool> + Send;

    /// Upkeep once a second, such as expiring incomplete messages.
    fn tick(&mut self, _ctx: &InputContext) {}
}

/// Receives on `socket` until shutdown.
pub(crate) async fn run<H: DatagramHandler>(
    socket: Arc<UdpSocket>,
    ctx: InputContext,
    mut handler: H,
) {
    let drops = socket
        .local_addr()
        .ok()
        .map(|addr| tokio::spawn(watch_kernel_drops(addr, ctx.clone())));
    let mut buf = vec![0u8; DATAGRAM_BUF];
    let mut batch = Batch::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (len, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = tick.tick() => {
                handler.tick(&ctx);
                continue;
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(input = %ctx.name, "udp receive failed: {e}");
                    continue;
                }
            },
        };
        handler.push(&ctx, &mut batch, &buf[..len], peer);
        // Drain what is already queued so one append carries many datagrams.
        while batch.len() < MAX_BATCH {
            match socket.try_recv_from(&mut buf) {
                Ok((len, peer)) => handler.push(&ctx, &mut batch, &buf[..len], peer),
                Err(_) => break,
            }
        }
        if !handler.submit(&ctx, &mut batch).await {
            break;
        }
    }
    handler.submit(&ctx, &mut batch).await;
    if let Some(d) = drops {
        d.abort();
    }
}
