//! Syslog over TCP and TLS: RFC 6587 framing, detected per frame.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hark_proto::SyslogFramer;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::codec::Decoder;
use tokio_util::task::TaskTracker;

use crate::batch::{Batch, MAX_BATCH};
use crate::{InputContext, telemetry};

/// Per-input connection limits.
pub(crate) struct Limits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

/// How long a TLS client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Read buffer growth step.
const READ_CHUNK: usize = 64 * 1024;

/// Accepts connections until shutdown, then waits for every connection to drain.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    ctx: InputContext,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let tracker = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            _ = ctx.shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(r) => r,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(input = %ctx.name, "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            telemetry::dropped(&ctx.name, "connection_limit", 1);
            if ctx.log_limit.allow(peer.ip()) {
                tracing::warn!(input = %ctx.name, %peer, "connection refused: {} connections already open", limits.max_connections);
            }
            drop(tcp);
            continue;
        };
        tcp.set_nodelay(true).ok();
        let ctx = ctx.clone();
        let tls = tls.clone();
        let idle = limits.idle_timeout;
        tracker.spawn(async move {
            telemetry::connection(&ctx.name, 1);
            serve_connection(tcp, tls, peer, idle, &ctx).await;
            telemetry::connection(&ctx.name, -1);
            drop(slot);
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn serve_connection(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    peer: SocketAddr,
    idle: Duration,
    ctx: &InputContext,
) {
    match tls {
        None => read_frames(tcp, peer, idle, ctx).await,
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => read_frames(stream, peer, idle, ctx).await,
                Ok(Err(e)) => {
                    telemetry::malformed_frame(&ctx.name);
                    if ctx.log_limit.allow(peer.ip()) {
                        tracing::warn!(input = %ctx.name, %peer, "TLS handshake failed: {e}");
                    }
                }
                Err(_) => {
                    if ctx.log_limit.allow(peer.ip()) {
                        tracing::warn!(input = %ctx.name, %peer, "TLS handshake timed out");
                    }
                }
            }
        }
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
