//! A real store and token file in a temporary directory, and small request helpers.

#![allow(dead_code)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hark_server::tokens::{Role, TokenStore};
use hark_server::{ServerState, testing};
use hark_store::{Store, StoreConfig};
use http_body_util::BodyExt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::Value;
use tower::ServiceExt;

/// Guards against a hang only; never reached when things work.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The process-wide Prometheus recorder (only one can be installed).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| PrometheusBuilder::new().install_recorder().unwrap())
        .clone()
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub admin: String,
    pub viewer: String,
    app: Option<Router>,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = StoreConfig::new(dir.path().join("data"));
        cfg.commit_interval = Duration::from_millis(200);
        let store = Store::open(cfg).expect("store opens");
        let tokens = TokenStore::open(dir.path()).unwrap();
        let admin = tokens.create(Role::Admin, "admin").unwrap();
        let viewer = tokens.create(Role::Viewer, "viewer").unwrap();
        let mut h = Harness {
            dir,
            store,
            admin,
            viewer,
            app: None,
        };
        h.app = Some(hark_server::router(h.state()));
        h
    }

    /// A fresh server state on the same store and token file.
    pub fn state(&self) -> ServerState {
        let parts = testing::Parts {
            tokens: TokenStore::open(self.dir.path()).unwrap(),
            auth: hark_auth::Authenticator::open(
                self.dir.path(),
                &hark_config::AuthConfig::default(),
                None,
            )
            .unwrap(),
            ports: hark_matrix::matrix(&hark_config::Config::default()),
            tls: false,
            metrics: metrics_handle(),
        };
        let cfg = testing::config_in(&self.dir.path().join("data"));
        testing::server_state(&self.store, &cfg, parts)
    }

    pub fn app(&self) -> Router {
        self.app.clone().unwrap()
    }

    pub fn request(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Body,
    ) -> Request<Body> {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        req.body(body).unwrap()
    }

    /// Sends one request; the body is parsed as JSON (`Null` when empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Body,
    ) -> (StatusCode, Value) {
        let resp = self
            .app()
            .oneshot(self.request(method, uri, token, body))
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.store.shutdown();
    }
}

/// Awaits `fut`, failing the test if it hangs.
pub async fn with_deadline<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .expect("did not finish before the deadline")
}
