//! GELF over UDP (chunked, zlib or gzip) and over TCP (NUL-delimited); over
//! HTTP in `gelf_http`.
//!
//! On UDP and TCP GELF has no acknowledgement: events are appended and the
//! sender is not told. Incomplete chunked messages are dropped after [`CHUNK_TIMEOUT_MS`]
//! or when an input holds more than [`CHUNK_MEMORY`] bytes of chunks, and
//! counted as `gelf_incomplete`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hark_proto::Frame;
use hark_proto::gelf::{GelfChunker, GelfFramer, decompress, gelf_to_event};
use tokio::net::UdpSocket;

use crate::batch::Batch;
use crate::datagram::{self, DatagramHandler};
use crate::frames::{self, FrameFormat};
use crate::stream::{Conn, Handler, Io};
use crate::telemetry::Malformed;
use crate::{InputContext, telemetry};

/// How long the chunks of one message may take to arrive.
pub(crate) const CHUNK_TIMEOUT_MS: u64 = 5_000;
/// Most bytes of incomplete chunked messages held per input.
pub(crate) const CHUNK_MEMORY: usize = 64 << 20;
/// The largest GELF document accepted (after decompression); the message
/// inside it is still cut to the input's maximum by the mapper's rules.
pub(crate) const MAX_DOCUMENT: usize = 8 << 20;

/// Receives GELF datagrams until shutdown.
pub(crate) async fn run_udp(socket: UdpSocket, ctx: InputContext) {
    let handler = GelfDatagrams {
        started: Instant::now(),
        chunker: GelfChunker::new(CHUNK_TIMEOUT_MS, CHUNK_MEMORY),
        lost: 0,
    };
    datagram::run(Arc::new(socket), ctx, handler).await;
}

/// GELF over UDP: whole or chunked, compressed or not.
struct GelfDatagrams {
    started: Instant,
    chunker: GelfChunker<SocketAddr>,
    /// Incomplete messages counted as dropped so far.
    lost: u64,
}

impl GelfDatagrams {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts the incomplete messages the chunker dropped since the last call.
    fn count_incomplete(&mut self, ctx: &InputContext) {
        let stats = self.chunker.stats();
        let now = stats.expired + stats.evicted;
        if now > self.lost {
            telemetry::dropped(&ctx.name, "gelf_incomplete", now - self.lost);
            self.lost = now;
        }
    }
}

impl DatagramHandler for GelfDatagrams {
    fn push(&mut self, ctx: &InputContext, batch: &mut Batch, data: &[u8], peer: SocketAddr) {
        let now = self.elapsed_ms();
        let payload = match self.chunker.push(peer, data, now) {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => return malformed(ctx, peer, &e),
        };
        let json = match decompress(&payload, MAX_DOCUMENT) {
            Ok(j) => j,
            Err(e) => return malformed(ctx, peer, &e),
        };
        let source = peer.to_string();
        batch.push_event(ctx, gelf_to_event(&json, &ctx.parse_context(&source)));
    }

    async fn submit(&mut self, ctx: &InputContext, batch: &mut Batch) -> bool {
        self.count_incomplete(ctx);
        batch.flush(ctx).await
    }

    fn tick(&mut self, ctx: &InputContext) {
        self.chunker.expire(self.elapsed_ms());
        self.count_incomplete(ctx);
    }
}

/// Serves GELF TCP connections: one JSON document per NUL-terminated frame.
#[derive(Clone)]
pub(crate) struct GelfTcp;

impl Handler for GelfTcp {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        frames::serve(self, io, conn).await;
    }
}

impl FrameFormat for GelfTcp {
    type Framer = GelfFramer;
    const PROTOCOL: &'static str = "GELF";

    fn framer(&self, _ctx: &InputContext) -> GelfFramer {
        GelfFramer::new(MAX_DOCUMENT)
    }

    fn push(&self, ctx: &InputContext, batch: &mut Batch, source: &str, frame: Frame) {
        let mut ev = gelf_to_event(&frame.bytes, &ctx.parse_context(source));
        ev.truncated |= frame.truncated;
        batch.push_event(ctx, ev);
    }
}

/// A GELF document that cannot be read is dropped and counted.
pub(crate) fn malformed(ctx: &InputContext, peer: SocketAddr, e: &dyn std::fmt::Display) {
    ctx.malformed(peer, "GELF", Malformed::Drop, e);
}
