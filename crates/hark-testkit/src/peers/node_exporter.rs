//! prometheus-node-exporter, ready once it serves `/metrics`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use super::Daemon;

/// Starts Debian's prometheus-node-exporter on a free port of 127.0.0.1,
/// its textfile collector reading an empty temporary directory; returns
/// once GET /metrics has answered 200 with `node_exporter_build_info`.
pub fn node_exporter() -> Daemon {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let textfiles = dir.path().to_path_buf();
    Daemon::start(
        "prometheus-node-exporter",
        dir,
        |port| {
            let mut cmd = Command::new("prometheus-node-exporter");
            cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg(format!(
                    "--collector.textfile.directory={}",
                    textfiles.display()
                ));
            cmd
        },
        scraped,
    )
}

/// One HTTP/1.0 GET of /metrics; true when it answers 200 with the
/// exporter's own build-info sample.
fn scraped(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = Vec::new();
    if s.read_to_end(&mut response).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&response);
    let status_ok = text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("HTTP/1.") && l.split(' ').nth(1) == Some("200"));
    status_ok && text.contains("node_exporter_build_info")
}
