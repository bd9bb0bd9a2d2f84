//! A TCP or TLS connection to a destination, opened when needed and
//! dropped on any error so the next attempt opens a new one.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::OutputError;
use crate::build::SetupError;
use crate::tls::{Tls, TlsFiles};

/// Time to connect, and to finish a TLS handshake.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for one write (and flush) to be taken by the kernel.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A byte stream to a destination.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// How to reach a destination over TCP, with TLS or without.
pub(crate) struct Connector {
    /// `host:port`, as written.
    pub target: String,
    /// TLS settings, when TLS is on.
    pub tls: Option<Tls>,
}

impl Connector {
    /// How output `name` reaches `target`: with TLS and its files (read
    /// now) when `tls` is given, else in plain TCP.
    pub fn new(
        name: &str,
        target: &hark_config::Target,
        tls: Option<TlsFiles<'_>>,
    ) -> Result<Connector, SetupError> {
        Ok(Connector {
            target: target.to_string(),
            tls: tls
                .map(|files| Tls::new(name, &target.host, files))
                .transpose()?,
        })
    }

    /// Connects (and shakes hands) within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> Result<Box<dyn Io>, OutputError> {
        let attempt = async {
            let tcp =
                TcpStream::connect(&self.target)
                    .await
                    .map_err(|source| OutputError::Connect {
                        target: self.target.clone(),
                        source,
                    })?;
            let _ = tcp.set_nodelay(true);
            Ok::<Box<dyn Io>, OutputError>(match &self.tls {
                Some(tls) => Box::new(tls.handshake(tcp, &self.target).await?),
                None => Box::new(tcp),
            })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| self.timeout(CONNECT_TIMEOUT))?
    }

    /// The timeout error for this target.
    pub fn timeout(&self, limit: Duration) -> OutputError {
        OutputError::Timeout {
            target: self.target.clone(),
            seconds: limit.as_secs(),
        }
    }

    /// An I/O error on this target's connection.
    pub fn io(&self, source: std::io::Error) -> OutputError {
        OutputError::Io {
            target: self.target.clone(),
            source,
        }
    }
}

/// A connection a receiver never writes to (syslog, GELF over TCP): one
/// that has become readable was closed or reset by the peer.
pub(crate) struct WriteOnly {
    connector: Connector,
    conn: Option<Box<dyn Io>>,
    /// The bytes written last, sent again first on a new connection:
    /// a successful write says nothing about whether the receiver read
    /// them before the connection broke.
    recent: Vec<u8>,
    /// Most bytes kept in `recent`.
    resend_limit: usize,
}

impl WriteOnly {
    /// Keeps up to `resend_limit` bytes of the last writes for resending.
    pub fn new(connector: Connector, resend_limit: usize) -> WriteOnly {
        WriteOnly {
            connector,
            conn: None,
            recent: Vec::new(),
            resend_limit,
        }
    }

    /// Writes and flushes `bytes` (whole frames), on a new connection
    /// when the old one was closed, after resending what the broken one
    /// carried last. Ok once the kernel has taken them.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        if let Some(conn) = &mut self.conn
            && peer_closed(conn).await
        {
            tracing::debug!(target = %self.connector.target, "the receiver closed the connection; reconnecting");
            self.conn = None;
        }
        let resend = self.conn.is_none() && !self.recent.is_empty();
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.connector.connect().await?),
        };
        let write = async {
            if resend {
                conn.write_all(&self.recent).await?;
            }
            conn.write_all(bytes).await?;
            conn.flush().await
        };
        let result = match tokio::time::timeout(WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.connector.io(e)),
            Err(_) => Err(self.connector.timeout(WRITE_TIMEOUT)),
        };
        if let Err(e) = result {
            self.conn = None;
            return Err(e);
        }
        if resend {
            self.recent.clear();
        }
        self.remember(bytes);
        Ok(())
    }

    /// Keeps the tail of what was written, at most `resend_limit` bytes,
    /// cut at a frame boundary (`bytes` is whole frames).
    fn remember(&mut self, bytes: &[u8]) {
        if bytes.len() >= self.resend_limit {
            self.recent.clear();
            self.recent.extend_from_slice(bytes);
            return;
        }
        if self.recent.len() + bytes.len() > self.resend_limit {
            self.recent.clear();
        }
        self.recent.extend_from_slice(bytes);
    }

    /// Closes the connection.
    pub async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(CONNECT_TIMEOUT, conn.shutdown()).await;
        }
    }
}

/// Whether the peer has closed or reset `conn`: it is readable now
/// (end of stream, an error, or bytes a write-only receiver never sends).
async fn peer_closed(conn: &mut Box<dyn Io>) -> bool {
    let mut buf = [0u8; 512];
    tokio::time::timeout(Duration::ZERO, conn.read(&mut buf))
        .await
        .is_ok()
}
