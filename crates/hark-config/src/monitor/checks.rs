//! One struct per check type: the keys it takes, their defaults, and the
//! rules between them ([`Check::validate`]). Values are typed when the
//! file is read (URLs, OIDs, regular expressions, durations, thresholds).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use hark_proto::snmp::Oid;
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

use crate::threshold::Threshold;
use crate::units::{duration, duration_opt};
use crate::url::HttpUrl;

/// A check struct: its keys are deserialized strictly, then the rules
/// between them are checked. On failure `validate` names the key to blame.
pub(crate) trait Check: DeserializeOwned {
    /// Checks what one key's type cannot.
    fn validate(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// `type = "icmp"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcmpCheck {
    /// Address or name (IPv4 or IPv6).
    pub host: String,
    /// Echo requests per check.
    #[serde(default = "default_packets")]
    pub packets: u32,
    /// Time between echo requests.
    #[serde(default = "default_packet_interval", deserialize_with = "duration")]
    pub packet_interval: Duration,
    /// Loss percentage at or above which the result is WARN.
    #[serde(default = "default_warn_loss")]
    pub warn_loss: f64,
    /// Loss percentage at or above which the host is DOWN.
    #[serde(default = "default_crit_loss")]
    pub crit_loss: f64,
    /// Average round-trip time at or above which the result is WARN.
    #[serde(default = "default_warn_rtt", deserialize_with = "duration")]
    pub warn_rtt: Duration,
    /// Average round-trip time at or above which the host is DOWN.
    #[serde(default = "default_crit_rtt", deserialize_with = "duration")]
    pub crit_rtt: Duration,
}

impl Check for IcmpCheck {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=100).contains(&self.packets) {
            return Err(("packets", "packets must be between 1 and 100".into()));
        }
        for (k, v) in [("warn_loss", self.warn_loss), ("crit_loss", self.crit_loss)] {
            if !(0.0..=100.0).contains(&v) {
                return Err((k, format!("{k} is a percentage between 0 and 100")));
            }
        }
        Ok(())
    }
}

/// `type = "tcp"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default)]
    pub tls: bool,
    /// With `tls`: an invalid certificate chain or hostname is CRIT.
    #[serde(default = "yes")]
    pub tls_verify: bool,
    /// CA bundle (PEM) trusted besides the system's roots.
    pub tls_ca: Option<PathBuf>,
    /// Connect time at or above which the result is WARN.
    #[serde(default, deserialize_with = "duration_opt")]
    pub warn_time: Option<Duration>,
    /// Connect time at or above which the result is CRIT.
    #[serde(default, deserialize_with = "duration_opt")]
    pub crit_time: Option<Duration>,
}

impl Check for TcpCheck {}

/// HTTP method of an `http` monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET.
    #[default]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// `http://` or `https://` URL.
    pub url: HttpUrl,
    /// Request method.
    #[serde(default)]
    pub method: HttpMethod,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body (POST).
    pub body: Option<String>,
    /// Accepted status codes; empty means any 2xx or 3xx.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// The body must contain this.
    pub body_contains: Option<String>,
    /// The body must match this regular expression.
    #[serde(default, deserialize_with = "body_regex")]
    pub body_regex: Option<Regex>,
    /// A JSON path (`$.a.b[0]`) in the body whose value must equal `json_value`.
    pub json_path: Option<String>,
    /// The value expected at `json_path`.
    pub json_value: Option<JsonExpect>,
    /// Total time at or above which the result is WARN.
    #[serde(default, deserialize_with = "duration_opt")]
    pub warn_time: Option<Duration>,
    /// Total time at or above which the result is CRIT.
    #[serde(default, deserialize_with = "duration_opt")]
    pub crit_time: Option<Duration>,
    /// Fewer days than this before the certificate expires is WARN (HTTPS).
    #[serde(default = "default_cert_expiry_warn", deserialize_with = "duration")]
    pub cert_expiry_warn: Duration,
    /// Fewer days than this before the certificate expires is CRIT (HTTPS).
    #[serde(default = "default_cert_expiry_crit", deserialize_with = "duration")]
    pub cert_expiry_crit: Duration,
    /// An invalid chain or hostname is CRIT (HTTPS); expiry is checked either way.
    #[serde(default = "yes")]
    pub tls_verify: bool,
    /// CA bundle (PEM) trusted besides the system's roots.
    pub tls_ca: Option<PathBuf>,
    /// Follow up to 10 redirects instead of judging the first response.
    #[serde(default)]
    pub follow_redirects: bool,
}

impl Check for HttpCheck {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.json_path.is_some() != self.json_value.is_some() {
            let key = if self.json_path.is_some() {
                "json_path"
            } else {
                "json_value"
            };
            return Err((
                key,
                "json_path and json_value go together, e.g. json_path = \"$.status\" and json_value = \"ok\"".into(),
            ));
        }
        if let Some(p) = &self.json_path
            && !p.starts_with('$')
        {
            return Err((
                "json_path",
                format!(
                    "json_path {p:?} must start with $, like \"$.status\" or \"$.checks[0].ok\""
                ),
            ));
        }
        if let Some(bad) = self
            .expect_status
            .iter()
            .find(|s| !(100..=599).contains(*s))
        {
            return Err((
                "expect_status",
                format!("expect_status: {bad} is not an HTTP status code (100-599)"),
            ));
        }
        if self.body.is_some() && self.method != HttpMethod::Post {
            return Err(("body", "body is sent only with method = \"POST\"".into()));
        }
        Ok(())
    }
}

/// A DNS record type a `dns` monitor may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsRecordType {
    /// IPv4 address.
    #[default]
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Name server.
    Ns,
    /// Pointer (reverse lookup).
    Ptr,
    /// Start of authority.
    Soa,
    /// Service locator.
    Srv,
    /// Text.
    Txt,
}

impl DnsRecordType {
    /// Every record type, in the order errors list them.
    pub const ALL: &[DnsRecordType] = &[
        DnsRecordType::A,
        DnsRecordType::Aaaa,
        DnsRecordType::Cname,
        DnsRecordType::Mx,
        DnsRecordType::Ns,
        DnsRecordType::Ptr,
        DnsRecordType::Soa,
        DnsRecordType::Srv,
        DnsRecordType::Txt,
    ];

    /// The name as DNS tools write it: `A`, `AAAA`, `MX`, ...
    pub fn name(self) -> &'static str {
        match self {
            DnsRecordType::A => "A",
            DnsRecordType::Aaaa => "AAAA",
            DnsRecordType::Cname => "CNAME",
            DnsRecordType::Mx => "MX",
            DnsRecordType::Ns => "NS",
            DnsRecordType::Ptr => "PTR",
            DnsRecordType::Soa => "SOA",
            DnsRecordType::Srv => "SRV",
            DnsRecordType::Txt => "TXT",
        }
    }
}

/// A DNS response code a `dns` monitor may expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnsRcode {
    /// The name exists (answers may still be empty).
    #[default]
    NoError,
    /// The name does not exist.
    NxDomain,
    /// The server failed.
    ServFail,
    /// The server refused.
    Refused,
    /// The query was malformed.
    FormErr,
    /// The server does not implement the query.
    NotImp,
}

impl DnsRcode {
    /// Every response code, in the order errors list them.
    pub const ALL: &[DnsRcode] = &[
        DnsRcode::NoError,
        DnsRcode::NxDomain,
        DnsRcode::ServFail,
        DnsRcode::Refused,
        DnsRcode::FormErr,
        DnsRcode::NotImp,
    ];

    /// The name as DNS tools write it: `NOERROR`, `NXDOMAIN`, ...
    pub fn name(self) -> &'static str {
        match self {
            DnsRcode::NoError => "NOERROR",
            DnsRcode::NxDomain => "NXDOMAIN",
            DnsRcode::ServFail => "SERVFAIL",
            DnsRcode::Refused => "REFUSED",
            DnsRcode::FormErr => "FORMERR",
            DnsRcode::NotImp => "NOTIMP",
        }
    }
}

macro_rules! named_enum {
    ($ty:ty, $what:literal, $key:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = String;

            /// Case-insensitive, as DNS tools accept it.
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
                        format!(
                            concat!($key, " {:?} is not ", $what, "; use one of {}"),
                            s,
                            names.join(", ")
                        )
                    })
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(de::Error::custom)
            }
        }
    };
}

named_enum!(DnsRecordType, "a supported record type", "record_type");
named_enum!(DnsRcode, "a DNS response code", "expect_rcode");

/// `type = "dns"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsCheck {
    /// The name queried.
    pub name: String,
    /// Record type.
    #[serde(default)]
    pub record_type: DnsRecordType,
    /// The server asked (written `IP` or `IP:PORT`, port 53 by default);
    /// the system resolver when unset.
    #[serde(default, deserialize_with = "dns_server")]
    pub server: Option<SocketAddr>,
    /// Each of these must be among the answers (as the record's text form).
    #[serde(default)]
    pub expect_answers: Vec<String>,
    /// Some answer must match this regular expression.
    #[serde(default, deserialize_with = "expect_regex")]
    pub expect_regex: Option<Regex>,
    /// The response code expected (NOERROR by default; NXDOMAIN to check absence).
    #[serde(default)]
    pub expect_rcode: DnsRcode,
    /// Response time at or above which the result is WARN.
    #[serde(default, deserialize_with = "duration_opt")]
    pub warn_time: Option<Duration>,
    /// Response time at or above which the result is CRIT.
    #[serde(default, deserialize_with = "duration_opt")]
    pub crit_time: Option<Duration>,
}

impl Check for DnsCheck {}

/// One OID polled by an `snmp` monitor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpOid {
    /// The object identifier, written dotted like "1.3.6.1.2.1.1.3.0".
    #[serde(deserialize_with = "oid")]
    pub oid: Oid,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum SnmpVersion {
    /// SNMPv1.
    #[serde(rename = "1")]
    V1,
    /// SNMPv2c.
    #[default]
    #[serde(rename = "2c")]
    V2c,
}

/// `type = "snmp"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpCheck {
    /// Agent address or name.
    pub host: String,
    /// Agent UDP port.
    #[serde(default = "default_snmp_port")]
    pub port: u16,
    /// Community string.
    #[serde(default = "default_community")]
    pub community: String,
    /// Protocol version.
    #[serde(default)]
    pub version: SnmpVersion,
    /// The OIDs fetched in one GET.
    pub oids: Vec<SnmpOid>,
}

impl Check for SnmpCheck {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.oids.is_empty() {
            return Err(("oids", "oids must list at least one OID".into()));
        }
        Ok(())
    }
}

/// `type = "metrics"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsCheck {
    /// URL of the Prometheus text endpoint.
    pub url: HttpUrl,
    /// Metric name.
    pub metric: String,
    /// Labels the sample must have (exact values).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Threshold for WARN.
    pub warn: Option<Threshold>,
    /// Threshold for CRIT.
    pub crit: Option<Threshold>,
}

impl Check for MetricsCheck {}

/// A regular expression for key `key`, compiled once.
fn regex_for<'de, D: Deserializer<'de>>(d: D, key: &str) -> Result<Option<Regex>, D::Error> {
    let s = String::deserialize(d)?;
    Regex::new(&s)
        .map(Some)
        .map_err(|e| de::Error::custom(format!("{key} is not a valid regular expression: {e}")))
}

fn body_regex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Regex>, D::Error> {
    regex_for(d, "body_regex")
}

fn expect_regex<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Regex>, D::Error> {
    regex_for(d, "expect_regex")
}

fn oid<'de, D: Deserializer<'de>>(d: D) -> Result<Oid, D::Error> {
    let s = String::deserialize(d)?;
    s.trim().parse().map_err(|_| {
        de::Error::custom(format!(
            "oid {s:?} is not a numeric OID; expected dotted numbers like \"1.3.6.1.2.1.1.3.0\""
        ))
    })
}

/// `IP` or `IP:PORT` (IPv6 in brackets when a port is given), port 53 by default.
fn dns_server<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let s = String::deserialize(d)?;
    parse_dns_server(&s).map(Some).ok_or_else(|| {
        de::Error::custom(format!(
            "server {s:?} must be an IP address or IP:PORT, like \"192.0.2.53\" or \"127.0.0.1:5353\""
        ))
    })
}

fn parse_dns_server(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

fn yes() -> bool {
    true
}
fn default_packets() -> u32 {
    3
}
fn default_packet_interval() -> Duration {
    Duration::from_millis(200)
}
fn default_warn_loss() -> f64 {
    40.0
}
fn default_crit_loss() -> f64 {
    80.0
}
fn default_warn_rtt() -> Duration {
    Duration::from_millis(200)
}
fn default_crit_rtt() -> Duration {
    Duration::from_millis(500)
}
fn default_cert_expiry_warn() -> Duration {
    Duration::from_secs(21 * 86_400)
}
fn default_cert_expiry_crit() -> Duration {
    Duration::from_secs(7 * 86_400)
}
fn default_snmp_port() -> u16 {
    161
}
fn default_community() -> String {
    "public".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_server_forms() {
        let addr = |s: &str| s.parse::<SocketAddr>().ok();
        assert_eq!(parse_dns_server("192.0.2.53"), addr("192.0.2.53:53"));
        assert_eq!(parse_dns_server("127.0.0.1:5353"), addr("127.0.0.1:5353"));
        assert_eq!(parse_dns_server("[::1]:5353"), addr("[::1]:5353"));
        assert_eq!(parse_dns_server("::1"), addr("[::1]:53"));
        assert_eq!(parse_dns_server("dns.test"), None);
    }

    #[test]
    fn dns_names_parse_in_any_case() {
        assert_eq!("aaaa".parse(), Ok(DnsRecordType::Aaaa));
        assert_eq!("nxdomain".parse(), Ok(DnsRcode::NxDomain));
        for t in DnsRecordType::ALL {
            assert_eq!(t.name().parse(), Ok(*t));
        }
        for r in DnsRcode::ALL {
            assert_eq!(r.name().parse(), Ok(*r));
        }
        assert!("AXFR".parse::<DnsRecordType>().is_err());
    }
}
