//! Signing in and out through the router: cookies, sessions ending,
//! cross-origin refusals, the login throttle and the security headers.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt;

use crate::identity::Role;
use crate::router;
use crate::tokens::TokenStore;

struct Fixture {
    app: Router,
    store: hark_store::Store,
    /// An admin token.
    admin_token: String,
    dir: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.store.shutdown();
    }
}

fn fixture(tls: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = hark_store::Store::open(hark_store::StoreConfig::new(dir.path().join("data")))
        .expect("store opens");
    let tokens = TokenStore::open(dir.path()).unwrap();
    let admin_token = tokens.create(Role::Admin, "ops").unwrap();
    let auth =
        hark_auth::Authenticator::open(dir.path(), &hark_config::AuthConfig::default(), None)
            .unwrap();
    auth.users()
        .add("vera", Role::Viewer, "vera's password")
        .unwrap();
    auth.users()
        .add("otto", Role::Operator, "otto's password")
        .unwrap();
    let parts = crate::testing::Parts {
        tokens,
        auth,
        ports: Vec::new(),
        tls,
        metrics: crate::testing::private_metrics(),
    };
    let app = router(crate::testing::server_state(
        &store,
        &crate::testing::config_in(&dir.path().join("data")),
        parts,
    ));
    Fixture {
        app,
        store,
        admin_token,
        dir,
    }
}

/// An answer: status, headers and body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn cookie(&self) -> Option<&str> {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
    }

    /// The session id the answer sets.
    fn session(&self) -> String {
        let cookie = self.cookie().expect("a cookie");
        let (pair, _) = cookie.split_once(';').unwrap();
        pair.strip_prefix("hark_session=").unwrap().to_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A request being made.
struct Call {
    req: axum::http::request::Builder,
    body: Body,
}

fn call(method: Method, uri: &str) -> Call {
    Call {
        req: Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "hark.example:8514"),
        body: Body::empty(),
    }
}

impl Call {
    fn header(mut self, name: &str, value: &str) -> Call {
        self.req = self.req.header(name, value);
        self
    }

    fn session(self, id: &str) -> Call {
        self.header("cookie", &format!("hark_session={id}"))
    }

    fn bearer(self, token: &str) -> Call {
        self.header("authorization", &format!("Bearer {token}"))
    }

    fn from(mut self, addr: [u8; 4]) -> Call {
        self.req = self
            .req
            .extension(ConnectInfo(SocketAddr::from((addr, 40_000))));
        self
    }

    fn json(mut self, value: serde_json::Value) -> Call {
        self.req = self.req.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(value.to_string());
        self
    }

    fn form(mut self, text: &str) -> Call {
        self.req = self
            .req
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.body = Body::from(text.to_owned());
        self
    }

    async fn send(self, app: &Router) -> Answer {
        let resp = app
            .clone()
            .oneshot(self.req.body(self.body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

async fn login(app: &Router, user: &str, password: &str) -> Answer {
    call(Method::POST, "/api/v1/login")
        .json(serde_json::json!({"username": user, "password": password}))
        .send(app)
        .await
}

#[tokio::test]
async fn json_login_sets_a_strict_cookie_that_authenticates() {
    let f = fixture(false);
    let a = login(&f.app, "vera", "vera's password").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.json(),
        serde_json::json!({"name": "vera", "role": "viewer"})
    );
    let cookie = a.cookie().unwrap();
    assert!(cookie.starts_with("hark_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let id = a.session();

    let me = call(Method::GET, "/api/v1/me")
        .session(&id)
        .send(&f.app)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.json(),
        serde_json::json!({"kind": "user", "name": "vera", "role": "viewer"})
    );
    let monitors = call(Method::GET, "/api/v1/monitors")
        .session(&id)
        .send(&f.app)
        .await;
    assert_eq!(monitors.status, StatusCode::OK);
    // The user's role is enforced.
    let check = call(Method::POST, "/api/v1/monitors/web/check")
        .session(&id)
        .send(&f.app)
        .await;
    assert_eq!(check.status, StatusCode::FORBIDDEN);
    assert!(
        check.body.contains("user `vera` is a viewer"),
        "{}",
        check.body
    );
}

#[tokio::test]
async fn cookie_is_secure_over_https_and_hsts_is_sent() {
    let f = fixture(true);
    let a = login(&f.app, "vera", "vera's password").await;
    assert!(a.cookie().unwrap().contains("; Secure"));
    assert_eq!(a.headers["strict-transport-security"], "max-age=31536000");
    let plain = fixture(false);
    let a = login(&plain.app, "vera", "vera's password").await;
    assert!(a.headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn form_login_redirects_to_a_local_next_only() {
    let f = fixture(false);
    let a = call(Method::POST, "/api/v1/login")
        .form("username=otto&password=otto%27s+password&next=%2Fmonitors")
        .send(&f.app)
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/monitors");
    assert!(a.cookie().unwrap().contains("HttpOnly"));
    let a = call(Method::POST, "/api/v1/login")
        .form("username=otto&password=otto%27s+password&next=%2F%2Fevil.example%2F")
        .send(&f.app)
        .await;
    assert_eq!(a.headers[header::LOCATION], "/search");
    let a = call(Method::POST, "/api/v1/login")
        .form("username=otto&password=wrong")
        .send(&f.app)
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/login?error=invalid");
    assert!(a.cookie().is_none());
}

#[tokio::test]
async fn wrong_password_is_401_without_a_cookie() {
    let f = fixture(false);
    let wrong = login(&f.app, "vera", "not it").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.cookie().is_none());
    assert_eq!(
        wrong.json(),
        serde_json::json!({"error": "invalid user name or password"})
    );
    let unknown = login(&f.app, "nobody", "not it").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let f = fixture(false);
    let id = login(&f.app, "vera", "vera's password").await.session();
    let out = call(Method::POST, "/api/v1/logout")
        .session(&id)
        .send(&f.app)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.cookie().unwrap().contains("Max-Age=0"));
    // The old cookie, sent again, is refused.
    let me = call(Method::GET, "/api/v1/me")
        .session(&id)
        .send(&f.app)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // A form logout goes to the sign-in page.
    let id = login(&f.app, "vera", "vera's password").await.session();
    let out = call(Method::POST, "/api/v1/logout")
        .session(&id)
        .form("")
        .send(&f.app)
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers[header::LOCATION], "/login");
}

#[tokio::test]
async fn cross_site_posts_with_the_cookie_are_refused() {
    let f = fixture(false);
    let id = login(&f.app, "otto", "otto's password").await.session();
    let silence = || {
        call(Method::POST, "/api/v1/silences").json(serde_json::json!({
            "matchers": [{"label": "rule", "value": "x"}],
            "ends_at": "2099-01-01T00:00:00Z",
            "comment": "test"
        }))
    };
    let cross = silence()
        .session(&id)
        .header("sec-fetch-site", "cross-site")
        .send(&f.app)
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", cross.body);
    assert!(cross.body.contains("cross-origin"), "{}", cross.body);
    let other_origin = silence()
        .session(&id)
        .header("origin", "https://evil.example")
        .send(&f.app)
        .await;
    assert_eq!(other_origin.status, StatusCode::FORBIDDEN);
    // Same origin passes the check (the body decides the rest).
    for same in [
        silence()
            .session(&id)
            .header("sec-fetch-site", "same-origin"),
        silence()
            .session(&id)
            .header("origin", "http://hark.example:8514"),
    ] {
        let a = same.send(&f.app).await;
        assert_ne!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
        assert_ne!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    }
    // A bearer token is no CSRF target: no Origin needed, and a cross-site one is fine.
    let bearer = silence()
        .bearer(&f.admin_token)
        .header("sec-fetch-site", "cross-site")
        .send(&f.app)
        .await;
    assert_ne!(bearer.status, StatusCode::FORBIDDEN, "{}", bearer.body);
    let bearer = silence().bearer(&f.admin_token).send(&f.app).await;
    assert_ne!(bearer.status, StatusCode::FORBIDDEN, "{}", bearer.body);
    // A cross-site GET is harmless and passes.
    let get = call(Method::GET, "/api/v1/me")
        .session(&id)
        .header("sec-fetch-site", "cross-site")
        .send(&f.app)
        .await;
    assert_eq!(get.status, StatusCode::OK);
}

#[tokio::test]
async fn cross_site_login_is_refused() {
    let f = fixture(false);
    let a = call(Method::POST, "/api/v1/login")
        .header("sec-fetch-site", "cross-site")
        .form("username=vera&password=vera%27s+password")
        .send(&f.app)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.cookie().is_none());
    let a = call(Method::POST, "/api/v1/login")
        .header("origin", "http://hark.example:8514")
        .form("username=vera&password=vera%27s+password")
        .send(&f.app)
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.cookie().is_some());
}

#[tokio::test]
async fn sixth_failure_is_429_with_retry_after_alike_for_unknown_users() {
    let f = fixture(false);
    let attempt = |user: &'static str, addr: [u8; 4]| {
        call(Method::POST, "/api/v1/login")
            .from(addr)
            .json(serde_json::json!({"username": user, "password": "guess"}))
    };
    let mut bodies = Vec::new();
    for user in ["vera", "ghost"] {
        for _ in 0..5 {
            let a = attempt(user, [192, 0, 2, 1]).send(&f.app).await;
            if a.status == StatusCode::TOO_MANY_REQUESTS {
                // The address is refused after five failures, whichever the name.
                break;
            }
            assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        }
        // From other addresses, so the name alone is counted.
        for i in 0..5u8 {
            attempt(user, [198, 51, 100, i]).send(&f.app).await;
        }
        let sixth = attempt(user, [203, 0, 113, 1]).send(&f.app).await;
        assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS, "{user}");
        let retry: u64 = sixth.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert!(sixth.cookie().is_none());
        bodies.push(sixth.json()["error"].as_str().unwrap().to_owned());
    }
    assert!(
        bodies[0].starts_with("too many failed logins"),
        "{}",
        bodies[0]
    );
    assert!(!bodies[0].contains("vera") && !bodies[1].contains("ghost"));
    // Even the right password is refused while throttled.
    let right = call(Method::POST, "/api/v1/login")
        .from([203, 0, 113, 2])
        .json(serde_json::json!({"username": "vera", "password": "vera's password"}))
        .send(&f.app)
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn security_headers_on_answers_and_404s() {
    let f = fixture(false);
    for uri in ["/healthz", "/api/v1/nothing", "/api/v1/me"] {
        let a = call(Method::GET, uri).send(&f.app).await;
        assert_eq!(
            a.headers["content-security-policy"],
            crate::headers::CONTENT_SECURITY_POLICY,
            "{uri}"
        );
        assert_eq!(a.headers["x-frame-options"], "DENY", "{uri}");
        assert_eq!(a.headers["referrer-policy"], "same-origin", "{uri}");
        assert_eq!(a.headers["x-content-type-options"], "nosniff", "{uri}");
        assert!(a.headers.get("strict-transport-security").is_none());
    }
    let missing = call(Method::GET, "/api/v1/nothing").send(&f.app).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removed_or_changed_users_lose_their_sessions() {
    let f = fixture(false);
    let vera = login(&f.app, "vera", "vera's password").await.session();
    let otto = login(&f.app, "otto", "otto's password").await.session();
    // An admin changes vera's role through the API: her session ends.
    let put = call(Method::PUT, "/api/v1/users/vera")
        .bearer(&f.admin_token)
        .json(serde_json::json!({"role": "operator"}))
        .send(&f.app)
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let me = call(Method::GET, "/api/v1/me")
        .session(&vera)
        .send(&f.app)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // Another process removes otto from the file: his session ends too.
    let cli = hark_auth::users::UserStore::open(f.dir.path()).unwrap();
    assert!(cli.remove("otto").unwrap());
    let me = call(Method::GET, "/api/v1/me")
        .session(&otto)
        .send(&f.app)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_and_tokens_through_the_api() {
    let f = fixture(false);
    let add = call(Method::POST, "/api/v1/users")
        .bearer(&f.admin_token)
        .json(
            serde_json::json!({"name": "nina", "role": "operator", "password": "nina's password"}),
        )
        .send(&f.app)
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.body);
    let again = call(Method::POST, "/api/v1/users")
        .bearer(&f.admin_token)
        .json(serde_json::json!({"name": "nina", "role": "viewer", "password": "another one"}))
        .send(&f.app)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let list = call(Method::GET, "/api/v1/users")
        .bearer(&f.admin_token)
        .send(&f.app)
        .await;
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["vera", "otto", "nina"]);
    assert!(!list.body.contains("argon2"), "no hashes: {}", list.body);

    let nina = login(&f.app, "nina", "nina's password").await.session();
    // A token of at most her own role.
    let admin_token = call(Method::POST, "/api/v1/tokens")
        .session(&nina)
        .json(serde_json::json!({"name": "ci", "role": "admin"}))
        .send(&f.app)
        .await;
    assert_eq!(admin_token.status, StatusCode::FORBIDDEN);
    let created = call(Method::POST, "/api/v1/tokens")
        .session(&nina)
        .json(serde_json::json!({"name": "ci"}))
        .send(&f.app)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.json();
    assert_eq!(created["role"], "operator");
    let secret = created["secret"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    let me = call(Method::GET, "/api/v1/me")
        .bearer(secret)
        .send(&f.app)
        .await;
    assert_eq!(me.json()["kind"], "token");
    // She sees her own token only; the admin sees all.
    let mine = call(Method::GET, "/api/v1/tokens")
        .session(&nina)
        .send(&f.app)
        .await;
    assert_eq!(mine.json().as_array().unwrap().len(), 1);
    let all = call(Method::GET, "/api/v1/tokens")
        .bearer(&f.admin_token)
        .send(&f.app)
        .await;
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    assert!(!all.body.contains(secret));
    // Another user cannot revoke it; she can.
    let vera = login(&f.app, "vera", "vera's password").await.session();
    let theirs = call(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .session(&vera)
        .send(&f.app)
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let revoke = call(Method::DELETE, &format!("/api/v1/tokens/{id}"))
        .session(&nina)
        .send(&f.app)
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let me = call(Method::GET, "/api/v1/me")
        .bearer(secret)
        .send(&f.app)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);

    // Her password change keeps this session and ends the others.
    let other = login(&f.app, "nina", "nina's password").await.session();
    let change = call(Method::POST, "/api/v1/me/password")
        .session(&nina)
        .json(serde_json::json!({"current": "nina's password", "new": "nina's new password"}))
        .send(&f.app)
        .await;
    assert_eq!(change.status, StatusCode::NO_CONTENT, "{}", change.body);
    assert_eq!(
        call(Method::GET, "/api/v1/me")
            .session(&nina)
            .send(&f.app)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(Method::GET, "/api/v1/me")
            .session(&other)
            .send(&f.app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let remove = call(Method::DELETE, "/api/v1/users/nina")
        .bearer(&f.admin_token)
        .send(&f.app)
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(Method::GET, "/api/v1/me")
            .session(&nina)
            .send(&f.app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logins_and_changes_are_audited() {
    let f = fixture(false);
    call(Method::POST, "/api/v1/login")
        .from([192, 0, 2, 44])
        .json(serde_json::json!({"username": "vera", "password": "wrong password"}))
        .send(&f.app)
        .await;
    login(&f.app, "vera", "vera's password").await;
    call(Method::DELETE, "/api/v1/users/otto")
        .bearer(&f.admin_token)
        .send(&f.app)
        .await;
    let found = |q: &'static str| {
        let store = f.store.clone();
        async move {
            // Audit events are appended before the answer; wait until indexed.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                assert!(std::time::Instant::now() < deadline, "no event for {q}");
                let r = store.search(&hark_store::SearchRequest::new(q)).unwrap();
                if r.total > 0 {
                    return r;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    let failure = found("app:hark-audit AND action:login AND outcome:failure").await;
    let text = format!("{:?}", failure.hits);
    assert!(text.contains("192.0.2.44"), "{text}");
    assert!(text.contains("vera"), "{text}");
    assert!(
        !text.contains("wrong password"),
        "the password is not logged: {text}"
    );
    found("app:hark-audit AND action:login AND outcome:success").await;
    let removed = found("app:hark-audit AND action:\"user.remove\"").await;
    let text = format!("{:?}", removed.hits);
    assert!(text.contains("otto") && text.contains("ops"), "{text}");
}
