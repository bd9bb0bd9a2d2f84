//! Child processes that a test starts and that must not outlive it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use crate::wait::poll;

/// A child process killed (and reaped) when dropped.
pub struct ChildGuard {
    child: Option<Child>,
    name: String,
    /// Where its stdout and stderr go, when started by [`ChildGuard::logged`].
    log: Option<PathBuf>,
}

impl ChildGuard {
    /// Takes ownership of `child`.
    pub fn new(name: &str, child: Child) -> ChildGuard {
        ChildGuard {
            child: Some(child),
            name: name.to_owned(),
            log: None,
        }
    }

    /// Spawns `cmd` and guards it.
    pub fn spawn(name: &str, cmd: &mut Command) -> ChildGuard {
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        ChildGuard::new(name, child)
    }

    /// Spawns `cmd` with stdin closed and stdout and stderr in the file
    /// `log`, which [`ChildGuard::assert_running`] shows when it has died.
    pub fn logged(name: &str, cmd: &mut Command, log: &Path) -> ChildGuard {
        let out = File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone a file handle");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {name} (installed? see scripts/install-test-deps.sh): {e}")
            });
        ChildGuard {
            child: Some(child),
            name: name.to_owned(),
            log: Some(log.to_owned()),
        }
    }

    /// [`ChildGuard::logged`] for a peer shared by the tests of one binary
    /// and kept in a `static`, whose guard is never dropped: `cmd` runs under
    /// `setpriv --pdeathsig KILL`, spawned by a thread that lives as long as
    /// the test process, so the kernel kills the child when the process
    /// exits. Dropping the guard still kills it at once.
    pub fn logged_for_process_lifetime(name: &str, cmd: &Command, log: &Path) -> ChildGuard {
        let mut wrapped = Command::new("setpriv");
        wrapped
            .args(["--pdeathsig", "KILL", "--"])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        for (key, value) in cmd.get_envs() {
            match value {
                Some(v) => wrapped.env(key, v),
                None => wrapped.env_remove(key),
            };
        }
        let out = File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone a file handle");
        wrapped.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = spawn_from_keeper(wrapped).unwrap_or_else(|e| {
            panic!("cannot start {name} (installed? see scripts/install-test-deps.sh): {e}")
        });
        ChildGuard {
            child: Some(child),
            name: name.to_owned(),
            log: Some(log.to_owned()),
        }
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
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    /// The text of its log file (empty when it has none).
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// Panics, showing its log, when it has exited.
    #[track_caller]
    pub fn assert_running(&mut self) {
        if let Some(status) = self.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log());
        }
    }

    /// Waits for exit, at most `timeout`; kills it and panics after that.
    pub fn wait_timeout(&mut self, timeout: Duration) -> ExitStatus {
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
    pub fn terminate(&mut self) -> Option<ExitStatus> {
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

/// A spawn request for the keeper thread and where its answer goes.
type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` from a thread that never ends. A parent-death signal fires
/// when the *thread* that forked the child ends, and the test harness ends
/// a thread after each test; this one ends only with the process.
fn spawn_from_keeper(cmd: Command) -> io::Result<Child> {
    static KEEPER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("child-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the child-keeper thread");
        tx
    });
    let (reply, answer) = mpsc::channel();
    keeper
        .send((cmd, reply))
        .map_err(|_| io::Error::other("the child-keeper thread has ended"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the child-keeper thread has ended"))?
}

/// Sends signal `sig` (`TERM`, `KILL`, `STOP`, …) to process `pid`.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}
