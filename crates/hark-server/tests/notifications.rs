//! `GET /api/v1/notifications` lists what the notifier recorded.

mod kit;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use kit::Harness;
use serde_json::Value;
use tower::ServiceExt;

async fn get(app: &axum::Router, h: &Harness, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(h.request(Method::GET, uri, Some(&h.viewer), Body::empty()))
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn lists_records_newest_first_with_their_attempts() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let h = Harness::new();
    // Nothing listens on the port of a socket just closed: the test message fails.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = hark_config::Config::from_toml_str(
        "t.toml",
        &format!("[notify.hook]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{port}/\"\n"),
    )
    .unwrap();
    let notifier = hark_notify::Notifier::start(h.dir.path(), &cfg).unwrap();
    assert!(notifier.test("hook").await.is_err());
    let app = hark_server::router(hark_server::ServerState {
        notifier: Some(notifier.clone()),
        ..h.state()
    });

    let (status, body) = get(&app, &h, "/api/v1/notifications").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records: Vec<hark_server::api::NotificationRecord> = serde_json::from_value(body).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].channel, "hook");
    assert_eq!(records[0].kind, hark_server::api::NotificationKind::Test);
    assert_eq!(records[0].state, hark_server::api::DeliveryState::Failed);
    assert!(records[0].attempts[0].error.is_some(), "{records:?}");

    let (status, _) = get(&app, &h, "/api/v1/notifications?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Without a notifier the list is empty, not an error.
    let (status, body) = get(&h.app(), &h, "/api/v1/notifications").await;
    assert_eq!((status, body), (StatusCode::OK, Value::Array(Vec::new())));
    notifier.shutdown().await;
}
