//! Hark's configuration: the TOML schema, the embedded defaults, and
//! validation whose errors name the file, the line and the expected form.
//!
//! ```
//! let cfg = hark_config::Config::from_toml_str("hark.toml", r#"
//! data_dir = "/var/lib/hark"
//! [inputs.syslog_udp]
//! type = "syslog"
//! transport = "udp"
//! listen = "0.0.0.0:10514"
//! "#).unwrap();
//! assert_eq!(cfg.inputs["syslog_udp"].listen.port(), 10514);
//! ```

pub mod monitor;
mod threshold;
mod units;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use monitor::{
    CheckConfig, DNS_RCODES, DNS_RECORD_TYPES, DnsCheck, HttpCheck, HttpMethod, IcmpCheck,
    JsonExpect, MetricsCheck, MonitorConfig, MonitorType, MonitoringConfig, SnmpCheck, SnmpOid,
    SnmpVersion, TcpCheck, url_host, url_port,
};
pub use threshold::Threshold;
pub use units::{ByteSize, HumanDuration};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the WAL, the index and the tokens live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The HTTP API.
    #[serde(default)]
    pub http: HttpConfig,
    /// Named inputs; when the file has no `[inputs]` at all, the defaults apply.
    #[serde(default = "default_inputs")]
    pub inputs: BTreeMap<String, InputConfig>,
    /// Storage settings.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Settings shared by all monitors.
    #[serde(default)]
    pub monitoring: MonitoringConfig,
    /// Named monitors (active checks); none by default.
    #[serde(default)]
    pub monitors: BTreeMap<String, MonitorConfig>,
}

/// The HTTP API listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on.
    #[serde(default = "default_http_listen")]
    pub listen: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_http_listen(),
        }
    }
}

/// What protocol an input speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Syslog (RFC 5424 / RFC 3164) over UDP, TCP or TLS.
    Syslog,
    /// RELP (rsyslog's acknowledged protocol) over TCP, or TLS when `tls_cert` is set.
    Relp,
    /// Beats / Lumberjack v2 (Filebeat, Winlogbeat) over TCP, or TLS when `tls_cert` is set.
    Beats,
    /// GELF (Graylog Extended Log Format) over UDP (chunked, compressed), TCP
    /// (NUL-delimited) or HTTP (`POST /gelf`, acknowledged once durable).
    Gelf,
    /// SNMP v1/v2c traps and informs over UDP.
    Snmptrap,
}

impl InputType {
    /// Every variant, for code that must cover them all (the communication
    /// matrix's tests); add a new variant here too.
    pub const ALL: &[InputType] = &[
        InputType::Syslog,
        InputType::Relp,
        InputType::Beats,
        InputType::Gelf,
        InputType::Snmptrap,
    ];

    /// The name used for `type` in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            InputType::Syslog => "syslog",
            InputType::Relp => "relp",
            InputType::Beats => "beats",
            InputType::Gelf => "gelf",
            InputType::Snmptrap => "snmptrap",
        }
    }
}

/// The transport of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// Plain TCP.
    Tcp,
    /// TCP with TLS from the first byte.
    Tls,
    /// HTTP/1.1 over plain TCP (`gelf` only: `POST /gelf`).
    Http,
}

impl Transport {
    /// `udp`, `tcp`, `tls` or `http`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Http => "http",
        }
    }
}

/// One named input.
///
/// `transport` is written in the file for `syslog` (`udp`, `tcp`, `tls`) and
/// `gelf` (`udp`, `tcp`, `http`). For `relp` and `beats` it is derived: TLS from the
/// first byte when `tls_cert` is set, plain TCP otherwise. `snmptrap` is
/// always UDP.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawInputConfig")]
pub struct InputConfig {
    /// Protocol.
    pub kind: InputType,
    /// The effective transport.
    pub transport: Transport,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Server certificate chain (PEM), for `tls`.
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM), for `tls`.
    pub tls_key: Option<PathBuf>,
    /// CA bundle (PEM): when set, clients must present a certificate it signed.
    pub tls_client_ca: Option<PathBuf>,
    /// Longest message kept whole; longer ones are cut and flagged `truncated`.
    #[serde(default = "default_max_message_size")]
    pub max_message_size: ByteSize,
    /// Most simultaneous connections (TCP and TLS).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A connection silent this long is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: HumanDuration,
    /// Kernel receive buffer asked for (UDP).
    #[serde(default = "default_recv_buffer")]
    pub recv_buffer: ByteSize,
    /// UTC offset for timestamps that carry none, like `+01:00` (default UTC).
    pub timezone: Option<String>,
    /// `snmptrap`: the communities accepted; traps with another are counted and dropped.
    pub communities: Vec<String>,
    /// `snmptrap`: whether the community string is stored with the event.
    pub store_community: bool,
}

/// An input table as written, before the transport is derived.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInputConfig {
    #[serde(rename = "type")]
    kind: InputType,
    transport: Option<Transport>,
    listen: SocketAddr,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    #[serde(default = "default_max_message_size")]
    max_message_size: ByteSize,
    #[serde(default = "default_max_connections")]
    max_connections: usize,
    #[serde(default = "default_idle_timeout")]
    idle_timeout: HumanDuration,
    #[serde(default = "default_recv_buffer")]
    recv_buffer: ByteSize,
    #[serde(default)]
    timezone: Option<String>,
    communities: Option<Vec<String>>,
    store_community: Option<bool>,
}

impl TryFrom<RawInputConfig> for InputConfig {
    type Error = String;

    fn try_from(raw: RawInputConfig) -> Result<Self, String> {
        let kind = raw.kind;
        let ty = kind.name();
        let transport = match (kind, raw.transport) {
            (InputType::Syslog, Some(t @ (Transport::Udp | Transport::Tcp | Transport::Tls))) => t,
            (InputType::Syslog, _) => {
                return Err("a syslog input needs transport = \"udp\", \"tcp\" or \"tls\"".into());
            }
            (InputType::Gelf, Some(t @ (Transport::Udp | Transport::Tcp | Transport::Http))) => t,
            (InputType::Gelf, _) => {
                return Err(
                    "a gelf input needs transport = \"udp\", \"tcp\" or \"http\" (POST /gelf)"
                        .into(),
                );
            }
            (InputType::Relp | InputType::Beats, None) => {
                if raw.tls_cert.is_some() {
                    Transport::Tls
                } else {
                    Transport::Tcp
                }
            }
            (InputType::Relp | InputType::Beats, Some(_)) => {
                return Err(format!(
                    "a {ty} input takes no transport: it is TCP, with TLS from the first byte \
                     when tls_cert and tls_key are set; remove transport"
                ));
            }
            (InputType::Snmptrap, None | Some(Transport::Udp)) => Transport::Udp,
            (InputType::Snmptrap, Some(_)) => {
                return Err(
                    "a snmptrap input is UDP only; remove transport or set transport = \"udp\""
                        .into(),
                );
            }
        };
        if kind != InputType::Snmptrap
            && (raw.communities.is_some() || raw.store_community.is_some())
        {
            return Err(format!(
                "communities and store_community only apply to type = \"snmptrap\", not {ty}"
            ));
        }
        let communities = raw.communities.unwrap_or_else(|| vec!["public".to_owned()]);
        if communities.is_empty() {
            return Err(
                "communities must name at least one community, e.g. communities = [\"public\"]"
                    .into(),
            );
        }
        Ok(InputConfig {
            kind,
            transport,
            listen: raw.listen,
            tls_cert: raw.tls_cert,
            tls_key: raw.tls_key,
            tls_client_ca: raw.tls_client_ca,
            max_message_size: raw.max_message_size,
            max_connections: raw.max_connections,
            idle_timeout: raw.idle_timeout,
            recv_buffer: raw.recv_buffer,
            timezone: raw.timezone,
            communities,
            store_community: raw.store_community.unwrap_or(false),
        })
    }
}

/// When the write-ahead log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Before every acknowledgement.
    Always,
    /// Every `fsync_interval`.
    #[default]
    Interval,
    /// Left to the operating system.
    Never,
}

/// What happens to a durable WAL reader that lags beyond `wal_max_retained`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LaggingReader {
    /// Keep the WAL for it and report it.
    #[default]
    Keep,
    /// Detach it (it must be registered again) and report it.
    Detach,
}

/// Storage settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// WAL fsync policy.
    #[serde(default)]
    pub fsync: Fsync,
    /// Period for `fsync = "interval"`.
    #[serde(default = "default_fsync_interval")]
    pub fsync_interval: HumanDuration,
    /// Delete index splits whose newest event is older than this.
    #[serde(default = "default_retention_age")]
    pub retention_max_age: HumanDuration,
    /// Delete the oldest index splits while the index is larger than this.
    #[serde(default)]
    pub retention_max_disk: Option<ByteSize>,
    /// How often new events are committed to the index (searchable).
    #[serde(default = "default_commit_interval")]
    pub commit_interval: HumanDuration,
    /// Indexing threads.
    #[serde(default = "default_index_threads")]
    pub index_threads: usize,
    /// Seal the split being written once it holds this many events.
    #[serde(default = "default_split_max_events")]
    pub split_max_events: NonZeroU64,
    /// Seal the split being written once it has been open this long.
    #[serde(default = "default_split_max_age")]
    pub split_max_age: HumanDuration,
    /// Most WAL bytes kept for durable readers that lag behind.
    #[serde(default)]
    pub wal_max_retained: Option<ByteSize>,
    /// What happens to a reader beyond `wal_max_retained`.
    #[serde(default)]
    pub wal_lagging_reader: LaggingReader,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            fsync: Fsync::default(),
            fsync_interval: default_fsync_interval(),
            retention_max_age: default_retention_age(),
            retention_max_disk: None,
            commit_interval: default_commit_interval(),
            index_threads: default_index_threads(),
            split_max_events: default_split_max_events(),
            split_max_age: default_split_max_age(),
            wal_max_retained: None,
            wal_lagging_reader: LaggingReader::default(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./hark-data")
}
fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8514))
}
fn default_max_message_size() -> ByteSize {
    ByteSize(64 * 1024)
}
fn default_max_connections() -> usize {
    1024
}
fn default_idle_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(600))
}
fn default_recv_buffer() -> ByteSize {
    ByteSize(8 * 1024 * 1024)
}
fn default_fsync_interval() -> HumanDuration {
    HumanDuration(Duration::from_millis(100))
}
fn default_retention_age() -> HumanDuration {
    HumanDuration(Duration::from_secs(30 * 86_400))
}
fn default_commit_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}
fn default_index_threads() -> usize {
    2
}
fn default_split_max_events() -> NonZeroU64 {
    NonZeroU64::new(10_000_000).unwrap_or(NonZeroU64::MIN)
}
fn default_split_max_age() -> HumanDuration {
    HumanDuration(Duration::from_secs(86_400))
}

fn default_input(kind: InputType, transport: Transport, port: u16) -> InputConfig {
    InputConfig {
        kind,
        transport,
        listen: SocketAddr::from(([0, 0, 0, 0], port)),
        tls_cert: None,
        tls_key: None,
        tls_client_ca: None,
        max_message_size: default_max_message_size(),
        max_connections: default_max_connections(),
        idle_timeout: default_idle_timeout(),
        recv_buffer: default_recv_buffer(),
        timezone: None,
        communities: vec!["public".to_owned()],
        store_community: false,
    }
}

fn default_inputs() -> BTreeMap<String, InputConfig> {
    BTreeMap::from([
        (
            "syslog_udp".to_owned(),
            default_input(InputType::Syslog, Transport::Udp, 10514),
        ),
        (
            "syslog_tcp".to_owned(),
            default_input(InputType::Syslog, Transport::Tcp, 10514),
        ),
        (
            "relp".to_owned(),
            default_input(InputType::Relp, Transport::Tcp, 20514),
        ),
        (
            "beats".to_owned(),
            default_input(InputType::Beats, Transport::Tcp, 5044),
        ),
        (
            "gelf_udp".to_owned(),
            default_input(InputType::Gelf, Transport::Udp, 12201),
        ),
        (
            "gelf_tcp".to_owned(),
            default_input(InputType::Gelf, Transport::Tcp, 12201),
        ),
        (
            "snmptrap".to_owned(),
            default_input(InputType::Snmptrap, Transport::Udp, 10162),
        ),
    ])
}

/// The embedded defaults, as a TOML document a user can copy and edit.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: default_data_dir(),
            http: HttpConfig::default(),
            inputs: default_inputs(),
            storage: StorageConfig::default(),
            monitoring: MonitoringConfig::default(),
            monitors: BTreeMap::new(),
        }
    }
}

/// A configuration error, naming where it is and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and the expected form.
        message: String,
    },
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Self::from_toml_str(&file, &text)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn from_toml_str(file: &str, text: &str) -> Result<Config, ConfigError> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_col(text, offset);
            ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column,
                message,
            }
        };
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let mut message = e.message().trim().to_owned();
            if message.contains("invalid socket address") {
                message.push_str("; expected IP:PORT, like \"0.0.0.0:10514\" or \"[::]:10514\"");
            }
            at(offset, message)
        })?;
        if let Err((key_path, message)) = cfg.validate() {
            return Err(at(find_key_offset(text, &key_path), message));
        }
        Ok(cfg)
    }

    /// Checks what the schema cannot: per-transport keys and listen conflicts.
    /// On failure returns the dotted key path to blame and the message.
    fn validate(&self) -> Result<(), (Vec<String>, String)> {
        let mut seen: Vec<(SocketAddr, bool, &str)> = Vec::new();
        for (name, input) in &self.inputs {
            let key = |k: &str| vec!["inputs".to_owned(), name.clone(), k.to_owned()];
            let table = vec!["inputs".to_owned(), name.clone()];
            match input.transport {
                Transport::Tls => {
                    if input.tls_cert.is_none() || input.tls_key.is_none() {
                        return Err((
                            table,
                            format!(
                                "input `{name}` uses transport \"tls\" and needs both tls_cert and tls_key \
                                 (PEM file paths), e.g. tls_cert = \"/etc/hark/server.crt\""
                            ),
                        ));
                    }
                }
                Transport::Udp | Transport::Tcp | Transport::Http => {
                    for (k, set) in [
                        ("tls_cert", input.tls_cert.is_some()),
                        ("tls_key", input.tls_key.is_some()),
                        ("tls_client_ca", input.tls_client_ca.is_some()),
                    ] {
                        if set {
                            let fix = match input.kind {
                                InputType::Relp | InputType::Beats => {
                                    "set tls_cert and tls_key too (TLS is on when tls_cert is set)"
                                }
                                InputType::Gelf | InputType::Snmptrap => {
                                    "TLS is not supported here"
                                }
                                InputType::Syslog => "set transport = \"tls\"",
                            };
                            return Err((
                                key(k),
                                format!(
                                    "input `{name}`: {k} only applies to TLS; {fix} or remove {k}"
                                ),
                            ));
                        }
                    }
                }
            }
            if input.max_message_size.0 < 480 || input.max_message_size.0 > 16 * 1024 * 1024 {
                return Err((
                    key("max_message_size"),
                    format!(
                        "input `{name}`: max_message_size must be between 480 bytes and 16MiB, e.g. \"64KiB\""
                    ),
                ));
            }
            if input.max_connections == 0 {
                return Err((
                    key("max_connections"),
                    format!("input `{name}`: max_connections must be at least 1"),
                ));
            }
            if let Some(tz) = &input.timezone
                && units::parse_offset(tz).is_none()
            {
                return Err((
                    key("timezone"),
                    format!(
                        "input `{name}`: timezone must be a UTC offset like \"+01:00\", \"-05:00\" or \"UTC\""
                    ),
                ));
            }
            let is_udp = input.transport == Transport::Udp;
            if let Some((_, _, other)) = seen
                .iter()
                .find(|(a, u, _)| *u == is_udp && ports_clash(*a, input.listen))
            {
                return Err((
                    key("listen"),
                    format!(
                        "input `{name}` listens on {} which input `{other}` already uses for {}; \
                         pick another port",
                        input.listen,
                        if is_udp { "UDP" } else { "TCP" }
                    ),
                ));
            }
            seen.push((input.listen, is_udp, name));
        }
        self.validate_monitors()?;
        if self.storage.index_threads == 0 || self.storage.index_threads > 8 {
            return Err((
                vec!["storage".into(), "index_threads".into()],
                "storage.index_threads must be between 1 and 8".into(),
            ));
        }
        Ok(())
    }

    /// Monitors: parents exist and form no cycle; flapping thresholds make sense.
    fn validate_monitors(&self) -> Result<(), (Vec<String>, String)> {
        let m = &self.monitoring;
        if m.concurrency == 0 {
            return Err((
                vec!["monitoring".into(), "concurrency".into()],
                "monitoring.concurrency must be at least 1".into(),
            ));
        }
        if !(0.0..=100.0).contains(&m.flap_stop) || !(m.flap_stop..=100.0).contains(&m.flap_start) {
            return Err((
                vec!["monitoring".into(), "flap_start".into()],
                "monitoring.flap_start and flap_stop are percentages with flap_stop <= flap_start, \
                 e.g. flap_start = 30.0 and flap_stop = 25.0"
                    .into(),
            ));
        }
        for (name, mon) in &self.monitors {
            let Some(parent) = &mon.parent else { continue };
            let key = vec!["monitors".to_owned(), name.clone(), "parent".to_owned()];
            if !self.monitors.contains_key(parent) {
                return Err((
                    key,
                    format!(
                        "monitor `{name}` names parent `{parent}`, which is not a configured monitor"
                    ),
                ));
            }
            let mut seen = vec![name.as_str()];
            let mut at = parent.as_str();
            loop {
                if seen.contains(&at) {
                    return Err((
                        key,
                        format!(
                            "monitor `{name}`: parents form a cycle ({} -> {at}); remove one parent",
                            seen.join(" -> ")
                        ),
                    ));
                }
                seen.push(at);
                match self.monitors.get(at).and_then(|p| p.parent.as_deref()) {
                    Some(next) => at = next,
                    None => break,
                }
            }
        }
        Ok(())
    }

    /// The UTC offset in seconds configured for an input (0 when none).
    pub fn input_offset_secs(input: &InputConfig) -> i32 {
        input
            .timezone
            .as_deref()
            .and_then(units::parse_offset)
            .unwrap_or(0)
    }
}

fn ports_clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, column)
}

/// Finds the byte offset of a key (or table) in the TOML text, for errors
/// found after parsing. Falls back to the deepest part found, then 0.
fn find_key_offset(text: &str, path: &[String]) -> usize {
    // A textual search is enough for the paths validation uses:
    // `[inputs.NAME]` then `KEY =` below it.
    let mut offset = 0;
    if path.len() >= 2 {
        let header = format!("[{}.{}]", path[0], path[1]);
        if let Some(pos) = text.find(&header) {
            offset = pos;
            if let Some(key) = path.get(2) {
                let rest = &text[pos + header.len()..];
                let end = rest.find("\n[").unwrap_or(rest.len());
                for (i, line) in line_starts(&rest[..end]) {
                    let t = line.trim_start();
                    if t.starts_with(key.as_str()) && t[key.len()..].trim_start().starts_with('=') {
                        return pos + header.len() + i;
                    }
                }
            }
        } else if let Some(pos) = text.find(&format!("[{}]", path[0])) {
            offset = pos;
        }
    }
    offset
}

fn line_starts(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    s.split_inclusive('\n').map(move |l| {
        let i = start;
        start += l.len();
        (i, l)
    })
}

#[cfg(test)]
mod tests;
