//! Beats (Lumberjack v2, and v1) over TCP or TLS.
//!
//! A window is acknowledged with its highest sequence number only once every
//! event of it is durable. While a window is being made durable nothing more
//! is read (back-pressure: the shipper waits for its ack), and a keep-alive
//! ack of sequence 0 goes out every [`KEEPALIVE`] so the shipper does not
//! time out and resend.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hark_event::now_nanos;
use hark_proto::ParseContext;
use hark_proto::lumberjack::{
    BatchStep, BeatsBatch, Frame, Limits, LumberjackDecoder, beats_event_to_event,
    data_pairs_to_event,
};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::Decoder;

use crate::batch::{Batch, Submitted};
use crate::stream::{Conn, Handler, Io};
use crate::syslog_tcp::READ_CHUNK;
use crate::{InputContext, telemetry};

/// Interval of keep-alive acks while a window waits for durability.
pub(crate) const KEEPALIVE: Duration = Duration::from_secs(5);

/// Serves Beats connections.
#[derive(Clone)]
pub(crate) struct Beats;

impl Handler for Beats {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        serve(io, conn).await;
    }
}

/// What the frames of one read asked for.
enum Next {
    /// Keep reading.
    Read,
    /// A window is complete: make its events durable, then send this ack.
    Ack([u8; 6]),
    /// The stream is broken: close.
    Close,
}

async fn serve<S: Io>(io: S, conn: Conn) {
    let Conn { peer, idle, ctx } = conn;
    let (mut rd, mut wr) = tokio::io::split(io);
    let source = peer.to_string();
    let mut decoder = LumberjackDecoder::new(Limits::default());
    let mut window = BeatsBatch::new();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Appended parts of the open window; it is acked when all are durable.
    let mut tickets = Vec::new();
    loop {
        let mut batch = Batch::new();
        let next = decode_some(
            &mut decoder,
            &mut window,
            &mut buf,
            &mut batch,
            &source,
            peer,
            &ctx,
        );
        match batch.submit(&ctx).await {
            Submitted::Empty => {}
            Submitted::Ticket(t) => tickets.push(t),
            Submitted::Closed => break,
        }
        match next {
            Next::Read => {}
            Next::Close => break,
            Next::Ack(ack) => {
                let keepalive = window.keepalive();
                if !wait_durable(std::mem::take(&mut tickets), &mut wr, keepalive).await {
                    break;
                }
                if wr.write_all(&ack).await.is_err() || wr.flush().await.is_err() {
                    break;
                }
                // More frames may already be buffered.
                continue;
            }
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let read = tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            r = tokio::time::timeout(idle, rd.read_buf(&mut buf)) => r,
        };
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::debug!(input = %ctx.name, %peer, "read failed: {e}");
                break;
            }
            Err(_) => {
                tracing::debug!(input = %ctx.name, %peer, "closing idle connection");
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// Decodes frames until the buffer runs dry or a window completes.
fn decode_some(
    decoder: &mut LumberjackDecoder,
    window: &mut BeatsBatch,
    buf: &mut BytesMut,
    batch: &mut Batch,
    source: &str,
    peer: SocketAddr,
    ctx: &InputContext,
) -> Next {
    loop {
        let frame = match decoder.decode(buf) {
            Ok(Some(f)) => f,
            Ok(None) => return Next::Read,
            Err(e) => {
                malformed(ctx, peer, &e);
                return Next::Close;
            }
        };
        let step = match window.on_frame(&frame) {
            Ok(s) => s,
            Err(e) => {
                malformed(ctx, peer, &e);
                return Next::Close;
            }
        };
        let pctx = ParseContext {
            received_at: now_nanos(),
            input: &ctx.name,
            source: Some(source),
            default_offset: ctx.offset,
        };
        match &frame {
            Frame::Json { payload, .. } => batch.push_event(beats_event_to_event(payload, &pctx)),
            Frame::Data { pairs, .. } => batch.push_event(data_pairs_to_event(pairs, &pctx)),
            Frame::Window { .. } => {}
        }
        match step {
            BatchStep::Complete { ack, .. } | BatchStep::EmptyWindow { ack } => {
                return Next::Ack(ack);
            }
            BatchStep::Opened { .. } | BatchStep::Event { .. } => {}
        }
    }
}

/// Waits until every ticket is durable, sending keep-alive acks meanwhile.
/// False when the events could not be stored or the peer is gone.
async fn wait_durable<W: AsyncWrite + Unpin>(
    tickets: Vec<hark_store::Ticket>,
    wr: &mut W,
    keepalive: [u8; 6],
) -> bool {
    let all = async {
        for t in tickets {
            if t.wait().await.is_err() {
                return false;
            }
        }
        true
    };
    tokio::pin!(all);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        tokio::select! {
            ok = &mut all => return ok,
            _ = tick.tick() => {
                if wr.write_all(&keepalive).await.is_err() || wr.flush().await.is_err() {
                    return false;
                }
            }
        }
    }
}

fn malformed(ctx: &InputContext, peer: SocketAddr, e: &dyn std::fmt::Display) {
    telemetry::malformed_frame(&ctx.name);
    if ctx.log_limit.allow(peer.ip()) {
        tracing::warn!(input = %ctx.name, %peer, "Beats protocol error, closing connection: {e}");
    }
}
