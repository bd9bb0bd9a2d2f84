//! `[http]` (the web server's address and TLS) and `[auth]` (sessions of
//! the web UI, and signing in through LDAP or Active Directory).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::units::duration;

/// Not a role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use viewer, operator or admin")]
pub struct UnknownRole(pub String);

/// What a principal (a user or an API token) may do. Each role may do
/// everything the roles before it may: `Viewer < Operator < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only: search, tail, monitors, downtimes, metrics.
    Viewer,
    /// A viewer that also acts: acknowledges problems and alerts, schedules
    /// downtimes and silences, runs checks, edits alert rules.
    Operator,
    /// Everything, including ingest, users and tokens of others.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The lower-case name (`viewer`, `operator`, `admin`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }

    /// Whether this role may send events.
    pub fn can_ingest(self) -> bool {
        self.includes(Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.name() == wanted)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The HTTP server: API, web UI and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// HTTPS, or plain HTTP when `None`.
    pub tls: Option<HttpTls>,
    /// Serve plain HTTP on an address other machines can reach.
    pub allow_plain_http: bool,
}

/// Where the HTTPS certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTls {
    /// PEM files: the chain and its private key.
    Files {
        /// Certificate chain, PEM.
        cert: PathBuf,
        /// Private key, PEM.
        key: PathBuf,
    },
    /// A certificate made on the first start and kept in the data directory.
    SelfSigned,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_http_listen(),
            tls: None,
            allow_plain_http: false,
        }
    }
}

impl HttpConfig {
    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Why this listener may not start: plain HTTP on an address other
    /// machines can reach, without `allow_plain_http = true`.
    pub fn plain_http_refusal(&self) -> Option<String> {
        (self.tls.is_none() && !self.allow_plain_http && !self.listen.ip().is_loopback()).then(
            || {
                format!(
                    "http.listen {} can be reached from other machines, but the server would \
                     send passwords and session cookies in clear text: set tls = \"self-signed\" \
                     or tls_cert and tls_key in [http], or allow_plain_http = true (behind a \
                     TLS proxy), or listen on 127.0.0.1",
                    self.listen
                )
            },
        )
    }
}

pub(crate) fn default_http_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8514))
}

/// `[http]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    #[serde(default = "default_http_listen")]
    listen: SocketAddr,
    #[serde(default)]
    tls: Option<String>,
    #[serde(default)]
    tls_cert: Option<PathBuf>,
    #[serde(default)]
    tls_key: Option<PathBuf>,
    #[serde(default)]
    allow_plain_http: bool,
}

impl<'de> Deserialize<'de> for HttpConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawHttp::deserialize(d)?;
        let tls = match (raw.tls.as_deref(), raw.tls_cert, raw.tls_key) {
            (None, None, None) => None,
            (Some("self-signed"), None, None) => Some(HttpTls::SelfSigned),
            (Some("self-signed"), _, _) => {
                return Err(de::Error::custom(
                    "tls = \"self-signed\" makes its own certificate; remove tls_cert and tls_key, \
                     or remove tls to use those files",
                ));
            }
            (Some(other), _, _) => {
                return Err(de::Error::custom(format!(
                    "tls = {other:?} is not known; write tls = \"self-signed\", or give \
                     tls_cert and tls_key (PEM files) without tls"
                )));
            }
            (None, Some(cert), Some(key)) => Some(HttpTls::Files { cert, key }),
            (None, Some(_), None) => {
                return Err(de::Error::custom(
                    "tls_cert needs tls_key (the certificate's private key, PEM)",
                ));
            }
            (None, None, Some(_)) => {
                return Err(de::Error::custom(
                    "tls_key needs tls_cert (the certificate chain, PEM)",
                ));
            }
        };
        Ok(HttpConfig {
            listen: raw.listen,
            tls,
            allow_plain_http: raw.allow_plain_http,
        })
    }
}

/// `[auth]`: sessions of the web UI and, optionally, LDAP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// A session unused for this long ends.
    #[serde(default = "default_session_idle", deserialize_with = "duration")]
    pub session_idle: Duration,
    /// A session ends this long after its login, used or not.
    #[serde(default = "default_session_max", deserialize_with = "duration")]
    pub session_max: Duration,
    /// Signing in through an LDAP directory or Active Directory.
    #[serde(default)]
    pub ldap: Option<LdapConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_idle: default_session_idle(),
            session_max: default_session_max(),
            ldap: None,
        }
    }
}

fn default_session_idle() -> Duration {
    Duration::from_secs(8 * 3600)
}
fn default_session_max() -> Duration {
    Duration::from_secs(7 * 86_400)
}

/// How Hark reaches the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapSecurity {
    /// `ldaps://`: TLS from the first byte.
    Ldaps,
    /// `ldap://` upgraded with StartTLS.
    StartTls,
    /// `ldap://` in clear text (only when `starttls = false` is written out).
    Plain,
}

/// `[auth.ldap]`: search-then-bind against a directory; group membership
/// gives the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapConfig {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    /// The directory's host name or address.
    pub host: String,
    /// Its port (389 or 636 when the URL has none).
    pub port: u16,
    /// LDAPS, StartTLS or clear text.
    pub security: LdapSecurity,
    /// CA certificates (PEM) that sign the directory's certificate; the
    /// system's roots when absent.
    pub tls_ca: Option<PathBuf>,
    /// The service account that searches; anonymous search when absent.
    pub bind_dn: Option<String>,
    /// File holding the service account's password.
    pub bind_password_file: Option<PathBuf>,
    /// Where users are searched.
    pub user_base: String,
    /// Finds one user; `{username}` is replaced by the escaped login name.
    pub user_filter: String,
    /// Where groups are searched; without it, the user entry's `memberOf` is read.
    pub group_base: Option<String>,
    /// Finds the user's groups; `{dn}` is the user's DN, `{username}` the login name.
    pub group_filter: String,
    /// Group DN → role; a member of several gets the highest.
    pub roles: BTreeMap<String, Role>,
    /// Role of a user in no mapped group; `None` refuses such users.
    pub default_role: Option<Role>,
}

/// `[auth.ldap]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdap {
    url: String,
    #[serde(default)]
    starttls: Option<bool>,
    #[serde(default)]
    tls_ca: Option<PathBuf>,
    #[serde(default)]
    bind_dn: Option<String>,
    #[serde(default)]
    bind_password_file: Option<PathBuf>,
    user_base: String,
    #[serde(default = "default_user_filter")]
    user_filter: String,
    #[serde(default)]
    group_base: Option<String>,
    #[serde(default = "default_group_filter")]
    group_filter: String,
    #[serde(default)]
    roles: BTreeMap<String, Role>,
    #[serde(default = "default_default_role")]
    default_role: String,
}

fn default_user_filter() -> String {
    "(uid={username})".into()
}
fn default_group_filter() -> String {
    "(member={dn})".into()
}
fn default_default_role() -> String {
    "viewer".into()
}

impl<'de> Deserialize<'de> for LdapConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawLdap::deserialize(d)?;
        let (scheme, rest) = raw.url.split_once("://").ok_or_else(|| {
            de::Error::custom(format!(
                "url {:?} is not an LDAP URL; write ldaps://host:636 or ldap://host:389",
                raw.url
            ))
        })?;
        let (ldaps, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "ldaps" => (true, 636),
            "ldap" => (false, 389),
            other => {
                return Err(de::Error::custom(format!(
                    "url scheme {other:?} is not ldap or ldaps; write ldaps://host:636 or \
                     ldap://host:389"
                )));
            }
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(de::Error::custom(format!(
                "url {:?} must be scheme://host[:port] with nothing after it",
                raw.url
            )));
        }
        let (host, port) = split_host_port(authority, default_port)
            .ok_or_else(|| de::Error::custom(format!("url {:?} has an invalid port", raw.url)))?;
        let security = match (ldaps, raw.starttls) {
            (true, Some(true)) => {
                return Err(de::Error::custom(
                    "starttls applies to ldap:// URLs; ldaps:// is TLS already, remove starttls",
                ));
            }
            (true, _) => LdapSecurity::Ldaps,
            (false, Some(false)) => LdapSecurity::Plain,
            (false, _) => LdapSecurity::StartTls,
        };
        if raw.bind_dn.is_some() != raw.bind_password_file.is_some() {
            return Err(de::Error::custom(
                "bind_dn and bind_password_file go together: give both (a service account) or \
                 neither (anonymous search)",
            ));
        }
        if !raw.user_filter.contains("{username}") {
            return Err(de::Error::custom(format!(
                "user_filter {:?} must contain {{username}}, e.g. \"(uid={{username}})\" or, \
                 for Active Directory, \"(sAMAccountName={{username}})\"",
                raw.user_filter
            )));
        }
        let default_role = match raw.default_role.trim() {
            "none" => None,
            other => Some(other.parse::<Role>().map_err(|e| {
                de::Error::custom(format!("default_role: {e}, or none to refuse them"))
            })?),
        };
        let roles = raw
            .roles
            .into_iter()
            .map(|(dn, role)| (dn.trim().to_owned(), role))
            .collect();
        Ok(LdapConfig {
            url: raw.url.clone(),
            host,
            port,
            security,
            tls_ca: raw.tls_ca,
            bind_dn: raw.bind_dn,
            bind_password_file: raw.bind_password_file,
            user_base: raw.user_base,
            user_filter: raw.user_filter,
            group_base: raw.group_base,
            group_filter: raw.group_filter,
            roles,
            default_role,
        })
    }
}

/// `host[:port]` or `[v6]:port`.
fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((authority.to_owned(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn parse(text: &str) -> Result<Config, String> {
        Config::from_toml_str("hark.toml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert!(Role::Admin.includes(Role::Viewer) && !Role::Viewer.includes(Role::Operator));
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        assert_eq!("root".parse::<Role>(), Err(UnknownRole("root".into())));
    }

    #[test]
    fn http_tls_forms() {
        let cfg = parse("[http]\nlisten = \"0.0.0.0:8443\"\ntls = \"self-signed\"\n").unwrap();
        assert_eq!(cfg.http.tls, Some(HttpTls::SelfSigned));
        assert_eq!(cfg.http.scheme(), "https");
        assert_eq!(cfg.http.plain_http_refusal(), None);
        let cfg = parse("[http]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n").unwrap();
        assert_eq!(
            cfg.http.tls,
            Some(HttpTls::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        let e = parse("[http]\ntls_cert = \"c.pem\"\n").unwrap_err();
        assert!(
            e.contains("tls_cert needs tls_key") && e.contains("hark.toml:1:"),
            "{e}"
        );
        let e = parse("[http]\ntls = \"yes\"\n").unwrap_err();
        assert!(e.contains("self-signed"), "{e}");
    }

    #[test]
    fn plain_http_on_a_reachable_address_is_refused_unless_allowed() {
        let e = parse("[http]\nlisten = \"0.0.0.0:8514\"\n").unwrap_err();
        assert!(
            e.contains("allow_plain_http = true") && e.contains("hark.toml:2:"),
            "{e}"
        );
        let cfg = parse("[http]\nlisten = \"0.0.0.0:8514\"\nallow_plain_http = true\n").unwrap();
        assert_eq!(cfg.http.plain_http_refusal(), None);
        assert_eq!(Config::default().http.plain_http_refusal(), None);
    }

    #[test]
    fn ldap_section() {
        let cfg = parse(
            r#"
[auth]
session_idle = "30m"
[auth.ldap]
url = "ldap://127.0.0.1:13389"
bind_dn = "cn=hark,ou=services,dc=example,dc=test"
bind_password_file = "/etc/hark/ldap.pass"
user_base = "ou=people,dc=example,dc=test"
group_base = "ou=groups,dc=example,dc=test"
roles = { "cn=noc,ou=groups,dc=example,dc=test" = "operator" }
default_role = "none"
"#,
        )
        .unwrap();
        assert_eq!(cfg.auth.session_idle, Duration::from_secs(1800));
        assert_eq!(cfg.auth.session_max, Duration::from_secs(7 * 86_400));
        let ldap = cfg.auth.ldap.unwrap();
        assert_eq!((ldap.host.as_str(), ldap.port), ("127.0.0.1", 13389));
        assert_eq!(ldap.security, LdapSecurity::StartTls);
        assert_eq!(ldap.user_filter, "(uid={username})");
        assert_eq!(ldap.default_role, None);
        assert_eq!(
            ldap.roles["cn=noc,ou=groups,dc=example,dc=test"],
            Role::Operator
        );
        let plain = parse(
            "[auth.ldap]\nurl = \"ldap://dc1:389\"\nstarttls = false\nuser_base = \"dc=x\"\n",
        )
        .unwrap();
        assert_eq!(plain.auth.ldap.unwrap().security, LdapSecurity::Plain);
        let ldaps = parse("[auth.ldap]\nurl = \"ldaps://dc1\"\nuser_base = \"dc=x\"\n").unwrap();
        let ldaps = ldaps.auth.ldap.unwrap();
        assert_eq!((ldaps.port, ldaps.security), (636, LdapSecurity::Ldaps));
        assert_eq!(ldaps.default_role, Some(Role::Viewer));
    }

    #[test]
    fn ldap_mistakes_say_what_to_write() {
        let e = parse("[auth.ldap]\nurl = \"http://dc1\"\nuser_base = \"dc=x\"\n").unwrap_err();
        assert!(e.contains("ldaps://host:636"), "{e}");
        let e = parse(
            "[auth.ldap]\nurl = \"ldap://dc1\"\nuser_base = \"dc=x\"\nuser_filter = \"(uid=x)\"\n",
        )
        .unwrap_err();
        assert!(e.contains("{username}"), "{e}");
        let e =
            parse("[auth.ldap]\nurl = \"ldap://dc1\"\nuser_base = \"dc=x\"\nbind_dn = \"cn=a\"\n")
                .unwrap_err();
        assert!(e.contains("bind_password_file"), "{e}");
        let e = parse(
            "[auth.ldap]\nurl = \"ldap://dc1\"\nuser_base = \"dc=x\"\ndefault_role = \"root\"\n",
        )
        .unwrap_err();
        assert!(e.contains("none"), "{e}");
        let e = parse("[auth]\nsession_idle = \"soon\"\n").unwrap_err();
        assert!(e.contains("hark.toml:2:16") && e.contains("30s"), "{e}");
    }
}
