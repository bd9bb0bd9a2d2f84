//! GELF over UDP (chunked, zlib or gzip) and over TCP (NUL-delimited); over
//! HTTP in `gelf_http`.
//!
//! On UDP and TCP GELF has no acknowledgement: events are appended and the
//! sender is not told. Incomplete chunked messages are dropped after [`CHUNK_TIMEOUT_MS`]
//! or when an input holds more than [`CHUNK_MEMORY`] bytes of chunks, and
//! counted as `gelf_incomplete`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use hark_event::now_nanos;
use hark_proto::ParseContext;
use hark_proto::gelf::{GelfChunker, GelfFramer, decompress, gelf_to_event};
use tokio::io::AsyncReadExt;
use tokio::net::UdpSocket;
use tokio_util::codec::Decoder;

use crate::batch::{Batch, MAX_BATCH};
use crate::stream::{Conn, Handler, Io};
use crate::syslog_tcp::READ_CHUNK;
use crate::udp::{DATAGRAM_BUF, watch_kernel_drops};
use crate::{InputContext, telemetry};

/// How long the chunks of one message may take to arrive.
pub(crate) const CHUNK_TIMEOUT_MS: u64 = 5_000;
/// Most bytes of incomplete chunked messages held per input.
pub(crate) const CHUNK_MEMORY: usize = 64 << 20;
/// The largest GELF document accepted (after decompression); the message
/// inside it is still cut to the input's maximum by the mapper's rules.
pub(crate) const MAX_DOCUMENT: usize = 8 << 20;

pub(crate) fn parse_context<'a>(ctx: &'a InputContext, source: &'a str) -> ParseContext<'a> {
    ParseContext {
        received_at: now_nanos(),
        input: &ctx.name,
        source: Some(source),
        default_offset: ctx.offset,
    }
}

/// Receives GELF datagrams until shutdown.
pub(crate) async fn run_udp(socket: UdpSocket, ctx: InputContext) {
    let drops = socket
        .local_addr()
        .ok()
        .map(|addr| tokio::spawn(watch_kernel_drops(addr, ctx.clone())));
    let started = Instant::now();
    let mut chunker: GelfChunker<SocketAddr> = GelfChunker::new(CHUNK_TIMEOUT_MS, CHUNK_MEMORY);
    let mut lost = 0u64;
    let mut buf = vec![0u8; DATAGRAM_BUF];
    let mut batch = Batch::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let (len, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            _ = tick.tick() => {
                chunker.expire(elapsed_ms(started));
                count_incomplete(&ctx, &chunker, &mut lost);
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
        push_datagram(&ctx, &mut chunker, &mut batch, &buf[..len], peer, started);
        while batch.len() < MAX_BATCH {
            match socket.try_recv_from(&mut buf) {
                Ok((len, peer)) => {
                    push_datagram(&ctx, &mut chunker, &mut batch, &buf[..len], peer, started)
                }
                Err(_) => break,
            }
        }
        count_incomplete(&ctx, &chunker, &mut lost);
        if !batch.flush(&ctx).await {
            break;
        }
    }
    batch.flush(&ctx).await;
    if let Some(d) = drops {
        d.abort();
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Counts the incomplete messages the chunker dropped since the last call.
fn count_incomplete(ctx: &InputContext, chunker: &GelfChunker<SocketAddr>, lost: &mut u64) {
    let stats = chunker.stats();
    let now = stats.expired + stats.evicted;
    if now > *lost {
        telemetry::dropped(&ctx.name, "gelf_incomplete", now - *lost);
        *lost = now;
    }
}

fn push_datagram(
    ctx: &InputContext,
    chunker: &mut GelfChunker<SocketAddr>,
    batch: &mut Batch,
    data: &[u8],
    peer: SocketAddr,
    started: Instant,
) {
    let payload = match chunker.push(peer, data, elapsed_ms(started)) {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(e) => return malformed(ctx, peer, &e),
    };
    let json = match decompress(&payload, MAX_DOCUMENT) {
        Ok(j) => j,
        Err(e) => return malformed(ctx, peer, &e),
    };
    let source = peer.to_string();
    batch.push_event(gelf_to_event(&json, &parse_context(ctx, &source)));
}

/// Serves GELF TCP connections: one JSON document per NUL-terminated frame.
#[derive(Clone)]
pub(crate) struct GelfTcp;

impl Handler for GelfTcp {
    async fn serve<S: Io>(&self, mut io: S, conn: Conn) {
        let Conn { peer, idle, ctx } = conn;
        let source = peer.to_string();
        let mut framer = GelfFramer::new(MAX_DOCUMENT);
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        loop {
            let mut batch = Batch::new();
            loop {
                match framer.decode(&mut buf) {
                    Ok(Some(frame)) => {
                        let mut ev = gelf_to_event(&frame.bytes, &parse_context(&ctx, &source));
                        ev.truncated |= frame.truncated;
                        batch.push_event(ev);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        malformed(&ctx, peer, &e);
                        batch.flush(&ctx).await;
                        return;
                    }
                }
            }
            if !batch.flush(&ctx).await {
                return;
            }
            if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                buf.reserve(READ_CHUNK);
            }
            let read = tokio::select! {
                _ = ctx.shutdown.cancelled() => return,
                r = tokio::time::timeout(idle, io.read_buf(&mut buf)) => r,
            };
            match read {
                Ok(Ok(0)) => {
                    // A last document without its NUL still counts.
                    if let Ok(Some(frame)) = framer.decode_eof(&mut buf) {
                        let mut ev = gelf_to_event(&frame.bytes, &parse_context(&ctx, &source));
                        ev.truncated |= frame.truncated;
                        batch.push_event(ev);
                        batch.flush(&ctx).await;
                    }
                    return;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::debug!(input = %ctx.name, %peer, "read failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(input = %ctx.name, %peer, "closing idle connection");
                    return;
                }
            }
        }
    }
}

pub(crate) fn malformed(ctx: &InputContext, peer: SocketAddr, e: &dyn std::fmt::Display) {
    telemetry::malformed_frame(&ctx.name);
    if ctx.log_limit.allow(peer.ip()) {
        tracing::warn!(input = %ctx.name, %peer, "malformed GELF input dropped: {e}");
    }
}
