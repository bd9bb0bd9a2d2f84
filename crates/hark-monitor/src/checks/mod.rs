//! The check types: each turns its configuration into one [`CheckOutcome`].
//!
//! [`run_check`] runs one monitor's check under its timeout. Everything the
//! checks share and that is costly to build — ICMP sockets, TLS client
//! configurations and trust stores, the name resolver, compiled regular
//! expressions, SNMP counter samples — lives in one long-lived
//! [`CheckContext`], so a single check allocates little and sets nothing up.
//!
//! ```no_run
//! # async fn demo(monitor: &hark_config::monitor::MonitorConfig) {
//! use hark_monitor::checks::{CheckContext, run_check};
//!
//! let ctx = CheckContext::new().expect("inside a Tokio runtime");
//! let outcome = run_check("shop", monitor, &ctx).await;
//! println!("{} {}", outcome.status, outcome.output);
//! # }
//! ```

mod context;
mod dns;
mod fetch;
mod findings;
mod format;
mod http;
mod icmp;
mod json_path;
mod metrics;
mod net;
mod progress;
mod prom_text;
mod snmp;
mod tcp;
mod tls;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use hark_config::monitor::{CheckConfig, MonitorConfig};

pub use context::{CheckContext, ContextError};

use crate::outcome::{CheckOutcome, Status};
use progress::Progress;

/// Runs one check of the monitor `name` and returns its outcome.
///
/// `monitor.timeout` bounds the whole check (resolving, connecting, TLS,
/// the exchange): when it runs out the outcome is CRIT with an output like
/// `timed out after 10s while waiting for the response`. ICMP checks finish
/// before the timeout on their own and count missing replies as loss.
/// `duration` is always filled. A check never panics on what a peer sends;
/// should a bug panic anyway, the outcome is UNKNOWN instead of a crash.
pub async fn run_check(name: &str, monitor: &MonitorConfig, ctx: &CheckContext) -> CheckOutcome {
    let started = Instant::now();
    let progress = Progress::new();
    let timeout = monitor.timeout;
    let check = async {
        match &monitor.check {
            CheckConfig::Icmp(c) => icmp::check(c, timeout, ctx, &progress).await,
            CheckConfig::Tcp(c) => tcp::check(c, ctx, &progress).await,
            CheckConfig::Http(c) => http::check(c, ctx, &progress).await,
            CheckConfig::Dns(c) => dns::check(c, ctx, &progress).await,
            CheckConfig::Snmp(c) => snmp::check(name, c, ctx, &progress).await,
            CheckConfig::Metrics(c) => metrics::check(c, ctx, &progress).await,
        }
    };
    let ran = tokio::time::timeout(timeout, AssertUnwindSafe(check).catch_unwind()).await;
    let mut outcome = match ran {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_owned());
            tracing::error!(monitor = name, panic = %what, "check panicked");
            CheckOutcome::new(
                Status::Unknown,
                format!(
                    "internal error in the {} check: {what}",
                    monitor.kind().name()
                ),
            )
        }
        Err(_) => CheckOutcome::new(
            Status::Crit,
            format!(
                "timed out after {} {}",
                format::limit(timeout),
                progress.describe()
            ),
        ),
    };
    outcome.duration = started.elapsed();
    outcome
}
