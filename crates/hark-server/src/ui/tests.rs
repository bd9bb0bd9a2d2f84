//! The pages over HTTP: who may see what, the static files and their
//! caching, the public status page and the firewall rule downloads.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::{Access, assets, page_list};
use crate::identity::Role;
use crate::router;
use crate::tokens::TokenStore;

/// A public monitor and a private one, both failing fast on a closed port.
const CONFIG: &str = r#"
[monitors.website]
type = "tcp"
host = "127.0.0.1"
port = 1
interval = "1s"
public = true

[monitors.secret-db]
type = "tcp"
host = "127.0.0.1"
port = 1
interval = "1s"
"#;

struct Fixture {
    app: Router,
    monitoring: hark_monitor::Monitoring,
    store: hark_store::Store,
    /// Rows of the communication matrix.
    flows: usize,
    /// A token of each role, least first.
    tokens: Vec<(Role, String)>,
    /// The session id of a signed-in operator.
    session: String,
    /// The outputs' statuses (the fixture runs no output).
    outputs: hark_output::Statuses,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    fixture_with_uplink(false)
}

/// The fixture; with `uplink`, the server has forwarders (none enrolled).
fn fixture_with_uplink(uplink: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = hark_config::Config::from_toml_str("hark.toml", CONFIG).unwrap();
    cfg.data_dir = dir.path().join("data");
    let store = hark_store::Store::open(hark_store::StoreConfig::new(&cfg.data_dir)).unwrap();
    let tokens = TokenStore::open(dir.path()).unwrap();
    let secrets = Role::ALL
        .into_iter()
        .map(|role| (role, tokens.create(role, role.name()).unwrap()))
        .collect();
    let auth = hark_auth::Authenticator::open(dir.path(), &cfg.auth, None).unwrap();
    auth.users()
        .add("olga", Role::Operator, "olga's password")
        .unwrap();
    let session = crate::testing::session_of(&auth, "olga", Role::Operator);
    let ports = hark_matrix::matrix(&cfg);
    let flows = ports.len();
    let parts = crate::testing::Parts {
        tokens,
        auth,
        ports,
        tls: false,
        metrics: crate::testing::private_metrics(),
    };
    let mut state = crate::testing::server_state(&store, &cfg, parts);
    if uplink {
        state.forwarders = Some(hark_uplink::fleet::Fleet::open(&cfg.data_dir).unwrap());
    }
    let monitoring = state.monitoring.clone();
    let outputs = state.outputs.statuses();
    let app = router(state);
    Fixture {
        app,
        monitoring,
        outputs,
        store,
        flows,
        tokens: secrets,
        session,
        _dir: dir,
    }
}

impl Fixture {
    fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    /// Waits until both monitors have a result (the scheduler checks every second).
    async fn checked(&self) {
        for _ in 0..300 {
            if self
                .monitoring
                .list()
                .iter()
                .all(|m| m.last_check.is_some())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the monitors were never checked");
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(app: &Router, uri: &str, token: Option<&str>) -> Answer {
    send(app, Method::GET, uri, token).await
}

async fn send(app: &Router, method: Method, uri: &str, token: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
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

/// A concrete path for a page route.
fn concrete(path: &str) -> String {
    path.replace("{name}", "website")
}

/// The page is a whole document in the layout.
fn assert_page(a: &Answer, what: &str) {
    assert!(a.body.starts_with("<!doctype html>"), "{what}: {}", a.body);
    assert!(a.body.trim_end().ends_with("</html>"), "{what}");
    assert!(a.body.contains(r#"<nav class="mainnav""#), "{what}: no nav");
    assert_eq!(
        a.headers[header::CACHE_CONTROL],
        "no-store",
        "{what}: HTML must not be cached"
    );
    assert!(
        a.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}"
    );
    assert!(
        !a.body.contains(" onclick=") && !a.body.contains("<script>"),
        "{what}: inline script"
    );
}

#[test]
fn only_login_and_status_are_public() {
    let public: Vec<_> = page_list()
        .into_iter()
        .filter(|(_, access)| *access == Access::Public)
        .map(|(path, _)| path)
        .collect();
    assert_eq!(public, ["/login", "/status"]);
    let admin: Vec<_> = page_list()
        .into_iter()
        .filter(|(_, access)| *access == Access::SignedIn(Role::Admin))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(admin, ["/admin"]);
}

#[tokio::test]
async fn every_page_needs_login_but_login_and_status() {
    let f = fixture();
    for (path, access) in page_list() {
        let uri = concrete(path);
        let a = get(&f.app, &uri, None).await;
        match access {
            Access::Public => {
                assert_eq!(a.status, StatusCode::OK, "{uri}");
                assert_page(&a, &uri);
            }
            Access::SignedIn(_) => {
                assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
                let next = super::format::url_encode(&uri);
                assert_eq!(
                    a.headers[header::LOCATION],
                    format!("/login?next={next}"),
                    "{uri}"
                );
            }
        }
    }
    // An unknown token is no login either.
    let a = get(&f.app, "/monitors", Some("hark_unknown")).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn each_role_sees_its_pages_and_gets_403_for_the_others() {
    let f = fixture();
    for (path, access) in page_list() {
        let uri = concrete(path);
        for (role, token) in &f.tokens {
            let a = get(&f.app, &uri, Some(token)).await;
            match (path, access) {
                ("/", _) => {
                    assert_eq!(a.status, StatusCode::SEE_OTHER);
                    assert_eq!(a.headers[header::LOCATION], "/search");
                }
                ("/login", _) => {
                    assert_eq!(a.status, StatusCode::SEE_OTHER, "signed in: straight on");
                    assert_eq!(a.headers[header::LOCATION], "/search");
                }
                (_, Access::SignedIn(needs)) if !role.includes(needs) => {
                    assert_eq!(a.status, StatusCode::FORBIDDEN, "{uri} as {role}");
                    assert_page(&a, &format!("{uri} as {role}"));
                    assert!(a.body.contains("needs the admin role"), "{}", a.body);
                }
                _ => {
                    assert_eq!(a.status, StatusCode::OK, "{uri} as {role}: {}", a.body);
                    assert_page(&a, &format!("{uri} as {role}"));
                    assert!(a.body.contains(r#"data-testid="logout""#), "{uri}");
                    assert!(
                        a.body.contains(&format!(">{}</a>", role.name())),
                        "{uri}: user name"
                    );
                    let admin_link = a.body.contains(r#"href="/admin""#);
                    assert_eq!(
                        admin_link,
                        *role == Role::Admin,
                        "{uri} as {role}: admin link"
                    );
                }
            }
        }
    }
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn a_session_cookie_signs_in_to_the_pages() {
    let f = fixture();
    let with_cookie = |uri: &str, cookie: &str| {
        Request::get(uri)
            .header(header::COOKIE, format!("hark_session={cookie}"))
            .body(Body::empty())
            .unwrap()
    };
    let resp = f
        .app
        .clone()
        .oneshot(with_cookie("/monitors/website", &f.session))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains(">olga</a>") && body.contains(r#"data-testid="ack""#));
    let resp = f
        .app
        .clone()
        .oneshot(with_cookie("/login", &f.session))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = f
        .app
        .clone()
        .oneshot(with_cookie("/admin", &f.session))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = f
        .app
        .clone()
        .oneshot(with_cookie("/alerts", "forged"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn login_page_has_the_form_and_the_error_messages() {
    let f = fixture();
    let a = get(&f.app, "/login?next=%2Fmonitors&error=invalid", None).await;
    assert_eq!(a.status, StatusCode::OK);
    for needle in [
        r#"action="/api/v1/login""#,
        r#"name="username""#,
        r#"name="password""#,
        r#"name="next" value="/monitors""#,
        "invalid user name or password",
    ] {
        assert!(a.body.contains(needle), "{needle}");
    }
    let a = get(
        &f.app,
        "/login?error=throttled&next=https://evil.example/",
        None,
    )
    .await;
    assert!(a.body.contains("too many attempts"));
    assert!(a.body.contains(r#"name="next" value="/search""#));
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn search_and_tail_mount_their_modules() {
    let f = fixture();
    let token = f.token(Role::Operator).to_owned();
    let base = assets::base();
    let a = get(&f.app, "/search", Some(&token)).await;
    assert!(a.body.contains(
        r#"<main id="search-app" class="app-main" data-user="operator" data-role="operator">"#
    ));
    assert!(a.body.contains(&format!(
        r#"<script type="module" src="{base}/js/search.js">"#
    )));
    let a = get(&f.app, "/tail", Some(&token)).await;
    assert!(a.body.contains(r#"<main id="tail-app""#));
    assert!(a.body.contains(&format!(
        r#"<script type="module" src="{base}/js/tail.js">"#
    )));
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn monitors_list_problems_with_their_hooks_and_refresh_only_the_table() {
    let f = fixture();
    f.checked().await;
    let token = f.token(Role::Viewer).to_owned();
    let a = get(&f.app, "/monitors", Some(&token)).await;
    for name in ["website", "secret-db"] {
        assert!(
            a.body.contains(&format!(
                r#"data-testid="monitor-row" data-name="{name}" data-state="CRIT""#
            )),
            "{name}: {}",
            a.body
        );
    }
    assert!(
        a.body
            .contains(r#"hx-get="/monitors" hx-trigger="every 10s""#)
    );
    // htmx asks for the table alone.
    let req = Request::get("/monitors")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("HX-Request", "true")
        .body(Body::empty())
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains(r#"data-testid="monitor-row""#));
    assert!(
        !body.contains("<html") && !body.contains("mainnav"),
        "{body}"
    );
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn only_operators_get_the_action_buttons() {
    let f = fixture();
    let viewer = get(&f.app, "/monitors/website", Some(f.token(Role::Viewer))).await;
    assert_eq!(viewer.status, StatusCode::OK);
    assert!(!viewer.body.contains(r#"data-testid="ack""#));
    assert!(!viewer.body.contains("/check"));
    assert!(
        viewer
            .body
            .contains(r#"<script type="application/json" id="monitor-series">"#)
    );
    for role in [Role::Operator, Role::Admin] {
        let a = get(&f.app, "/monitors/website", Some(f.token(role))).await;
        assert!(a.body.contains(r#"data-testid="ack""#), "{role}");
        assert!(
            a.body
                .contains(r#"data-api-url="/api/v1/monitors/website/check""#)
        );
        assert!(a.body.contains(r#"data-api-url="/api/v1/downtimes""#));
    }
    // The API refuses the viewer all the same.
    let a = send(
        &f.app,
        Method::POST,
        "/api/v1/monitors/website/check",
        Some(f.token(Role::Viewer)),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let missing = get(&f.app, "/monitors/nothing", Some(f.token(Role::Viewer))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_page(&missing, "unknown monitor");
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn public_status_page_shows_only_public_monitors_and_nothing_internal() {
    let f = fixture();
    f.checked().await;
    let output = f.monitoring.get("website").unwrap().output;
    assert!(!output.is_empty());
    let a = get(&f.app, "/status", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body
            .contains(r#"data-testid="status-monitor" data-name="website""#)
    );
    assert!(a.body.contains("Major outage"));
    assert_eq!(a.body.matches("<rect").count(), 90, "one bar per day");
    assert!(!a.body.contains("secret-db"), "a private monitor is listed");
    assert!(!a.body.contains(&output), "output text shown: {output}");
    assert!(!a.body.contains("127.0.0.1"), "an address is shown");
    assert!(!a.body.contains(r#"data-testid="logout""#));
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn static_files_are_immutable_under_their_version_only() {
    let f = fixture();
    let base = assets::base();
    for (path, mime) in [
        ("js/app.js", "text/javascript"),
        ("css/hark.css", "text/css"),
        ("vendor/htmx.min.js", "text/javascript"),
        ("vendor/uPlot.min.css", "text/css"),
    ] {
        let a = get(&f.app, &format!("{base}/{path}"), None).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(
            a.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            a.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(mime),
            "{path}: {:?}",
            a.headers[header::CONTENT_TYPE]
        );
    }
    for uri in [
        "/static/0123456789ab/js/app.js".to_owned(),
        format!("{base}/js/nothing.js"),
        format!("{base}/test/format.test.mjs"),
        format!("{base}/../package.json"),
        format!("{base}/package.json"),
    ] {
        assert_eq!(
            get(&f.app, &uri, None).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_and_the_api_its_json() {
    let f = fixture();
    let a = get(&f.app, "/nothing/here", Some(f.token(Role::Viewer))).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_page(&a, "404");
    assert!(a.body.contains("There is no page at /nothing/here."));
    let a = get(&f.app, "/api/v1/nothing", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(serde_json::from_str::<crate::api::ErrorBody>(&a.body).is_ok());
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn firewall_rules_download_per_format() {
    let f = fixture();
    let token = f.token(Role::Viewer);
    for (format, file, needle) in [
        ("nftables", "hark-nftables.nft", "table inet hark"),
        ("iptables", "hark-iptables.rules", "*filter"),
        ("firewalld", "hark-firewalld.sh", "firewall-cmd"),
        ("ufw", "hark-ufw.sh", "ufw"),
    ] {
        let a = get(
            &f.app,
            &format!("/api/v1/ports/rules?format={format}"),
            Some(token),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{format}: {}", a.body);
        assert_eq!(
            a.headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"{file}\"")
        );
        assert!(a.body.contains(needle), "{format}: {}", a.body);
    }
    let a = get(&f.app, "/api/v1/ports/rules?format=csv", Some(token)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let page = get(&f.app, "/ports", Some(token)).await;
    assert!(
        page.body
            .contains(r#"href="/api/v1/ports/rules?format=ufw""#)
    );
    assert!(
        !page.body.contains("/api/v1/ports/check"),
        "the preflight is for admins"
    );
    let page = get(&f.app, "/ports", Some(f.token(Role::Admin))).await;
    assert!(page.body.contains(r#"data-api-url="/api/v1/ports/check""#));
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn the_preflight_runs_for_admins_only() {
    let f = fixture();
    let a = send(
        &f.app,
        Method::POST,
        "/api/v1/ports/check",
        Some(f.token(Role::Operator)),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(
        &f.app,
        Method::POST,
        "/api/v1/ports/check",
        Some(f.token(Role::Admin)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let results: Vec<serde_json::Value> = serde_json::from_str(&a.body).unwrap();
    assert_eq!(results.len(), f.flows);
    assert!(
        results
            .iter()
            .all(|r| r["ok"].is_boolean() && r["reason"].is_string())
    );
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn sources_lists_each_sending_host() {
    let f = fixture();
    let now = hark_event::now_nanos();
    let events = ["web1", "web2", "web1"]
        .iter()
        .map(|h| {
            let mut e = hark_event::Event::new(now - 1_000_000_000, "syslog_udp");
            e.host = Some((*h).to_owned());
            e.message = "hello".to_owned();
            e
        })
        .collect();
    f.store.append(events).await.unwrap().wait().await.unwrap();
    f.store.flush().unwrap();
    let sources = super::sources::load(&f.store, now - 3_600_000_000_000, now + 1).unwrap();
    let hosts: Vec<_> = sources.iter().map(|s| (s.host.as_str(), s.count)).collect();
    assert_eq!(hosts, [("web1", 2), ("web2", 1)]);
    assert_eq!(sources[0].inputs, ["syslog_udp"]);
    assert_eq!(sources[0].per_minute.iter().sum::<u64>(), 2);
    let a = get(
        &f.app,
        "/sources?since=1h&silent=30m",
        Some(f.token(Role::Viewer)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body
            .contains(r#"data-testid="source-row" data-host="web1""#)
    );
    assert!(a.body.contains("<svg class=\"spark\""));
    assert!(
        !a.body.contains("flag-stale"),
        "a host that just sent is not silent"
    );
    let bad = get(&f.app, "/sources?since=soon", Some(f.token(Role::Viewer))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn group_configurations_are_edited_by_admins_and_shown_on_the_admin_page() {
    let f = fixture_with_uplink(true);
    let put = |token: &str, text: &str| {
        let req = Request::builder()
            .method(Method::PUT)
            .uri("/api/v1/forwarders/groups/web/config")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(text.to_owned()))
            .unwrap();
        let app = f.app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let text = "[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10601\"\n";
    let (status, _) = put(f.token(Role::Operator), text).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = put(f.token(Role::Admin), "[inputs.tcp]\ntype = \"nope\"\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("web.toml:2:"), "{body}");
    let a = get(
        &f.app,
        "/api/v1/forwarders/groups/web/config",
        Some(f.token(Role::Admin)),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let (status, body) = put(f.token(Role::Admin), text).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    let a = get(
        &f.app,
        "/api/v1/forwarders/groups/web/config",
        Some(f.token(Role::Admin)),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let read: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(read, stored);
    assert_eq!(read["text"], text);

    let page = get(&f.app, "/admin", Some(f.token(Role::Admin))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="forwarders""#), "{}", page.body);
    assert!(page.body.contains("No forwarders enrolled."));
    assert!(
        page.body
            .contains(r#"data-group-config="/api/v1/forwarders/groups/web/config""#)
    );
    assert!(
        page.body
            .contains(&format!("version {}", read["version"].as_str().unwrap()))
    );
    assert!(
        page.body.contains("listen = &#34;0.0.0.0:10601&#34;"),
        "{}",
        page.body
    );
    f.store.shutdown().unwrap();
}

#[tokio::test]
async fn a_detached_output_has_a_reattach_button_for_admins() {
    let f = fixture();
    f.outputs
        .reporter("siem")
        .detached("WAL reader `output-siem` was detached");
    let page = get(&f.app, "/admin", Some(f.token(Role::Admin))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"data-api-url="/api/v1/outputs/siem/reattach""#),
        "{}",
        page.body
    );
    let list = get(&f.app, "/api/v1/outputs", Some(f.token(Role::Viewer))).await;
    assert_eq!(list.status, StatusCode::OK);
    let list: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(list["siem"]["state"], "detached");
    let url = "/api/v1/outputs/siem/reattach";
    let a = send(&f.app, Method::POST, url, Some(f.token(Role::Operator))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // This server runs no output of that name.
    let a = send(&f.app, Method::POST, url, Some(f.token(Role::Admin))).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    f.store.shutdown().unwrap();
}
