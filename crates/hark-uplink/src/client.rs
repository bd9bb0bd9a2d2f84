//! The forwarder's side: enrolment, its identity on disk, and the uplink
//! client, a [`Destination`] that `hark_output::run` drives over the
//! forwarder's WAL.
//!
//! The identity directory (`DATA_DIR/forwarder` unless configured) holds
//! `ca.crt` (the center's CA, checked against the token's hash before it is
//! kept), `client.crt` and `client.key` (made here; only the certificate
//! request leaves the machine).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use hark_config::HttpUrl;
use hark_event::Event;
use hark_output::{DeliveryError, Destination, OutputError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use crate::UplinkError;
use crate::ca::fingerprint;
use crate::center::{BATCH_PATH, BUFFER_HEADER, CONFIG_PATH, ENROLL_PATH, HEALTH_PATH};
use crate::enroll::{EnrollRequest, EnrollResponse, EnrollToken};
use crate::files::{write_private, write_public};
use crate::fleet::{HealthAnswer, HealthReport};
use crate::groups::GroupDocument;
use crate::wire;

/// The center's CA certificate in the identity directory.
const CA_FILE: &str = "ca.crt";
/// The forwarder's certificate.
const CERT_FILE: &str = "client.crt";
/// Its private key.
const KEY_FILE: &str = "client.key";
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How often an idle or busy connection is pinged, and how long an answer may take.
const PING_INTERVAL: Duration = Duration::from_secs(10);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Whether `dir` holds an enrolled identity.
pub fn is_enrolled(dir: &Path) -> bool {
    [CA_FILE, CERT_FILE, KEY_FILE]
        .iter()
        .all(|f| dir.join(f).exists())
}

/// Enrols forwarder `name` with the center at `center` using `token`, and
/// keeps the identity in `dir`. The center is authenticated by the CA hash
/// in the token; the private key never leaves this host.
pub async fn enroll(
    center: &HttpUrl,
    token: &EnrollToken,
    name: &str,
    dir: &Path,
) -> Result<String, UplinkError> {
    let key = rcgen::KeyPair::generate().map_err(|e| UplinkError::Certificate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| UplinkError::Certificate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let csr_pem = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| UplinkError::Certificate(e.to_string()))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| UplinkError::Certificate(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCa {
            pin: token.ca_sha256.clone(),
            provider: provider(),
        }))
        .with_no_client_auth();
    let http = http2_client(tls)?;
    let url = endpoint(center, ENROLL_PATH);
    let answer = http
        .post(&url)
        .json(&EnrollRequest {
            secret: token.secret.clone(),
            name: name.to_owned(),
            csr_pem,
        })
        .send()
        .await
        .map_err(|e| UplinkError::Http(format!("{url}: {}", error_chain(&e))))?;
    let status = answer.status();
    if !status.is_success() {
        let body = answer.text().await.unwrap_or_default();
        return Err(UplinkError::Refused(format!(
            "the center refused the enrolment ({status}): {}",
            body.trim()
        )));
    }
    let answer: EnrollResponse = answer
        .json()
        .await
        .map_err(|e| UplinkError::Http(format!("{url}: {e}")))?;
    let ca = CertificateDer::from_pem_slice(answer.ca_pem.as_bytes())
        .map_err(|e| UplinkError::Certificate(format!("the center's CA: {e}")))?;
    if fingerprint(&ca) != token.ca_sha256 {
        return Err(UplinkError::Refused(
            "the CA the center sent is not the one the token names".into(),
        ));
    }
    write_private(&dir.join(KEY_FILE), key.serialize_pem().as_bytes())?;
    write_public(&dir.join(CERT_FILE), answer.cert_pem.as_bytes())?;
    write_public(&dir.join(CA_FILE), answer.ca_pem.as_bytes())?;
    Ok(answer.group)
}

/// The URL of `path` on the center.
fn endpoint(center: &HttpUrl, path: &str) -> String {
    format!("https://{}{path}", center.host_header())
}

/// An error with its causes, which reqwest keeps apart.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Accepts the center's chain only when it contains the CA certificate
/// whose SHA-256 the token carries, and the leaf is valid for the name
/// under that CA: the first contact is authenticated without a CA on disk.
#[derive(Debug)]
struct PinnedCa {
    pin: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(ca) = intermediates.iter().find(|c| fingerprint(c) == self.pin) else {
            return Err(rustls::Error::General(
                "the center's certificate chain lacks the CA the enrolment token names".into(),
            ));
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|e| rustls::Error::General(e.to_string()))?;
        inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// An HTTP/2 client over `tls` (ALPN `h2`): batches, health reports and
/// configuration requests share one connection. Pings every
/// [`PING_INTERVAL`] close a connection whose peer stopped answering (a
/// cut link), so the next request connects again instead of waiting on it.
fn http2_client(mut tls: rustls::ClientConfig) -> Result<reqwest::Client, UplinkError> {
    tls.alpn_protocols = vec![b"h2".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .http2_prior_knowledge()
        .http2_adaptive_window(true)
        .http2_keep_alive_interval(PING_INTERVAL)
        .http2_keep_alive_timeout(PING_INTERVAL)
        .http2_keep_alive_while_idle(true)
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| UplinkError::Http(e.to_string()))
}

/// How the uplink client sends.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The center's uplink URL.
    pub center: HttpUrl,
    /// The enrolled identity's directory.
    pub identity_dir: PathBuf,
    /// The identity of the forwarder's buffer (its sequence numbers' space).
    pub buffer_id: String,
    /// zstd level.
    pub zstd_level: i32,
    /// Most events in one batch.
    pub batch_events: usize,
}

/// Sends batches of the forwarder's buffer to the center; a [`Destination`].
///
/// A batch counts as delivered only on the center's 200, which it gives once
/// the events are in its WAL. Anything else is an error, and the delivery
/// loop sends the batch again; the center drops what it already stored.
pub struct UplinkClient {
    http: reqwest::Client,
    url: String,
    health_url: String,
    config_url: String,
    buffer_id: String,
    zstd_level: i32,
    /// Most events in one batch; a group configuration may change it.
    batch_events: Arc<AtomicUsize>,
    /// `received_at` of the oldest event being delivered; 0 when none.
    pending_since: Arc<AtomicI64>,
}

impl UplinkClient {
    /// A client with the enrolled identity in `settings.identity_dir`.
    pub fn new(settings: &ClientSettings) -> Result<UplinkClient, UplinkError> {
        let dir = &settings.identity_dir;
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).map_err(|e| UplinkError::file(&path, "reading", e))
        };
        let ca = CertificateDer::from_pem_slice(&read(CA_FILE)?)
            .map_err(|e| UplinkError::Certificate(format!("{CA_FILE}: {e}")))?;
        let chain = CertificateDer::pem_slice_iter(&read(CERT_FILE)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| UplinkError::Certificate(format!("{CERT_FILE}: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(&read(KEY_FILE)?)
            .map_err(|e| UplinkError::Certificate(format!("{KEY_FILE}: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(ca)
            .map_err(|e| UplinkError::Certificate(e.to_string()))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| UplinkError::Certificate(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| UplinkError::Certificate(e.to_string()))?;
        let http = http2_client(tls)?;
        Ok(UplinkClient {
            http,
            url: endpoint(&settings.center, BATCH_PATH),
            health_url: endpoint(&settings.center, HEALTH_PATH),
            config_url: endpoint(&settings.center, CONFIG_PATH),
            buffer_id: settings.buffer_id.clone(),
            zstd_level: settings.zstd_level,
            batch_events: Arc::new(AtomicUsize::new(settings.batch_events.max(1))),
            pending_since: Arc::default(),
        })
    }

    /// The batch size, to change while the client runs.
    pub fn batch_events(&self) -> Arc<AtomicUsize> {
        self.batch_events.clone()
    }

    /// A sender of health reports over the same identity.
    pub fn health_sender(&self) -> HealthSender {
        HealthSender {
            http: self.http.clone(),
            url: self.health_url.clone(),
            pending_since: self.pending_since.clone(),
        }
    }

    /// A reader of the group's central configuration over the same identity.
    pub fn config_fetcher(&self) -> ConfigFetcher {
        ConfigFetcher {
            http: self.http.clone(),
            url: self.config_url.clone(),
        }
    }

    /// Sends consecutive events numbered from `first_seq`; Ok on the center's 200.
    pub async fn send(&self, first_seq: u64, events: &[Event]) -> Result<(), OutputError> {
        let body = wire::encode(first_seq, events, self.zstd_level)
            .map_err(|e| OutputError::Encode(e.to_string()))?;
        let answer = self
            .http
            .post(&self.url)
            .header(BUFFER_HEADER, &self.buffer_id)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    OutputError::Timeout {
                        target: self.url.clone(),
                        seconds: REQUEST_TIMEOUT.as_secs(),
                    }
                } else {
                    OutputError::Connect {
                        target: self.url.clone(),
                        source: std::io::Error::other(error_chain(&e)),
                    }
                }
            })?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let body = answer.text().await.unwrap_or_default();
        Err(OutputError::Refused {
            target: self.url.clone(),
            reason: format!("{status}: {}", body.trim()),
        })
    }
}

impl Destination for UplinkClient {
    fn max_chunk(&self) -> usize {
        self.batch_events.load(Ordering::Relaxed).max(1)
    }

    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        // Without positions the center cannot deduplicate: refuse rather
        // than store twice.
        let _ = events;
        Err(DeliveryError::none(OutputError::Protocol {
            target: self.url.clone(),
            reason: "the uplink needs the events' WAL positions".into(),
        }))
    }

    async fn deliver_numbered(
        &mut self,
        events: &[Event],
        seqs: &[u64],
    ) -> Result<(), DeliveryError> {
        if let Some(first) = events.first() {
            self.pending_since
                .store(first.received_at.max(1), Ordering::Relaxed);
        }
        // Consecutive runs: each is one batch the center can deduplicate.
        let mut start = 0;
        while start < events.len() {
            let mut end = start + 1;
            while end < events.len() && seqs[end] == seqs[end - 1] + 1 {
                end += 1;
            }
            self.send(seqs[start], &events[start..end])
                .await
                .map_err(|e| DeliveryError::after(start, e))?;
            start = end;
        }
        self.pending_since.store(0, Ordering::Relaxed);
        Ok(())
    }
}

/// Sends a forwarder's health reports to the center.
#[derive(Clone)]
pub struct HealthSender {
    http: reqwest::Client,
    url: String,
    pending_since: Arc<AtomicI64>,
}

impl HealthSender {
    /// Age in seconds of the oldest event the uplink is trying to deliver (0 when none).
    pub fn oldest_pending_age(&self) -> f64 {
        match self.pending_since.load(Ordering::Relaxed) {
            0 => 0.0,
            since => {
                let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
                (now.saturating_sub(since).max(0) as f64) / 1e9
            }
        }
    }

    /// Sends one report; the center's answer on a 2xx (empty from a center
    /// that answers nothing).
    pub async fn send(&self, report: &HealthReport) -> Result<HealthAnswer, UplinkError> {
        let answer = self
            .http
            .post(&self.url)
            .json(report)
            .send()
            .await
            .map_err(|e| UplinkError::Http(format!("{}: {}", self.url, error_chain(&e))))?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(serde_json::from_str(&body).unwrap_or_default());
        }
        Err(UplinkError::Refused(format!("{status}: {}", body.trim())))
    }
}

/// Reads the forwarder's group configuration from the center.
#[derive(Clone)]
pub struct ConfigFetcher {
    http: reqwest::Client,
    url: String,
}

impl ConfigFetcher {
    /// The group's document; `None` when the center has none for the group.
    pub async fn fetch(&self) -> Result<Option<GroupDocument>, UplinkError> {
        let answer = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| UplinkError::Http(format!("{}: {}", self.url, error_chain(&e))))?;
        let status = answer.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let body = answer.text().await.unwrap_or_default();
            return Err(UplinkError::Refused(format!("{status}: {}", body.trim())));
        }
        answer
            .json()
            .await
            .map(Some)
            .map_err(|e| UplinkError::Http(format!("{}: {e}", self.url)))
    }
}
