//! SNMP v1/v2c traps and informs over UDP.
//!
//! Only the configured communities are accepted; others are counted as
//! `community` drops. SNMPv3 is counted as `unsupported_version`, anything
//! undecodable as a malformed frame. An inform is answered (to its source
//! address and port) once its event is durable, so a sender that gets no
//! answer retries.

use std::net::SocketAddr;
use std::sync::Arc;

use hark_proto::snmp::{PduKind, SnmpError, decode_trap, inform_response, trap_to_event};
use tokio::net::UdpSocket;

use crate::batch::{Batch, Submitted};
use crate::datagram::{self, DatagramHandler};
use crate::telemetry::Malformed;
use crate::{InputContext, telemetry};

/// The allow-list and storage choice of one trap input.
#[derive(Clone)]
pub(crate) struct TrapOptions {
    /// Communities accepted, as bytes.
    pub communities: Arc<[Vec<u8>]>,
    /// Whether `snmp.community` is stored.
    pub store_community: bool,
}

/// Receives traps until shutdown.
pub(crate) async fn run(socket: UdpSocket, ctx: InputContext, opts: TrapOptions) {
    let socket = Arc::new(socket);
    let handler = Traps {
        opts,
        socket: socket.clone(),
        answers: Vec::new(),
    };
    datagram::run(socket, ctx, handler).await;
}

/// SNMP traps and informs; informs are answered once their events are durable.
struct Traps {
    opts: TrapOptions,
    socket: Arc<UdpSocket>,
    /// Inform responses waiting for the batch that holds their events.
    answers: Vec<(Vec<u8>, SocketAddr)>,
}

impl DatagramHandler for Traps {
    fn push(&mut self, ctx: &InputContext, batch: &mut Batch, data: &[u8], peer: SocketAddr) {
        push_datagram(ctx, &self.opts, batch, &mut self.answers, data, peer);
    }

    async fn submit(&mut self, ctx: &InputContext, batch: &mut Batch) -> bool {
        let answers = std::mem::take(&mut self.answers);
        match batch.submit(ctx).await {
            Submitted::Empty => true,
            Submitted::Refused(_) => false,
            Submitted::Receipt(receipt) if answers.is_empty() => {
                drop(receipt);
                true
            }
            Submitted::Receipt(receipt) => {
                // Answer informs off the receive loop: durability takes an fsync.
                let socket = self.socket.clone();
                let name = ctx.name.clone();
                tokio::spawn(async move {
                    if receipt.durable().await.is_err() {
                        return;
                    }
                    for (bytes, peer) in answers {
                        if let Err(e) = socket.send_to(&bytes, peer).await {
                            tracing::debug!(input = %name, %peer, "inform response failed: {e}");
                        }
                    }
                });
                true
            }
        }
    }
}

fn push_datagram(
    ctx: &InputContext,
    opts: &TrapOptions,
    batch: &mut Batch,
    answers: &mut Vec<(Vec<u8>, SocketAddr)>,
    data: &[u8],
    peer: SocketAddr,
) {
    let trap = match decode_trap(data) {
        Ok(t) => t,
        Err(SnmpError::Unsupported { .. }) => {
            telemetry::dropped(&ctx.name, "unsupported_version", 1);
            if ctx.log_limit.allow(peer.ip()) {
                tracing::warn!(input = %ctx.name, %peer, "SNMP message dropped: only v1 and v2c are supported");
            }
            return;
        }
        Err(e) => return ctx.malformed(peer, "SNMP", Malformed::Drop, &e),
    };
    if !opts.communities.contains(&trap.community) {
        telemetry::dropped(&ctx.name, "community", 1);
        if ctx.log_limit.allow(peer.ip()) {
            tracing::warn!(input = %ctx.name, %peer, community = %trap.community_lossy(), "SNMP trap with an unknown community dropped");
        }
        return;
    }
    let source = peer.to_string();
    let pctx = ctx.parse_context(&source);
    batch.push_event(ctx, trap_to_event(&trap, peer, &pctx, opts.store_community));
    if trap.pdu_kind == PduKind::InformRequest {
        match inform_response(&trap) {
            Ok(bytes) => answers.push((bytes, peer)),
            Err(e) => tracing::debug!(input = %ctx.name, %peer, "cannot answer inform: {e}"),
        }
    }
}
