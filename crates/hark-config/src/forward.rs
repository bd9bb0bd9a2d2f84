//! Forwarding between Hark instances: `[forward]` on an edge forwarder
//! (`hark forward`), `[uplink]` on the central server that receives.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::{ByteSize, HttpUrl};

/// What a forwarder does when its disk buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Appends wait: acknowledging inputs slow their senders down, UDP
    /// inputs count what they cannot take.
    #[default]
    Block,
    /// The oldest buffered events are dropped, logged and counted
    /// (`hark_forward_dropped_total`).
    DropOldest,
}

/// `[forward]`: how `hark forward` buffers and sends its events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// The forwarder's name; the center stores it in each event's
    /// `forwarder` field. Given at enrolment, which puts it in the
    /// forwarder's certificate.
    pub name: String,
    /// The center's uplink, `https://HOST:8515`.
    pub center: HttpUrl,
    /// Where the enrolled identity (CA certificate, client certificate and
    /// key) is kept; `DATA_DIR/forwarder` when absent.
    #[serde(default)]
    pub identity_dir: Option<PathBuf>,
    /// Most bytes the disk buffer holds for the center.
    #[serde(default = "default_buffer_max")]
    pub buffer_max: ByteSize,
    /// What happens when the buffer is full.
    #[serde(default)]
    pub overflow: Overflow,
    /// Most events sent in one batch.
    #[serde(default = "default_batch_events")]
    pub batch_events: usize,
    /// zstd level of the batches (1–19).
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
}

fn default_buffer_max() -> ByteSize {
    ByteSize(10 * 1024 * 1024 * 1024)
}
fn default_batch_events() -> usize {
    2_000
}
fn default_zstd_level() -> i32 {
    3
}

impl ForwardConfig {
    /// The identity directory, under `data_dir` unless configured.
    pub fn identity_dir(&self, data_dir: &std::path::Path) -> PathBuf {
        self.identity_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("forwarder"))
    }

    /// Checks the ranges; on failure the key to blame and the message.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if !valid_name(&self.name) {
            return Err((
                "name",
                format!(
                    "forward.name `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                    self.name
                ),
            ));
        }
        if !self.center.is_https() {
            return Err((
                "center",
                "forward.center must be an https:// URL, like \"https://center.example:8515\""
                    .into(),
            ));
        }
        if self.buffer_max.0 < 16 * 1024 * 1024 {
            return Err((
                "buffer_max",
                "forward.buffer_max must be at least 16MiB".into(),
            ));
        }
        if !(1..=100_000).contains(&self.batch_events) {
            return Err((
                "batch_events",
                "forward.batch_events must be between 1 and 100000".into(),
            ));
        }
        if !(1..=19).contains(&self.zstd_level) {
            return Err((
                "zstd_level",
                "forward.zstd_level must be between 1 and 19".into(),
            ));
        }
        Ok(())
    }
}

/// A forwarder or group name: 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name != "."
        && name != ".."
}

/// `[uplink]`: the center's listener for forwarders (batches and enrolment).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UplinkConfig {
    /// Whether the listener runs.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Where it listens.
    #[serde(default = "default_uplink_listen")]
    pub listen: SocketAddr,
    /// Groups whose forwarders are accepted; any group when empty.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Host names and IP addresses forwarders use to reach the center;
    /// they go into the uplink's server certificate (with `localhost`,
    /// the loopback addresses and this host's name).
    #[serde(default)]
    pub names: Vec<String>,
    /// A forwarder whose last health report is older than this is down
    /// (its monitor state `forwarder/NAME` turns DOWN).
    #[serde(
        default = "default_down_after",
        deserialize_with = "crate::units::duration"
    )]
    pub down_after: Duration,
}

fn default_down_after() -> Duration {
    Duration::from_secs(60)
}

fn default_enabled() -> bool {
    true
}
fn default_uplink_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8515))
}

impl Default for UplinkConfig {
    fn default() -> Self {
        UplinkConfig {
            enabled: true,
            listen: default_uplink_listen(),
            groups: Vec::new(),
            names: Vec::new(),
            down_after: default_down_after(),
        }
    }
}

impl UplinkConfig {
    /// Checks the group names; on failure the key to blame and the message.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(bad) = self.groups.iter().find(|g| !valid_name(g)) {
            return Err((
                "groups",
                format!("uplink.groups: `{bad}` must be 1 to 64 letters, digits, `-`, `_` or `.`"),
            ));
        }
        if self.down_after < Duration::from_secs(15) {
            return Err((
                "down_after",
                "uplink.down_after must be at least 15s: forwarders report every 10s".into(),
            ));
        }
        Ok(())
    }
}
