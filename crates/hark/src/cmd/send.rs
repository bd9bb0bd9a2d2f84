//! `hark send`: a test sender and load generator for every input protocol.

mod protocols;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use hark_proto::StreamFraming;
use hark_proto::syslog::{Rfc3164Header, Rfc5424Header};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// Arguments of `hark send`.
#[derive(Args, Clone)]
pub struct SendArgs {
    /// Where to send, host:port.
    #[arg(long, default_value = "127.0.0.1:10514")]
    target: String,
    /// Protocol: syslog, RELP (waits for every ack), Beats (waits for each
    /// window's ack), GELF (udp, tcp, or http waiting for each 202) or
    /// SNMPv2c traps (udp).
    #[arg(long, value_enum, default_value_t = SendProtocol::Syslog)]
    protocol: SendProtocol,
    /// SNMP community, for `--protocol snmptrap`.
    #[arg(long, default_value = "public")]
    community: String,
    /// Transport (RELP and Beats: tcp or tls; GELF: udp, tcp or http; SNMP traps are always udp).
    #[arg(long, value_enum, default_value_t = SendTransport::Tcp)]
    transport: SendTransport,
    /// Syslog format.
    #[arg(long, value_enum, default_value_t = SyslogFormat::Rfc5424)]
    format: SyslogFormat,
    /// TCP framing (ignored for UDP).
    #[arg(long, value_enum, default_value_t = Framing::Octet)]
    framing: Framing,
    /// Messages to send in all.
    #[arg(long, short = 'n', default_value_t = 1)]
    count: u64,
    /// Messages per second in all (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Pad each message to about this many bytes (0: no padding).
    #[arg(long, default_value_t = 0)]
    size: usize,
    /// Parallel connections (or UDP sockets).
    #[arg(long, default_value_t = 1)]
    connections: u64,
    /// Message text; `{n}` is replaced by the message number (1..=count).
    #[arg(long, default_value = "hark test message {n}")]
    message: String,
    /// Send the lines of this file as messages (cycled to reach --count; `-` reads stdin).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Host name in the header.
    #[arg(long, default_value = "hark-send")]
    host: String,
    /// Application name in the header.
    #[arg(long, default_value = "hark-send")]
    app: String,
    /// PRI value (facility * 8 + severity).
    #[arg(long, default_value_t = 13)]
    pri: u8,
    /// CA certificate (PEM) to verify the server with, for TLS.
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// Skip server certificate verification (testing only).
    #[arg(long)]
    tls_insecure: bool,
    /// Client certificate chain (PEM), for servers that require one.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Server name to verify (default: the target's host).
    #[arg(long)]
    tls_server_name: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SendProtocol {
    Syslog,
    Relp,
    Beats,
    Gelf,
    Snmptrap,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SendTransport {
    Udp,
    Tcp,
    Tls,
    /// HTTP POST (GELF only).
    Http,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SyslogFormat {
    Rfc5424,
    Rfc3164,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Framing {
    /// RFC 6587 octet counting.
    Octet,
    /// LF-terminated.
    Lf,
}

/// Sends, then prints `sent N messages in S s (R msg/s)`.
pub fn run(args: SendArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    match (args.protocol, args.transport) {
        (SendProtocol::Relp | SendProtocol::Beats, SendTransport::Udp | SendTransport::Http) => {
            bail!("RELP and Beats run over --transport tcp or tls")
        }
        (SendProtocol::Gelf, SendTransport::Tls) => {
            bail!("GELF runs over --transport udp, tcp or http")
        }
        (SendProtocol::Syslog, SendTransport::Http) => {
            bail!("syslog runs over --transport udp, tcp or tls")
        }
        (SendProtocol::Snmptrap, SendTransport::Tls | SendTransport::Http) => {
            bail!("SNMP traps run over UDP")
        }
        _ => {}
    }
    let lines = match &args.file {
        Some(p) if p.as_os_str() == "-" => read_lines(std::io::stdin().lock())?,
        Some(p) => read_lines(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ))?,
        None => Vec::new(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    let sent = rt.block_on(send_all(Arc::new(args), Arc::new(lines)))?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} messages in {secs:.3} s ({:.0} msg/s)",
        sent as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn read_lines(r: impl std::io::BufRead) -> anyhow::Result<Vec<String>> {
    let lines: Vec<String> = r.lines().collect::<Result<_, _>>()?;
    if lines.is_empty() {
        bail!("the input file has no lines");
    }
    Ok(lines)
}

async fn send_all(args: Arc<SendArgs>, lines: Arc<Vec<String>>) -> anyhow::Result<u64> {
    let target: SocketAddr = tokio::net::lookup_host(&args.target)
        .await
        .with_context(|| format!("cannot resolve {}", args.target))?
        .next()
        .with_context(|| format!("{} resolves to no address", args.target))?;
    let tls = match args.transport {
        SendTransport::Tls => Some(tls_connector(&args)?),
        _ => None,
    };
    let per = args.count / args.connections;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let first = c * per + 1;
        let last = if c + 1 == args.connections {
            args.count
        } else {
            first + per - 1
        };
        let (args, lines, tls) = (args.clone(), lines.clone(), tls.clone());
        tasks.push(tokio::spawn(async move {
            send_range(&args, &lines, target, tls, first, last).await
        }));
    }
    let mut sent = 0;
    for t in tasks {
        sent += t.await.context("a sender task failed")??;
    }
    Ok(sent)
}

async fn send_range(
    args: &SendArgs,
    lines: &[String],
    target: SocketAddr,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    )>,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    if first > last {
        return Ok(0);
    }
    let rate = if args.rate == 0 {
        0.0
    } else {
        args.rate as f64 / args.connections as f64
    };
    let mut msgs = Generator::new(args, lines);
    let severity = args.pri % 8;
    match (args.protocol, args.transport) {
        (SendProtocol::Gelf, SendTransport::Udp) => {
            let sock = protocols::udp_to(target).await?;
            return protocols::gelf_udp(&sock, &mut msgs, &args.host, severity, rate, first, last)
                .await;
        }
        (SendProtocol::Gelf, SendTransport::Http) => {
            return protocols::gelf_http(
                target, &mut msgs, &args.host, severity, rate, first, last,
            )
            .await;
        }
        (SendProtocol::Snmptrap, _) => {
            let sock = protocols::udp_to(target).await?;
            return protocols::snmptrap(&sock, &mut msgs, &args.community, rate, first, last).await;
        }
        _ => {}
    }
    if args.transport == SendTransport::Udp {
        let sock = protocols::udp_to(target).await?;
        let start = Instant::now();
        for n in first..=last {
            pace(rate, n - first, start).await;
            msgs.render(n);
            sock.send(&msgs.buf).await.context("udp send failed")?;
        }
        return Ok(last - first + 1);
    }
    let tcp = tokio::net::TcpStream::connect(target)
        .await
        .with_context(|| format!("cannot connect to {target}"))?;
    tcp.set_nodelay(true).ok();
    match tls {
        None => stream_protocol(tcp, &mut msgs, args, rate, first, last).await,
        Some((connector, name)) => {
            let stream = connector
                .connect(name, tcp)
                .await
                .context("TLS handshake failed")?;
            stream_protocol(stream, &mut msgs, args, rate, first, last).await
        }
    }
}

async fn stream_protocol<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    args: &SendArgs,
    rate: f64,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    match args.protocol {
        SendProtocol::Syslog | SendProtocol::Snmptrap => {
            write_stream(io, msgs, args, rate, first, last).await
        }
        SendProtocol::Relp => protocols::relp(io, msgs, first, last).await,
        SendProtocol::Beats => protocols::beats(io, msgs, &args.host, first, last).await,
        SendProtocol::Gelf => {
            protocols::gelf_tcp(io, msgs, &args.host, args.pri % 8, first, last).await
        }
    }
}

async fn write_stream<S: AsyncWrite + Unpin>(
    io: S,
    msgs: &mut Generator<'_>,
    args: &SendArgs,
    rate: f64,
    first: u64,
    last: u64,
) -> anyhow::Result<u64> {
    let mut w = tokio::io::BufWriter::with_capacity(256 * 1024, io);
    let framing = match args.framing {
        Framing::Octet => StreamFraming::OctetCounting,
        Framing::Lf => StreamFraming::LineFeed,
    };
    let mut frame = Vec::with_capacity(msgs.buf.capacity() + 16);
    let start = Instant::now();
    for n in first..=last {
        if rate > 0.0 {
            pace(rate, n - first, start).await;
        }
        msgs.render(n);
        frame.clear();
        framing.write(&msgs.buf, &mut frame);
        w.write_all(&frame).await.context("write failed")?;
        if rate > 0.0 {
            w.flush().await?;
        }
    }
    w.flush().await?;
    w.shutdown().await.ok();
    Ok(last - first + 1)
}

/// Sleeps as needed so that `done` messages take `done / rate` seconds.
async fn pace(rate: f64, done: u64, start: Instant) {
    if rate <= 0.0 {
        return;
    }
    let due = Duration::from_secs_f64(done as f64 / rate);
    let elapsed = start.elapsed();
    if due > elapsed + Duration::from_millis(1) {
        tokio::time::sleep(due - elapsed).await;
    }
}

/// Renders numbered messages into a reused buffer.
struct Generator<'a> {
    args: &'a SendArgs,
    lines: &'a [String],
    /// This process's id, the PROCID of every message.
    pid: String,
    /// The message last rendered.
    buf: Vec<u8>,
}

impl<'a> Generator<'a> {
    fn new(args: &'a SendArgs, lines: &'a [String]) -> Self {
        Generator {
            args,
            lines,
            pid: std::process::id().to_string(),
            buf: Vec::with_capacity(args.size.max(256) + 64),
        }
    }

    /// Message `n` as given: `--message` with `{n}` replaced, or a line of `--file`.
    fn raw_text(&self, n: u64) -> Cow<'a, str> {
        if self.lines.is_empty() {
            Cow::Owned(self.args.message.replace("{n}", &n.to_string()))
        } else {
            let idx = usize::try_from((n - 1) % self.lines.len() as u64).unwrap_or(0);
            Cow::Borrowed(&self.lines[idx])
        }
    }

    /// The message text alone (no syslog header), padded to `--size`.
    fn text(&self, n: u64) -> String {
        let mut text = self.raw_text(n).into_owned().into_bytes();
        pad(&mut text, self.args.size);
        // The text and the padding are UTF-8.
        String::from_utf8(text).unwrap_or_default()
    }

    /// Message `n` with its syslog header into `buf`, padded to `--size`.
    fn render(&mut self, n: u64) {
        let a = self.args;
        self.buf.clear();
        let now = chrono::Utc::now();
        let pid = &self.pid;
        let text = self.raw_text(n);
        match a.format {
            SyslogFormat::Rfc5424 => Rfc5424Header {
                pri: a.pri,
                timestamp: Some(now),
                hostname: Some(&a.host),
                app_name: Some(&a.app),
                procid: Some(pid),
                msgid: None,
                structured_data: &[],
            }
            .write(text.as_bytes(), &mut self.buf),
            SyslogFormat::Rfc3164 => Rfc3164Header {
                pri: a.pri,
                timestamp: now,
                hostname: &a.host,
                tag: &a.app,
                pid: Some(pid),
            }
            .write(text.as_bytes(), &mut self.buf),
        }
        pad(&mut self.buf, a.size);
    }
}

/// Pads `buf` with a space and `x`s to `size` bytes, if it is shorter.
fn pad(buf: &mut Vec<u8>, size: usize) {
    if size > buf.len() {
        buf.push(b' ');
        buf.resize(size.max(buf.len()), b'x');
    }
}

fn tls_connector(
    args: &SendArgs,
) -> anyhow::Result<(
    tokio_rustls::TlsConnector,
    rustls_pki_types::ServerName<'static>,
)> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    let builder = if args.tls_insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AcceptAny))
    } else {
        let Some(ca) = &args.tls_ca else {
            bail!("TLS needs --tls-ca FILE (or --tls-insecure for testing)");
        };
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("cannot read {}", ca.display()))?
        {
            roots.add(c?)?;
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .with_context(|| format!("cannot read {}", cert.display()))?
                .collect::<Result<Vec<_>, _>>()?;
            let key = PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("cannot read {}", key.display()))?;
            builder.with_client_auth_cert(chain, key)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    let host = match &args.tls_server_name {
        Some(h) => h.clone(),
        None => args
            .target
            .rsplit_once(':')
            .map(|(h, _)| h.trim_matches(['[', ']']).to_owned())
            .unwrap_or_else(|| args.target.clone()),
    };
    let name = ServerName::try_from(host).context("invalid TLS server name")?;
    Ok((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
}

mod insecure {
    use rustls::DigitallySignedStruct;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

    /// Accepts any server certificate: `--tls-insecure`, for tests against self-signed servers.
    #[derive(Debug)]
    pub struct AcceptAny;

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Ok(HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}
