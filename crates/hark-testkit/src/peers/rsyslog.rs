//! rsyslogd in the foreground with a private configuration, ready once a
//! line sent to its input has come out of its ruleset.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::run_logger;
use crate::ports::free_tcp_port;
use crate::process::ChildGuard;
use crate::wait::{PATIENCE, poll};

/// The text of the readiness probe; lines holding it never reach the action.
const PROBE: &str = "hark-testkit-readiness-probe";

/// An `rsyslogd` with a private configuration, pid file and work directory,
/// fed through an imtcp input on a free port.
pub struct Rsyslog {
    dir: tempfile::TempDir,
    input_port: u16,
    proc: Option<ChildGuard>,
}

impl Default for Rsyslog {
    fn default() -> Self {
        Rsyslog::new()
    }
}

impl Rsyslog {
    /// A work directory and a free port for the imtcp input; not started.
    pub fn new() -> Rsyslog {
        let dir = tempfile::Builder::new()
            .prefix("hark-rsyslog-")
            .tempdir()
            .expect("create rsyslog's directory");
        std::fs::create_dir_all(dir.path().join("work")).expect("create rsyslog's work dir");
        Rsyslog {
            dir,
            input_port: free_tcp_port(),
            proc: None,
        }
    }

    /// The directory for its files (certificates may go here too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The port of the imtcp input the test feeds.
    pub fn input_port(&self) -> u16 {
        self.input_port
    }

    /// The file rsyslog's own messages go to.
    pub fn internal_log(&self) -> PathBuf {
        self.dir().join("internal.log")
    }

    /// Where the ruleset writes the readiness probe's lines.
    fn probe_log(&self) -> PathBuf {
        self.dir().join("probe.log")
    }

    /// A configuration: work directory, `globals` (extra `global()`
    /// parameters, may be empty), an imtcp input on [`Rsyslog::input_port`]
    /// bound to a ruleset running `action`, and rsyslog's own messages in
    /// [`Rsyslog::internal_log`]. The ruleset first takes the readiness
    /// probe's lines out to a file of their own, so `action` never sees them.
    pub fn config(&self, globals: &str, action: &str) -> String {
        format!(
            r#"global(workDirectory="{work}" {globals})
module(load="imtcp")
ruleset(name="fwd") {{
  if $rawmsg contains "{PROBE}" then {{
    action(type="omfile" file="{probe}")
    stop
  }}
  {action}
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="fwd")
action(type="omfile" file="{internal}")
"#,
            work = self.dir().join("work").display(),
            probe = self.probe_log().display(),
            port = self.input_port,
            internal = self.internal_log().display(),
        )
    }

    /// Checks `conf` (made by [`Rsyslog::config`]) with `rsyslogd -N1`,
    /// starts rsyslogd with it and waits until a line sent to its input has
    /// been written by its ruleset.
    pub fn start(&mut self, conf: &str) {
        assert!(
            conf.contains(PROBE),
            "the configuration lacks the readiness probe of Rsyslog::config:\n{conf}"
        );
        let conf_path = self.dir().join("rsyslog.conf");
        std::fs::write(&conf_path, conf).expect("write rsyslog.conf");
        let check = Command::new("rsyslogd")
            .args(["-N1", "-f"])
            .arg(&conf_path)
            .output()
            .expect("run rsyslogd -N1 (is rsyslog installed? scripts/install-test-deps.sh)");
        assert!(
            check.status.success(),
            "rsyslogd -N1 rejects the configuration:\n{conf}\n{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let proc = ChildGuard::logged(
            "rsyslogd",
            Command::new("rsyslogd")
                .args(["-n", "-f"])
                .arg(&conf_path)
                .arg("-i")
                .arg(self.dir().join("rsyslogd.pid")),
            &self.dir().join("rsyslogd.out"),
        );
        let port = self.input_port;
        let probe_log = self.probe_log();
        let proc = self.proc.insert(proc);
        let passed = poll(PATIENCE, Duration::from_millis(100), || {
            proc.assert_running();
            send_probe(port);
            std::fs::read_to_string(&probe_log)
                .is_ok_and(|t| t.contains(PROBE))
                .then_some(())
        });
        if passed.is_none() {
            panic!(
                "no line sent to rsyslogd's input 127.0.0.1:{port} came out of its ruleset within {PATIENCE:?}\n{}",
                self.diagnostics()
            );
        }
    }

    /// Sends `lines` to the input with one `logger --tcp -f` run, tagged
    /// `tag`; returns once logger has written them all.
    pub fn feed(&self, tag: &str, lines: impl IntoIterator<Item = String>) {
        let mut file = tempfile::Builder::new()
            .prefix("feed-")
            .suffix(".txt")
            .tempfile_in(self.dir())
            .expect("create a message file");
        for line in lines {
            writeln!(file, "{line}").expect("write the message file");
        }
        file.flush().expect("write the message file");
        let port = self.input_port.to_string();
        let path = file.path().display().to_string();
        run_logger(&[
            "--tcp",
            "-n",
            "127.0.0.1",
            "-P",
            &port,
            "-t",
            tag,
            "-f",
            &path,
        ]);
    }

    /// rsyslogd's stdout/stderr and its internal messages, for failures.
    pub fn diagnostics(&self) -> String {
        let read = |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_default();
        format!(
            "---- rsyslogd output ----\n{}\n---- rsyslog internal log ----\n{}",
            read(self.dir().join("rsyslogd.out")),
            read(self.internal_log())
        )
    }

    /// Stops rsyslogd with SIGTERM (it flushes its queues first).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.terminate();
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.diagnostics());
        }
        self.proc.take();
    }
}

/// Sends one probe line to the input on `port` (nothing when it refuses).
fn send_probe(port: u16) {
    if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(format!("<13>{PROBE}\n").as_bytes());
    }
}
