//! What all checks share: made once, used by every check run.

use super::icmp::IcmpClients;
use super::net::Resolver;
use super::snmp::CounterMemory;
use super::tls::TlsContext;

/// Why a [`CheckContext`] could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The ICMP sockets' receive tasks and the resolver need a runtime.
    #[error("the check context must be created inside a Tokio runtime")]
    NoRuntime,
    /// The TLS client configuration could not be built.
    #[error("{0}")]
    Tls(String),
}

/// Long-lived state shared by all checks; cheap to use per check.
///
/// It holds:
/// - the ICMP sockets (IPv4 and IPv6, surge-ping), opened once; when they
///   cannot be opened ICMP checks are UNKNOWN with the reason
///   ([`CheckContext::icmp_problem`]) and the other checks work;
/// - the TLS client configurations (rustls with ring, ALPN `http/1.1` for
///   HTTP, none for TCP) and the trust stores: the system's CA certificates
///   (through `rustls-native-certs`) plus each monitor's `tls_ca` file,
///   loaded on first use and cached by path;
/// - the system resolver (hickory, caching, honours `/etc/hosts`) and the
///   system's name servers for DNS checks without `server`;
/// - SNMP counter samples for rates, by monitor name and OID.
///
/// Share one context (e.g. in an `Arc`) between all checks.
pub struct CheckContext {
    pub(crate) icmp: IcmpClients,
    pub(crate) tls: TlsContext,
    pub(crate) resolver: Resolver,
    pub(crate) counters: CounterMemory,
}

impl CheckContext {
    /// Opens the ICMP sockets, loads the system's CA certificates and reads
    /// the resolver configuration. Must be called inside a Tokio runtime.
    /// Missing ICMP permissions, an empty CA store or an unreadable
    /// `/etc/resolv.conf` are not errors: the affected checks report them
    /// (see [`CheckContext::notes`]).
    pub fn new() -> Result<CheckContext, ContextError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ContextError::NoRuntime);
        }
        Ok(CheckContext {
            icmp: IcmpClients::open(),
            tls: TlsContext::new().map_err(ContextError::Tls)?,
            resolver: Resolver::from_system(),
            counters: CounterMemory::default(),
        })
    }

    /// Why ICMP checks over IPv4 cannot run, if they cannot (e.g. missing
    /// `CAP_NET_RAW`), to log at start-up.
    pub fn icmp_problem(&self) -> Option<&str> {
        self.icmp.v4_problem()
    }

    /// Conditions worth a log line at start-up: no ICMP, no system CA
    /// certificates, no resolver configuration.
    pub fn notes(&self) -> Vec<String> {
        [
            self.icmp.v4_problem().map(str::to_owned),
            self.tls.roots_note.clone(),
            self.resolver.system_note.clone(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Drops what is kept for monitor `name` (SNMP counter samples): call
    /// it when a monitor is removed or its configuration changes.
    pub fn forget_monitor(&self, name: &str) {
        self.counters.forget(name);
    }

    /// Forgets the loaded `tls_ca` files so they are read again on next use
    /// (after a configuration reload, or when a CA file was replaced).
    pub fn reload_ca_files(&self) {
        self.tls.forget_ca_files();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn can_be_shared_between_tasks() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<CheckContext>();
    }

    #[test]
    fn needs_a_runtime() {
        assert!(matches!(CheckContext::new(), Err(ContextError::NoRuntime)));
    }
}
