//! TCP checks against listeners on 127.0.0.1: open and closed ports,
//! send/expect with an echo server, and TLS with a certificate from rcgen.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect, perf, run};
use hark_config::monitor::{CheckConfig, MonitorConfig, TcpCheck};
use hark_monitor::Status;
use hark_monitor::checks::{CheckContext, run_check};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Echoes what it reads; with `close_after_first`, closes after one echo.
async fn echo_server(close_after_first: bool) -> (u16, Task) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() || close_after_first {
                        break;
                    }
                }
            });
        }
    });
    (port, Task(task))
}

#[tokio::test]
async fn open_and_closed_ports() {
    let ctx = CheckContext::new().expect("context");
    let (port, _server) = echo_server(false).await;
    let o = run(
        &ctx,
        &format!("type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}"),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[&format!("TCP 127.0.0.1:{port}: connected in")],
    );
    assert!(perf(&o, "time") > 0.0);

    let o = run(
        &ctx,
        &format!("type = \"tcp\"\nhost = \"localhost\"\nport = {port}"),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[&format!("TCP localhost:{port} (127.0.0.1): connected")],
    );

    let closed = hark_testkit::free_tcp_port();
    let o = run(
        &ctx,
        &format!("type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {closed}"),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &[&format!("connection to 127.0.0.1:{closed} refused")],
    );
}

#[tokio::test]
async fn send_and_expect() {
    let ctx = CheckContext::new().expect("context");
    let (port, _server) = echo_server(false).await;
    let o = run(
        &ctx,
        &format!(
            "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\nsend = \"PING hark\\r\\n\"\nexpect = \"hark\""
        ),
    )
    .await;
    expect(&o, Status::Ok, &["received \"hark\" after"]);
    assert!(perf(&o, "response") >= 0.0);

    // Nothing arrives that contains the expectation: the timeout says what was awaited.
    let o = run(
        &ctx,
        &format!(
            "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\nsend = \"PING\\r\\n\"\nexpect = \"PONG\"\ntimeout = \"500ms\""
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &["timed out after 500ms while waiting for the expected reply"],
    );

    let (once, _server) = echo_server(true).await;
    let o = run(
        &ctx,
        &format!(
            "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {once}\nsend = \"HELLO\\n\"\nexpect = \"+OK\""
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &["connection closed before \"+OK\" arrived; received \"HELLO\\n\""],
    );
}

#[tokio::test]
async fn tls_with_certificate_report() {
    let ctx = CheckContext::new().expect("context");
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(40);
    let cert = params.signed_by(&key, &issuer).expect("leaf");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .expect("config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _server = Task(tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let _ = tls.write_all(b"* OK IMAP4rev1 ready\r\n").await;
                    let _ = tls.flush().await;
                    let mut buf = [0u8; 64];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    }));
    let ca_file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(ca_file.path(), ca_cert.pem()).expect("write");
    let tcp = |verify: bool, tls_ca: bool| MonitorConfig {
        check: CheckConfig::Tcp(TcpCheck {
            host: "localhost".into(),
            port,
            send: None,
            expect: Some("* OK".into()),
            tls: true,
            tls_verify: verify,
            tls_ca: tls_ca.then(|| ca_file.path().to_path_buf()),
            warn_time: None,
            crit_time: None,
        }),
        interval: Duration::from_secs(60),
        retry_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        parent: None,
        public: false,
    };
    let o = run_check("imap", &tcp(true, true), &ctx).await;
    expect(
        &o,
        Status::Ok,
        &[
            "certificate expires in 40 days",
            "TLS in",
            "received \"* OK\"",
        ],
    );
    assert!(perf(&o, "cert_days") > 39.0);
    let o = run_check("imap", &tcp(true, false), &ctx).await;
    expect(&o, Status::Crit, &["unknown issuer"]);
    let o = run_check("imap", &tcp(false, false), &ctx).await;
    expect(&o, Status::Ok, &["not verified"]);

    // TLS spoken to a plain echo server fails the handshake.
    let (plain, _echo) = echo_server(false).await;
    let o = run(
        &ctx,
        &format!(
            "type = \"tcp\"\nhost = \"127.0.0.1\"\nport = {plain}\ntls = true\ntimeout = \"2s\""
        ),
    )
    .await;
    expect(&o, Status::Crit, &["TLS handshake with 127.0.0.1 failed"]);
}
