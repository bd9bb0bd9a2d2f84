//! Hark's inputs: the listeners, syslog (UDP, TCP, TLS), RELP and Beats
//! (TCP or TLS, acknowledged once durable), GELF (UDP, TCP, or HTTP
//! acknowledged once durable) and SNMP traps (UDP); and file inputs, which
//! follow local log files and save how far they read once it is durable.
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
//! for i in &inputs { println!("{} {} {}", i.name, i.transport, i.endpoint); }
//! shutdown.cancel();
//! for i in inputs { i.join().await; }
//! # Ok(()) }
//! ```

mod batch;
mod beats;
mod datagram;
mod file;
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
pub mod tls_listener;

pub use file::{CheckpointError, FileInputError, GlobError};
pub use parse_stage::{PEER_NAME, ParseStage, Parsing, ParsingError};

/// Seconds an HTTP sender is asked to wait (`Retry-After`) before it sends
/// again what was refused because storage could not write.
pub const RETRY_AFTER_SECS: &str = "5";

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hark_config::{
    Config, FileInput, GelfInput, GelfTransport, InputConfig, InputProtocol, SnmptrapInput,
    SyslogInput, SyslogTransport,
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
    /// A file input could not start.
    #[error("input `{input}`: {source}")]
    File {
        /// Input name.
        input: String,
        /// What failed.
        source: FileInputError,
    },
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
    /// `udp`, `tcp`, `tls`, `http`, or `file`.
    pub transport: &'static str,
    /// The address bound, or the files followed.
    pub endpoint: Endpoint,
    task: JoinHandle<()>,
}

/// Where an input takes its events from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A listener: the address actually bound.
    Listening(SocketAddr),
    /// A file input: the globs of the files it follows.
    Following(Vec<String>),
}

impl std::fmt::Display for Endpoint {
    /// The address, or the globs separated by spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Listening(addr) => write!(f, "{addr}"),
            Endpoint::Following(globs) => f.write_str(&globs.join(" ")),
        }
    }
}

impl RunningInput {
    /// The address bound, for a listener.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.endpoint {
            Endpoint::Listening(addr) => Some(*addr),
            Endpoint::Following(_) => None,
        }
    }

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
    for (name, input) in &cfg.file_inputs {
        let parse = parsing.stage_of(&input.parsers);
        started.push(start_file(
            name,
            input,
            &cfg.data_dir,
            sink.clone(),
            parse,
            shutdown.clone(),
        )?);
    }
    Ok(started)
}

/// Starts one file input, whose events pass through `parse`; its positions
/// are kept under `data_dir/files`.
pub fn start_file(
    name: &str,
    cfg: &FileInput,
    data_dir: &std::path::Path,
    sink: Arc<dyn EventSink>,
    parse: ParseStage,
    shutdown: CancellationToken,
) -> Result<RunningInput, IngestError> {
    let ctx = InputContext {
        name: Arc::from(name),
        sink,
        shutdown,
        max_message: usize::try_from(cfg.max_line_bytes.0).unwrap_or(usize::MAX),
        offset: fixed_offset(cfg.timezone),
        log_limit: Arc::new(telemetry::RateLimitedLog::new(Duration::from_secs(60))),
        parse: Arc::new(parse),
    };
    let task = file::spawn(cfg, ctx, data_dir).map_err(|source| IngestError::File {
        input: name.to_owned(),
        source,
    })?;
    Ok(RunningInput {
        name: name.to_owned(),
        transport: "file",
        endpoint: Endpoint::Following(cfg.paths.iter().map(|p| p.as_str().to_owned()).collect()),
        task,
    })
}

fn fixed_offset(tz: hark_config::UtcOffset) -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(tz.seconds_east())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"))
}

/// Binds and starts one input, whose events pass through `parse`.
pub async fn start(
    name: &str,
    cfg: &InputConfig,
    sink: Arc<dyn EventSink>,
    parse: ParseStage,
    shutdown: CancellationToken,
) -> Result<RunningInput, IngestError> {
    let offset = fixed_offset(cfg.timezone);
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
        endpoint: Endpoint::Listening(local_addr),
        task,
    })
}
