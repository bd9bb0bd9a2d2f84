//! Helpers shared by the check tests: monitors from TOML, free ports, and
//! child processes that are killed when the test ends.

#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// A TCP port on 127.0.0.1 nothing listens on (right now).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free TCP port")
}

/// A UDP port on 127.0.0.1 nothing is bound to (right now).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// A started program, killed and reaped when dropped.
pub struct Daemon {
    child: Child,
    name: String,
}

impl Daemon {
    /// Starts `cmd` with its output in `log` (for failures).
    pub fn start(name: &str, cmd: &mut Command, log: &Path) -> Daemon {
        let out = std::fs::File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {name} (installed? see scripts/install-test-deps.sh): {e}")
            });
        Daemon {
            child,
            name: name.to_owned(),
        }
    }

    /// Panics with the log when the program has exited.
    pub fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{} exited ({status}):\n{text}", self.name);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something listens on TCP 127.0.0.1:`port`.
pub async fn wait_tcp(port: u16, daemon: &mut Daemon, log: &Path) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        daemon.assert_running(log);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port} after 10s");
}
