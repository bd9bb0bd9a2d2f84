//! The end-to-end test kit: start a real `hark serve` on free loopback ports
//! in a temporary directory and talk to it over its HTTP API, its CLI and
//! raw sockets, with an SMTP server and a webhook receiver beside it. Ports,
//! peers (logger, rsyslogd, loggen), targets for monitors, tmpfs and
//! network namespaces come from `hark_testkit`.
//!
//! Everything a test starts is a child process killed when its handle drops,
//! and everything it writes lives in a temporary directory removed on drop;
//! what a test binary shares between its tests (one chromedriver for the
//! [`browser`] tests) is ended by the [`reaper`] when the binary exits.
//!
//! ```no_run
//! use std::time::Duration;
//! let hark = hark_e2e::Hark::start("");
//! hark_testkit::peers::logger()
//!     .args(["-n", "127.0.0.1", "-P", &hark.port("udp").to_string(), "-d", "hello"])
//!     .status()
//!     .unwrap();
//! assert_eq!(hark.wait_total("hello", 1, Duration::from_secs(30)), 1);
//! ```

pub mod accounts;
pub mod browser;
pub mod metrics;
pub mod monitoring;
pub mod reaper;
pub mod smtp;
pub mod tls;
pub mod webhook;
pub mod wire;

mod config;
mod server;

pub use config::{HarkBuilder, Transport};
pub use server::Hark;

use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
