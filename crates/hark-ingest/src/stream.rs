//! What every stream input shares: TCP accept, the connection limit, the
//! TLS handshake and reading with an idle timeout. Each protocol supplies a
//! [`Handler`] that serves one established connection; protocols that only
//! turn frames into events (syslog, GELF over TCP) share the whole loop in
//! [`crate::frames`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;

use crate::telemetry::Malformed;
use crate::{InputContext, telemetry};

/// Read buffer growth step.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// What [`read_more`] brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// More bytes are in the buffer.
    Data,
    /// The sender closed its side.
    Eof,
    /// The input is shutting down.
    Shutdown,
    /// A read error or idleness: the connection is over.
    Gone,
}

/// Reads more bytes into `buf`, growing it when nearly full; gives up when
/// the input shuts down or the sender stays silent for the connection's
/// idle timeout.
pub(crate) async fn read_more<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut BytesMut,
    conn: &Conn,
) -> Read {
    if buf.capacity() - buf.len() < READ_CHUNK / 4 {
        buf.reserve(READ_CHUNK);
    }
    let (ctx, peer) = (&conn.ctx, conn.peer);
    let read = tokio::select! {
        _ = ctx.shutdown.cancelled() => return Read::Shutdown,
        r = tokio::time::timeout(conn.idle, io.read_buf(buf)) => r,
    };
    match read {
        Ok(Ok(0)) => Read::Eof,
        Ok(Ok(_)) => Read::Data,
        Ok(Err(e)) => {
            tracing::debug!(input = %ctx.name, %peer, "read failed: {e}");
            Read::Gone
        }
        Err(_) => {
            tracing::debug!(input = %ctx.name, %peer, "closing idle connection");
            Read::Gone
        }
    }
}

/// A byte stream a handler serves: plain TCP or TLS.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One established connection, as a handler receives it.
pub(crate) struct Conn {
    /// The sender's address.
    pub peer: SocketAddr,
    /// Close after this long without a byte from the sender.
    pub idle: Duration,
    /// The input's shared state.
    pub ctx: InputContext,
}

/// A protocol's side of a stream input: serves one connection to its end.
pub(crate) trait Handler: Clone + Send + Sync + 'static {
    /// Reads, answers and stores until EOF, an error, idleness or shutdown.
    fn serve<S: Io>(&self, io: S, conn: Conn) -> impl Future<Output = ()> + Send;
}

/// Per-input connection limits.
pub(crate) struct Limits {
    pub max_connections: usize,
    pub idle_timeout: Duration,
}

/// How long a TLS client has to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until shutdown, then waits for every connection to drain.
pub(crate) async fn run<H: Handler>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    ctx: InputContext,
    handler: H,
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
        let handler = handler.clone();
        tracker.spawn(async move {
            telemetry::connection(&ctx.name, 1);
            let conn = Conn {
                peer,
                idle,
                ctx: ctx.clone(),
            };
            serve_connection(tcp, tls, conn, &handler).await;
            telemetry::connection(&ctx.name, -1);
            drop(slot);
        });
    }
    tracker.close();
    tracker.wait().await;
}

async fn serve_connection<H: Handler>(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    conn: Conn,
    handler: &H,
) {
    let Some(acceptor) = tls else {
        handler.serve(tcp, conn).await;
        return;
    };
    let (ctx, peer) = (&conn.ctx, conn.peer);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => handler.serve(stream, conn).await,
        Ok(Err(e)) => ctx.malformed(peer, "TLS handshake", Malformed::CloseConnection, &e),
        Err(_) => {
            if ctx.log_limit.allow(peer.ip()) {
                tracing::warn!(input = %ctx.name, %peer, "TLS handshake timed out");
            }
        }
    }
}
