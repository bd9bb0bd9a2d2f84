//! HTTPS for the web UI and the API: rustls with the ring provider, from
//! certificate files or from a self-signed certificate made on the first
//! start and kept in the data directory.
//!
//! Connections are accepted by the shared [`TlsListener`] (handshakes in
//! tasks of their own, bounded, at most [`HANDSHAKE_TIMEOUT`]); its failed
//! handshakes are counted in `hark_http_tls_handshake_failures_total`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hark_config::HttpTls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// Directory under the data directory that keeps the self-signed certificate.
pub const TLS_DIR: &str = "tls";
/// The self-signed certificate, PEM.
pub const SELF_SIGNED_CERT: &str = "http.crt";
/// Its private key, PEM, readable by the owner only.
pub const SELF_SIGNED_KEY: &str = "http.key";

/// Why HTTPS cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file cannot be read or holds no usable PEM.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// Making the self-signed certificate failed.
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(String),
    /// rustls refused the certificate or key.
    #[error("the certificate and key cannot be used: {0}")]
    Config(String),
}

/// What the server presents over HTTPS.
pub struct HttpsIdentity {
    /// Accepts TLS connections with the certificate.
    pub acceptor: TlsAcceptor,
    /// SHA-256 of the leaf certificate (DER), as colon-separated hex.
    pub fingerprint: String,
    /// The certificate file.
    pub cert_path: PathBuf,
    /// Whether the certificate was made just now (first start).
    pub created: bool,
}

/// Loads the certificate the configuration names, making the self-signed
/// one under `data_dir/tls/` if it does not exist yet.
pub fn identity(tls: &HttpTls, data_dir: &Path) -> Result<HttpsIdentity, TlsError> {
    let (cert_path, key_path, created) = match tls {
        HttpTls::Files { cert, key } => (cert.clone(), key.clone(), false),
        HttpTls::SelfSigned => {
            let dir = data_dir.join(TLS_DIR);
            let cert = dir.join(SELF_SIGNED_CERT);
            let key = dir.join(SELF_SIGNED_KEY);
            let created = !cert.exists();
            if created {
                make_self_signed(&dir, &cert, &key)?;
            }
            (cert, key, created)
        }
    };
    let chain = read_chain(&cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| TlsError::File {
        path: key_path.clone(),
        reason: format!("cannot read the private key ({e}); it must be a PEM file"),
    })?;
    let fingerprint = fingerprint(&chain[0]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(HttpsIdentity {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint,
        cert_path,
        created,
    })
}

/// SHA-256 of a certificate as `AB:CD:…`, as browsers show it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::File {
        path: path.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("cannot read the certificate ({e})")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not valid PEM ({e})")))?;
    if chain.is_empty() {
        return Err(bad(
            "holds no certificate; it must be a PEM chain starting with the server's certificate"
                .into(),
        ));
    }
    Ok(chain)
}

/// A certificate for this host's names and loopback addresses, valid ten years.
fn make_self_signed(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Some(host) = host_name() {
        names.push(host);
    }
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hark self-signed");
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let key = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    let file_error = |path: &Path, e: io::Error| TlsError::File {
        path: path.to_owned(),
        reason: format!("cannot write ({e})"),
    };
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    write_private(key_path, key.serialize_pem().as_bytes()).map_err(|e| file_error(key_path, e))?;
    std::fs::write(cert_path, cert.pem()).map_err(|e| file_error(cert_path, e))?;
    Ok(())
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty() && name != "localhost").then(|| name.to_owned())
}

/// The HTTPS listener: the API and the web UI use the shared TLS listener
/// under this name.
pub const HTTPS_LISTENER: hark_ingest::tls_listener::ListenerName =
    hark_ingest::tls_listener::ListenerName {
        what: "HTTPS",
        failures_metric: "hark_http_tls_handshake_failures_total",
    };

pub use hark_ingest::tls_listener::{HANDSHAKE_TIMEOUT, TlsListener};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = identity(&HttpTls::SelfSigned, dir.path()).unwrap();
        assert!(first.created);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        let again = identity(&HttpTls::SelfSigned, dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(again.fingerprint, first.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join(TLS_DIR).join(SELF_SIGNED_KEY);
            let mode = std::fs::metadata(key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is private");
        }
    }

    #[test]
    fn missing_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let tls = HttpTls::Files {
            cert: dir.path().join("nope.crt"),
            key: dir.path().join("nope.key"),
        };
        let Err(e) = identity(&tls, dir.path()) else {
            panic!("a missing certificate must fail")
        };
        assert!(e.to_string().contains("nope.crt"), "{e}");
    }
}
