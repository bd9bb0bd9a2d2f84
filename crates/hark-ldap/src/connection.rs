//! One connection to the directory: TCP, then TLS (LDAPS or StartTLS),
//! then binds and searches, each bounded by the same timeout.
//!
//! A connection serves one operation (a login, a revalidation, a test) and
//! is closed after it: logins are rare, and a fresh connection never
//! carries the identity of an earlier bind.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hark_config::LdapSecurity;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapResult, ResultEntry, Scope, SearchEntry,
    SearchOptions, StdStream,
};
use rustls::ClientConfig;
use tokio::net::TcpStream;

use crate::LdapError;

/// Result code of a bind with a wrong DN or password.
pub const INVALID_CREDENTIALS: u32 = 49;
/// Result code when the search base does not exist (or may not be seen).
pub const NO_SUCH_OBJECT: u32 = 32;
/// Result code when more entries matched than the size limit allows.
pub const SIZE_LIMIT_EXCEEDED: u32 = 4;
/// Entries asked for per page by [`Connection::search_all`]: under Active
/// Directory's default `MaxPageSize` (1 000).
const PAGE_SIZE: i32 = 500;

/// How to reach the directory; shared by every connection.
#[derive(Clone)]
pub struct Endpoint {
    /// `host:port`, for messages.
    pub address: String,
    /// The host as written in the configuration.
    pub host: String,
    /// The port.
    pub port: u16,
    /// LDAPS, StartTLS or clear text.
    pub security: LdapSecurity,
    /// The TLS client configuration (unused in clear text).
    pub tls: Option<Arc<ClientConfig>>,
    /// The limit on each step.
    pub timeout: Duration,
}

impl Endpoint {
    /// Runs `fut`, or fails with a timeout naming `operation`.
    pub async fn bounded<T>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = T>,
    ) -> Result<T, LdapError> {
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| LdapError::Timeout {
                address: self.address.clone(),
                operation,
                after: self.timeout,
            })
    }

    /// A TCP connection to the directory.
    pub async fn tcp(&self) -> Result<TcpStream, LdapError> {
        self.bounded(
            "connect",
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await?
        .map_err(|e| LdapError::Unreachable {
            address: self.address.clone(),
            reason: e.to_string(),
        })
    }

    /// An LDAP session over `tcp`, with TLS as configured.
    pub async fn session(&self, tcp: TcpStream) -> Result<Connection, LdapError> {
        let std = tcp.into_std().map_err(|e| LdapError::Unreachable {
            address: self.address.clone(),
            reason: e.to_string(),
        })?;
        let mut settings = LdapConnSettings::new()
            .set_std_stream(StdStream::Tcp(std))
            .set_starttls(self.security == LdapSecurity::StartTls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let scheme = match self.security {
            LdapSecurity::Ldaps => "ldaps",
            LdapSecurity::StartTls | LdapSecurity::Plain => "ldap",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let url = format!("{scheme}://{host}:{}", self.port);
        let operation = match self.security {
            LdapSecurity::Ldaps => "the TLS handshake",
            LdapSecurity::StartTls => "StartTLS",
            LdapSecurity::Plain => "the connection",
        };
        let (conn, ldap) = self
            .bounded(operation, LdapConnAsync::with_settings(settings, &url))
            .await?
            .map_err(|e| self.setup_error(e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended");
            }
        });
        Ok(Connection {
            ldap,
            endpoint: self.clone(),
        })
    }

    /// A connection, TCP and TLS, ready for a bind.
    pub async fn open(&self) -> Result<Connection, LdapError> {
        let tcp = self.tcp().await?;
        self.session(tcp).await
    }

    /// What failed while setting up the session on an open TCP connection.
    fn setup_error(&self, e: ldap3::LdapError) -> LdapError {
        let address = self.address.clone();
        match (self.security, e) {
            (LdapSecurity::Plain, e) => LdapError::Protocol {
                operation: format!("opening an LDAP session with {address}"),
                message: e.to_string(),
            },
            (LdapSecurity::StartTls, ldap3::LdapError::LdapResult { result }) => LdapError::Tls {
                address,
                reason: format!(
                    "the directory refused StartTLS ({}); enable TLS on the directory, or use \
                     an ldaps:// URL",
                    describe(&result)
                ),
            },
            (_, e) => LdapError::Tls {
                address,
                reason: format!(
                    "{}; check that the directory's certificate names the host of auth.ldap.url \
                     and is signed by auth.ldap.tls_ca (or a system root when tls_ca is unset)",
                    tls_reason(&e)
                ),
            },
        }
    }
}

/// The innermost useful text of a TLS setup error.
fn tls_reason(e: &ldap3::LdapError) -> String {
    if let ldap3::LdapError::Io { source } = e
        && let Some(inner) = source.get_ref()
    {
        return inner.to_string();
    }
    e.to_string()
}

/// `rc=N (name): text` for a result.
pub fn describe(result: &LdapResult) -> String {
    // ldap3 writes `rc=49 (invalidCredentials), dn: "…", text: "…"`; keep
    // the code and its name, then the server's text.
    let full = result.to_string();
    let code = full.split(", dn:").next().unwrap_or(&full);
    let text = result.text.trim();
    if text.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {text}")
    }
}

/// An open session with the directory.
pub struct Connection {
    ldap: Ldap,
    endpoint: Endpoint,
}

impl Connection {
    /// A simple bind; the server's result, whatever its code.
    pub async fn bind(&mut self, dn: &str, password: &str) -> Result<LdapResult, LdapError> {
        let fut = self.ldap.simple_bind(dn, password);
        self.endpoint
            .bounded("a bind", fut)
            .await?
            .map_err(|e| LdapError::Protocol {
                operation: format!("bind as {dn}"),
                message: e.to_string(),
            })
    }

    /// A subtree search of `base` for `filter`, returning at most `limit`
    /// entries (0: the server's limit) and whether more matched.
    /// Continuation references (referrals) are skipped.
    pub async fn search(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
        limit: i32,
    ) -> Result<Found, LdapError> {
        let what = || format!("search of {base} for {filter}");
        let fut = self
            .ldap
            .with_search_options(SearchOptions::new().sizelimit(limit))
            .search(base, Scope::Subtree, filter, attrs.to_vec());
        let ldap3::SearchResult(entries, result) = self
            .endpoint
            .bounded("a search", fut)
            .await?
            .map_err(|e| LdapError::Protocol {
                operation: what(),
                message: e.to_string(),
            })?;
        let truncated = match result.rc {
            0 => false,
            SIZE_LIMIT_EXCEEDED => true,
            _ => {
                return Err(LdapError::Protocol {
                    operation: what(),
                    message: search_failure(&result),
                });
            }
        };
        let entries = entries
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Found { entries, truncated })
    }

    /// Every entry of a subtree search of `base` for `filter`, fetched in
    /// pages with the Simple Paged Results control (RFC 2696), so a
    /// directory that caps what one search returns (Active Directory's
    /// `MaxPageSize`, OpenLDAP's `size.prtotal`) still gives them all.
    /// `truncated` is set only when the directory cut even the paged search.
    /// The whole search, every page, is bounded by the timeout.
    pub async fn search_all(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Found, LdapError> {
        let what = || format!("search of {base} for {filter}");
        let protocol = |e: ldap3::LdapError| LdapError::Protocol {
            operation: what(),
            message: e.to_string(),
        };
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let ldap = &mut self.ldap;
        let pages = async move {
            let mut stream = ldap
                .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs.to_vec())
                .await?;
            let mut entries = Vec::new();
            while let Some(raw) = stream.next().await? {
                entries.push(raw);
            }
            Ok::<_, ldap3::LdapError>((entries, stream.finish().await))
        };
        let (raw, result) = self
            .endpoint
            .bounded("a search", pages)
            .await?
            .map_err(protocol)?;
        let truncated = match result.rc {
            0 => false,
            SIZE_LIMIT_EXCEEDED => true,
            _ => {
                return Err(LdapError::Protocol {
                    operation: what(),
                    message: search_failure(&result),
                });
            }
        };
        let entries = raw.into_iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        Ok(Found { entries, truncated })
    }

    /// Ends the session politely (errors ignored: it is closed either way).
    pub async fn close(mut self) {
        let _ = self
            .endpoint
            .clone()
            .bounded("unbind", self.ldap.unbind())
            .await;
    }
}

/// What a failed search says, with a hint for the common case.
fn search_failure(result: &LdapResult) -> String {
    let text = describe(result);
    if result.rc == NO_SUCH_OBJECT {
        format!(
            "{text}; the base does not exist, or the account searching (auth.ldap.bind_dn, or \
             anonymous) may not read it"
        )
    } else {
        text
    }
}

/// Decodes one entry; a malformed one is an error, not a panic.
fn entry(raw: ResultEntry) -> Result<SearchEntry, LdapError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SearchEntry::construct(raw))).map_err(
        |_| LdapError::Protocol {
            operation: "reading a search result".into(),
            message: "the directory sent an entry that cannot be decoded".into(),
        },
    )
}

/// The entries of a search.
pub struct Found {
    /// The entries, at most the limit asked for.
    pub entries: Vec<SearchEntry>,
    /// More entries matched than the limit allowed.
    pub truncated: bool,
}

/// The values of attribute `name` of `entry`, whatever its case.
pub fn values<'a>(entry: &'a SearchEntry, name: &str) -> &'a [String] {
    entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}
