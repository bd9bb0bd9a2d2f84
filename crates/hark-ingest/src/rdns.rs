//! Names for addresses: a cached reverse DNS resolver ([`ReverseDns`])
//! that never makes its caller wait.
//!
//! [`ReverseDns::cached`] answers from memory only. On a miss it schedules
//! one PTR lookup in the background and answers `None`; a later call finds
//! the name. The rules:
//!
//! - **One lookup per address at a time.** An address already being looked
//!   up is not scheduled again; at most [`ReverseDnsConfig::concurrency`]
//!   lookups run at once and at most [`ReverseDnsConfig::max_pending`]
//!   wait, so a flood of new addresses queues nothing unbounded (the
//!   excess is simply asked again on a later call).
//! - **A name is kept for its PTR record's TTL**, clamped between
//!   [`ReverseDnsConfig::min_ttl`] and [`ReverseDnsConfig::max_ttl`]. Once it
//!   is due, it is still answered while a fresh lookup runs, so a known
//!   name does not blink out.
//! - **No name is kept for [`ReverseDnsConfig::negative_ttl`]**: no PTR
//!   record, NXDOMAIN, or a server that did not answer in
//!   [`ReverseDnsConfig::timeout`] (counted as a failure).
//! - **Memory is bounded**: at most [`ReverseDnsConfig::max_entries`]
//!   addresses; when full, expired entries go first, then the one that
//!   would expire soonest.
//!
//! Metrics: `hark_rdns_lookups_total`, `hark_rdns_lookup_failures_total`
//! (no answer at all, as opposed to "no name") and the gauge
//! `hark_rdns_cache_entries`.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use tokio::sync::Semaphore;

/// Counts PTR lookups sent.
pub const LOOKUPS: &str = "hark_rdns_lookups_total";
/// Counts PTR lookups that got no answer (timeout, server failure, no server).
pub const FAILURES: &str = "hark_rdns_lookup_failures_total";
/// Addresses in the cache, with or without a name.
pub const CACHE_ENTRIES: &str = "hark_rdns_cache_entries";

/// How a [`ReverseDns`] asks and remembers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseDnsConfig {
    /// The name servers to ask (UDP, then TCP for long answers); empty asks
    /// those of `/etc/resolv.conf`.
    pub servers: Vec<SocketAddr>,
    /// Most addresses remembered.
    pub max_entries: usize,
    /// A name is kept no longer than this, whatever its TTL.
    pub max_ttl: Duration,
    /// A name is kept at least this long, even with a TTL of 0.
    pub min_ttl: Duration,
    /// How long "no name" (or no answer) is remembered.
    pub negative_ttl: Duration,
    /// Most lookups running at once.
    pub concurrency: usize,
    /// Most lookups scheduled (running or waiting) at once.
    pub max_pending: usize,
    /// How long one lookup may take.
    pub timeout: Duration,
}

impl Default for ReverseDnsConfig {
    /// The system's name servers, 4 096 addresses, names kept 1 min to 1 h,
    /// absences 5 min, 4 lookups at once, 256 scheduled, 5 s each.
    fn default() -> Self {
        ReverseDnsConfig {
            servers: Vec::new(),
            max_entries: 4096,
            max_ttl: Duration::from_secs(3600),
            min_ttl: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(300),
            concurrency: 4,
            max_pending: 256,
            timeout: Duration::from_secs(5),
        }
    }
}

impl ReverseDnsConfig {
    /// The defaults, asking `servers` instead of the system's.
    pub fn with_servers(servers: Vec<SocketAddr>) -> ReverseDnsConfig {
        ReverseDnsConfig {
            servers,
            ..ReverseDnsConfig::default()
        }
    }
}

/// What the cache knows of one address.
#[derive(Debug, Clone)]
struct Entry {
    /// The name, or `None` when there is none (or no answer came).
    name: Option<Arc<str>>,
    /// Until when the entry holds; after it, a new lookup is due.
    until: Instant,
}

/// The remembered addresses and those being looked up.
#[derive(Debug, Default)]
struct Cache {
    /// At most `max_entries`.
    entries: HashMap<IpAddr, Entry>,
    /// Addresses with a lookup scheduled; at most `max_pending`.
    pending: HashSet<IpAddr>,
}

/// Counts kept by a [`ReverseDns`] itself (the metrics count all of them
/// in the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReverseDnsStats {
    /// Lookups sent.
    pub lookups: u64,
    /// Lookups that got no answer.
    pub failures: u64,
    /// Addresses remembered now.
    pub entries: usize,
    /// Lookups scheduled and not finished now.
    pub pending: usize,
}

struct Inner {
    config: ReverseDnsConfig,
    /// `None` when the system configuration could not be read: then no
    /// lookup is made and no name is ever known.
    resolver: Option<TokioResolver>,
    cache: Mutex<Cache>,
    running: Semaphore,
    lookups: AtomicU64,
    failures: AtomicU64,
}

/// A cached reverse resolver shared by whoever names peers: cheap to
/// clone (the clones share one cache).
#[derive(Clone)]
pub struct ReverseDns {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReverseDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReverseDns")
            .field("config", &self.inner.config)
            .field("resolver", &self.inner.resolver.is_some())
            .finish_non_exhaustive()
    }
}

impl ReverseDns {
    /// A resolver as `config` says. When `config.servers` is empty and the
    /// system's configuration cannot be read, it logs why once and never
    /// knows a name.
    pub fn new(config: ReverseDnsConfig) -> ReverseDns {
        let resolver = match build_resolver(&config) {
            Ok(r) => Some(r),
            Err(why) => {
                tracing::warn!("reverse DNS names are off: {why}");
                None
            }
        };
        ReverseDns::with_resolver(config, resolver)
    }

    /// The resolver `[enrich]` asks for: one asking `dns_servers` (or the
    /// system's) with `reverse_dns = true`, else one that is [`off`](Self::off).
    pub fn from_config(cfg: &hark_config::Config) -> ReverseDns {
        if cfg.enrich.reverse_dns {
            ReverseDns::new(ReverseDnsConfig::with_servers(
                cfg.enrich.dns_servers.clone(),
            ))
        } else {
            ReverseDns::off()
        }
    }

    /// A resolver that never looks anything up and knows no name.
    pub fn off() -> ReverseDns {
        ReverseDns::with_resolver(ReverseDnsConfig::default(), None)
    }

    fn with_resolver(config: ReverseDnsConfig, resolver: Option<TokioResolver>) -> ReverseDns {
        let running = Semaphore::new(config.concurrency.max(1));
        ReverseDns {
            inner: Arc::new(Inner {
                config,
                resolver,
                cache: Mutex::new(Cache::default()),
                running,
                lookups: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            }),
        }
    }

    /// The name of `ip` if it is known now. Never waits: on a miss (or
    /// when the entry is due) it schedules a lookup in the background, on
    /// the current Tokio runtime, and a later call has its result.
    pub fn cached(&self, ip: IpAddr) -> Option<Arc<str>> {
        let now = Instant::now();
        let mut cache = self.lock();
        let (name, due) = match cache.entries.get(&ip) {
            Some(e) => (e.name.clone(), e.until <= now),
            None => (None, true),
        };
        if due {
            self.schedule(&mut cache, ip);
        }
        name
    }

    /// What this resolver has done so far.
    pub fn stats(&self) -> ReverseDnsStats {
        let cache = self.lock();
        ReverseDnsStats {
            lookups: self.inner.lookups.load(Ordering::Relaxed),
            failures: self.inner.failures.load(Ordering::Relaxed),
            entries: cache.entries.len(),
            pending: cache.pending.len(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a lookup of `ip` unless one is under way, too many are, no
    /// resolver exists or no runtime runs.
    fn schedule(&self, cache: &mut Cache, ip: IpAddr) {
        if self.inner.resolver.is_none()
            || cache.pending.contains(&ip)
            || cache.pending.len() >= self.inner.config.max_pending
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        cache.pending.insert(ip);
        let this = self.clone();
        runtime.spawn(async move {
            let answer = this.lookup(ip).await;
            this.store(ip, answer);
        });
    }

    /// Asks for the PTR record of `ip`, one of `concurrency` at a time.
    async fn lookup(&self, ip: IpAddr) -> Outcome {
        let Some(resolver) = &self.inner.resolver else {
            return Outcome::Unanswered;
        };
        let Ok(_permit) = self.inner.running.acquire().await else {
            return Outcome::Unanswered;
        };
        self.inner.lookups.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(LOOKUPS).increment(1);
        let asked = tokio::time::timeout(self.inner.config.timeout, resolver.reverse_lookup(ip));
        let answer = match asked.await {
            Ok(Ok(lookup)) => lookup
                .answers()
                .iter()
                .find_map(|r| match &r.data {
                    RData::PTR(ptr) => Some(Outcome::Named {
                        name: ptr.0.to_utf8().trim_end_matches('.').into(),
                        ttl: Duration::from_secs(u64::from(r.ttl)),
                    }),
                    _ => None,
                })
                .unwrap_or(Outcome::Nameless),
            Ok(Err(e)) if e.is_nx_domain() || e.is_no_records_found() => Outcome::Nameless,
            Ok(Err(e)) => {
                tracing::debug!(%ip, "reverse DNS lookup failed: {e}");
                Outcome::Unanswered
            }
            Err(_) => {
                tracing::debug!(%ip, "reverse DNS lookup timed out");
                Outcome::Unanswered
            }
        };
        if matches!(answer, Outcome::Unanswered) {
            self.inner.failures.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(FAILURES).increment(1);
        }
        answer
    }

    /// Remembers `answer` for `ip`, making room if the cache is full.
    fn store(&self, ip: IpAddr, answer: Outcome) {
        let config = &self.inner.config;
        let now = Instant::now();
        let (name, keep) = match answer {
            Outcome::Named { name, ttl } => (Some(name), ttl.clamp(config.min_ttl, config.max_ttl)),
            Outcome::Nameless | Outcome::Unanswered => (None, config.negative_ttl),
        };
        let mut cache = self.lock();
        cache.pending.remove(&ip);
        if !cache.entries.contains_key(&ip) && cache.entries.len() >= config.max_entries {
            make_room(&mut cache.entries, now);
        }
        if config.max_entries > 0 {
            cache.entries.insert(
                ip,
                Entry {
                    name,
                    until: now + keep,
                },
            );
        }
        metrics::gauge!(CACHE_ENTRIES).set(cache.entries.len() as f64);
    }
}

/// What one lookup found.
enum Outcome {
    /// The PTR record's name and TTL.
    Named { name: Arc<str>, ttl: Duration },
    /// The server answered: there is no name.
    Nameless,
    /// No answer (timeout, server failure, unreachable).
    Unanswered,
}

/// Drops the expired entries; if none was, the one expiring soonest.
fn make_room(entries: &mut HashMap<IpAddr, Entry>, now: Instant) {
    let before = entries.len();
    entries.retain(|_, e| e.until > now);
    if entries.len() < before {
        return;
    }
    if let Some(ip) = entries
        .iter()
        .min_by_key(|(_, e)| e.until)
        .map(|(ip, _)| *ip)
    {
        entries.remove(&ip);
    }
}

/// A resolver for `config.servers`, or the system's when there are none.
fn build_resolver(config: &ReverseDnsConfig) -> Result<TokioResolver, String> {
    let mut builder = if config.servers.is_empty() {
        TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
    } else {
        let servers = config
            .servers
            .iter()
            .map(|addr| {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                ns.connections = vec![udp, tcp];
                ns
            })
            .collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(servers),
            TokioRuntimeProvider::default(),
        )
    };
    // This module keeps its own cache; the resolver's holds little.
    builder.options_mut().timeout = config.timeout;
    builder.options_mut().cache_size = 64;
    builder
        .build()
        .map_err(|e| format!("cannot build the DNS resolver: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: Option<&str>, until: Instant) -> Entry {
        Entry {
            name: name.map(Arc::from),
            until,
        }
    }

    #[test]
    fn making_room_drops_the_expired_else_the_soonest_to_expire() {
        let now = Instant::now();
        let ip = |n: u8| IpAddr::from([192, 0, 2, n]);
        let mut entries = HashMap::from([
            (ip(1), entry(Some("a"), now + Duration::from_secs(30))),
            (ip(2), entry(None, now + Duration::from_secs(10))),
            (ip(3), entry(Some("c"), now + Duration::from_secs(20))),
        ]);
        make_room(&mut entries, now);
        assert_eq!(entries.len(), 2);
        assert!(!entries.contains_key(&ip(2)));
        // Both left are expired later: both go, nothing else.
        make_room(&mut entries, now + Duration::from_secs(40));
        assert!(entries.is_empty());
    }

    #[test]
    fn no_runtime_means_no_lookup_and_no_name() {
        let dns = ReverseDns::new(ReverseDnsConfig::with_servers(vec![SocketAddr::from((
            [127, 0, 0, 1],
            9,
        ))]));
        assert_eq!(dns.cached(IpAddr::from([192, 0, 2, 1])), None);
        assert_eq!(dns.stats(), ReverseDnsStats::default());
    }
}
