//! Failed logins counted on `/metrics` by reason, through the API and the
//! form, with a real LDAP directory client that cannot reach its server.
//! In a test binary of its own, so the process-wide counters hold only
//! this test's failures.

mod kit;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hark_server::tokens::Role;
use http_body_util::BodyExt;
use kit::Harness;
use tower::ServiceExt;

/// A TCP port on loopback that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A directory client whose server is not there.
fn unreachable_directory() -> Arc<dyn hark_auth::Directory> {
    let text = format!(
        "[auth.ldap]\nurl = \"ldap://127.0.0.1:{}\"\nstarttls = false\nuser_base = \
         \"ou=people,dc=example,dc=org\"\n",
        closed_port()
    );
    let cfg = hark_config::Config::from_toml_str("hark.toml", &text).unwrap();
    Arc::new(hark_ldap::LdapDirectory::new(cfg.auth.ldap.as_ref().unwrap()).unwrap())
}

/// A `POST /api/v1/login` with `content_type`, `body` and extra headers.
fn login(content_type: &str, body: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .header(header::HOST, "hark.example:8080")
        .header(header::CONTENT_TYPE, content_type);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

fn json_login(user: &str, password: &str) -> Request<Body> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    login("application/json", &body, &[])
}

/// The value of `hark_login_failures_total{reason="…"}` in `text`, 0 when absent.
fn failures(text: &str, reason: &str) -> u64 {
    let prefix = format!("hark_login_failures_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn failed_logins_are_counted_by_reason() {
    let h = Harness::new();
    let mut state = h.state();
    state.auth = hark_auth::Authenticator::open(
        h.dir.path(),
        &hark_config::AuthConfig::default(),
        Some(unreachable_directory()),
    )
    .unwrap();
    state
        .auth
        .users()
        .add("vera", Role::Viewer, "vera's password")
        .unwrap();
    state
        .auth
        .users()
        .add("otto", Role::Operator, "otto's password")
        .unwrap();
    let app = hark_server::router(state);
    let status = |req: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap().status() }
    };

    // Five wrong passwords through the API, then the throttle refuses.
    for _ in 0..hark_auth::throttle::FREE_FAILURES {
        let s = status(json_login("vera", "guess")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let s = status(json_login("vera", "vera's password")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // A wrong password through the form.
    let s = status(login(
        "application/x-www-form-urlencoded",
        "username=otto&password=guess",
        &[],
    ))
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // Not a local user: the directory is asked, and is not there.
    let s = status(json_login("dora", "dora's password")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    // Not a login at all.
    let s = status(login("application/json", "{\"user\":", &[])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A form posted from another site.
    let s = status(login(
        "application/x-www-form-urlencoded",
        "username=otto&password=otto%27s+password",
        &[("sec-fetch-site", "cross-site")],
    ))
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A good login is no failure.
    let s = status(json_login("otto", "otto's password")).await;
    assert_eq!(s, StatusCode::OK);

    let resp = app
        .clone()
        .oneshot(h.request(Method::GET, "/metrics", None, Body::empty()))
        .await
        .unwrap();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let expected = [
        (
            "bad_credentials",
            u64::from(hark_auth::throttle::FREE_FAILURES) + 1,
        ),
        ("throttled", 1),
        ("directory_unavailable", 1),
        ("malformed", 1),
        ("cross_origin", 1),
        ("internal", 0),
    ];
    for (reason, count) in expected {
        assert_eq!(failures(&text, reason), count, "{reason} in:\n{text}");
    }
    assert!(
        text.contains("# TYPE hark_login_failures_total counter"),
        "{text}"
    );
}
