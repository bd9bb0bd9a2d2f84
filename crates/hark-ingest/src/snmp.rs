//! SNMP v1/v2c traps and informs over UDP.
//!
//! Only the configured communities are accepted; others are counted as
//! `community` drops. SNMPv3 is counted as `unsupported_version`, anything
//! undecodable as a malformed frame. An inform is answered (to its source
//! address and port) once its event is durable, so a sender that gets no
//! answer retries.

use std::net::SocketAddr;
use std::sync::Arc;

use hark_event::now_nanos;
use hark_proto::ParseContext;
use hark_proto::snmp::{PduKind, SnmpError, decode_trap, inform_response, trap_to_event};
use tokio::net::UdpSocket;

use crate::batch::{Batch, MAX_BATCH, Submitted};
use crate::udp::{DATAGRAM_BUF, watch_kernel_drops};
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
    let drops = socket
        .local_addr()
        .ok()
        .map(|addr| tokio::spawn(watch_kernel_drops(addr, ctx.clone())));
    let mut buf = vec![0u8; DATAGRAM_BUF];
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
        let mut batch = Batch::new();
        let mut answers = Vec::new();
        push_datagram(&ctx, &opts, &mut batch, &mut answers, &buf[..len], peer);
        while batch.len() < MAX_BATCH {
            match socket.try_recv_from(&mut buf) {
                Ok((len, peer)) => {
                    push_datagram(&ctx, &opts, &mut batch, &mut answers, &buf[..len], peer)
                }
                Err(_) => break,
            }
        }
        match batch.submit(&ctx).await {
            Submitted::Empty => {}
            Submitted::Refused(_) => break,
            Submitted::Receipt(ticket) if answers.is_empty() => drop(ticket),
            Submitted::Receipt(ticket) => {
                // Answer informs off the receive loop: durability takes an fsync.
                let socket = socket.clone();
                let name = ctx.name.clone();
                tokio::spawn(async move {
                    if ticket.durable().await.is_err() {
                        return;
                    }
                    for (bytes, peer) in answers {
                        if let Err(e) = socket.send_to(&bytes, peer).await {
                            tracing::debug!(input = %name, %peer, "inform response failed: {e}");
                        }
                    }
                });
            }
        }
    }
    if let Some(d) = drops {
        d.abort();
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
        Err(e) => {
            telemetry::malformed_frame(&ctx.name);
            if ctx.log_limit.allow(peer.ip()) {
                tracing::warn!(input = %ctx.name, %peer, "malformed SNMP datagram dropped: {e}");
            }
            return;
        }
    };
    if !opts.communities.contains(&trap.community) {
        telemetry::dropped(&ctx.name, "community", 1);
        if ctx.log_limit.allow(peer.ip()) {
            tracing::warn!(input = %ctx.name, %peer, community = %trap.community_lossy(), "SNMP trap with an unknown community dropped");
        }
        return;
    }
    let source = peer.to_string();
    let pctx = ParseContext {
        received_at: now_nanos(),
        input: &ctx.name,
        source: Some(&source),
        default_offset: ctx.offset,
    };
    batch.push_event(trap_to_event(&trap, peer, &pctx, opts.store_community));
    if trap.pdu_kind == PduKind::InformRequest {
        match inform_response(&trap) {
            Ok(bytes) => answers.push((bytes, peer)),
            Err(e) => tracing::debug!(input = %ctx.name, %peer, "cannot answer inform: {e}"),
        }
    }
}
