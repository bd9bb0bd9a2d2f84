//! Hark's listeners: syslog (UDP, TCP, TLS), RELP and Beats (TCP or TLS,
//! acknowledged once durable), GELF (UDP, TCP, or HTTP acknowledged once
//! durable) and SNMP traps (UDP).
//!
//! An input owns one socket and one protocol. Stream inputs share the accept
//! loop, connection limit and TLS handshake (`stream`); each protocol
//! supplies the handler of one connection. It turns bytes into frames
//! (`hark-proto` codecs), frames into [`hark_event::Event`]s, runs each
//! through the input's [`ParseStage`] (body parsers), and hands them to an
//! [`EventSink`] in batches. It never writes storage itself. Back-pressure:
//! an input awaits [`EventSink::append`], whose queue is bounded, so a store
//! that falls behind, or cannot write at all (a full disk), slows TCP senders
//! down (their socket buffers fill) instead of growing memory or answering
//! errors; UDP cannot be slowed, so its losses are counted.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn demo(store: hark_store::Store) -> Result<(), hark_ingest::IngestError> {
//! let cfg = hark_config::Config::default();
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let sink: Arc<dyn hark_event::sink::EventSink> = Arc::new(store);
//! let rdns = hark_ingest::rdns::ReverseDns::off();
//! let inputs = hark_ingest::start_all(&cfg, &sink, &shutdown, &rdns).await?;
//! for i in &inputs { println!("listening {} {} {}", i.name, i.transport, i.local_addr); }
//! shutdown.cancel();
//! for i in inputs { i.join().await; }
//! # Ok(()) }
//! ```

mod batch;
mod beats;
mod datagram;
mod frames;
mod gelf;
mod gelf_http;
mod parse_stage;
mod relp;
mod snmp;
mod stream;
mod syslog_tcp;
#[cfg(test)]
mod testing;
mod tls;
mod udp;

pub mod rdns;
pub mod telemetry;

pub use parse_stage::{PEER_NAME, ParseStage, Parsing, ParsingError};

/// Seconds an HTTP sender is asked to wait (`Retry-After`) before it sends
/// again what was refused because storage could not write.
pub const RETRY_AFTER_SECS: &str = "5";

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hark_config::{
    Config, GelfInput, GelfTransport, InputConfig, InputProtocol, SnmptrapInput, SyslogInput,
    SyslogTransport,
};
use hark_event::sink::EventSink;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Errors starting an input.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The socket could not be bound.
    #[error("input `{input}`: cannot listen on {addr}: {source}")]
    Bind {
        /// Input name.
        input: String,
        /// Address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS material could not be loaded.
    #[error("input `{input}`: {message}")]
    Tls {
        /// Input name.
        input: String,
        /// What is wrong.
        message: String,
    },
    /// A user parser or an enrichment database could not be set up.
    #[error(transparent)]
    Parsing(#[from] ParsingError),
}

/// Binds a TCP listener (with TLS when the input's transport is `tls`) and
/// spawns the shared accept loop with the protocol's handler.
async fn spawn_stream<H: stream::Handler>(
    name: &str,
    cfg: &InputConfig,
    ctx: InputContext,
    handler: H,
) -> Result<(SocketAddr, JoinHandle<()>), IngestError> {
    let bind_err = |source| IngestError::Bind {
        input: name.to_owned(),
        addr: cfg.listen,
        source,
    };
    let acceptor = match cfg.tls() {
        Some(files) => Some(tls::acceptor(files).map_err(|message| IngestError::Tls {
            input: name.to_owned(),
            message,
        })?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let limits = stream::Limits {
        max_connections: cfg.max_connections,
        idle_timeout: cfg.idle_timeout.0,
    };
    Ok((
        addr,
        tokio::spawn(stream::run(listener, acceptor, limits, ctx, handler)),
    ))
}

/// A started input.
pub struct RunningInput {
    /// The input's configured name.
    pub name: String,
    /// `udp`, `tcp`, `tls` or `http`.
    pub transport: &'static str,
    /// The address actually bound.
    pub local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningInput {
    /// Waits for the input to finish after shutdown was signalled.
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!(input = %self.name, "input task failed: {e}");
        }
    }
}

/// What every input's tasks share.
#[derive(Clone)]
pub(crate) struct InputContext {
    pub name: Arc<str>,
    /// Where events go: the local store, or whatever stands in for it.
    pub sink: Arc<dyn EventSink>,
    pub shutdown: CancellationToken,
    pub max_message: usize,
    pub offset: chrono::FixedOffset,
    pub log_limit: Arc<telemetry::RateLimitedLog>,
    /// The body parsers every decoded event passes through.
    pub parse: Arc<ParseStage>,
}

/// Binds and starts every configured input; fails on the first that cannot start.
pub async fn start_all(
    cfg: &Config,
    sink: &Arc<dyn EventSink>,
    shutdown: &CancellationToken,
    rdns: &rdns::ReverseDns,
) -> Result<Vec<RunningInput>, IngestError> {
    let parsing = Parsing::from_config(cfg, rdns)?;
    let mut started = Vec::new();
    for (name, input) in &cfg.inputs {
        let parse = parsing.stage(input);
        started.push(start(name, input, sink.clone(), parse, shutdown.clone()).await?);
    }
    Ok(started)
}

/// Binds and starts one input, whose events pass through `parse`.
pub async fn start(
    name: &str,
    cfg: &InputConfig,
    sink: Arc<dyn EventSink>,
    parse: ParseStage,
    shutdown: CancellationToken,
) -> Result<RunningInput, IngestError> {
    let offset = chrono::FixedOffset::east_opt(cfg.timezone.seconds_east())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    let ctx = InputContext {
        name: Arc::from(name),
        sink,
        shutdown,
        max_message: usize::try_from(cfg.max_message_size.0).unwrap_or(usize::MAX),
        offset,
        log_limit: Arc::new(telemetry::RateLimitedLog::new(Duration::from_secs(60))),
        parse: Arc::new(parse),
    };
    let bind_err = |source| IngestError::Bind {
        input: name.to_owned(),
        addr: cfg.listen,
        source,
    };
    let (local_addr, task) = match &cfg.protocol {
        InputProtocol::Syslog(SyslogInput {
            transport: SyslogTransport::Udp,
        }) => {
            let socket = udp::bind(cfg.listen, cfg.recv_buffer.0).map_err(bind_err)?;
            let addr = socket.local_addr().map_err(bind_err)?;
            (addr, tokio::spawn(udp::run(socket, ctx)))
        }
        InputProtocol::Syslog(SyslogInput {
            transport: SyslogTransport::Tcp | SyslogTransport::Tls(_),
        }) => spawn_stream(name, cfg, ctx, syslog_tcp::SyslogStream).await?,
        InputProtocol::Relp(_) => spawn_stream(name, cfg, ctx, relp::Relp).await?,
        InputProtocol::Beats(_) => spawn_stream(name, cfg, ctx, beats::Beats).await?,
        InputProtocol::Gelf(GelfInput {
            transport: GelfTransport::Udp,
        }) => {
            let socket = udp::bind(cfg.listen, cfg.recv_buffer.0).map_err(bind_err)?;
            let addr = socket.local_addr().map_err(bind_err)?;
            (addr, tokio::spawn(gelf::run_udp(socket, ctx)))
        }
        InputProtocol::Gelf(GelfInput {
            transport: GelfTransport::Http,
        }) => spawn_stream(name, cfg, ctx, gelf_http::GelfHttp).await?,
        InputProtocol::Gelf(GelfInput {
            transport: GelfTransport::Tcp,
        }) => spawn_stream(name, cfg, ctx, gelf::GelfTcp).await?,
        InputProtocol::Snmptrap(SnmptrapInput {
            communities,
            store_community,
        }) => {
            let socket = udp::bind(cfg.listen, cfg.recv_buffer.0).map_err(bind_err)?;
            let addr = socket.local_addr().map_err(bind_err)?;
            let opts = snmp::TrapOptions {
                communities: communities.iter().map(|c| c.as_bytes().to_vec()).collect(),
                store_community: *store_community,
            };
            (addr, tokio::spawn(snmp::run(socket, ctx, opts)))
        }
    };
    Ok(RunningInput {
        name: name.to_owned(),
        transport: cfg.transport().name(),
        local_addr,
        task,
    })
}
