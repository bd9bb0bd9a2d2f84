//! `[monitoring]` and `[monitors.NAME]`: active checks of hosts and services.
//!
//! Every monitor table has a `type` and the common keys (`interval`,
//! `retry_interval`, `timeout`, `max_attempts`, `parent`); the other keys
//! depend on the type, and a key that does not apply to the type is an error
//! that says so.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::threshold::Threshold;
use crate::units::HumanDuration;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
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
}

/// One configured monitor.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawMonitor")]
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
    pub fn target(&self) -> String {
        match &self.check {
            CheckConfig::Icmp(c) => c.host.clone(),
            CheckConfig::Tcp(c) => c.host.clone(),
            CheckConfig::Snmp(c) => c.host.clone(),
            CheckConfig::Http(c) => url_host(&c.url),
            CheckConfig::Metrics(c) => url_host(&c.url),
            CheckConfig::Dns(c) => c.name.clone(),
        }
    }
}

/// The host part of an `http://` or `https://` URL (without port or brackets).
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("").to_owned();
    }
    authority
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(h, _)| h)
        .to_owned()
}

/// The port of an `http://` or `https://` URL: explicit, or 80/443.
pub fn url_port(url: &str) -> u16 {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, r)| r),
        None => authority,
    };
    after_host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        })
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

/// `type = "icmp"`.
#[derive(Debug, Clone)]
pub struct IcmpCheck {
    /// Address or name (IPv4 or IPv6).
    pub host: String,
    /// Echo requests per check.
    pub packets: u32,
    /// Time between echo requests.
    pub packet_interval: Duration,
    /// Loss percentage at or above which the host is WARN... reported as DOWN when at or above `crit_loss`.
    pub warn_loss: f64,
    /// Loss percentage at or above which the host is DOWN.
    pub crit_loss: f64,
    /// Average round-trip time at or above which the result is WARN.
    pub warn_rtt: Duration,
    /// Average round-trip time at or above which the host is DOWN.
    pub crit_rtt: Duration,
}

/// `type = "tcp"`.
#[derive(Debug, Clone)]
pub struct TcpCheck {
    /// Address or name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Sent after connecting (and after the TLS handshake).
    pub send: Option<String>,
    /// Expected in what the peer sends back.
    pub expect: Option<String>,
    /// Do a TLS handshake after connecting.
    pub tls: bool,
    /// With `tls`: an invalid certificate chain or hostname is CRIT.
    pub tls_verify: bool,
    /// CA bundle (PEM) trusted besides the system's roots.
    pub tls_ca: Option<PathBuf>,
    /// Connect time at or above which the result is WARN.
    pub warn_time: Option<Duration>,
    /// Connect time at or above which the result is CRIT.
    pub crit_time: Option<Duration>,
}

/// HTTP method of an `http` monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST (with `body`).
    Post,
}

/// A value a JSON path must have: a string, number or boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum JsonExpect {
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
}

/// `type = "http"`.
#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Request method.
    pub method: HttpMethod,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body (POST).
    pub body: Option<String>,
    /// Accepted status codes; empty means any 2xx or 3xx.
    pub expect_status: Vec<u16>,
    /// The body must contain this.
    pub body_contains: Option<String>,
    /// The body must match this regular expression.
    pub body_regex: Option<String>,
    /// A JSON path (`$.a.b[0]`) in the body whose value must equal `json_value`.
    pub json_path: Option<String>,
    /// The value expected at `json_path`.
    pub json_value: Option<JsonExpect>,
    /// Total time at or above which the result is WARN.
    pub warn_time: Option<Duration>,
    /// Total time at or above which the result is CRIT.
    pub crit_time: Option<Duration>,
    /// Fewer days than this before the certificate expires is WARN (HTTPS).
    pub cert_expiry_warn: Duration,
    /// Fewer days than this before the certificate expires is CRIT (HTTPS).
    pub cert_expiry_crit: Duration,
    /// An invalid chain or hostname is CRIT (HTTPS); expiry is checked either way.
    pub tls_verify: bool,
    /// CA bundle (PEM) trusted besides the system's roots.
    pub tls_ca: Option<PathBuf>,
    /// Follow up to 10 redirects instead of judging the first response.
    pub follow_redirects: bool,
}

/// `type = "dns"`.
#[derive(Debug, Clone)]
pub struct DnsCheck {
    /// The name queried.
    pub name: String,
    /// Record type: A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT.
    pub record_type: String,
    /// The server asked (written `IP` or `IP:PORT`, port 53 by default);
    /// the system resolver when unset.
    pub server: Option<SocketAddr>,
    /// Each of these must be among the answers (as the record's text form).
    pub expect_answers: Vec<String>,
    /// Some answer must match this regular expression.
    pub expect_regex: Option<String>,
    /// The response code expected (NOERROR by default; NXDOMAIN to check absence).
    pub expect_rcode: String,
    /// Response time at or above which the result is WARN.
    pub warn_time: Option<Duration>,
    /// Response time at or above which the result is CRIT.
    pub crit_time: Option<Duration>,
}

/// One OID polled by an `snmp` monitor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpOid {
    /// Numeric OID, like "1.3.6.1.2.1.1.3.0".
    pub oid: String,
    /// Name for output and performance data (the OID when unset).
    pub label: Option<String>,
    /// Threshold for WARN (numeric values).
    pub warn: Option<Threshold>,
    /// Threshold for CRIT (numeric values).
    pub crit: Option<Threshold>,
    /// The value (as text) must contain this.
    pub expect: Option<String>,
    /// A counter: judge its rate per second between two polls.
    #[serde(default)]
    pub rate: bool,
    /// Multiply the value (or rate) by this, e.g. 8 for octets to bits.
    pub scale: Option<f64>,
}

/// SNMP version of an `snmp` monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SnmpVersion {
    /// SNMPv1.
    #[serde(rename = "1")]
    V1,
    /// SNMPv2c.
    #[serde(rename = "2c")]
    V2c,
}

/// `type = "snmp"`.
#[derive(Debug, Clone)]
pub struct SnmpCheck {
    /// Agent address or name.
    pub host: String,
    /// Agent UDP port.
    pub port: u16,
    /// Community string.
    pub community: String,
    /// Protocol version.
    pub version: SnmpVersion,
    /// The OIDs fetched in one GET.
    pub oids: Vec<SnmpOid>,
}

/// `type = "metrics"`.
#[derive(Debug, Clone)]
pub struct MetricsCheck {
    /// URL of the Prometheus text endpoint.
    pub url: String,
    /// Metric name.
    pub metric: String,
    /// Labels the sample must have (exact values).
    pub labels: BTreeMap<String, String>,
    /// Threshold for WARN.
    pub warn: Option<Threshold>,
    /// Threshold for CRIT.
    pub crit: Option<Threshold>,
}

/// A monitor table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonitor {
    #[serde(rename = "type")]
    kind: MonitorType,
    interval: Option<HumanDuration>,
    retry_interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
    max_attempts: Option<u32>,
    parent: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    packets: Option<u32>,
    packet_interval: Option<HumanDuration>,
    warn_loss: Option<f64>,
    crit_loss: Option<f64>,
    warn_rtt: Option<HumanDuration>,
    crit_rtt: Option<HumanDuration>,
    send: Option<String>,
    expect: Option<String>,
    tls: Option<bool>,
    tls_verify: Option<bool>,
    tls_ca: Option<PathBuf>,
    warn_time: Option<HumanDuration>,
    crit_time: Option<HumanDuration>,
    url: Option<String>,
    method: Option<HttpMethod>,
    headers: Option<BTreeMap<String, String>>,
    body: Option<String>,
    expect_status: Option<Vec<u16>>,
    body_contains: Option<String>,
    body_regex: Option<String>,
    json_path: Option<String>,
    json_value: Option<JsonExpect>,
    cert_expiry_warn: Option<HumanDuration>,
    cert_expiry_crit: Option<HumanDuration>,
    follow_redirects: Option<bool>,
    name: Option<String>,
    record_type: Option<String>,
    server: Option<String>,
    expect_answers: Option<Vec<String>>,
    expect_regex: Option<String>,
    expect_rcode: Option<String>,
    community: Option<String>,
    version: Option<SnmpVersion>,
    oids: Option<Vec<SnmpOid>>,
    metric: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    warn: Option<Threshold>,
    crit: Option<Threshold>,
}

/// DNS record types a `dns` monitor may ask for.
pub const DNS_RECORD_TYPES: &[&str] =
    &["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"];
/// DNS response codes a `dns` monitor may expect.
pub const DNS_RCODES: &[&str] = &[
    "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP",
];

fn dur(d: Option<HumanDuration>) -> Option<Duration> {
    d.map(|d| d.0)
}

fn required<T>(v: Option<T>, key: &str, ty: &str, example: &str) -> Result<T, String> {
    v.ok_or_else(|| format!("a {ty} monitor needs {key}, e.g. {key} = {example}"))
}

fn check_url(url: &str, key: &str) -> Result<(), String> {
    let ok =
        (url.starts_with("http://") || url.starts_with("https://")) && !url_host(url).is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{key} must be an http:// or https:// URL with a host, like \"https://shop.example.test/health\""
        ))
    }
}

/// `IP` or `IP:PORT` (IPv6 in brackets when a port is given), port 53 by default.
fn dns_server(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

fn check_regex(re: &Option<String>, key: &str) -> Result<(), String> {
    if let Some(re) = re {
        regex::Regex::new(re)
            .map_err(|e| format!("{key} is not a valid regular expression: {e}"))?;
    }
    Ok(())
}

fn check_oid(oid: &str) -> Result<(), String> {
    let parts: Vec<&str> = oid.trim_start_matches('.').split('.').collect();
    if parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        Ok(())
    } else {
        Err(format!(
            "oid {oid:?} is not a numeric OID; expected dotted numbers like \"1.3.6.1.2.1.1.3.0\""
        ))
    }
}

impl RawMonitor {
    /// The type-specific keys that were set, by name, for "does not apply" errors.
    fn set_keys(&self) -> Vec<&'static str> {
        let flags: [(&'static str, bool); 40] = [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("packets", self.packets.is_some()),
            ("packet_interval", self.packet_interval.is_some()),
            ("warn_loss", self.warn_loss.is_some()),
            ("crit_loss", self.crit_loss.is_some()),
            ("warn_rtt", self.warn_rtt.is_some()),
            ("crit_rtt", self.crit_rtt.is_some()),
            ("send", self.send.is_some()),
            ("expect", self.expect.is_some()),
            ("tls", self.tls.is_some()),
            ("tls_verify", self.tls_verify.is_some()),
            ("tls_ca", self.tls_ca.is_some()),
            ("warn_time", self.warn_time.is_some()),
            ("crit_time", self.crit_time.is_some()),
            ("url", self.url.is_some()),
            ("method", self.method.is_some()),
            ("headers", self.headers.is_some()),
            ("body", self.body.is_some()),
            ("expect_status", self.expect_status.is_some()),
            ("body_contains", self.body_contains.is_some()),
            ("body_regex", self.body_regex.is_some()),
            ("json_path", self.json_path.is_some()),
            ("json_value", self.json_value.is_some()),
            ("cert_expiry_warn", self.cert_expiry_warn.is_some()),
            ("cert_expiry_crit", self.cert_expiry_crit.is_some()),
            ("follow_redirects", self.follow_redirects.is_some()),
            ("name", self.name.is_some()),
            ("record_type", self.record_type.is_some()),
            ("server", self.server.is_some()),
            ("expect_answers", self.expect_answers.is_some()),
            ("expect_regex", self.expect_regex.is_some()),
            ("expect_rcode", self.expect_rcode.is_some()),
            ("community", self.community.is_some()),
            ("version", self.version.is_some()),
            ("oids", self.oids.is_some()),
            ("metric", self.metric.is_some()),
            ("labels", self.labels.is_some()),
            ("warn", self.warn.is_some()),
            ("crit", self.crit.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// The type-specific keys each monitor type accepts.
fn keys_of(kind: MonitorType) -> &'static [&'static str] {
    match kind {
        MonitorType::Icmp => &[
            "host",
            "packets",
            "packet_interval",
            "warn_loss",
            "crit_loss",
            "warn_rtt",
            "crit_rtt",
        ],
        MonitorType::Tcp => &[
            "host",
            "port",
            "send",
            "expect",
            "tls",
            "tls_verify",
            "tls_ca",
            "warn_time",
            "crit_time",
        ],
        MonitorType::Http => &[
            "url",
            "method",
            "headers",
            "body",
            "expect_status",
            "body_contains",
            "body_regex",
            "json_path",
            "json_value",
            "warn_time",
            "crit_time",
            "cert_expiry_warn",
            "cert_expiry_crit",
            "tls_verify",
            "tls_ca",
            "follow_redirects",
        ],
        MonitorType::Dns => &[
            "name",
            "record_type",
            "server",
            "expect_answers",
            "expect_regex",
            "expect_rcode",
            "warn_time",
            "crit_time",
        ],
        MonitorType::Snmp => &["host", "port", "community", "version", "oids"],
        MonitorType::Metrics => &["url", "metric", "labels", "warn", "crit"],
    }
}

impl TryFrom<RawMonitor> for MonitorConfig {
    type Error = String;

    fn try_from(raw: RawMonitor) -> Result<Self, String> {
        let kind = raw.kind;
        let ty = kind.name();
        let allowed = keys_of(kind);
        if let Some(key) = raw.set_keys().into_iter().find(|k| !allowed.contains(k)) {
            return Err(format!(
                "{key} does not apply to a {ty} monitor; its keys are {}",
                allowed.join(", ")
            ));
        }
        let interval = dur(raw.interval).unwrap_or(Duration::from_secs(60));
        if interval < Duration::from_millis(100) {
            return Err("interval must be at least 100ms, e.g. interval = \"30s\"".into());
        }
        let retry_interval = dur(raw.retry_interval).unwrap_or(interval);
        if retry_interval < Duration::from_millis(100) {
            return Err(
                "retry_interval must be at least 100ms, e.g. retry_interval = \"10s\"".into(),
            );
        }
        let timeout = dur(raw.timeout).unwrap_or(Duration::from_secs(10).min(interval));
        if timeout.is_zero() {
            return Err("timeout must be more than 0, e.g. timeout = \"10s\"".into());
        }
        let max_attempts = raw.max_attempts.unwrap_or(3);
        if max_attempts == 0 {
            return Err(
                "max_attempts must be at least 1 (1 makes every problem hard at once)".into(),
            );
        }
        let check = match kind {
            MonitorType::Icmp => {
                let packets = raw.packets.unwrap_or(3);
                if !(1..=100).contains(&packets) {
                    return Err("packets must be between 1 and 100".into());
                }
                let warn_loss = raw.warn_loss.unwrap_or(40.0);
                let crit_loss = raw.crit_loss.unwrap_or(80.0);
                for (k, v) in [("warn_loss", warn_loss), ("crit_loss", crit_loss)] {
                    if !(0.0..=100.0).contains(&v) {
                        return Err(format!("{k} is a percentage between 0 and 100"));
                    }
                }
                CheckConfig::Icmp(IcmpCheck {
                    host: required(raw.host, "host", ty, "\"192.0.2.1\"")?,
                    packets,
                    packet_interval: dur(raw.packet_interval).unwrap_or(Duration::from_millis(200)),
                    warn_loss,
                    crit_loss,
                    warn_rtt: dur(raw.warn_rtt).unwrap_or(Duration::from_millis(200)),
                    crit_rtt: dur(raw.crit_rtt).unwrap_or(Duration::from_millis(500)),
                })
            }
            MonitorType::Tcp => CheckConfig::Tcp(TcpCheck {
                host: required(raw.host, "host", ty, "\"db1.example.test\"")?,
                port: required(raw.port, "port", ty, "5432")?,
                send: raw.send,
                expect: raw.expect,
                tls: raw.tls.unwrap_or(false),
                tls_verify: raw.tls_verify.unwrap_or(true),
                tls_ca: raw.tls_ca,
                warn_time: dur(raw.warn_time),
                crit_time: dur(raw.crit_time),
            }),
            MonitorType::Http => {
                let url = required(raw.url, "url", ty, "\"https://shop.example.test/health\"")?;
                check_url(&url, "url")?;
                check_regex(&raw.body_regex, "body_regex")?;
                if raw.json_path.is_some() != raw.json_value.is_some() {
                    return Err("json_path and json_value go together, e.g. json_path = \"$.status\" and json_value = \"ok\"".into());
                }
                if let Some(p) = &raw.json_path
                    && !p.starts_with('$')
                {
                    return Err(format!(
                        "json_path {p:?} must start with $, like \"$.status\" or \"$.checks[0].ok\""
                    ));
                }
                if let Some(bad) = raw
                    .expect_status
                    .iter()
                    .flatten()
                    .find(|s| !(100..=599).contains(*s))
                {
                    return Err(format!(
                        "expect_status: {bad} is not an HTTP status code (100-599)"
                    ));
                }
                let method = raw.method.unwrap_or(HttpMethod::Get);
                if raw.body.is_some() && method != HttpMethod::Post {
                    return Err("body is sent only with method = \"POST\"".into());
                }
                CheckConfig::Http(HttpCheck {
                    url,
                    method,
                    headers: raw.headers.unwrap_or_default(),
                    body: raw.body,
                    expect_status: raw.expect_status.unwrap_or_default(),
                    body_contains: raw.body_contains,
                    body_regex: raw.body_regex,
                    json_path: raw.json_path,
                    json_value: raw.json_value,
                    warn_time: dur(raw.warn_time),
                    crit_time: dur(raw.crit_time),
                    cert_expiry_warn: dur(raw.cert_expiry_warn)
                        .unwrap_or(Duration::from_secs(21 * 86_400)),
                    cert_expiry_crit: dur(raw.cert_expiry_crit)
                        .unwrap_or(Duration::from_secs(7 * 86_400)),
                    tls_verify: raw.tls_verify.unwrap_or(true),
                    tls_ca: raw.tls_ca,
                    follow_redirects: raw.follow_redirects.unwrap_or(false),
                })
            }
            MonitorType::Dns => {
                let record_type = raw
                    .record_type
                    .unwrap_or_else(|| "A".into())
                    .to_ascii_uppercase();
                if !DNS_RECORD_TYPES.contains(&record_type.as_str()) {
                    return Err(format!(
                        "record_type {record_type:?} is not supported; use one of {}",
                        DNS_RECORD_TYPES.join(", ")
                    ));
                }
                let expect_rcode = raw
                    .expect_rcode
                    .unwrap_or_else(|| "NOERROR".into())
                    .to_ascii_uppercase();
                if !DNS_RCODES.contains(&expect_rcode.as_str()) {
                    return Err(format!(
                        "expect_rcode must be one of {}",
                        DNS_RCODES.join(", ")
                    ));
                }
                check_regex(&raw.expect_regex, "expect_regex")?;
                let server = match &raw.server {
                    Some(s) => Some(dns_server(s).ok_or_else(|| {
                        format!(
                            "server {s:?} must be an IP address or IP:PORT, like \"192.0.2.53\" or \"127.0.0.1:5353\""
                        )
                    })?),
                    None => None,
                };
                CheckConfig::Dns(DnsCheck {
                    name: required(raw.name, "name", ty, "\"www.example.test\"")?,
                    record_type,
                    server,
                    expect_answers: raw.expect_answers.unwrap_or_default(),
                    expect_regex: raw.expect_regex,
                    expect_rcode,
                    warn_time: dur(raw.warn_time),
                    crit_time: dur(raw.crit_time),
                })
            }
            MonitorType::Snmp => {
                let oids = required(
                    raw.oids,
                    "oids",
                    ty,
                    "[{ oid = \"1.3.6.1.2.1.1.3.0\", label = \"uptime\" }]",
                )?;
                if oids.is_empty() {
                    return Err("oids must list at least one OID".into());
                }
                for o in &oids {
                    check_oid(&o.oid)?;
                }
                CheckConfig::Snmp(SnmpCheck {
                    host: required(raw.host, "host", ty, "\"192.0.2.10\"")?,
                    port: raw.port.unwrap_or(161),
                    community: raw.community.unwrap_or_else(|| "public".into()),
                    version: raw.version.unwrap_or(SnmpVersion::V2c),
                    oids,
                })
            }
            MonitorType::Metrics => {
                let url = required(raw.url, "url", ty, "\"http://127.0.0.1:9100/metrics\"")?;
                check_url(&url, "url")?;
                CheckConfig::Metrics(MetricsCheck {
                    url,
                    metric: required(raw.metric, "metric", ty, "\"node_load1\"")?,
                    labels: raw.labels.unwrap_or_default(),
                    warn: raw.warn,
                    crit: raw.crit,
                })
            }
        };
        Ok(MonitorConfig {
            check,
            interval,
            retry_interval,
            timeout,
            max_attempts,
            parent: raw.parent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_host_forms() {
        assert_eq!(
            url_host("https://shop.example.test/health"),
            "shop.example.test"
        );
        assert_eq!(url_host("http://127.0.0.1:8080/x?y"), "127.0.0.1");
        assert_eq!(url_host("http://[::1]:80/"), "::1");
        assert_eq!(url_host("http://u:p@h.test:1"), "h.test");
        assert_eq!(url_port("http://u:p@h.test:1/x"), 1);
        assert_eq!(url_port("https://h.test/x:9"), 443);
        assert_eq!(url_port("http://[::1]/"), 80);
        assert_eq!(url_port("http://[::1]:8080/"), 8080);
    }

    #[test]
    fn dns_server_forms() {
        let addr = |s: &str| s.parse::<SocketAddr>().ok();
        assert_eq!(dns_server("192.0.2.53"), addr("192.0.2.53:53"));
        assert_eq!(dns_server("127.0.0.1:5353"), addr("127.0.0.1:5353"));
        assert_eq!(dns_server("[::1]:5353"), addr("[::1]:5353"));
        assert_eq!(dns_server("::1"), addr("[::1]:53"));
        assert_eq!(dns_server("dns.test"), None);
    }
}
