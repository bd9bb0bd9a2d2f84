//! Syslog over TCP and TLS: RFC 6587 framing, detected per frame.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use hark_proto::SyslogFramer;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::Decoder;

use crate::batch::{Batch, MAX_BATCH};
use crate::stream::{Conn, Handler, Io};
use crate::{InputContext, telemetry};

/// Read buffer growth step.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// Serves syslog stream connections.
#[derive(Clone)]
pub(crate) struct SyslogStream;

impl Handler for SyslogStream {
    async fn serve<S: Io>(&self, io: S, conn: Conn) {
        read_frames(io, conn.peer, conn.idle, &conn.ctx).await;
    }
}

/// Reads, frames and parses until EOF, an error, idleness or shutdown.
async fn read_frames<S: AsyncRead + Unpin>(
    mut io: S,
    peer: SocketAddr,
    idle: Duration,
    ctx: &InputContext,
) {
    let source = peer.to_string();
    let mut framer = SyslogFramer::new(ctx.max_message);
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut batch = Batch::new();
    loop {
        if !drain(&mut framer, &mut buf, &mut batch, &source, peer, ctx).await {
            batch.flush(ctx).await;
            return;
        }
        if !batch.flush(ctx).await {
            return;
        }
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let read = tokio::select! {
            _ = ctx.shutdown.cancelled() => {
                if !buf.is_empty() {
                    telemetry::dropped(&ctx.name, "shutdown", 1);
                }
                return;
            }
            r = tokio::time::timeout(idle, io.read_buf(&mut buf)) => r,
        };
        match read {
            Ok(Ok(0)) => {
                // EOF: a last frame without its trailer still counts.
                match framer.decode_eof(&mut buf) {
                    Ok(Some(frame)) => {
                        batch.push_syslog(ctx, &source, &frame.bytes, frame.truncated)
                    }
                    Ok(None) => {}
                    Err(e) => malformed(ctx, peer, &e),
                }
                batch.flush(ctx).await;
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

/// Decodes every complete frame in `buf`. Returns false when the connection must close.
async fn drain(
    framer: &mut SyslogFramer,
    buf: &mut BytesMut,
    batch: &mut Batch,
    source: &str,
    peer: SocketAddr,
    ctx: &InputContext,
) -> bool {
    loop {
        match framer.decode(buf) {
            Ok(Some(frame)) => {
                batch.push_syslog(ctx, source, &frame.bytes, frame.truncated);
                if batch.len() >= MAX_BATCH && !batch.flush(ctx).await {
                    return false;
                }
            }
            Ok(None) => return true,
            Err(e) => {
                malformed(ctx, peer, &e);
                return false;
            }
        }
    }
}

fn malformed(ctx: &InputContext, peer: SocketAddr, e: &hark_proto::FramingError) {
    telemetry::malformed_frame(&ctx.name);
    if ctx.log_limit.allow(peer.ip()) {
        tracing::warn!(input = %ctx.name, %peer, "malformed frame, closing connection: {e}");
    }
}
