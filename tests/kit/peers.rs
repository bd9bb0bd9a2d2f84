//! Real peers run beside the server: util-linux `logger`, syslog-ng's
//! `loggen` (unpacked by scripts/install-test-deps.sh) and `rsyslogd`.

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server::signal;
use crate::{free_tcp_port, poll};

/// Where scripts/install-test-deps.sh unpacks syslog-ng-core.
const SYSLOG_NG_ROOT: &str = "/opt/hark-peers/syslog-ng";

/// A child process killed (and reaped) when dropped.
pub struct ChildGuard {
    child: Option<Child>,
    name: String,
}

impl ChildGuard {
    /// Takes ownership of `child`.
    pub fn new(name: &str, child: Child) -> ChildGuard {
        ChildGuard {
            child: Some(child),
            name: name.to_owned(),
        }
    }

    /// Spawns `cmd` and guards it.
    pub fn spawn(name: &str, cmd: &mut Command) -> ChildGuard {
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        ChildGuard::new(name, child)
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The child, for its pipes or `wait`.
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("child still owned")
    }

    /// Whether it has exited (and how).
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    /// Waits for exit, at most `timeout`; kills it and panics after that.
    pub fn wait_timeout(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let name = self.name.clone();
        match poll(timeout, Duration::from_millis(50), || self.try_wait()) {
            Some(s) => s,
            None => {
                let _ = self.child().kill();
                panic!("{name} did not exit within {timeout:?}");
            }
        }
    }

    /// Sends SIGTERM and waits (up to 30 s) for exit.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        signal(self.id(), "TERM");
        poll(Duration::from_secs(30), Duration::from_millis(50), || {
            self.try_wait()
        })
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

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

/// An `rsyslogd` in the foreground with a private configuration, pid file
/// and work directory, fed through an imtcp input on a free port.
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
            .prefix("hark-e2e-rsyslog-")
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

    /// A configuration: work directory, `globals` (extra `global()`
    /// parameters, may be empty), an imtcp input on [`Rsyslog::input_port`]
    /// bound to a ruleset running `action`, and rsyslog's own messages in
    /// [`Rsyslog::internal_log`].
    pub fn config(&self, globals: &str, action: &str) -> String {
        format!(
            r#"global(workDirectory="{work}" {globals})
module(load="imtcp")
ruleset(name="fwd") {{
  {action}
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="fwd")
action(type="omfile" file="{internal}")
"#,
            work = self.dir().join("work").display(),
            port = self.input_port,
            internal = self.internal_log().display(),
        )
    }

    /// Checks `conf` with `rsyslogd -N1`, starts rsyslogd with it and waits
    /// until its input accepts connections.
    pub fn start(&mut self, conf: &str) {
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
        let out = File::create(self.dir().join("rsyslogd.out")).expect("create rsyslogd.out");
        let err = out.try_clone().expect("clone the file handle");
        let proc = ChildGuard::spawn(
            "rsyslogd",
            Command::new("rsyslogd")
                .args(["-n", "-f"])
                .arg(&conf_path)
                .arg("-i")
                .arg(self.dir().join("rsyslogd.pid"))
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err),
        );
        self.proc = Some(proc);
        let port = self.input_port;
        let up = poll(Duration::from_secs(30), Duration::from_millis(100), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        if up.is_none() {
            panic!(
                "rsyslogd's input 127.0.0.1:{port} did not open\n{}",
                self.diagnostics()
            );
        }
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
