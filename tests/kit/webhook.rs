//! A real HTTP receiver for webhooks beside the test:
//! `tests/peers/webhook_receiver.py` (the system Python's http.server). It
//! answers 500 to the first N requests, checks `X-Hark-Signature` against
//! its secret, and logs every request.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::smtp::{SYSTEM_PYTHON, spawn_ready};
use crate::workspace_root;
use hark_testkit::{ChildGuard, free_tcp_port, poll};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// 1 for the first request.
    pub n: u64,
    /// What it answered.
    pub status: u16,
    /// Whether the signature matched; `None` without a secret.
    pub signature_ok: Option<bool>,
    /// The `X-Hark-Notification-Id` header.
    pub id: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `Content-Encoding` header (a gzip body is logged decompressed).
    pub content_encoding: Option<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The body.
    pub body: String,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// A running receiver, killed on drop.
pub struct WebhookReceiver {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The secret it checks signatures with, if any.
    pub secret_file: Option<PathBuf>,
    log: PathBuf,
    _child: ChildGuard,
    _dir: tempfile::TempDir,
}

impl WebhookReceiver {
    /// A receiver on a free port that answers 500 to the first `fail`
    /// requests; with `secret`, it checks signatures with it.
    pub fn start(fail: u32, secret: Option<&str>) -> WebhookReceiver {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("requests.jsonl");
        let port = free_tcp_port();
        let mut cmd = Command::new(SYSTEM_PYTHON);
        cmd.arg(workspace_root().join("tests/peers/webhook_receiver.py"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--log")
            .arg(&log)
            .arg("--fail")
            .arg(fail.to_string());
        let secret_file = secret.map(|s| {
            let p = dir.path().join("secret");
            std::fs::write(&p, format!("{s}\n")).expect("write the secret");
            cmd.arg("--secret-file").arg(&p);
            p
        });
        let child = spawn_ready("webhook_receiver.py", &mut cmd);
        WebhookReceiver {
            port,
            secret_file,
            log,
            _child: child,
            _dir: dir,
        }
    }

    /// The URL to configure.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        read_log(&self.log)
    }

    /// Waits until a request was answered with `status`, at most `timeout`;
    /// all requests up to then.
    pub fn wait_for_status(&self, status: u16, timeout: Duration) -> Vec<Received> {
        poll(timeout, Duration::from_millis(50), || {
            let r = self.requests();
            r.iter().any(|x| x.status == status).then_some(r)
        })
        .unwrap_or_else(|| {
            panic!(
                "no request answered {status} within {timeout:?}: {:?}",
                self.requests()
            )
        })
    }
}

fn read_log(path: &Path) -> Vec<Received> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a log line is JSON");
            Received {
                n: v["n"].as_u64().unwrap_or(0),
                status: v["status"].as_u64().unwrap_or(0) as u16,
                signature_ok: v["signature_ok"].as_bool(),
                id: v["id"].as_str().map(str::to_owned),
                content_type: v["content_type"].as_str().map(str::to_owned),
                content_encoding: v["content_encoding"].as_str().map(str::to_owned),
                authorization: v["authorization"].as_str().map(str::to_owned),
                body: v["body"].as_str().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}
