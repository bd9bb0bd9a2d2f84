//! A TLS listener for HTTP servers (the API and web UI, the uplink): the
//! handshakes run in tasks of their own, so a client that connects and
//! never speaks holds up nobody. At most [`MAX_HANDSHAKES`] are in progress
//! at once (further connections wait in the kernel's backlog); one that
//! fails or takes longer than [`HANDSHAKE_TIMEOUT`] is counted in the
//! listener's failure metric and dropped.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake not done within this time is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most handshakes in progress at once.
pub const MAX_HANDSHAKES: usize = 256;

/// Hands out connections once their TLS handshake is done; an
/// [`axum::serve::Listener`].
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

/// What a listener is called in logs, and the counter of its failed
/// handshakes.
#[derive(Debug, Clone, Copy)]
pub struct ListenerName {
    /// For log lines: `HTTPS`, `uplink`.
    pub what: &'static str,
    /// The counter, e.g. `hark_http_tls_handshake_failures_total`.
    pub failures_metric: &'static str,
}

impl TlsListener {
    /// Starts accepting on `tcp`; must be called inside a Tokio runtime.
    pub fn new(
        tcp: TcpListener,
        acceptor: TlsAcceptor,
        name: ListenerName,
    ) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let accepting = tokio::spawn(accept_loop(tcp, acceptor, tx, name));
        Ok(TlsListener {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    name: ListenerName,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: wait instead of spinning.
                tracing::warn!("{} accept: {e}", name.what);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => handshake_failed(name, peer, &e.to_string()),
                Err(_) => handshake_failed(name, peer, "timed out"),
            }
        });
    }
}

fn handshake_failed(name: ListenerName, peer: SocketAddr, why: &str) {
    metrics::counter!(name.failures_metric).increment(1);
    tracing::debug!(%peer, "{} handshake failed: {why}", name.what);
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends with the listener; wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
