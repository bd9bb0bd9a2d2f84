//! The center's side: the `[uplink]` listener (HTTPS with client
//! certificates), enrolment and the batch endpoint.
//!
//! A batch is stored exactly once: its events are appended with an origin
//! mark `(forwarder/buffer, last sequence number)` in the same WAL record
//! ([`Store::append_marked`]), and before appending, events whose sequence
//! number is at or below the origin's stored mark are dropped. The answer
//! (200) is given only once the batch is durable in the WAL, so a forwarder
//! that saw no answer sends the batch again, and the copy is dropped. One
//! batch per origin is handled at a time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use hark_config::UplinkConfig;
use hark_event::FieldValue;
use hark_ingest::tls_listener::{ListenerName, TlsListener};
use hark_store::{Mark, Store};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::UplinkError;
use crate::ca::{CenterCa, serial_and_name};
use crate::enroll::{EnrollRequest, UPLINK_DIR};
use crate::fleet::{Fleet, HealthAnswer, HealthReport};
use crate::wire;

/// Path of the batch endpoint.
pub const BATCH_PATH: &str = "/uplink/v1/batch";
/// Path of the enrolment endpoint.
pub const ENROLL_PATH: &str = "/uplink/v1/enroll";
/// Path of the health endpoint.
pub const HEALTH_PATH: &str = "/uplink/v1/health";
/// Path of the endpoint serving a forwarder its group's configuration.
pub const CONFIG_PATH: &str = "/uplink/v1/config";
/// Header naming the forwarder's buffer (its sequence numbers' space).
pub const BUFFER_HEADER: &str = "x-hark-buffer";
/// The field that names the forwarder an event came through.
pub const FORWARDER_FIELD: &str = "forwarder";
/// Largest compressed batch accepted.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The uplink's listener: the shared TLS listener under this name.
const UPLINK_LISTENER: ListenerName = ListenerName {
    what: "uplink",
    failures_metric: "hark_uplink_handshake_failures_total",
};

/// The running listener.
pub struct Center {
    /// Where it listens.
    pub local_addr: SocketAddr,
    /// SHA-256 of the CA certificate, hex.
    pub ca_fingerprint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Center {
    /// Binds `[uplink] listen` and serves until `shutdown` is cancelled;
    /// `fleet` keeps the forwarders' reports.
    pub async fn start(
        cfg: &UplinkConfig,
        data_dir: &std::path::Path,
        store: Store,
        fleet: Fleet,
        shutdown: CancellationToken,
    ) -> Result<Center, UplinkError> {
        let ca = CenterCa::open(&data_dir.join(UPLINK_DIR))?;
        let tls = tls_config(&ca, &server_names(cfg))?;
        let tcp = TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| UplinkError::Listen(cfg.listen, e))?;
        let local_addr = tcp
            .local_addr()
            .map_err(|e| UplinkError::Listen(cfg.listen, e))?;
        let state = Arc::new(CenterState {
            store,
            ca_fingerprint: ca.fingerprint(),
            ca,
            fleet,
            groups: cfg.groups.clone(),
            origins: Mutex::new(HashMap::new()),
        });
        let app = axum::Router::new()
            .route(BATCH_PATH, post(batch))
            .route(ENROLL_PATH, post(enroll))
            .route(HEALTH_PATH, post(health))
            .route(CONFIG_PATH, get(group_config))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(state.clone());
        let listener = TlsListener::new(tcp, TlsAcceptor::from(Arc::new(tls)), UPLINK_LISTENER)
            .map_err(|e| UplinkError::Listen(cfg.listen, e))?;
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the uplink listener stopped");
            }
        });
        Ok(Center {
            local_addr,
            ca_fingerprint: state.ca_fingerprint.clone(),
            task,
        })
    }

    /// Waits until the listener has stopped (after shutdown).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// The names in the server certificate: the configured ones, the listen
/// address when it is not a wildcard, loopback and this host's name.
fn server_names(cfg: &UplinkConfig) -> Vec<String> {
    let mut names = cfg.names.clone();
    if !cfg.listen.ip().is_unspecified() {
        names.push(cfg.listen.ip().to_string());
    }
    names.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

fn tls_config(ca: &CenterCa, names: &[String]) -> Result<rustls::ServerConfig, UplinkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (chain, key) = ca.server_identity(names)?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.cert_der().clone())
        .map_err(|e| UplinkError::Certificate(e.to_string()))?;
    // Enrolment comes without a certificate; the batch endpoint refuses that.
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| UplinkError::Certificate(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| UplinkError::Certificate(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| UplinkError::Certificate(e.to_string()))?;
    // HTTP/2 for forwarders; HTTP/1.1 for anything else (curl, probes).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

struct CenterState {
    store: Store,
    ca: CenterCa,
    ca_fingerprint: String,
    fleet: Fleet,
    groups: Vec<String>,
    /// One lock per origin: its batches are checked and stored one at a time.
    origins: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl CenterState {
    fn origin_lock(&self, origin: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.origins.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(origin.to_owned()).or_default().clone()
    }
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone)]
struct Peer {
    addr: SocketAddr,
    /// The verified client certificate's serial number and name.
    cert: Option<(String, String)>,
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let (_, conn) = stream.io().get_ref();
        let cert = conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(serial_and_name);
        Peer {
            addr: *stream.remote_addr(),
            cert,
        }
    }
}

/// An answer with a status and a one-line JSON error.
fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn enroll(
    State(state): State<Arc<CenterState>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Json(req): Json<EnrollRequest>,
) -> Response {
    let state2 = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        state2
            .fleet
            .enrolment()
            .enroll(&state2.ca, &req, &state2.groups)
    })
    .await;
    match result {
        Ok(Ok(answer)) => Json(answer).into_response(),
        Ok(Err(UplinkError::Refused(why))) => {
            tracing::warn!(peer = %peer.addr, reason = %why, "enrolment refused");
            metrics::counter!("hark_uplink_refused_total", "reason" => "enrolment").increment(1);
            refuse(StatusCode::FORBIDDEN, why)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "enrolment failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The name of the enrolled, unrevoked forwarder whose certificate `peer`
/// presented, or the answer refusing it.
#[allow(clippy::result_large_err)]
fn authorize(state: &CenterState, peer: Peer) -> Result<String, Response> {
    let Some((serial, name)) = peer.cert else {
        metrics::counter!("hark_uplink_refused_total", "reason" => "no_certificate").increment(1);
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "a client certificate is required; enrol with `hark forward --enroll`",
        ));
    };
    if let Err(e) = state.fleet.enrolment().check(&name, &serial, &state.groups) {
        tracing::warn!(peer = %peer.addr, forwarder = %name, reason = %e, "forwarder refused");
        metrics::counter!("hark_uplink_refused_total", "reason" => "not_accepted").increment(1);
        return Err(refuse(StatusCode::FORBIDDEN, e.to_string()));
    }
    Ok(name)
}

async fn health(
    State(state): State<Arc<CenterState>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Json(report): Json<HealthReport>,
) -> Response {
    let name = match authorize(&state, peer) {
        Ok(name) => name,
        Err(refusal) => return refusal,
    };
    state.fleet.record(&name, report);
    // The group's version, so that the forwarder pulls a new one at once.
    let fleet = state.fleet.clone();
    let version = tokio::task::spawn_blocking(move || {
        let group = fleet.enrolment().forwarders().remove(&name)?.group;
        fleet.group_configs().get(&group).ok().flatten()
    })
    .await
    .ok()
    .flatten()
    .map(|d| d.version)
    .unwrap_or_default();
    Json(HealthAnswer {
        group_config_version: version,
    })
    .into_response()
}

/// The document of the calling forwarder's group (from the registry), or
/// 404 when its group has none.
async fn group_config(
    State(state): State<Arc<CenterState>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
) -> Response {
    let name = match authorize(&state, peer) {
        Ok(name) => name,
        Err(refusal) => return refusal,
    };
    let Some(group) = state
        .fleet
        .enrolment()
        .forwarders()
        .remove(&name)
        .map(|f| f.group)
    else {
        return refuse(StatusCode::FORBIDDEN, format!("`{name}` is not enrolled"));
    };
    let configs = state.fleet.group_configs().clone();
    let found = tokio::task::spawn_blocking(move || configs.get(&group)).await;
    match found {
        Ok(Ok(Some(document))) => Json(document).into_response(),
        Ok(Ok(None)) => refuse(
            StatusCode::NOT_FOUND,
            "the forwarder's group has no central configuration",
        ),
        Ok(Err(e)) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// What the batch endpoint answers.
#[derive(Debug, Serialize)]
struct BatchAnswer {
    /// Events stored now.
    stored: usize,
    /// Events dropped as already stored.
    duplicates: usize,
}

async fn batch(
    State(state): State<Arc<CenterState>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = match authorize(&state, peer) {
        Ok(name) => name,
        Err(refusal) => return refusal,
    };
    let buffer = match headers.get(BUFFER_HEADER).and_then(|v| v.to_str().ok()) {
        Some(b)
            if !b.is_empty() && b.len() <= 64 && b.bytes().all(|c| c.is_ascii_alphanumeric()) =>
        {
            b.to_owned()
        }
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the {BUFFER_HEADER} header is missing or not 1 to 64 letters and digits"),
            );
        }
    };
    let decoded = tokio::task::spawn_blocking(move || wire::decode(&body)).await;
    let batch = match decoded {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let origin = format!("{name}/{buffer}");
    let lock = state.origin_lock(&origin);
    let _held = lock.lock().await;
    let stored_up_to = state.store.mark(&origin).unwrap_or(0);
    let last_seq = batch.last_seq();
    let total = batch.events.len();
    let events: Vec<_> = batch
        .events
        .into_iter()
        .enumerate()
        .filter(|(i, _)| batch.first_seq + *i as u64 > stored_up_to)
        .map(|(_, mut ev)| {
            ev.fields.retain(|(k, _)| k != FORWARDER_FIELD);
            ev.fields
                .push((FORWARDER_FIELD.to_owned(), FieldValue::Str(name.clone())));
            ev
        })
        .collect();
    let stored = events.len();
    let duplicates = total - stored;
    if duplicates > 0 {
        metrics::counter!("hark_uplink_duplicates_total", "forwarder" => name.clone())
            .increment(duplicates as u64);
        tracing::debug!(forwarder = %name, duplicates, "dropped events stored before");
    }
    if stored > 0 {
        let mark = Mark {
            origin,
            seq: last_seq,
        };
        let durable = match state.store.append_marked(events, mark).await {
            Ok(ticket) => ticket.wait().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = durable {
            tracing::warn!(forwarder = %name, error = %e, "could not store a batch; the forwarder sends it again");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, e);
        }
        metrics::counter!("hark_uplink_events_total", "forwarder" => name.clone())
            .increment(stored as u64);
    }
    Json(BatchAnswer { stored, duplicates }).into_response()
}
