//! A real SMTP server beside the test: `tests/peers/smtp_server.py`
//! (aiosmtpd, run by the system Python) in plain, STARTTLS-with-AUTH or
//! implicit-TLS mode, writing every accepted message to a directory.
//!
//! ```no_run
//! use hark_e2e::smtp::{SmtpMode, SmtpServer};
//! let smtp = SmtpServer::start(SmtpMode::Starttls);
//! // … configure a channel with smtp.port, smtp.ca_file(), SMTP_USER …
//! let mails = smtp.wait_for(1, std::time::Duration::from_secs(30));
//! assert!(mails[0].header("Message-ID").is_some());
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::tls::TlsFiles;
use crate::workspace_root;
use hark_testkit::{ChildGuard, free_tcp_port, poll};

/// The user the server accepts in the TLS modes.
pub const SMTP_USER: &str = "hark";
/// That user's password.
pub const SMTP_PASSWORD: &str = "correct horse";
/// The system Python, which has aiosmtpd (Debian's python3-aiosmtpd).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// How the server protects the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Plain text, no authentication.
    Plain,
    /// STARTTLS required, then AUTH required.
    Starttls,
    /// TLS from the first byte, then AUTH required.
    Tls,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender.
    pub mail_from: String,
    /// The envelope recipients.
    pub rcpt_tos: Vec<String>,
    /// Every header, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded text body, with LF line ends.
    pub body: String,
    /// The user that authenticated, if any.
    pub authenticated_as: Option<String>,
    /// Whether the message came over TLS.
    pub tls: bool,
}

impl Mail {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running SMTP server, killed on drop.
pub struct SmtpServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The mode it runs in.
    pub mode: SmtpMode,
    /// Its certificates (the TLS modes).
    pub tls: Option<TlsFiles>,
    mails: PathBuf,
    _child: ChildGuard,
    // Last: the directory goes after the process.
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start(mode: SmtpMode) -> SmtpServer {
        SmtpServer::start_on(free_tcp_port(), mode)
    }

    /// A server on `port` (e.g. one a client was already told about).
    pub fn start_on(port: u16, mode: SmtpMode) -> SmtpServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mails = dir.path().join("mails");
        let mut cmd = Command::new(SYSTEM_PYTHON);
        cmd.arg(workspace_root().join("tests/peers/smtp_server.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(&mails);
        let tls = match mode {
            SmtpMode::Plain => {
                cmd.args(["--mode", "plain"]);
                None
            }
            SmtpMode::Starttls | SmtpMode::Tls => {
                let files = TlsFiles::generate(&dir.path().join("tls"));
                cmd.args([
                    "--mode",
                    if mode == SmtpMode::Tls {
                        "tls"
                    } else {
                        "starttls"
                    },
                ])
                .arg("--cert")
                .arg(&files.server_cert)
                .arg("--key")
                .arg(&files.server_key)
                .args(["--user", SMTP_USER, "--password", SMTP_PASSWORD]);
                Some(files)
            }
        };
        let child = spawn_ready("smtp_server.py", &mut cmd);
        SmtpServer {
            port,
            mode,
            tls,
            mails,
            _child: child,
            _dir: dir,
        }
    }

    /// The CA that signed the server's certificate (the TLS modes).
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_cert.as_path())
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        read_mails(&self.mails)
    }

    /// Waits until at least `n` messages are in, at most `timeout`; all of them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        poll(timeout, Duration::from_millis(50), || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} messages within {timeout:?}, have {:?}",
                self.messages()
            )
        })
    }
}

/// The messages written to `dir`, in order.
pub fn read_mails(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read a message file");
            let v: Value = serde_json::from_str(&text).expect("a message file is JSON");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Mail {
                mail_from: s("mail_from"),
                rcpt_tos: v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                headers: v["headers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|h| {
                                (
                                    h[0].as_str().unwrap_or_default().to_owned(),
                                    h[1].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                body: s("body").replace("\r\n", "\n"),
                authenticated_as: v["authenticated_as"].as_str().map(str::to_owned),
                tls: v["tls"].as_bool().unwrap_or(false),
            }
        })
        .collect()
}

/// Spawns a peer script that prints `ready PORT` once it listens, and
/// waits for that line (30 s at most); its stderr is kept for failures.
pub(crate) fn spawn_ready(name: &str, cmd: &mut Command) -> ChildGuard {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(name, cmd);
    let stdout = child.child().stdout.take().expect("piped stdout");
    let stderr = child.child().stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok);
        let _ = tx.send(first);
        // Keep draining so the peer never blocks on a full pipe.
        for _ in lines {}
    });
    let (etx, erx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            let _ = etx.send(text.clone());
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(line)) if line.starts_with("ready") => child,
        other => {
            std::thread::sleep(Duration::from_millis(200));
            let stderr = erx.try_iter().last().unwrap_or_default();
            panic!("{name} did not start ({other:?}):\n{stderr}");
        }
    }
}
