//! HTTP(S) checks against in-process servers on 127.0.0.1: statuses,
//! bodies, JSON, redirects, timeouts, and certificates made by rcgen (a CA
//! passed as `tls_ca`, leaves that expire in 5 days, expired, or for another
//! name).

mod common;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use common::{expect, perf, run};
use hark_monitor::Status;
use hark_monitor::checks::CheckContext;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

async fn handler(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let reply = |status: u16, body: &str| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("response")
    };
    let redirect = |to: &str| {
        Response::builder()
            .status(302)
            .header("location", to)
            .body(Full::new(Bytes::new()))
            .expect("response")
    };
    Ok(match path.as_str() {
        "/ready" => reply(200, "service ready\n"),
        "/health.json" => reply(
            200,
            r#"{"status":"ok","checks":[{"name":"db","ok":true,"latency_ms":3}],"version":3}"#,
        ),
        "/degraded.json" => reply(503, r#"{"status":"degraded"}"#),
        "/broken" => reply(503, "down for maintenance"),
        "/moved" => redirect("/ready"),
        "/loop" => redirect("/loop"),
        "/echo" if method == hyper::Method::POST => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            Response::new(Full::new(body))
        }
        "/big" => reply(200, &"x".repeat(3 << 20)),
        _ => reply(404, "not found"),
    })
}

/// An HTTP (or, with `tls`, HTTPS) server on 127.0.0.1, stopped on drop.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(tls: Option<Arc<ServerConfig>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tls.map(TlsAcceptor::from);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let http = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    Some(a) => {
                        if let Ok(tls) = a.accept(stream).await {
                            let _ = http
                                .serve_connection(TokioIo::new(tls), service_fn(handler))
                                .await;
                        }
                    }
                    None => {
                        let _ = http
                            .serve_connection(TokioIo::new(stream), service_fn(handler))
                            .await;
                    }
                }
            });
        }
    });
    Server { addr, task }
}

/// A test CA: its PEM (to write as `tls_ca`) and what signs leaves.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "Hark Test CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("CA");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A server configuration whose certificate, signed by `ca`, is valid for
/// `names` from `from_days` to `to_days` (relative to now).
fn leaf(ca: &Ca, names: &[&str], from_days: i64, to_days: i64) -> Arc<ServerConfig> {
    let key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(from_days);
    params.not_after = now + time::Duration::days(to_days);
    let cert = params.signed_by(&key, &ca.issuer).expect("leaf");
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
    Arc::new(config)
}

fn ca_file(ca: &Ca) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(ca.pem.as_bytes()).expect("write CA");
    f
}

fn toml_path(p: &std::path::Path) -> String {
    p.display().to_string().replace('\\', "\\\\")
}

#[tokio::test]
async fn certificate_expiring_in_five_days_warns_with_the_days() {
    let ctx = CheckContext::new().expect("context");
    let ca = ca();
    let server = serve(Some(leaf(&ca, &["localhost", "127.0.0.1"], -1, 5))).await;
    let ca_path = ca_file(&ca);
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
               url = "https://localhost:{}/ready"
               tls_ca = "{}"
               cert_expiry_warn = "21days"
               cert_expiry_crit = "2days"
               body_contains = "ready""#,
            server.addr.port(),
            toml_path(ca_path.path())
        ),
    )
    .await;
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(5)).date();
    expect(
        &o,
        Status::Warn,
        &[
            &format!("certificate expires in 5 days ({date})"),
            "HTTP 200 OK in",
        ],
    );
    assert!(
        o.output.starts_with("certificate expires in 5 days"),
        "{}",
        o.output
    );
    let days = perf(&o, "cert_days");
    assert!(days > 4.9 && days <= 5.0, "{days}");
    for label in ["dns", "connect", "tls", "ttfb", "time"] {
        assert!(perf(&o, label) >= 0.0);
    }
    assert!(perf(&o, "time") >= perf(&o, "ttfb"));
    assert_eq!(perf(&o, "size"), "service ready\n".len() as f64);

    // The same certificate seen by address: also in its names.
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
               url = "https://127.0.0.1:{}/ready"
               tls_ca = "{}"
               cert_expiry_warn = "3days"
               cert_expiry_crit = "2days""#,
            server.addr.port(),
            toml_path(ca_path.path())
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["HTTP 200 OK", "certificate expires in 5 days"],
    );
}

#[tokio::test]
async fn expired_certificate_is_critical_and_still_counted() {
    let ctx = CheckContext::new().expect("context");
    let ca = ca();
    let server = serve(Some(leaf(&ca, &["localhost"], -30, -3))).await;
    let ca_path = ca_file(&ca);
    for verify in [true, false] {
        let o = run(
            &ctx,
            &format!(
                r#"type = "http"
                   url = "https://localhost:{}/ready"
                   tls_ca = "{}"
                   tls_verify = {verify}"#,
                server.addr.port(),
                toml_path(ca_path.path())
            ),
        )
        .await;
        expect(
            &o,
            Status::Crit,
            &["certificate expired 3 days ago (", "HTTP 200 OK"],
        );
        // Expiry is the only fault: the chain and name are otherwise fine.
        assert!(!o.output.contains("not trusted"), "{}", o.output);
        let days = perf(&o, "cert_days");
        assert!((-3.01..=-2.9).contains(&days), "{days}");
    }
}

#[tokio::test]
async fn untrusted_or_misnamed_certificates_fail_only_when_verified() {
    let ctx = CheckContext::new().expect("context");
    let ca = ca();
    let server = serve(Some(leaf(&ca, &["localhost"], -1, 90))).await;
    let port = server.addr.port();
    // No tls_ca: the test CA is unknown to the system store.
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "https://localhost:{port}/ready""#
        ),
    )
    .await;
    expect(&o, Status::Crit, &["unknown issuer", "HTTP 200 OK"]);
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
               url = "https://localhost:{port}/ready"
               tls_verify = false"#
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &["not verified", "certificate expires in 90 days"],
    );

    let elsewhere = serve(Some(leaf(&ca, &["elsewhere.test"], -1, 90))).await;
    let ca_path = ca_file(&ca);
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
               url = "https://localhost:{}/ready"
               tls_ca = "{}""#,
            elsewhere.addr.port(),
            toml_path(ca_path.path())
        ),
    )
    .await;
    expect(&o, Status::Crit, &["certificate not valid for localhost"]);

    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
               url = "https://localhost:{port}/ready"
               tls_ca = "/nonexistent/ca.pem""#
        ),
    )
    .await;
    expect(
        &o,
        Status::Unknown,
        &["cannot read tls_ca /nonexistent/ca.pem"],
    );
}

#[tokio::test]
async fn statuses_bodies_and_json() {
    let ctx = CheckContext::new().expect("context");
    let server = serve(None).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let check = |extra: &str| format!("type = \"http\"\n{extra}");

    let o = run(
        &ctx,
        &check(&format!(
            r#"url = "{base}/ready"
                                         body_contains = "ready"
                                         body_regex = "^service \\w+""#
        )),
    )
    .await;
    expect(&o, Status::Ok, &["HTTP 200 OK in"]);
    assert!(o.perf.iter().all(|p| p.label != "tls"), "{:?}", o.perf);

    // (keys after `type`, expected status, words the output must contain)
    let cases: &[(String, Status, &[&str])] = &[
        (
            format!(r#"url = "{base}/broken""#),
            Status::Crit,
            &["HTTP 503 Service Unavailable, expected 2xx or 3xx"],
        ),
        (
            format!("url = \"{base}/broken\"\nexpect_status = [503]"),
            Status::Ok,
            &["HTTP 503"],
        ),
        (
            format!("url = \"{base}/ready\"\nbody_contains = \"healthy\""),
            Status::Crit,
            &["body does not contain \"healthy\""],
        ),
        (
            format!("url = \"{base}/ready\"\nbody_regex = \"^ok$\""),
            Status::Crit,
            &["body does not match /^ok$/"],
        ),
        (
            json(&base, "health.json", "$.status", "\"ok\""),
            Status::Ok,
            &["$.status = \"ok\""],
        ),
        (
            json(&base, "health.json", "$.checks[0].ok", "true"),
            Status::Ok,
            &[],
        ),
        (
            json(&base, "health.json", "$.checks[0].latency_ms", "3"),
            Status::Ok,
            &[],
        ),
        (
            json(&base, "health.json", "$.version", "\"3\""),
            Status::Ok,
            &[],
        ),
        (
            json(&base, "health.json", "$.status", "\"degraded\""),
            Status::Crit,
            &["$.status is \"ok\", expected \"degraded\""],
        ),
        (
            json(&base, "health.json", "$.checks[3].ok", "true"),
            Status::Crit,
            &["$.checks[3].ok not found in the JSON body"],
        ),
        (
            json(&base, "ready", "$.status", "\"ok\""),
            Status::Crit,
            &["body is not JSON"],
        ),
        (
            json(&base, "degraded.json", "$.status", "\"ok\""),
            Status::Crit,
            &["HTTP 503", "$.status is \"degraded\", expected \"ok\""],
        ),
    ];
    for (keys, status, words) in cases {
        expect(&run(&ctx, &check(keys)).await, *status, words);
    }
}

/// Keys of an HTTP monitor comparing `path` in the JSON at `base/resource` with `value`.
fn json(base: &str, resource: &str, path: &str, value: &str) -> String {
    format!("url = \"{base}/{resource}\"\njson_path = \"{path}\"\njson_value = {value}")
}

#[tokio::test]
async fn methods_redirects_and_big_bodies() {
    let ctx = CheckContext::new().expect("context");
    let server = serve(None).await;
    let base = format!("http://127.0.0.1:{}", server.addr.port());

    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/echo"
                                  method = "POST"
                                  body = "ping from hark"
                                  body_contains = "ping from hark""#
        ),
    )
    .await;
    expect(&o, Status::Ok, &["HTTP 200 OK"]);
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/ready"
                                  method = "HEAD""#
        ),
    )
    .await;
    expect(&o, Status::Ok, &["HTTP 200 OK"]);
    assert_eq!(perf(&o, "size"), 0.0);

    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/moved"
                                  expect_status = [200]"#
        ),
    )
    .await;
    expect(&o, Status::Crit, &["HTTP 302 Found, expected 200"]);
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/moved"
                                  follow_redirects = true
                                  expect_status = [200]
                                  body_contains = "ready""#
        ),
    )
    .await;
    expect(
        &o,
        Status::Ok,
        &[
            "HTTP 200 OK in",
            &format!("after 1 redirect to {base}/ready"),
        ],
    );
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/loop"
                                  follow_redirects = true"#
        ),
    )
    .await;
    expect(&o, Status::Crit, &["more than 10 redirects"]);

    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "{base}/big"
                                  body_contains = "y""#
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &["body (first 1 MiB) does not contain \"y\""],
    );
    assert_eq!(perf(&o, "size"), (1 << 20) as f64);
}

#[tokio::test]
async fn silent_and_closed_servers() {
    let ctx = CheckContext::new().expect("context");
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "http://127.0.0.1:{port}/"
                                  timeout = "1s""#
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &["timed out after 1s while waiting for the response"],
    );
    assert!(o.duration >= std::time::Duration::from_secs(1));
    holder.abort();

    let closed = hark_testkit::free_tcp_port();
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "http://127.0.0.1:{closed}/""#
        ),
    )
    .await;
    expect(
        &o,
        Status::Crit,
        &[&format!("connection to 127.0.0.1:{closed} refused")],
    );

    let o = run(
        &ctx,
        r#"type = "http"
                         url = "http://no-such-host.invalid/""#,
    )
    .await;
    expect(&o, Status::Crit, &["cannot resolve no-such-host.invalid"]);
}

#[tokio::test]
async fn https_handshake_failure_is_critical() {
    let ctx = CheckContext::new().expect("context");
    // A plain HTTP server spoken to with TLS.
    let server = serve(None).await;
    let o = run(
        &ctx,
        &format!(
            r#"type = "http"
                                  url = "https://127.0.0.1:{}/""#,
            server.addr.port()
        ),
    )
    .await;
    expect(&o, Status::Crit, &["TLS handshake with 127.0.0.1 failed"]);
}
