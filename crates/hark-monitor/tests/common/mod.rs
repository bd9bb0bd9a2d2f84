//! Helpers shared by the check tests: monitors from TOML, running them, and
//! assertions on their outcome. Ports and peers come from `hark_testkit`.

#![allow(dead_code)]

use hark_config::monitor::MonitorConfig;
use hark_monitor::checks::{CheckContext, run_check};
use hark_monitor::{CheckOutcome, Status};

/// A monitor from its TOML table.
pub fn monitor(table: &str) -> MonitorConfig {
    MonitorConfig::from_toml_str("test.toml", table)
        .unwrap_or_else(|e| panic!("invalid monitor {table}: {e}"))
}

/// Runs `table` once and returns the outcome.
pub async fn run(ctx: &CheckContext, table: &str) -> CheckOutcome {
    run_check("test", &monitor(table), ctx).await
}

/// Asserts the status and that the output contains every piece of `needles`.
#[track_caller]
pub fn expect(o: &CheckOutcome, status: Status, needles: &[&str]) {
    eprintln!(
        "{} {} {:?}",
        o.status,
        o.output,
        o.perf
            .iter()
            .map(|p| format!("{}={}{}", p.label, p.value, p.unit))
            .collect::<Vec<_>>()
    );
    assert_eq!(o.status, status, "output: {}", o.output);
    for n in needles {
        assert!(o.output.contains(n), "{n:?} not in output: {}", o.output);
    }
}

/// The perf value with `label`.
#[track_caller]
pub fn perf(o: &CheckOutcome, label: &str) -> f64 {
    o.perf
        .iter()
        .find(|p| p.label == label)
        .unwrap_or_else(|| panic!("no perf {label} in {:?}", o.perf))
        .value
}
