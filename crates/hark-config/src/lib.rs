//! Hark's configuration: the TOML schema, the embedded defaults, and
//! validation whose errors name the file, the line and the expected form.
//!
//! Every section is a struct and every tagged table (`[inputs.*]`,
//! `[monitors.*]`, `[notify.*]`, `[outputs.*]`) an enum with one strict struct per `type`; values are
//! parsed here, once, into the types the running code uses (addresses,
//! URLs, OIDs, durations, sizes, regular expressions, thresholds). Errors
//! carry the position the TOML parser recorded for the key or value.
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

pub mod alert;
pub mod auth;
pub mod event_rule;
pub mod file_input;
pub mod forward;
pub mod group;
pub mod input;
pub mod monitor;
pub mod notify;
pub mod output;
pub mod parsers;
mod table;
mod threshold;
mod units;
mod url;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::de::DeTable;

pub use alert::{
    AlertConfig, AlertRule, AlertSeverity, Comparison, Condition, LogRule, Measure, MonitorRule,
    ProblemState,
};
pub use auth::{AuthConfig, HttpConfig, HttpTls, LdapConfig, LdapSecurity, Role, UnknownRole};
pub use event_rule::{ConsoleState, CountSpec, EventRuleConfig, ProblemStateSource};
pub use file_input::{FileInput, LineStart, Multiline, PathGlob, StartAt, TextEncoding};
pub use forward::{ForwardConfig, Overflow, UplinkConfig};
pub use group::{GroupBuffer, GroupConfig};
pub use hark_proto::snmp::Oid;
pub use input::{
    BeatsInput, GelfInput, GelfTransport, InputConfig, InputProtocol, InputType, RelpInput,
    SnmptrapInput, SyslogInput, SyslogTransport, TlsFiles, Transport,
};
pub use monitor::{
    CheckConfig, DnsCheck, DnsRcode, DnsRecordType, HttpCheck, HttpMethod, IcmpCheck, JsonExpect,
    MetricsCheck, MonitorConfig, MonitorType, MonitoringConfig, SnmpCheck, SnmpOid, SnmpVersion,
    TcpCheck,
};
pub use notify::{
    AlertingConfig, ChannelConfig, ChannelType, NotifyConfig, SmtpChannel, SmtpTls, WebhookChannel,
    WebhookTemplate,
};
pub use output::{
    BeatsOutput, GelfOutput, GelfOutputTransport, HttpFormat, HttpOutput, OutputConfig,
    OutputDestination, OutputFormat, OutputType, RelpOutput, SyslogOutput, SyslogOutputTransport,
    Target,
};
pub use parsers::{EnrichConfig, ParserBuildError, ParserConfig, ParserPattern};
pub use threshold::Threshold;
pub use units::{ByteSize, HumanDuration, UtcOffset};
pub use url::{HttpUrl, InvalidUrl};

use input::AnyInput;
use table::{Located, Spans};

/// The whole configuration.
///
/// To add a section: a struct with `#[serde(deny_unknown_fields)]` and its
/// defaults, a field here, an arm in [`Config::from_toml_str`], and its rows
/// in `hark-matrix/src/sections.rs`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the WAL, the index and the tokens live.
    pub data_dir: PathBuf,
    /// The HTTP server: API, web UI and metrics.
    pub http: HttpConfig,
    /// Web sessions and LDAP.
    pub auth: AuthConfig,
    /// Named network inputs (listeners); when the file has no `[inputs]`
    /// at all, the defaults apply.
    pub inputs: BTreeMap<String, InputConfig>,
    /// Named file inputs (`[inputs.NAME] type = "file"`): they share the
    /// `[inputs]` table, and so its names, with the listeners, but open no
    /// port. None by default.
    pub file_inputs: BTreeMap<String, FileInput>,
    /// Storage settings.
    pub storage: StorageConfig,
    /// Settings shared by all monitors.
    pub monitoring: MonitoringConfig,
    /// Named monitors (active checks); none by default.
    pub monitors: BTreeMap<String, MonitorConfig>,
    /// Named alert rules; none by default.
    pub alerts: BTreeMap<String, AlertConfig>,
    /// Named event-console rules; none by default.
    pub event_rules: BTreeMap<String, EventRuleConfig>,
    /// Grouping and retry settings shared by notification channels.
    pub alerting: AlertingConfig,
    /// Named notification channels; none by default.
    pub notify: BTreeMap<String, NotifyConfig>,
    /// Named outputs that forward selected events; none by default.
    pub outputs: BTreeMap<String, OutputConfig>,
    /// User-defined body parsers, by name; none by default.
    pub parsers: BTreeMap<String, ParserConfig>,
    /// What is added to events' addresses; nothing by default.
    pub enrich: EnrichConfig,
    /// The listener for forwarders (`[uplink]`); none by default.
    pub uplink: Option<UplinkConfig>,
    /// The forwarder role (`[forward]`, read by `hark forward`); none by default.
    pub forward: Option<ForwardConfig>,
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

fn default_inputs() -> BTreeMap<String, InputConfig> {
    let any = |port: u16| SocketAddr::from(([0, 0, 0, 0], port));
    let syslog = |transport| InputProtocol::Syslog(SyslogInput { transport });
    let gelf = |transport| InputProtocol::Gelf(GelfInput { transport });
    [
        ("syslog_udp", any(10514), syslog(SyslogTransport::Udp)),
        ("syslog_tcp", any(10514), syslog(SyslogTransport::Tcp)),
        (
            "relp",
            any(20514),
            InputProtocol::Relp(RelpInput { tls: None }),
        ),
        (
            "beats",
            any(5044),
            InputProtocol::Beats(BeatsInput { tls: None }),
        ),
        ("gelf_udp", any(12201), gelf(GelfTransport::Udp)),
        ("gelf_tcp", any(12201), gelf(GelfTransport::Tcp)),
        (
            "snmptrap",
            any(10162),
            InputProtocol::Snmptrap(SnmptrapInput {
                communities: vec!["public".to_owned()],
                store_community: false,
            }),
        ),
    ]
    .into_iter()
    .map(|(name, listen, protocol)| (name.to_owned(), InputConfig::new(listen, protocol)))
    .collect()
}

/// The embedded defaults, as a TOML document a user can copy and edit.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: default_data_dir(),
            http: HttpConfig::default(),
            auth: AuthConfig::default(),
            inputs: default_inputs(),
            file_inputs: BTreeMap::new(),
            storage: StorageConfig::default(),
            monitoring: MonitoringConfig::default(),
            monitors: BTreeMap::new(),
            alerts: BTreeMap::new(),
            event_rules: BTreeMap::new(),
            alerting: AlertingConfig::default(),
            notify: BTreeMap::new(),
            outputs: BTreeMap::new(),
            parsers: BTreeMap::new(),
            enrich: EnrichConfig::default(),
            uplink: None,
            forward: None,
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
        Self::from_text(text).map_err(|e| e.at(file, text))
    }

    /// Reads the rule `[alerts.NAME]` from `text`, a document holding that
    /// table, with the checks of the rule itself but none across sections:
    /// whoever runs it checks its channels. Rules made through the API are
    /// read this way, so they are accepted exactly when the file would
    /// accept them.
    pub fn alert_rule_from_toml(
        file: &str,
        text: &str,
        name: &str,
    ) -> Result<AlertConfig, ConfigError> {
        let read = || -> Result<AlertConfig, Located> {
            let root = DeTable::parse(text).map_err(table::parse_error)?;
            let spans = Spans::record(root.get_ref());
            for (key, node) in root.into_inner() {
                if key.get_ref().as_ref() != "alerts" {
                    continue;
                }
                for (rule, node) in table::table(node, "alerts")?.into_inner() {
                    if rule.get_ref().as_ref() == name {
                        return AlertConfig::from_node(name, node, &spans);
                    }
                }
            }
            Err(Located::new(
                0..0,
                format!("no [alerts.{name}] table; expected the rule's keys"),
            ))
        };
        read().map_err(|e| e.at(file, text))
    }

    fn from_text(text: &str) -> Result<Config, Located> {
        let root = DeTable::parse(text).map_err(table::parse_error)?;
        let spans = Spans::record(root.get_ref());
        let mut cfg = Config::default();
        let mut inputs = None;
        for (key, node) in root.into_inner() {
            match key.get_ref().as_ref() {
                "data_dir" => cfg.data_dir = table::value(node)?,
                "http" => cfg.http = table::value(node)?,
                "auth" => cfg.auth = table::value(node)?,
                "storage" => cfg.storage = table::value(node)?,
                "monitoring" => cfg.monitoring = table::value(node)?,
                "alerting" => cfg.alerting = table::value(node)?,
                "inputs" => {
                    let mut named = BTreeMap::new();
                    for (name, node) in table::table(node, "inputs")?.into_inner() {
                        let name = name.get_ref().to_string();
                        match AnyInput::from_node(&name, node, &spans)? {
                            AnyInput::Listener(input) => {
                                named.insert(name, input);
                            }
                            AnyInput::File(input) => {
                                cfg.file_inputs.insert(name, input);
                            }
                        }
                    }
                    inputs = Some(named);
                }
                "monitors" => {
                    for (name, node) in table::table(node, "monitors")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let monitor = MonitorConfig::from_node(&name, node, &spans)?;
                        cfg.monitors.insert(name, monitor);
                    }
                }
                "alerts" => {
                    for (name, node) in table::table(node, "alerts")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let rule = AlertConfig::from_node(&name, node, &spans)?;
                        cfg.alerts.insert(name, rule);
                    }
                }
                "event_rules" => {
                    for (name, node) in table::table(node, "event_rules")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let rule = EventRuleConfig::from_node(&name, node, &spans)?;
                        cfg.event_rules.insert(name, rule);
                    }
                }
                "enrich" => cfg.enrich = table::value(node)?,
                "outputs" => {
                    for (name, node) in table::table(node, "outputs")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let output = OutputConfig::from_node(&name, node, &spans)?;
                        cfg.outputs.insert(name, output);
                    }
                }
                "uplink" => cfg.uplink = Some(table::value(node)?),
                "forward" => cfg.forward = Some(table::value(node)?),
                "parsers" => {
                    for (name, node) in table::table(node, "parsers")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let parser = ParserConfig::from_node(&name, node, &spans)?;
                        cfg.parsers.insert(name, parser);
                    }
                }
                "notify" => {
                    for (name, node) in table::table(node, "notify")?.into_inner() {
                        let name = name.get_ref().to_string();
                        let channel = NotifyConfig::from_node(&name, node, &spans)?;
                        cfg.notify.insert(name, channel);
                    }
                }
                other => {
                    return Err(Located::new(
                        key.span(),
                        format!(
                            "unknown field `{other}`, expected one of {}",
                            table::list(&[
                                "data_dir",
                                "http",
                                "auth",
                                "inputs",
                                "storage",
                                "monitoring",
                                "monitors",
                                "alerts",
                                "event_rules",
                                "alerting",
                                "notify",
                                "outputs",
                                "parsers",
                                "enrich",
                                "uplink",
                                "forward"
                            ])
                        ),
                    ));
                }
            }
        }
        if let Some(inputs) = inputs {
            cfg.inputs = inputs;
        }
        cfg.validate()
            .map_err(|(path, message)| spans.error(&path, message))?;
        Ok(cfg)
    }

    /// Checks what spans sections: listen conflicts, monitor parents, and
    /// the ranges of a few numbers. On failure returns the path of the key
    /// to blame and the message.
    fn validate(&self) -> Result<(), (Vec<&str>, String)> {
        let mut seen: Vec<(SocketAddr, bool, &str)> = Vec::new();
        for (name, input) in &self.inputs {
            let is_udp = input.transport() == Transport::Udp;
            if let Some((_, _, other)) = seen
                .iter()
                .find(|(a, u, _)| *u == is_udp && ports_clash(*a, input.listen))
            {
                return Err((
                    vec!["inputs", name, "listen"],
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
        if let Some(why) = self.http.plain_http_refusal() {
            return Err((vec!["http", "listen"], why));
        }
        self.validate_monitors()?;
        self.validate_channels()?;
        self.validate_parsers()?;
        if let Some(uplink) = &self.uplink {
            uplink
                .check()
                .map_err(|(key, m)| (vec!["uplink", key], m))?;
            if let Some((name, _)) = self.inputs.iter().find(|(_, i)| {
                i.transport() != Transport::Udp && ports_clash(i.listen, uplink.listen)
            }) {
                return Err((
                    vec!["uplink", "listen"],
                    format!(
                        "uplink.listen {} is the port of input `{name}`; pick another port",
                        uplink.listen
                    ),
                ));
            }
        }
        if let Some(forward) = &self.forward {
            forward
                .check()
                .map_err(|(key, m)| (vec!["forward", key], m))?;
        }
        if self.storage.index_threads == 0 || self.storage.index_threads > 8 {
            return Err((
                vec!["storage", "index_threads"],
                "storage.index_threads must be between 1 and 8".into(),
            ));
        }
        Ok(())
    }

    /// Inputs name parsers that exist, user parsers do not shadow built-in
    /// formats, and network blocks are blocks.
    fn validate_parsers(&self) -> Result<(), (Vec<&str>, String)> {
        if let Some(name) = self
            .parsers
            .keys()
            .find(|n| *n == parsers::AUTO || hark_parse::builtin(n).is_some())
        {
            return Err((
                vec!["parsers", name.as_str()],
                format!(
                    "[parsers.{name}]: `{name}` is a built-in format; give the parser another name"
                ),
            ));
        }
        for (name, parser) in &self.parsers {
            if let Err(e) = parser.build(name) {
                return Err((vec!["parsers", name.as_str(), e.key(parser)], e.to_string()));
            }
        }
        let listed = self
            .inputs
            .iter()
            .map(|(name, i)| (name, &i.parsers))
            .chain(self.file_inputs.iter().map(|(name, f)| (name, &f.parsers)));
        for (input, names) in listed {
            let unknown = names.iter().find(|p| {
                *p != parsers::AUTO
                    && hark_parse::builtin(p).is_none()
                    && !self.parsers.contains_key(*p)
            });
            if let Some(p) = unknown {
                let mut known: Vec<&str> = vec![parsers::AUTO];
                known.extend(hark_parse::BUILTIN);
                known.extend(self.parsers.keys().map(String::as_str));
                return Err((
                    vec!["inputs", input.as_str(), "parsers"],
                    format!(
                        "input `{input}` names parser `{p}`, which is neither built in nor a                          [parsers.{p}] table; use one of: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        if let Some((block, why)) = self.enrich.bad_network() {
            return Err((vec!["enrich", "networks", block], why));
        }
        Ok(())
    }

    /// Alert and event-console rules name configured `[notify.*]` channels.
    fn validate_channels(&self) -> Result<(), (Vec<&str>, String)> {
        let rules = self
            .alerts
            .iter()
            .map(|(name, r)| ("alerts", name, &r.notify))
            .chain(
                self.event_rules
                    .iter()
                    .map(|(name, r)| ("event_rules", name, &r.notify)),
            );
        for (section, name, notify) in rules {
            if let Some(channel) = notify.iter().find(|c| !self.notify.contains_key(*c)) {
                let known: Vec<&str> = self.notify.keys().map(String::as_str).collect();
                return Err((
                    vec![section, name.as_str(), "notify"],
                    format!(
                        "{section}.{name} notifies `{channel}`, which is not a channel; add \
                         [notify.{channel}] or use one of: {}",
                        if known.is_empty() {
                            "(none configured)".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Monitors: parents exist and form no cycle; flapping thresholds make sense.
    fn validate_monitors(&self) -> Result<(), (Vec<&str>, String)> {
        let m = &self.monitoring;
        if m.concurrency == 0 {
            return Err((
                vec!["monitoring", "concurrency"],
                "monitoring.concurrency must be at least 1".into(),
            ));
        }
        if !(0.0..=100.0).contains(&m.flap_stop) || !(m.flap_stop..=100.0).contains(&m.flap_start) {
            return Err((
                vec!["monitoring", "flap_start"],
                "monitoring.flap_start and flap_stop are percentages with flap_stop <= flap_start, \
                 e.g. flap_start = 30.0 and flap_stop = 25.0"
                    .into(),
            ));
        }
        for (name, mon) in &self.monitors {
            let Some(parent) = &mon.parent else { continue };
            let key = vec!["monitors", name.as_str(), "parent"];
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
}

fn ports_clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

#[cfg(test)]
mod tests;
