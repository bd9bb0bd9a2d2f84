//! The end-to-end test kit: start a real `hark serve` on free loopback ports
//! in a temporary directory, talk to it over its HTTP API and CLI, and run
//! real peers (logger, rsyslogd, loggen, an SMTP server, a webhook
//! receiver) beside it.
//!
//! Everything a test starts is a child process killed when its handle drops,
//! and everything it writes lives in a temporary directory removed on drop.
//!
//! ```no_run
//! use std::time::Duration;
//! let hark = hark_e2e::Hark::start("");
//! hark_e2e::logger()
//!     .args(["-n", "127.0.0.1", "-P", &hark.port("udp").to_string(), "-d", "hello"])
//!     .status()
//!     .unwrap();
//! assert_eq!(hark.wait_total("hello", 1, Duration::from_secs(30)), 1);
//! ```

pub mod metrics;
pub mod monitoring;
pub mod peers;
pub mod smtp;
pub mod targets;
pub mod tls;
pub mod tmpfs;
pub mod webhook;
pub mod wire;

mod config;
mod server;

pub use config::{HarkBuilder, Transport};
pub use peers::{ChildGuard, Rsyslog, loggen, loggen_path, logger, run_logger};
pub use server::Hark;

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `hark` binary under test: `$HARK_BIN`, else the workspace's
/// `target/release/hark`, else `target/debug/hark`.
pub fn hark_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HARK_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    for profile in ["release", "debug"] {
        let p = target.join(profile).join("hark");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "no hark binary: set HARK_BIN or run `cargo build --release -p hark` (looked in {})",
        target.display()
    );
}

/// The workspace root (the directory holding the top Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Ports handed out by this process, so concurrent tests never get the same one.
static PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn reserve(port: u16) -> bool {
    let mut g = PORTS.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(HashSet::new).insert(port)
}

/// A TCP port on 127.0.0.1 that was free a moment ago (and is also free for UDP).
pub fn free_tcp_port() -> u16 {
    free_port(true)
}

/// A UDP port on 127.0.0.1 that was free a moment ago (and is also free for TCP).
pub fn free_udp_port() -> u16 {
    free_port(false)
}

fn free_port(tcp_first: bool) -> u16 {
    for _ in 0..1000 {
        let port = if tcp_first {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
        } else {
            UdpSocket::bind("127.0.0.1:0")
                .and_then(|s| s.local_addr())
                .map(|a| a.port())
        }
        .expect("bind an ephemeral port on 127.0.0.1");
        // Both protocols free, so an input may use either on the same number.
        let other_free = if tcp_first {
            UdpSocket::bind(("127.0.0.1", port)).is_ok()
        } else {
            TcpListener::bind(("127.0.0.1", port)).is_ok()
        };
        if other_free && reserve(port) {
            return port;
        }
    }
    panic!("no free port found on 127.0.0.1");
}

/// A token unique to this call, lower-case letters and digits only, so the
/// full-text index keeps it as one term: `prefix` + 12 hex digits.
pub fn marker(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mix = (nanos ^ (u64::from(std::process::id()) << 32))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(n.wrapping_mul(0xD1B5_4A32_D192_ED03));
    format!("{prefix}{:012x}", mix >> 16)
}

/// Installs ring as the process's rustls provider (once); test builds may see
/// more than one provider, and then rustls refuses to pick.
pub fn init_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Polls `f` every `every` until it returns `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, every: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// The machine's host name as senders put it in messages.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The number after `key` (e.g. `n=`) in `text`, if any.
pub fn number_after(text: &str, key: &str) -> Option<u64> {
    let start = text.find(key)? + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// A field of an event's `fields` object, whether stored flat
/// (`"sd.origin.ip"`) or nested (`{"sd": {"origin": {"ip": …}}}`), as text.
pub fn field_str(event: &serde_json::Value, name: &str) -> Option<String> {
    let fields = event.get("fields")?;
    let v = match fields.get(name) {
        Some(v) => v.clone(),
        None => {
            let mut cur = fields;
            for part in name.split('.') {
                cur = cur.get(part)?;
            }
            cur.clone()
        }
    };
    Some(match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// A string member of a JSON object (`None` when absent or null).
pub fn str_of<'a>(event: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    event.get(key).and_then(|v| v.as_str())
}
