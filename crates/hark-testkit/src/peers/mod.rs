//! Real programs a test runs beside the code under test, each on free
//! loopback ports, killed on drop, and returned only once it has answered
//! its own protocol.
//!
//! Senders: util-linux [`logger`] and syslog-ng's [`loggen`]. Daemons:
//! [`snmpd`] (an SNMP GET answered), [`dnsmasq`] (a DNS query answered),
//! [`node_exporter`] (`/metrics` scraped) and [`Rsyslog`] (a line through
//! its input written by its ruleset) and [`Slapd`] (an LDAP bind
//! accepted). scripts/install-test-deps.sh installs them.

mod dnsmasq;
mod node_exporter;
mod rsyslog;
pub mod slapd;
mod snmpd;

pub use dnsmasq::dnsmasq;
pub use node_exporter::node_exporter;
pub use rsyslog::Rsyslog;
pub use slapd::Slapd;
pub use snmpd::snmpd;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::ChildGuard;
use crate::wait::until;

/// Where scripts/install-test-deps.sh unpacks syslog-ng-core.
const SYSLOG_NG_ROOT: &str = "/opt/hark-peers/syslog-ng";

/// util-linux `logger`, stdin closed.
pub fn logger() -> Command {
    let mut c = Command::new("logger");
    c.stdin(Stdio::null());
    c
}

/// Runs `logger ARGS` and panics unless it succeeds.
pub fn run_logger(args: &[&str]) {
    let out = logger().args(args).output().expect("run logger");
    assert!(
        out.status.success(),
        "logger {args:?} failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The loggen binary.
pub fn loggen_path() -> PathBuf {
    let p = Path::new(SYSLOG_NG_ROOT).join("usr/bin/loggen");
    assert!(
        p.is_file(),
        "{} missing: run scripts/install-test-deps.sh",
        p.display()
    );
    p
}

/// loggen with its library and plugin paths set.
pub fn loggen() -> Command {
    let root = Path::new(SYSLOG_NG_ROOT);
    let mut c = Command::new(loggen_path());
    c.env("LD_LIBRARY_PATH", root.join("usr/lib/syslog-ng"))
        .env("SYSLOGNG_PREFIX", root.join("usr"))
        .stdin(Stdio::null());
    c
}

/// A daemon serving on one port of 127.0.0.1, with its files in a
/// temporary directory; killed, and its files removed, on drop.
pub struct Daemon {
    port: u16,
    proc: ChildGuard,
    _dir: tempfile::TempDir,
}

impl Daemon {
    /// How many ports a daemon is started on before giving up.
    const TRIES: usize = 5;

    /// Starts `command(port)` as `name` on a free port of 127.0.0.1 (TCP
    /// and UDP) with its output in `dir/name.log`, and returns once
    /// `ready(port)` (a protocol probe) holds. A port is only free "a moment
    /// ago": when the program exits before it is ready (another process
    /// took the port meanwhile) it is started again on another port, up to
    /// [`Daemon::TRIES`] times; then this panics with its log.
    fn start(
        name: &str,
        dir: tempfile::TempDir,
        mut command: impl FnMut(u16) -> Command,
        mut ready: impl FnMut(u16) -> bool,
    ) -> Daemon {
        let log = dir.path().join(format!("{name}.log"));
        for attempt in 1..=Self::TRIES {
            let port = crate::ports::free_tcp_port();
            let mut proc = ChildGuard::logged(name, &mut command(port), &log);
            let started = until(format_args!("{name} on 127.0.0.1:{port} to answer"), || {
                if proc.try_wait().is_some() {
                    return Some(false);
                }
                ready(port).then_some(true)
            });
            if started {
                return Daemon {
                    port,
                    proc,
                    _dir: dir,
                };
            }
            if attempt == Self::TRIES {
                proc.assert_running();
            }
            eprintln!(
                "{name} exited before answering on 127.0.0.1:{port}; trying another port:\n{}",
                proc.log()
            );
        }
        unreachable!("the last attempt panics when it fails")
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What it has written to stdout and stderr.
    pub fn log(&self) -> String {
        self.proc.log()
    }
}
