//! `[inputs.NAME]`: the listeners that receive logs.
//!
//! Every input table has a `type` and the keys of [`InputKeys`] (`listen`,
//! sizes, limits, `timezone`, `transport`). Types that can speak TLS also
//! take the keys of [`TlsKeys`]; a type with keys of its own has a struct
//! for them ([`SnmptrapInput`]). A key that belongs to another type is an
//! error that names the type it belongs to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::file_input::{FILE_TYPE, FileInput};
use crate::table::{self, Located, Node, Spans, fields_of, first_key, split_off, take_type};
use crate::units::{ByteSize, HumanDuration, UtcOffset};

/// What protocol an input speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// Whether the type takes `tls_cert`, `tls_key` and `tls_client_ca`.
    fn takes_tls(self) -> bool {
        matches!(self, InputType::Syslog | InputType::Relp | InputType::Beats)
    }

    /// The keys only this type takes.
    fn own_keys(self) -> &'static [&'static str] {
        match self {
            InputType::Snmptrap => fields_of::<SnmptrapInput>(),
            InputType::Syslog | InputType::Relp | InputType::Beats | InputType::Gelf => &[],
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

/// One named input: the listener settings every type shares and the
/// protocol with its own settings.
#[derive(Debug, Clone)]
pub struct InputConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Longest message kept whole; longer ones are cut and flagged `truncated`.
    pub max_message_size: ByteSize,
    /// Most simultaneous connections (TCP and TLS).
    pub max_connections: usize,
    /// A connection silent this long is closed.
    pub idle_timeout: HumanDuration,
    /// Kernel receive buffer asked for (UDP).
    pub recv_buffer: ByteSize,
    /// Offset for timestamps that carry none (UTC unless `timezone` is set).
    pub timezone: UtcOffset,
    /// The body parsers events go through, in order (`["auto"]` by default).
    pub parsers: Vec<String>,
    /// The protocol and what only it takes.
    pub protocol: InputProtocol,
}

/// The protocol of an input, with the settings that only it takes.
#[derive(Debug, Clone, PartialEq)]
pub enum InputProtocol {
    /// `type = "syslog"`.
    Syslog(SyslogInput),
    /// `type = "relp"`.
    Relp(RelpInput),
    /// `type = "beats"`.
    Beats(BeatsInput),
    /// `type = "gelf"`.
    Gelf(GelfInput),
    /// `type = "snmptrap"`.
    Snmptrap(SnmptrapInput),
}

/// `type = "syslog"`: `transport` is written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct SyslogInput {
    /// UDP, TCP, or TLS with its files.
    pub transport: SyslogTransport,
}

/// The transports of a syslog input.
#[derive(Debug, Clone, PartialEq)]
pub enum SyslogTransport {
    /// `transport = "udp"`.
    Udp,
    /// `transport = "tcp"`.
    Tcp,
    /// `transport = "tls"`, RFC 5425.
    Tls(TlsFiles),
}

/// `type = "relp"`: TCP, with TLS from the first byte when `tls_cert` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct RelpInput {
    /// The TLS files, when TLS is on.
    pub tls: Option<TlsFiles>,
}

/// `type = "beats"`: TCP, with TLS from the first byte when `tls_cert` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct BeatsInput {
    /// The TLS files, when TLS is on.
    pub tls: Option<TlsFiles>,
}

/// `type = "gelf"`: `transport` is written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GelfInput {
    /// UDP, TCP or HTTP.
    pub transport: GelfTransport,
}

/// The transports of a GELF input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GelfTransport {
    /// Chunked, possibly compressed datagrams.
    Udp,
    /// NUL-delimited messages.
    Tcp,
    /// `POST /gelf`, acknowledged once durable.
    Http,
}

/// `type = "snmptrap"`: always UDP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmptrapInput {
    /// The communities accepted; traps with another are counted and dropped.
    #[serde(default = "default_communities")]
    pub communities: Vec<String>,
    /// Whether the community string is stored with the event.
    #[serde(default)]
    pub store_community: bool,
}

/// The files of a TLS listener (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Server certificate chain.
    pub cert: PathBuf,
    /// Server private key.
    pub key: PathBuf,
    /// When set, clients must present a certificate this CA bundle signed.
    pub client_ca: Option<PathBuf>,
}

/// The keys every input takes, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InputKeys {
    transport: Option<Transport>,
    listen: SocketAddr,
    #[serde(default = "default_max_message_size")]
    max_message_size: ByteSize,
    #[serde(default = "default_max_connections")]
    max_connections: usize,
    #[serde(default = "default_idle_timeout")]
    idle_timeout: HumanDuration,
    #[serde(default = "default_recv_buffer")]
    recv_buffer: ByteSize,
    #[serde(default)]
    timezone: UtcOffset,
    #[serde(default = "default_parsers")]
    parsers: Vec<String>,
}

/// The TLS keys of the types that can speak TLS, as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsKeys {
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
}

impl InputConfig {
    /// The protocol.
    pub fn kind(&self) -> InputType {
        match self.protocol {
            InputProtocol::Syslog(_) => InputType::Syslog,
            InputProtocol::Relp(_) => InputType::Relp,
            InputProtocol::Beats(_) => InputType::Beats,
            InputProtocol::Gelf(_) => InputType::Gelf,
            InputProtocol::Snmptrap(_) => InputType::Snmptrap,
        }
    }

    /// The transport in effect.
    pub fn transport(&self) -> Transport {
        let stream = |tls: &Option<TlsFiles>| {
            if tls.is_some() {
                Transport::Tls
            } else {
                Transport::Tcp
            }
        };
        match &self.protocol {
            InputProtocol::Syslog(s) => match s.transport {
                SyslogTransport::Udp => Transport::Udp,
                SyslogTransport::Tcp => Transport::Tcp,
                SyslogTransport::Tls(_) => Transport::Tls,
            },
            InputProtocol::Relp(r) => stream(&r.tls),
            InputProtocol::Beats(b) => stream(&b.tls),
            InputProtocol::Gelf(g) => match g.transport {
                GelfTransport::Udp => Transport::Udp,
                GelfTransport::Tcp => Transport::Tcp,
                GelfTransport::Http => Transport::Http,
            },
            InputProtocol::Snmptrap(_) => Transport::Udp,
        }
    }

    /// The TLS files, when the input speaks TLS.
    pub fn tls(&self) -> Option<&TlsFiles> {
        match &self.protocol {
            InputProtocol::Syslog(SyslogInput {
                transport: SyslogTransport::Tls(t),
            }) => Some(t),
            InputProtocol::Relp(RelpInput { tls }) | InputProtocol::Beats(BeatsInput { tls }) => {
                tls.as_ref()
            }
            InputProtocol::Syslog(_) | InputProtocol::Gelf(_) | InputProtocol::Snmptrap(_) => None,
        }
    }

    /// An input of `protocol` on `listen` with the default settings.
    pub fn new(listen: SocketAddr, protocol: InputProtocol) -> InputConfig {
        InputConfig {
            listen,
            max_message_size: default_max_message_size(),
            max_connections: default_max_connections(),
            idle_timeout: default_idle_timeout(),
            recv_buffer: default_recv_buffer(),
            timezone: UtcOffset::UTC,
            parsers: default_parsers(),
            protocol,
        }
    }

    /// Reads the table of listener input `name` of type `kind` (its
    /// `type` already taken off).
    fn from_table(
        name: &str,
        kind: InputType,
        mut t: toml::Spanned<toml::de::DeTable<'_>>,
        spans: &Spans,
    ) -> Result<Self, Located> {
        let at = |key: &str, message: String| spans.error(&["inputs", name, key], message);

        let common = split_off(&mut t, fields_of::<InputKeys>());
        let tls = kind
            .takes_tls()
            .then(|| split_off(&mut t, fields_of::<TlsKeys>()));
        let own = split_off(&mut t, kind.own_keys());
        if let Some((key, span)) = first_key(t.get_ref()) {
            return Err(Located::new(span, not_applicable(name, kind, &key)));
        }
        let common: InputKeys = table::value(table::node(common))?;
        let tls: TlsKeys = match tls {
            Some(t) => table::value(table::node(t))?,
            None => TlsKeys::default(),
        };
        let ty = kind.name();
        let files = |tls: TlsKeys| -> Result<Option<TlsFiles>, Located> {
            match tls {
                TlsKeys {
                    tls_cert: Some(cert),
                    tls_key: Some(key),
                    tls_client_ca,
                } => Ok(Some(TlsFiles {
                    cert,
                    key,
                    client_ca: tls_client_ca,
                })),
                TlsKeys {
                    tls_cert: Some(_),
                    tls_key: None,
                    ..
                } => Err(spans.error(&["inputs", name], tls_needs_both(name))),
                TlsKeys {
                    tls_cert: None,
                    tls_key,
                    tls_client_ca,
                } => match (tls_key, tls_client_ca) {
                    (Some(_), _) => Err(at("tls_key", tls_only(name, kind, "tls_key"))),
                    (None, Some(_)) => {
                        Err(at("tls_client_ca", tls_only(name, kind, "tls_client_ca")))
                    }
                    (None, None) => Ok(None),
                },
            }
        };
        let protocol = match kind {
            InputType::Syslog => {
                let transport = match common.transport {
                    Some(Transport::Tls) => match files(tls)? {
                        Some(f) => SyslogTransport::Tls(f),
                        None => return Err(spans.error(&["inputs", name], tls_needs_both(name))),
                    },
                    Some(t @ (Transport::Udp | Transport::Tcp)) => {
                        if let Some(k) = tls.set_key() {
                            return Err(at(k, tls_only(name, kind, k)));
                        }
                        if t == Transport::Udp {
                            SyslogTransport::Udp
                        } else {
                            SyslogTransport::Tcp
                        }
                    }
                    Some(Transport::Http) | None => {
                        return Err(at(
                            "transport",
                            "a syslog input needs transport = \"udp\", \"tcp\" or \"tls\"".into(),
                        ));
                    }
                };
                InputProtocol::Syslog(SyslogInput { transport })
            }
            InputType::Relp | InputType::Beats => {
                if common.transport.is_some() {
                    return Err(at(
                        "transport",
                        format!(
                            "a {ty} input takes no transport: it is TCP, with TLS from the first \
                             byte when tls_cert and tls_key are set; remove transport"
                        ),
                    ));
                }
                let tls = files(tls)?;
                if kind == InputType::Relp {
                    InputProtocol::Relp(RelpInput { tls })
                } else {
                    InputProtocol::Beats(BeatsInput { tls })
                }
            }
            InputType::Gelf => {
                let transport = match common.transport {
                    Some(Transport::Udp) => GelfTransport::Udp,
                    Some(Transport::Tcp) => GelfTransport::Tcp,
                    Some(Transport::Http) => GelfTransport::Http,
                    Some(Transport::Tls) | None => {
                        return Err(at(
                            "transport",
                            "a gelf input needs transport = \"udp\", \"tcp\" or \"http\" (POST /gelf)"
                                .into(),
                        ));
                    }
                };
                InputProtocol::Gelf(GelfInput { transport })
            }
            InputType::Snmptrap => {
                if !matches!(common.transport, None | Some(Transport::Udp)) {
                    return Err(at(
                        "transport",
                        "a snmptrap input is UDP only; remove transport or set transport = \"udp\""
                            .into(),
                    ));
                }
                let trap: SnmptrapInput = table::value(table::node(own))?;
                if trap.communities.is_empty() {
                    return Err(at(
                        "communities",
                        "communities must name at least one community, e.g. communities = [\"public\"]"
                            .into(),
                    ));
                }
                InputProtocol::Snmptrap(trap)
            }
        };
        let InputKeys {
            transport: _,
            listen,
            max_message_size,
            max_connections,
            idle_timeout,
            recv_buffer,
            timezone,
            parsers,
        } = common;
        if max_message_size.0 < 480 || max_message_size.0 > 16 * 1024 * 1024 {
            return Err(at(
                "max_message_size",
                format!(
                    "input `{name}`: max_message_size must be between 480 bytes and 16MiB, e.g. \"64KiB\""
                ),
            ));
        }
        if max_connections == 0 {
            return Err(at(
                "max_connections",
                format!("input `{name}`: max_connections must be at least 1"),
            ));
        }
        Ok(InputConfig {
            listen,
            max_message_size,
            max_connections,
            idle_timeout,
            recv_buffer,
            timezone,
            parsers,
            protocol,
        })
    }
}

/// One `[inputs.NAME]` table as read: a listener or a file input.
pub(crate) enum AnyInput {
    /// A network input (`syslog`, `relp`, `beats`, `gelf`, `snmptrap`).
    Listener(InputConfig),
    /// `type = "file"`.
    File(FileInput),
}

impl AnyInput {
    /// Reads the table of input `name`; its `type` picks the struct.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let mut t = table::table(node, &format!("inputs.{name}"))?;
        let mut names: Vec<&str> = InputType::ALL.iter().map(|k| k.name()).collect();
        names.push(FILE_TYPE);
        let (ty, span) = take_type(&mut t, "input", &names)?;
        if ty == FILE_TYPE {
            return FileInput::from_table(name, t, spans).map(AnyInput::File);
        }
        let kind = InputType::ALL
            .iter()
            .copied()
            .find(|k| k.name() == ty)
            .ok_or_else(|| Located::new(span, format!("unknown input type `{ty}`")))?;
        InputConfig::from_table(name, kind, t, spans).map(AnyInput::Listener)
    }
}

impl TlsKeys {
    /// The first TLS key that is set.
    fn set_key(&self) -> Option<&'static str> {
        let TlsKeys {
            tls_cert,
            tls_key,
            tls_client_ca,
        } = self;
        [
            ("tls_cert", tls_cert.is_some()),
            ("tls_key", tls_key.is_some()),
            ("tls_client_ca", tls_client_ca.is_some()),
        ]
        .into_iter()
        .find_map(|(k, set)| set.then_some(k))
    }
}

fn tls_needs_both(name: &str) -> String {
    format!(
        "input `{name}` uses transport \"tls\" and needs both tls_cert and tls_key \
         (PEM file paths), e.g. tls_cert = \"/etc/hark/server.crt\""
    )
}

fn tls_only(name: &str, kind: InputType, key: &str) -> String {
    let fix = match kind {
        InputType::Relp | InputType::Beats => {
            "set tls_cert and tls_key too (TLS is on when tls_cert is set)"
        }
        InputType::Gelf | InputType::Snmptrap => "TLS is not supported here",
        InputType::Syslog => "set transport = \"tls\"",
    };
    format!("input `{name}`: {key} only applies to TLS; {fix} or remove {key}")
}

/// The error for `key` in an input of `kind` that does not take it.
fn not_applicable(name: &str, kind: InputType, key: &str) -> String {
    if fields_of::<TlsKeys>().contains(&key) {
        return tls_only(name, kind, key);
    }
    let mut keys: Vec<&str> = vec!["type"];
    keys.extend(fields_of::<InputKeys>());
    if kind.takes_tls() {
        keys.extend(fields_of::<TlsKeys>());
    }
    keys.extend(kind.own_keys());
    let mut owners: Vec<String> = InputType::ALL
        .iter()
        .filter(|t| t.own_keys().contains(&key))
        .map(|t| format!("type = \"{}\"", t.name()))
        .collect();
    if fields_of::<FileInput>().contains(&key) {
        owners.push(format!("type = \"{FILE_TYPE}\""));
    }
    let ty = kind.name();
    if owners.is_empty() {
        format!(
            "unknown field `{key}`, expected one of {}",
            table::list(&keys)
        )
    } else {
        format!(
            "{key} does not apply to a {ty} input (keys like it only apply to {}, not {ty}); \
             its keys are {}",
            owners.join(" or "),
            keys.join(", ")
        )
    }
}

fn default_communities() -> Vec<String> {
    vec!["public".to_owned()]
}
fn default_parsers() -> Vec<String> {
    vec![crate::parsers::AUTO.to_owned()]
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
