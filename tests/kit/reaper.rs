//! Cleanup that runs when the test process exits, however it exits.
//!
//! Rust never drops statics, so a process a test binary shares between its
//! tests (one chromedriver, one `hark serve`) would outlive the binary. The
//! reaper is a small `sh` reading orders from a pipe this process holds:
//! when the process ends (tests done, panic, SIGKILL) the pipe closes, and
//! the shell terminates the processes and removes the directories it was
//! told about. It ignores INT, TERM and HUP, so a Ctrl-C sent to the whole
//! process group does not stop it before it has cleaned up.

use std::io::Write;
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::server::Hark;

/// The reaper's script: collect orders until end of input, then act on them.
/// `kill PID` terminates a process, `killgroup PGID` a process group (SIGTERM,
/// then SIGKILL after up to 5 s); `rm DIR` removes a directory afterwards.
const SCRIPT: &str = r#"
trap '' INT TERM HUP
pids=''; dirs=''
while read -r verb arg; do
    case $verb in
        kill) pids="$pids $arg" ;;
        killgroup) pids="$pids -$arg" ;;
        rm) dirs="$dirs $arg" ;;
    esac
done
alive() {
    for p in $pids; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
}
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
i=0
while [ $i -lt 50 ] && alive; do sleep 0.1; i=$((i + 1)); done
for p in $pids; do kill -KILL "$p" 2>/dev/null; done
for d in $dirs; do rm -rf -- "$d"; done
"#;

/// The write end of the reaper's pipe; dropped only with the process.
fn orders() -> &'static Mutex<ChildStdin> {
    static ORDERS: OnceLock<Mutex<ChildStdin>> = OnceLock::new();
    ORDERS.get_or_init(|| {
        let mut child = Command::new("sh")
            .args(["-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start the exit reaper (sh): {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        // Not waited for: it outlives this process by design.
        drop(child);
        Mutex::new(stdin)
    })
}

fn order(line: &str) {
    let mut w = orders().lock().unwrap_or_else(|e| e.into_inner());
    w.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| w.flush())
        .unwrap_or_else(|e| panic!("tell the exit reaper {line:?}: {e}"));
}

/// Terminates process `pid` when this process exits.
pub fn kill_at_exit(pid: u32) {
    order(&format!("kill {pid}"));
}

/// Terminates every process of group `pgid` when this process exits.
pub fn kill_group_at_exit(pgid: u32) {
    order(&format!("killgroup {pgid}"));
}

/// Removes directory `dir` (after the processes are gone) when this process
/// exits. Its path must not contain white space.
pub fn remove_at_exit(dir: &Path) {
    let s = dir.display().to_string();
    assert!(
        !s.is_empty() && !s.contains(char::is_whitespace),
        "the exit reaper removes only paths without white space: {s:?}"
    );
    order(&format!("rm {s}"));
}

/// Hands `hark` over to the reaper: its process is terminated and its
/// directory removed when this process exits. For a server that the tests
/// of a binary share from a static, which is never dropped.
pub fn reap_at_exit(hark: Hark) -> Hark {
    let pid = hark
        .pid()
        .unwrap_or_else(|| panic!("hark serve is not running\n{}", hark.output()));
    kill_at_exit(pid);
    remove_at_exit(hark.dir());
    hark
}
