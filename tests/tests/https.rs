//! HTTPS: `tls = "self-signed"` makes a certificate on the first start,
//! keeps it, prints its fingerprint, and serves the UI and API over TLS with
//! HSTS; plain HTTP on a reachable address is refused at start.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hark_e2e::{hark_bin, init_crypto};
use hark_testkit::{ChildGuard, free_tcp_port};
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

const READY: Duration = Duration::from_secs(60);

/// What `hark serve` printed up to `ready`.
struct Started {
    _child: ChildGuard,
    api: String,
    cert_line: String,
}

fn serve(config: &Path) -> Started {
    let mut child = Command::new(hark_bin())
        .args(["serve", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn hark serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = ChildGuard::new("hark serve", child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut api, mut cert_line) = (String::new(), String::new());
    loop {
        let line = rx.recv_timeout(READY).expect("hark serve printed `ready`");
        if let Some(url) = line.strip_prefix("api ") {
            api = url.trim().to_owned();
        } else if line.starts_with("tls certificate ") {
            cert_line = line.clone();
        } else if line.trim() == "ready" {
            break;
        }
    }
    Started {
        _child: child,
        api,
        cert_line,
    }
}

fn config(dir: &Path, http: &str) -> std::path::PathBuf {
    let path = dir.join("hark.toml");
    let data = dir.join("data");
    std::fs::write(
        &path,
        format!(
            "data_dir = {:?}\ninputs = {{}}\n\n[http]\n{http}\n",
            data.display().to_string()
        ),
    )
    .expect("write the config");
    path
}

#[test]
fn self_signed_https_is_made_once_kept_and_served_with_hsts() {
    init_crypto();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_tcp_port();
    let cfg = config(
        dir.path(),
        &format!("listen = \"127.0.0.1:{port}\"\ntls = \"self-signed\""),
    );
    let cert_file = dir.path().join("data/tls/http.crt");

    let first = serve(&cfg);
    assert_eq!(first.api, format!("https://127.0.0.1:{port}"));
    assert!(
        first.cert_line.contains("(made now)"),
        "{}",
        first.cert_line
    );
    let pem = std::fs::read(&cert_file).expect("the certificate is kept in the data directory");
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&pem).expect("a PEM certificate");
    let expected: Vec<String> = Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert!(
        first
            .cert_line
            .ends_with(&format!("sha256 {}", expected.join(":"))),
        "the printed fingerprint is the certificate's: {}",
        first.cert_line
    );

    let trusted = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let resp = trusted
        .get(format!("{}/healthz", first.api))
        .send()
        .expect("HTTPS answers with the kept certificate");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000"),
        "HSTS over TLS"
    );

    // Plain HTTP to the HTTPS port gets no answer.
    let plain = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    assert!(
        plain
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .is_err(),
        "no plain-HTTP answer on the HTTPS port"
    );
    drop(first);

    // A restart keeps the certificate.
    let second = serve(&cfg);
    assert!(
        !second.cert_line.contains("(made now)"),
        "{}",
        second.cert_line
    );
    assert!(second.cert_line.ends_with(&expected.join(":")));
    assert_eq!(
        std::fs::read(&cert_file).expect("still there"),
        pem,
        "the same certificate after a restart"
    );
}

#[test]
fn plain_http_on_a_reachable_address_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_tcp_port();
    let cfg = config(dir.path(), &format!("listen = \"0.0.0.0:{port}\""));
    let out = Command::new(hark_bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .stdin(Stdio::null())
        .output()
        .expect("run hark serve");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "refused: {text}");
    assert!(
        text.contains("hark.toml:5:") && text.contains("allow_plain_http = true"),
        "the error names the line and the fix: {text}"
    );
    assert!(!dir.path().join("data").exists(), "nothing started: {text}");
}
