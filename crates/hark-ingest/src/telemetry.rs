//! Every observable occurrence on the ingest path, as one function each, so
//! that metric names and labels are the same wherever they are emitted.
//!
//! Metrics (Prometheus names):
//! - `hark_events_received_total{input}`: events accepted from senders;
//! - `hark_events_dropped_total{input,reason}`: events or frames lost, by reason
//!   (`oversize`, `udp_overflow`, `shutdown`, `connection_limit`, `malformed`, `store_closed`;
//!   `gelf_incomplete` for chunked GELF messages that never completed; `community` and
//!   `unsupported_version` for SNMP traps refused);
//! - `hark_parse_errors_total{input}`: events stored with `parse_error` set;
//! - `hark_malformed_frames_total{input}`: framing or protocol errors (a stream
//!   connection is closed; a datagram is dropped);
//! - `hark_events_truncated_total{input}`: messages cut to the maximum size;
//! - `hark_connections_active{input}` / `hark_connections_total{input}`;
//! - file inputs: `hark_files_watched{input}` (files open),
//!   `hark_file_bytes_read_total{input}`, `hark_file_lines_total{input}`,
//!   `hark_file_rotations_total{input}`, `hark_file_truncations_total{input}`
//!   and `hark_file_errors_total{input,kind}` (`scan`, `open`, `read`,
//!   `checkpoint`).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Events accepted on `input`.
pub fn received(input: &str, n: u64) {
    metrics::counter!("hark_events_received_total", "input" => input.to_owned()).increment(n);
}

/// Events or frames lost on `input` for `reason`.
pub fn dropped(input: &str, reason: &'static str, n: u64) {
    metrics::counter!("hark_events_dropped_total", "input" => input.to_owned(), "reason" => reason)
        .increment(n);
    let mut drops = DROPS.lock().unwrap_or_else(|e| e.into_inner());
    *drops.counted.entry(input.to_owned()).or_default() += n;
}

/// Drops per input, kept for [`drops_by_input`] as well as in the metrics.
#[derive(Default)]
struct Drops {
    /// Counted here as they happen.
    counted: BTreeMap<String, u64>,
    /// Read from the kernel's totals per UDP socket.
    kernel: BTreeMap<String, u64>,
}

static DROPS: Mutex<Drops> = Mutex::new(Drops {
    counted: BTreeMap::new(),
    kernel: BTreeMap::new(),
});

/// Events or datagrams lost per input in this process, for every reason
/// of `hark_events_dropped_total` (an edge forwarder reports them).
pub fn drops_by_input() -> BTreeMap<String, u64> {
    let drops = DROPS.lock().unwrap_or_else(|e| e.into_inner());
    let mut all = drops.counted.clone();
    for (input, n) in &drops.kernel {
        *all.entry(input.clone()).or_default() += n;
    }
    all
}

/// Events stored with `parse_error` set.
pub fn parse_errors(input: &str, n: u64) {
    metrics::counter!("hark_parse_errors_total", "input" => input.to_owned()).increment(n);
}

/// A framing error on a connection.
pub fn malformed_frame(input: &str) {
    metrics::counter!("hark_malformed_frames_total", "input" => input.to_owned()).increment(1);
}

/// What an input does with input it cannot read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Malformed {
    /// The stream cannot be resynchronised: the connection is closed.
    CloseConnection,
    /// The datagram or document is dropped; the input goes on.
    Drop,
}

impl crate::InputContext {
    /// Counts malformed input from `peer` and logs why, at most once a
    /// minute per sender, so a misbehaving sender cannot flood the log.
    pub(crate) fn malformed(
        &self,
        peer: SocketAddr,
        protocol: &str,
        then: Malformed,
        e: &dyn std::fmt::Display,
    ) {
        malformed_frame(&self.name);
        if self.log_limit.allow(peer.ip()) {
            let then = match then {
                Malformed::CloseConnection => "closing the connection",
                Malformed::Drop => "dropped",
            };
            tracing::warn!(input = %self.name, %peer, "malformed {protocol} input, {then}: {e}");
        }
    }
}

/// The counter of datagrams the kernel dropped on `input`'s socket (its
/// receive buffer was full); set from the kernel's own count.
/// The kernel's total of datagrams dropped for a full receive buffer on
/// the socket of `input`.
pub(crate) fn kernel_drops(input: &str, total: u64) {
    metrics::counter!(
        "hark_events_dropped_total",
        "input" => input.to_owned(),
        "reason" => "udp_overflow"
    )
    .absolute(total);
    let mut drops = DROPS.lock().unwrap_or_else(|e| e.into_inner());
    drops.kernel.insert(input.to_owned(), total);
}

/// A connection opened (`delta = 1`) or closed (`delta = -1`).
pub fn connection(input: &str, delta: i64) {
    metrics::gauge!("hark_connections_active", "input" => input.to_owned()).increment(delta as f64);
    if delta > 0 {
        metrics::counter!("hark_connections_total", "input" => input.to_owned()).increment(1);
    }
}

/// Lets a warning about one source through at most once per interval, so a
/// misbehaving sender cannot flood the server's own log.
pub struct RateLimitedLog {
    interval: Duration,
    last: Mutex<HashMap<IpAddr, Instant>>,
}

impl RateLimitedLog {
    /// A limiter letting one message per source through every `interval`.
    pub fn new(interval: Duration) -> Self {
        RateLimitedLog {
            interval,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a message about `source` may be logged now.
    pub fn allow(&self, source: IpAddr) -> bool {
        let now = Instant::now();
        let Ok(mut last) = self.last.lock() else {
            return true;
        };
        if last.len() > 10_000 {
            let interval = self.interval;
            last.retain(|_, t| now.duration_since(*t) < interval);
        }
        match last.get(&source) {
            Some(t) if now.duration_since(*t) < self.interval => false,
            _ => {
                last.insert(source, now);
                true
            }
        }
    }
}

/// Messages cut to the input's maximum size (kept, flagged `truncated`).
pub fn truncated(input: &str, n: u64) {
    metrics::counter!("hark_events_truncated_total", "input" => input.to_owned()).increment(n);
}

/// How many files file input `input` has open.
pub fn files_watched(input: &str, n: usize) {
    metrics::gauge!("hark_files_watched", "input" => input.to_owned()).set(n as f64);
}

/// Bytes read from files by `input`.
pub fn file_bytes(input: &str, n: u64) {
    metrics::counter!("hark_file_bytes_read_total", "input" => input.to_owned()).increment(n);
}

/// Events (lines, or joined multi-line events) read from files by `input`.
pub fn file_lines(input: &str, n: u64) {
    metrics::counter!("hark_file_lines_total", "input" => input.to_owned()).increment(n);
}

/// A followed file was renamed, or left the paths (rotated away or deleted).
pub fn file_rotation(input: &str) {
    metrics::counter!("hark_file_rotations_total", "input" => input.to_owned()).increment(1);
}

/// A followed file was found shorter than the position reached (copytruncate).
pub fn file_truncation(input: &str) {
    metrics::counter!("hark_file_truncations_total", "input" => input.to_owned()).increment(1);
}

/// A file or directory could not be read (`scan`, `open`, `read`) or the
/// positions could not be saved (`checkpoint`).
pub fn file_error(input: &str, kind: &'static str) {
    metrics::counter!("hark_file_errors_total", "input" => input.to_owned(), "kind" => kind)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_by_input_adds_counted_drops_to_the_kernel_total() {
        // Input names of their own: other tests count drops in this process too.
        dropped("drops-test-a", "oversize", 2);
        dropped("drops-test-a", "malformed", 3);
        kernel_drops("drops-test-a", 10);
        kernel_drops("drops-test-a", 12);
        kernel_drops("drops-test-b", 4);
        let drops = drops_by_input();
        assert_eq!(drops.get("drops-test-a"), Some(&17));
        assert_eq!(drops.get("drops-test-b"), Some(&4));
    }
}
