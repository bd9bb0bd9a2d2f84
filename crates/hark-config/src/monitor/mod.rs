//! `[monitoring]` and `[monitors.NAME]`: active checks of hosts and services.
//!
//! Every monitor table has a `type` and the common keys of [`MonitorKeys`]
//! (`interval`, `retry_interval`, `timeout`, `max_attempts`, `parent`,
//! `public`); the
//! other keys are those of the type's struct in [`checks`], and a key that
//! does not apply to the type is an error that lists the type's keys.

mod checks;

use std::time::Duration;

use serde::Deserialize;

pub use checks::{
    DnsCheck, DnsRcode, DnsRecordType, HttpCheck, HttpMethod, IcmpCheck, JsonExpect, MetricsCheck,
    SnmpCheck, SnmpOid, SnmpVersion, TcpCheck,
};

use crate::table::{self, Located, Node, Spans, fields_of, first_key, split_off, take_tag};
use crate::units::duration_opt;
use checks::Check;

/// Settings shared by all monitors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Most checks running at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Flapping starts when the weighted state-change rate reaches this percentage.
    #[serde(default = "default_flap_start")]
    pub flap_start: f64,
    /// Flapping stops when the weighted state-change rate falls below this percentage.
    #[serde(default = "default_flap_stop")]
    pub flap_stop: f64,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        MonitoringConfig {
            concurrency: default_concurrency(),
            flap_start: default_flap_start(),
            flap_stop: default_flap_stop(),
        }
    }
}

fn default_concurrency() -> usize {
    256
}
fn default_flap_start() -> f64 {
    30.0
}
fn default_flap_stop() -> f64 {
    25.0
}

/// What a monitor checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorType {
    /// ICMP echo (a host check: UP/DOWN/UNREACHABLE).
    Icmp,
    /// TCP connect, optional send/expect and TLS.
    Tcp,
    /// HTTP(S) request: status, body, JSON, timings, certificate.
    Http,
    /// DNS query.
    Dns,
    /// SNMP GET of OIDs.
    Snmp,
    /// A metric scraped from a Prometheus text endpoint.
    Metrics,
}

impl MonitorType {
    /// Every variant.
    pub const ALL: &[MonitorType] = &[
        MonitorType::Icmp,
        MonitorType::Tcp,
        MonitorType::Http,
        MonitorType::Dns,
        MonitorType::Snmp,
        MonitorType::Metrics,
    ];

    /// The name written as `type`.
    pub fn name(self) -> &'static str {
        match self {
            MonitorType::Icmp => "icmp",
            MonitorType::Tcp => "tcp",
            MonitorType::Http => "http",
            MonitorType::Dns => "dns",
            MonitorType::Snmp => "snmp",
            MonitorType::Metrics => "metrics",
        }
    }

    /// Host checks report UP/DOWN/UNREACHABLE; service checks OK/WARN/CRIT/UNKNOWN.
    pub fn is_host_check(self) -> bool {
        self == MonitorType::Icmp
    }

    /// The keys of this type's check struct.
    fn keys(self) -> &'static [&'static str] {
        match self {
            MonitorType::Icmp => fields_of::<IcmpCheck>(),
            MonitorType::Tcp => fields_of::<TcpCheck>(),
            MonitorType::Http => fields_of::<HttpCheck>(),
            MonitorType::Dns => fields_of::<DnsCheck>(),
            MonitorType::Snmp => fields_of::<SnmpCheck>(),
            MonitorType::Metrics => fields_of::<MetricsCheck>(),
        }
    }
}

/// One configured monitor.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// The check and its type-specific settings.
    pub check: CheckConfig,
    /// Time between checks while the state is OK (or hard).
    pub interval: Duration,
    /// Time between re-checks while a problem is soft.
    pub retry_interval: Duration,
    /// A check taking longer is CRIT (DOWN for hosts) with a timeout output.
    pub timeout: Duration,
    /// Consecutive problem results before a problem state is hard.
    pub max_attempts: u32,
    /// Another monitor whose problem explains this one's (UNREACHABLE).
    pub parent: Option<String>,
    /// Shown on the status page that needs no login (state and
    /// availability only).
    pub public: bool,
}

/// The type-specific part of a monitor.
#[derive(Debug, Clone)]
pub enum CheckConfig {
    /// ICMP echo.
    Icmp(IcmpCheck),
    /// TCP connect.
    Tcp(TcpCheck),
    /// HTTP(S) request.
    Http(HttpCheck),
    /// DNS query.
    Dns(DnsCheck),
    /// SNMP GET.
    Snmp(SnmpCheck),
    /// Prometheus metric.
    Metrics(MetricsCheck),
}

/// The keys every monitor takes, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorKeys {
    #[serde(default, deserialize_with = "duration_opt")]
    interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration_opt")]
    retry_interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration_opt")]
    timeout: Option<Duration>,
    #[serde(default = "default_max_attempts")]
    max_attempts: u32,
    parent: Option<String>,
    #[serde(default)]
    public: bool,
}

fn default_max_attempts() -> u32 {
    3
}

impl MonitorConfig {
    /// The type of the check.
    pub fn kind(&self) -> MonitorType {
        match &self.check {
            CheckConfig::Icmp(_) => MonitorType::Icmp,
            CheckConfig::Tcp(_) => MonitorType::Tcp,
            CheckConfig::Http(_) => MonitorType::Http,
            CheckConfig::Dns(_) => MonitorType::Dns,
            CheckConfig::Snmp(_) => MonitorType::Snmp,
            CheckConfig::Metrics(_) => MonitorType::Metrics,
        }
    }

    /// What is checked, for lists and for the `host` of state-change events:
    /// the host name or address (URL host for HTTP and metrics, query name for DNS).
    pub fn target(&self) -> &str {
        match &self.check {
            CheckConfig::Icmp(c) => &c.host,
            CheckConfig::Tcp(c) => &c.host,
            CheckConfig::Snmp(c) => &c.host,
            CheckConfig::Http(c) => c.url.host(),
            CheckConfig::Metrics(c) => c.url.host(),
            CheckConfig::Dns(c) => &c.name,
        }
    }

    /// One monitor from the text of its table alone (the keys of a
    /// `[monitors.NAME]` table, without the header); `file` names it in
    /// errors. For tests and tools that check one monitor.
    pub fn from_toml_str(file: &str, text: &str) -> Result<Self, crate::ConfigError> {
        let read = || -> Result<Self, Located> {
            let root = toml::de::DeTable::parse(text).map_err(table::parse_error)?;
            let spans = Spans::record_under(&["monitors", ""], root.get_ref());
            Self::from_node("", table::node(root), &spans)
        };
        read().map_err(|e| e.at(file, text))
    }

    /// Reads the table of monitor `name`.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let mut t = table::table(node, &format!("monitors.{name}"))?;
        let kind = take_tag(&mut t, "monitor", MonitorType::ALL, MonitorType::name)?;
        let at = |key: &str, message: String| spans.error(&["monitors", name, key], message);

        let common = split_off(&mut t, fields_of::<MonitorKeys>());
        let own = split_off(&mut t, kind.keys());
        if let Some((key, span)) = first_key(t.get_ref()) {
            return Err(Located::new(span, not_applicable(kind, &key)));
        }
        let keys: MonitorKeys = table::value(table::node(common))?;
        let own = table::node(own);
        let check = match kind {
            MonitorType::Icmp => CheckConfig::Icmp(read(kind, own, &at)?),
            MonitorType::Tcp => CheckConfig::Tcp(read(kind, own, &at)?),
            MonitorType::Http => CheckConfig::Http(read(kind, own, &at)?),
            MonitorType::Dns => CheckConfig::Dns(read(kind, own, &at)?),
            MonitorType::Snmp => CheckConfig::Snmp(read(kind, own, &at)?),
            MonitorType::Metrics => CheckConfig::Metrics(read(kind, own, &at)?),
        };
        let MonitorKeys {
            interval,
            retry_interval,
            timeout,
            max_attempts,
            parent,
            public,
        } = keys;
        let interval = interval.unwrap_or(Duration::from_secs(60));
        if interval < Duration::from_millis(100) {
            return Err(at(
                "interval",
                "interval must be at least 100ms, e.g. interval = \"30s\"".into(),
            ));
        }
        let retry_interval = retry_interval.unwrap_or(interval);
        if retry_interval < Duration::from_millis(100) {
            return Err(at(
                "retry_interval",
                "retry_interval must be at least 100ms, e.g. retry_interval = \"10s\"".into(),
            ));
        }
        let timeout = timeout.unwrap_or(Duration::from_secs(10).min(interval));
        if timeout.is_zero() {
            return Err(at(
                "timeout",
                "timeout must be more than 0, e.g. timeout = \"10s\"".into(),
            ));
        }
        if max_attempts == 0 {
            return Err(at(
                "max_attempts",
                "max_attempts must be at least 1 (1 makes every problem hard at once)".into(),
            ));
        }
        Ok(MonitorConfig {
            check,
            interval,
            retry_interval,
            timeout,
            max_attempts,
            parent,
            public,
        })
    }
}

/// Deserializes and validates one check struct.
fn read<T: Check>(
    kind: MonitorType,
    node: Node<'_>,
    at: &dyn Fn(&str, String) -> Located,
) -> Result<T, Located> {
    let check: T = table::value(node)
        .map_err(|e| table::name_missing_key(e, kind.name(), "monitor", kind.keys()))?;
    check
        .validate()
        .map_err(|(key, message)| at(key, message))?;
    Ok(check)
}

/// The error for `key` in a monitor of `kind` that does not take it.
fn not_applicable(kind: MonitorType, key: &str) -> String {
    let ty = kind.name();
    let mut common = vec!["type"];
    common.extend(fields_of::<MonitorKeys>());
    if MonitorType::ALL.iter().any(|t| t.keys().contains(&key)) {
        format!(
            "{key} does not apply to a {ty} monitor; its keys are {}",
            kind.keys().join(", ")
        )
    } else {
        format!(
            "unknown field `{key}`, expected one of {} or the {ty} keys {}",
            table::list(&common),
            table::list(kind.keys())
        )
    }
}
