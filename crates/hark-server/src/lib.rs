//! Hark's HTTP API: search, NDJSON ingest, live tail (Server-Sent Events or
//! WebSocket), Prometheus metrics and the OpenAPI document, behind bearer
//! tokens or the session cookie of a signed-in user; either way a
//! [`Principal`](identity::Principal) with one of three roles: viewer
//! (read), operator (also act on monitors: acknowledge, downtimes, checks)
//! and admin (also ingest, users). The bodies of requests and answers are
//! the types of [`api`], which clients share. Users, sessions and tokens
//! themselves live in `hark-auth`. The same router serves the web UI
//! ([`ui`]): pages rendered on the server and their static files.
//!
//! ```no_run
//! # async fn demo(store: hark_store::Store, handle: metrics_exporter_prometheus::PrometheusHandle) -> std::io::Result<()> {
//! use hark_server::{ServerState, serve, tokens::TokenStore};
//! let tokens = TokenStore::open("./hark-data".as_ref()).map_err(std::io::Error::other)?;
//! let auth = hark_auth::Authenticator::open(
//!     "./hark-data".as_ref(), &hark_config::AuthConfig::default(), None,
//! ).map_err(std::io::Error::other)?;
//! let monitoring = hark_monitor::Monitoring::start(
//!     &hark_config::Config::default(),
//!     std::sync::Arc::new(hark_monitor::service::NullSink),
//! ).map_err(std::io::Error::other)?;
//! let alerting = hark_alert::Alerting::start(
//!     &store, &hark_config::Config::default(), "./hark-data".as_ref(), &[],
//!     std::sync::Arc::new(hark_alert::NoOutbox),
//! ).map_err(std::io::Error::other)?;
//! let state = ServerState {
//!     store, tokens, metrics: handle, ports: Vec::new(), monitoring, alerting, notifier: None,
//!     auth, tls: false,
//!     reverse_dns: hark_ingest::rdns::ReverseDns::new(Default::default()),
//!     outputs: Default::default(),
//!     forwarders: None,
//! };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8514").await?;
//! serve(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod api;
mod audit;
mod auth;
mod csrf;
mod endpoints;
mod error;
mod headers;
#[cfg(test)]
mod http_tests;
mod ndjson;
mod params;
mod routes;
pub mod testing;
pub mod tls;
pub mod ui;

pub use hark_auth::{identity, tokens};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::middleware::from_fn_with_state;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use endpoints::{Route, routes};
pub use error::ApiError;

use endpoints::{Delivery, endpoints};
use tokens::TokenStore;

/// Largest accepted ingest body; larger ones get 413.
pub const INGEST_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Largest accepted search body.
pub const SEARCH_BODY_LIMIT: usize = 1024 * 1024;
/// Non-streaming requests taking longer than this are answered with 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Interval of SSE keep-alive comments and WebSocket pings on the tail.
pub const TAIL_KEEPALIVE: Duration = Duration::from_secs(15);

/// What the HTTP API serves from.
pub struct ServerState {
    /// The event store.
    pub store: hark_store::Store,
    /// API tokens.
    pub tokens: TokenStore,
    /// Handle of the installed Prometheus recorder, rendered at `/metrics`.
    pub metrics: PrometheusHandle,
    /// The communication matrix of the running configuration, served at `/api/v1/ports`.
    pub ports: Vec<hark_matrix::Flow>,
    /// The monitors and their states.
    pub monitoring: hark_monitor::Monitoring,
    /// Alerts and silences.
    pub alerting: hark_alert::Alerting,
    /// The notification outbox, served at `/api/v1/notifications`; `None`
    /// lists no notifications.
    pub notifier: Option<hark_notify::Notifier>,
    /// Users, sessions and the login throttle.
    pub auth: hark_auth::Authenticator,
    /// Whether clients reach the server over HTTPS: session cookies get
    /// `Secure`, answers `Strict-Transport-Security`.
    pub tls: bool,
    /// Names for the addresses the Sources page and API list.
    pub reverse_dns: hark_ingest::rdns::ReverseDns,
    /// The outputs: their status (admin page, `/api/v1/outputs`) and re-attaching one.
    pub outputs: hark_output::Outputs,
    /// The forwarders that send through the uplink, served at
    /// `/api/v1/forwarders`; `None` when the uplink is off.
    pub forwarders: Option<hark_uplink::fleet::Fleet>,
}

/// Shared by every handler.
pub(crate) struct AppState {
    pub(crate) store: hark_store::Store,
    pub(crate) metrics: PrometheusHandle,
    pub(crate) ports: Vec<hark_matrix::Flow>,
    pub(crate) monitoring: hark_monitor::Monitoring,
    pub(crate) alerting: hark_alert::Alerting,
    pub(crate) notifier: Option<hark_notify::Notifier>,
    /// API tokens.
    pub(crate) tokens: Arc<TokenStore>,
    /// Users, sessions and the login throttle.
    pub(crate) auth: Arc<hark_auth::Authenticator>,
    /// Whether clients reach the server over HTTPS.
    pub(crate) tls: bool,
    /// Names for the addresses of sources.
    pub(crate) reverse_dns: hark_ingest::rdns::ReverseDns,
    /// What each output is doing.
    pub(crate) outputs: hark_output::Outputs,
    /// The uplink's forwarders, when the uplink is on.
    pub(crate) forwarders: Option<hark_uplink::fleet::Fleet>,
    /// This machine's name, the `host` of audit events.
    pub(crate) host: String,
    /// The OpenAPI document, made from the routes, served at `/api/v1/openapi.json`.
    pub(crate) openapi: String,
    /// Turns `true` when the server shuts down; ends live tails so graceful shutdown can finish.
    pub(crate) closing: watch::Receiver<bool>,
    /// Keeps `closing` open for routers not driven by [`serve`].
    _closing_tx: Option<watch::Sender<bool>>,
}

pub(crate) type Shared = Arc<AppState>;

/// The API's router. Live tails end only when their clients leave; use
/// [`serve`] to have them end on shutdown.
pub fn router(state: ServerState) -> Router {
    let (tx, rx) = watch::channel(false);
    build(state, rx, Some(tx))
}

/// Serves the API on `listener` (a [`tokio::net::TcpListener`] for plain
/// HTTP, a [`tls::TlsListener`] for HTTPS) until `shutdown` completes, then
/// stops accepting, ends live tails and waits for requests in flight.
pub async fn serve<L>(
    listener: L,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    use axum::serve::ListenerExt;
    let (tx, rx) = watch::channel(false);
    let app = build(state, rx, None);
    let signal = async move {
        shutdown.await;
        let _ = tx.send(true);
    };
    // Tapping the listener gives every kind of listener the client's
    // address as `ConnectInfo<SocketAddr>`.
    axum::serve(
        listener.tap_io(|_| {}),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await
}

fn build(
    state: ServerState,
    closing: watch::Receiver<bool>,
    closing_tx: Option<watch::Sender<bool>>,
) -> Router {
    let endpoints = endpoints();
    let tokens = Arc::new(state.tokens);
    let authenticator = Arc::new(state.auth);
    let tls = state.tls;
    let app: Shared = Arc::new(AppState {
        tokens: tokens.clone(),
        auth: authenticator.clone(),
        tls,
        host: audit::host_name(),
        store: state.store,
        metrics: state.metrics,
        ports: state.ports,
        monitoring: state.monitoring,
        alerting: state.alerting,
        notifier: state.notifier,
        reverse_dns: state.reverse_dns,
        outputs: state.outputs,
        forwarders: state.forwarders,
        openapi: routes::openapi::document(&endpoints).to_string(),
        closing,
        _closing_tx: closing_tx,
    });

    let mut public = Router::new();
    let mut protected = Router::new();
    let mut streaming = Router::new();
    for e in endpoints {
        let mut handler = e.handler;
        if let Some(limit) = e.body_limit {
            handler = handler.layer(DefaultBodyLimit::max(limit));
        }
        let path = e.route.path;
        let Some(role) = e.route.needs else {
            public = public.route(path, handler);
            continue;
        };
        let handler = handler.route_layer(from_fn_with_state(role, auth::require_role));
        match e.delivery {
            Delivery::Bounded => protected = protected.route(path, handler),
            Delivery::Streaming => streaming = streaming.route(path, handler),
        }
    }
    let gate = auth::Gate {
        tokens: tokens.clone(),
        auth: authenticator,
        query_token: false,
    };
    let protected = protected.route_layer(from_fn_with_state(gate.clone(), auth::authenticate));
    let pages = ui::router(gate.clone());
    let streaming = streaming.route_layer(from_fn_with_state(
        auth::Gate {
            query_token: true,
            ..gate
        },
        auth::authenticate,
    ));
    // Streams must neither time out nor be compressed (compression buffers).
    let bounded = public
        .merge(protected)
        .merge(pages)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ));

    bounded
        .merge(streaming)
        .layer(
            // The path only: query strings may carry an access token.
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(from_fn_with_state(tls, headers::security_headers))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{PrincipalKind, Role};
    use axum::http::{Method, header};
    use tower::ServiceExt;

    struct Fixture {
        app: Router,
        store: hark_store::Store,
        /// A token of each role, least first.
        tokens: Vec<(Role, String)>,
        /// The session of a user of each role, least first.
        sessions: Vec<(Role, String)>,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = hark_store::Store::open(hark_store::StoreConfig::new(dir.path().join("data")))
            .expect("store opens");
        let tokens = TokenStore::open(dir.path()).unwrap();
        let secrets = Role::ALL
            .into_iter()
            .map(|role| (role, tokens.create(role, role.name()).unwrap()))
            .collect();
        let auth =
            hark_auth::Authenticator::open(dir.path(), &hark_config::AuthConfig::default(), None)
                .unwrap();
        let sessions = Role::ALL
            .into_iter()
            .map(|role| {
                let name = role.name();
                auth.users()
                    .add(name, role, &format!("{name} password"))
                    .unwrap();
                let id = testing::session_of(&auth, name, role);
                (role, id)
            })
            .collect();
        let parts = testing::Parts {
            tokens,
            auth,
            ports: Vec::new(),
            tls: false,
            metrics: testing::private_metrics(),
        };
        let app = router(testing::server_state(
            &store,
            &testing::config_in(&dir.path().join("data")),
            parts,
        ));
        Fixture {
            app,
            store,
            tokens: secrets,
            sessions,
            _dir: dir,
        }
    }

    async fn call(app: &Router, route: &Route, token: Option<&str>) -> (StatusCode, String) {
        call_as(app, route, token.map(|t| (PrincipalKind::Token, t))).await
    }

    /// Calls `route` with a bearer token or a session cookie.
    async fn call_as(
        app: &Router,
        route: &Route,
        credential: Option<(PrincipalKind, &str)>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder()
            .method(Method::from_bytes(route.method.as_bytes()).unwrap())
            .uri(route.path);
        match credential {
            Some((PrincipalKind::Token, t)) => {
                req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            Some((PrincipalKind::User, id)) => {
                req = req.header(header::COOKIE, format!("hark_session={id}"));
            }
            None => {}
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        if status.is_success() {
            // A live tail's body never ends.
            return (status, String::new());
        }
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn every_declared_route_is_routed() {
        let f = fixture();
        // Without a token: 401 from a protected route shows it is routed.
        for r in &routes() {
            let (status, _) = call(&f.app, r, None).await;
            assert_ne!(status, StatusCode::NOT_FOUND, "{r:?}");
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{r:?}");
        }
        let req = Request::builder()
            .uri("/api/v1/nothing")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            f.app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        f.store.shutdown().unwrap();
    }

    /// Each route lets in exactly the roles its declaration names, for
    /// tokens and signed-in users alike: a lesser role gets 403 with the
    /// role it lacks, the named role and higher ones get past the check.
    #[tokio::test]
    async fn every_route_enforces_its_declared_role() {
        let f = fixture();
        for r in &routes() {
            let Some(needs) = r.needs else {
                let (status, body) = call(&f.app, r, None).await;
                if r.method == "GET" {
                    assert!(status.is_success(), "{r:?} is public: {status} {body}");
                } else {
                    // Posts (login, logout) need a body, but no token.
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{r:?} is public: {status} {body}"
                    );
                }
                continue;
            };
            let (status, _) = call(&f.app, r, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{r:?} without a token");
            let tokens = f.tokens.iter().map(|(r, t)| (PrincipalKind::Token, *r, t));
            let sessions = f.sessions.iter().map(|(r, s)| (PrincipalKind::User, *r, s));
            for (kind, role, credential) in tokens.chain(sessions) {
                let (status, body) = call_as(&f.app, r, Some((kind, credential))).await;
                if role.includes(needs) {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{r:?} as {role}: {status} {body}"
                    );
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{r:?} as {role}: {body}");
                    let error: api::ErrorBody = serde_json::from_str(&body).unwrap();
                    assert_eq!(
                        error.error,
                        format!(
                            "this route needs the {needs} role (or a higher one); {kind} `{role}` is {} {role}",
                            if role == Role::Viewer { "a" } else { "an" }
                        ),
                        "{r:?}"
                    );
                }
            }
        }
        f.store.shutdown().unwrap();
    }
}
