//! `[outputs.NAME]`: destinations that selected events are forwarded to.
//!
//! Every output table has a `type` and the keys of [`OutputKeys`] (`query`);
//! the other keys are those of the type's struct ([`SyslogOutput`],
//! [`RelpOutput`], [`HttpOutput`], [`GelfOutput`], [`BeatsOutput`]). A key
//! of another type is an error that names the type it belongs to. The
//! query is compiled when the output starts (it needs the store's schema);
//! a query that does not compile stops the start with an error naming
//! `outputs.NAME.query`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::table::{
    self, Located, Node, Spans, fields_of, first_key, name_missing_key, split_off, take_tag,
};
use crate::url::HttpUrl;

/// Longest output name: the WAL reader `output-NAME` must fit in 64 characters.
pub const MAX_OUTPUT_NAME: usize = 57;

/// What kind of destination an `[outputs.NAME]` table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    /// Syslog over UDP, TCP or TLS.
    Syslog,
    /// RELP (acknowledged), plain or TLS.
    Relp,
    /// NDJSON batches POSTed over HTTP(S).
    Http,
    /// GELF over UDP (chunked) or TCP.
    Gelf,
    /// Beats (Lumberjack v2, acknowledged), plain or TLS.
    Beats,
}

impl OutputType {
    /// Every variant.
    pub const ALL: &[OutputType] = &[
        OutputType::Syslog,
        OutputType::Relp,
        OutputType::Http,
        OutputType::Gelf,
        OutputType::Beats,
    ];

    /// The name written as `type`.
    pub fn name(self) -> &'static str {
        match self {
            OutputType::Syslog => "syslog",
            OutputType::Relp => "relp",
            OutputType::Http => "http",
            OutputType::Gelf => "gelf",
            OutputType::Beats => "beats",
        }
    }

    /// The keys of this type's struct.
    fn keys(self) -> &'static [&'static str] {
        match self {
            OutputType::Syslog => fields_of::<SyslogOutput>(),
            OutputType::Relp => fields_of::<RelpOutput>(),
            OutputType::Http => fields_of::<HttpOutput>(),
            OutputType::Gelf => fields_of::<GelfOutput>(),
            OutputType::Beats => fields_of::<BeatsOutput>(),
        }
    }
}

/// One named output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputConfig {
    /// Which events go out (the search syntax); all when absent.
    pub query: Option<String>,
    /// The type and its settings.
    pub destination: OutputDestination,
}

/// The type-specific part of an output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputDestination {
    /// `type = "syslog"`.
    Syslog(SyslogOutput),
    /// `type = "relp"`.
    Relp(RelpOutput),
    /// `type = "http"`.
    Http(HttpOutput),
    /// `type = "gelf"`.
    Gelf(GelfOutput),
    /// `type = "beats"`.
    Beats(BeatsOutput),
}

/// The keys every output takes, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutputKeys {
    #[serde(default)]
    query: Option<String>,
}

/// A destination written `host:port` (`[v6]:port` for an IPv6 address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP address, without brackets.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl Target {
    /// Parses `host:port`; the error says what is wrong and shows the form.
    pub fn parse(text: &str) -> Result<Target, String> {
        let bad = |why: &str| {
            format!(
                "bad target {text:?}: {why}; expected host:port, e.g. target = \"siem.example.test:6514\""
            )
        };
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| bad("no `]` after the IPv6 address"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("no port after the address"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address in brackets"));
            }
            (host, port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("no port"))?;
            if host.contains(':') {
                return Err(bad("write an IPv6 address in brackets"));
            }
            (host, port)
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '@')
        {
            return Err(bad("the host holds a space, `/` or `@`"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(Target {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s).map_err(de::Error::custom)
    }
}

/// How events are written for a syslog or RELP output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// RFC 5424, keeping the event's header fields and its `sd.*` fields
    /// as structured data.
    #[default]
    Rfc5424,
    /// RFC 3164 (BSD syslog).
    Rfc3164,
    /// One ECS-shaped JSON object per event, as the syslog message.
    Json,
    /// ArcSight CEF, as the syslog message.
    Cef,
}

impl OutputFormat {
    /// The name written as `format`.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Rfc5424 => "rfc5424",
            OutputFormat::Rfc3164 => "rfc3164",
            OutputFormat::Json => "json",
            OutputFormat::Cef => "cef",
        }
    }
}

/// The transport of a syslog output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogOutputTransport {
    /// One datagram per event, fire and forget.
    Udp,
    /// Octet-counted frames over TCP (RFC 6587).
    Tcp,
    /// Octet-counted frames over TLS (RFC 5425).
    Tls,
}

/// `type = "syslog"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogOutput {
    /// UDP, TCP or TLS.
    pub transport: SyslogOutputTransport,
    /// Where to send.
    pub target: Target,
    /// How events are written.
    #[serde(default)]
    pub format: OutputFormat,
    /// A CA bundle (PEM) trusted besides the system's roots (TLS only).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) for receivers that ask for one
    /// (mutual TLS); with `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// `type = "relp"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelpOutput {
    /// Where to send.
    pub target: Target,
    /// How events are written.
    #[serde(default)]
    pub format: OutputFormat,
    /// RELP over TLS.
    #[serde(default)]
    pub tls: bool,
    /// A CA bundle (PEM) trusted besides the system's roots (with `tls`).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) for receivers that ask for one
    /// (mutual TLS); with `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// The body of an HTTP output: only NDJSON of ECS-shaped events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HttpFormat {
    /// One ECS-shaped JSON object per line.
    #[default]
    Json,
}

/// `type = "http"`: NDJSON batches POSTed to `url`, delivered on a 2xx.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpOutput {
    /// Where to POST.
    pub url: HttpUrl,
    /// The body's format.
    #[serde(default)]
    pub format: HttpFormat,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A file holding a bearer token, sent as `Authorization: Bearer …`.
    #[serde(default)]
    pub auth_token_file: Option<PathBuf>,
    /// Compress bodies with gzip (`Content-Encoding: gzip`).
    #[serde(default)]
    pub gzip: bool,
    /// A CA bundle (PEM) trusted besides the system's roots (https only).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) for receivers that ask for one
    /// (mutual TLS); with `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// The transport of a GELF output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GelfOutputTransport {
    /// Datagrams, chunked when large; fire and forget.
    Udp,
    /// NUL-delimited over TCP.
    Tcp,
}

/// `type = "gelf"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GelfOutput {
    /// UDP or TCP.
    pub transport: GelfOutputTransport,
    /// Where to send.
    pub target: Target,
}

/// `type = "beats"`: Lumberjack v2 windows, delivered on their ack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeatsOutput {
    /// Where to send.
    pub target: Target,
    /// Lumberjack over TLS.
    #[serde(default)]
    pub tls: bool,
    /// A CA bundle (PEM) trusted besides the system's roots (with `tls`).
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) for receivers that ask for one
    /// (mutual TLS); with `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

impl OutputConfig {
    /// The type of the output.
    pub fn kind(&self) -> OutputType {
        match &self.destination {
            OutputDestination::Syslog(_) => OutputType::Syslog,
            OutputDestination::Relp(_) => OutputType::Relp,
            OutputDestination::Http(_) => OutputType::Http,
            OutputDestination::Gelf(_) => OutputType::Gelf,
            OutputDestination::Beats(_) => OutputType::Beats,
        }
    }

    /// Reads the table of output `name`.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let mut t = table::table(node, &format!("outputs.{name}"))?;
        if let Err(why) = check_name(name) {
            return Err(Located::new(t.span(), why));
        }
        let kind = take_tag(&mut t, "output", OutputType::ALL, OutputType::name)?;
        let at = |key: &str, message: String| spans.error(&["outputs", name, key], message);

        let common = split_off(&mut t, fields_of::<OutputKeys>());
        let own = split_off(&mut t, kind.keys());
        if let Some((key, span)) = first_key(t.get_ref()) {
            return Err(Located::new(span, not_applicable(kind, &key)));
        }
        let OutputKeys { query } = table::value(table::node(common))?;
        if query.as_deref().is_some_and(|q| q.trim().is_empty()) {
            return Err(at(
                "query",
                "query is empty; leave it out to forward every event, or write one, e.g. query = \"severity_code:[0 TO 4]\"".into(),
            ));
        }
        let own = table::node(own);
        let missing = |e| name_missing_key(e, kind.name(), "output", kind.keys());
        // The TLS files of an output over TLS (`on`), which `ty` turns on.
        let tls_files = |on: bool,
                         ty: &str,
                         ca: &Option<PathBuf>,
                         cert: &Option<PathBuf>,
                         key: &Option<PathBuf>| {
            let set = [("tls_ca", ca), ("tls_cert", cert), ("tls_key", key)];
            if let Some((k, _)) = set.iter().find(|(_, v)| v.is_some()).filter(|_| !on) {
                return Err(at(
                    k,
                    format!("{k} applies only over TLS; set {ty} or remove {k}"),
                ));
            }
            match (cert, key) {
                (Some(_), None) => Err(at(
                    "tls_cert",
                    "tls_cert needs tls_key, the file of its private key".into(),
                )),
                (None, Some(_)) => Err(at(
                    "tls_key",
                    "tls_key needs tls_cert, the file of its certificate chain".into(),
                )),
                _ => Ok(()),
            }
        };
        let destination = match kind {
            OutputType::Syslog => {
                let o: SyslogOutput = table::value(own).map_err(missing)?;
                let on = o.transport == SyslogOutputTransport::Tls;
                tls_files(
                    on,
                    "transport = \"tls\"",
                    &o.tls_ca,
                    &o.tls_cert,
                    &o.tls_key,
                )?;
                OutputDestination::Syslog(o)
            }
            OutputType::Relp => {
                let o: RelpOutput = table::value(own).map_err(missing)?;
                tls_files(o.tls, "tls = true", &o.tls_ca, &o.tls_cert, &o.tls_key)?;
                OutputDestination::Relp(o)
            }
            OutputType::Http => {
                let o: HttpOutput = table::value(own).map_err(missing)?;
                let on = o.url.is_https();
                tls_files(on, "an https:// url", &o.tls_ca, &o.tls_cert, &o.tls_key)?;
                if let Some(bad) = o.headers.keys().find(|h| !is_header_name(h)) {
                    return Err(at(
                        "headers",
                        format!("header name {bad:?} is not a valid HTTP header name"),
                    ));
                }
                OutputDestination::Http(o)
            }
            OutputType::Gelf => OutputDestination::Gelf(table::value(own).map_err(missing)?),
            OutputType::Beats => {
                let o: BeatsOutput = table::value(own).map_err(missing)?;
                tls_files(o.tls, "tls = true", &o.tls_ca, &o.tls_cert, &o.tls_key)?;
                OutputDestination::Beats(o)
            }
        };
        Ok(OutputConfig { query, destination })
    }
}

/// Output names become WAL reader names: letters, digits, `-` and `_`.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_OUTPUT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "[outputs.{name}]: an output name is 1 to {MAX_OUTPUT_NAME} letters, digits, `-` or `_`, e.g. [outputs.siem]"
        ))
    }
}

/// An HTTP token (RFC 9110): the characters a header name may hold.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The error for `key` in an output of `kind` that does not take it.
fn not_applicable(kind: OutputType, key: &str) -> String {
    let mut common = vec!["type"];
    common.extend(fields_of::<OutputKeys>());
    let owner = OutputType::ALL
        .iter()
        .find(|t| t.keys().contains(&key))
        .map(|t| t.name());
    table::key_not_applicable("output", kind.name(), key, owner, &common, kind.keys())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn err(text: &str) -> String {
        match Config::from_toml_str("hark.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn documented_outputs_parse_with_their_defaults() {
        let cfg = Config::from_toml_str(
            "hark.toml",
            r#"
[outputs.siem]
type = "syslog"
transport = "tls"
target = "siem.example.test:6514"
query = 'severity_code:[0 TO 4] OR app:sshd'
format = "rfc5424"
tls_ca = "/etc/hark/siem-ca.pem"

[outputs.relay]
type = "relp"
target = "[::1]:2514"

[outputs.lake]
type = "http"
url = "https://lake.example.test/ingest"
gzip = true
headers = { "X-Tenant" = "ops" }
auth_token_file = "/etc/hark/lake.token"

[outputs.graylog]
type = "gelf"
transport = "udp"
target = "graylog.example.test:12201"

[outputs.logstash]
type = "beats"
target = "10.0.0.5:5044"
tls = true
"#,
        )
        .unwrap();
        let siem = &cfg.outputs["siem"];
        assert_eq!(siem.kind(), OutputType::Syslog);
        assert_eq!(
            siem.query.as_deref(),
            Some("severity_code:[0 TO 4] OR app:sshd")
        );
        let OutputDestination::Syslog(s) = &siem.destination else {
            panic!("siem is syslog")
        };
        assert_eq!(s.transport, SyslogOutputTransport::Tls);
        assert_eq!(s.target.to_string(), "siem.example.test:6514");
        let OutputDestination::Relp(r) = &cfg.outputs["relay"].destination else {
            panic!("relay is relp")
        };
        assert_eq!((r.target.host.as_str(), r.target.port), ("::1", 2514));
        assert_eq!(r.target.to_string(), "[::1]:2514");
        assert_eq!(r.format, OutputFormat::Rfc5424);
        assert!(!r.tls);
        let OutputDestination::Http(h) = &cfg.outputs["lake"].destination else {
            panic!("lake is http")
        };
        assert!(h.gzip);
        assert_eq!(h.headers["X-Tenant"], "ops");
        assert_eq!(cfg.outputs["graylog"].kind(), OutputType::Gelf);
        assert_eq!(cfg.outputs["logstash"].kind(), OutputType::Beats);
        assert!(Config::default().outputs.is_empty());
    }

    #[test]
    fn a_bad_target_is_blamed_at_its_line_with_the_form() {
        for bad in [
            "siem",
            "siem:",
            ":514",
            "siem:99999",
            "siem:0",
            "::1:514",
            "a b:1",
        ] {
            let e = err(&format!(
                "[outputs.o]\ntype = \"syslog\"\ntransport = \"tcp\"\ntarget = \"{bad}\"\n"
            ));
            assert!(e.starts_with("hark.toml:4:"), "{bad}: {e}");
            assert!(e.contains("expected host:port"), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_types_formats_and_keys_of_other_types_are_refused() {
        let e = err("[outputs.o]\ntype = \"kafka\"\n");
        assert!(
            e.contains("`syslog`, `relp`, `http`, `gelf`, `beats`"),
            "{e}"
        );
        // A format the type cannot write.
        let e = err("[outputs.o]\ntype = \"http\"\nurl = \"http://h/\"\nformat = \"cef\"\n");
        assert!(e.starts_with("hark.toml:4:"), "{e}");
        assert!(e.contains("expected `json`"), "{e}");
        let e = err(
            "[outputs.o]\ntype = \"gelf\"\ntransport = \"udp\"\ntarget = \"h:1\"\nformat = \"json\"\n",
        );
        assert!(e.starts_with("hark.toml:5:1:"), "{e}");
        assert!(e.contains("format does not apply to a gelf output"), "{e}");
        let e = err(
            "[outputs.o]\ntype = \"syslog\"\ntransport = \"udp\"\ntarget = \"h:1\"\nformat = \"xml\"\n",
        );
        assert!(
            e.contains("`rfc5424`, `rfc3164`, `json` or `cef`") || e.contains("rfc5424"),
            "{e}"
        );
        let e = err("[outputs.o]\ntype = \"syslog\"\ntransport = \"sctp\"\ntarget = \"h:1\"\n");
        assert!(e.starts_with("hark.toml:3:"), "{e}");
        let e = err("[outputs.o]\ntype = \"syslog\"\ntransport = \"udp\"\n");
        assert!(e.contains("a syslog output needs target"), "{e}");
    }

    #[test]
    fn tls_ca_without_tls_empty_queries_and_bad_names_are_refused() {
        let e = err(
            "[outputs.o]\ntype = \"syslog\"\ntransport = \"tcp\"\ntarget = \"h:1\"\ntls_ca = \"/ca.pem\"\n",
        );
        assert!(e.starts_with("hark.toml:5:1:"), "{e}");
        assert!(e.contains("tls_ca applies only over TLS"), "{e}");
        let e = err("[outputs.o]\ntype = \"relp\"\ntarget = \"h:1\"\ntls_ca = \"/ca.pem\"\n");
        assert!(e.contains("tls = true"), "{e}");
        let e = err("[outputs.o]\ntype = \"relp\"\ntarget = \"h:1\"\nquery = \" \"\n");
        assert!(e.starts_with("hark.toml:4:1:"), "{e}");
        let e = err("[outputs.\"a.b\"]\ntype = \"relp\"\ntarget = \"h:1\"\n");
        assert!(e.contains("an output name is"), "{e}");
        let e = err(
            "[outputs.o]\ntype = \"http\"\nurl = \"http://h/\"\nheaders = { \"bad header\" = \"x\" }\n",
        );
        assert!(e.contains("not a valid HTTP header name"), "{e}");
    }

    #[test]
    fn a_client_certificate_needs_its_key_and_tls() {
        let relp = "[outputs.o]\ntype = \"relp\"\ntarget = \"h:1\"\n";
        let e = err(&format!("{relp}tls = true\ntls_cert = \"/c.pem\"\n"));
        assert!(e.starts_with("hark.toml:5:1:"), "{e}");
        assert!(e.contains("tls_cert needs tls_key"), "{e}");
        let e = err(&format!("{relp}tls = true\ntls_key = \"/k.pem\"\n"));
        assert!(e.contains("tls_key needs tls_cert"), "{e}");
        let e = err(&format!(
            "{relp}tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n"
        ));
        assert!(
            e.contains("tls_cert applies only over TLS; set tls = true"),
            "{e}"
        );
        let cfg = Config::from_toml_str(
            "hark.toml",
            &format!("{relp}tls = true\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n"),
        )
        .unwrap();
        let OutputDestination::Relp(o) = &cfg.outputs["o"].destination else {
            panic!("not relp")
        };
        assert_eq!(o.tls_key.as_deref(), Some(std::path::Path::new("/k.pem")));
    }
}
