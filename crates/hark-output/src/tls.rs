//! TLS for outputs: the system's CA certificates plus the output's
//! `tls_ca`, and its client certificate (`tls_cert`, `tls_key`) when a
//! receiver asks for one; rustls over ring.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::OutputError;
use crate::build::SetupError;

/// The TLS files of an output: a CA bundle trusted besides the system's
/// roots, and a client certificate chain with its key for receivers that
/// ask for one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TlsFiles<'a> {
    /// `tls_ca`.
    pub ca: Option<&'a Path>,
    /// `tls_cert` and `tls_key` (the configuration has both or neither).
    pub identity: Option<(&'a Path, &'a Path)>,
}

impl<'a> TlsFiles<'a> {
    /// The files of an output's `tls_ca`, `tls_cert` and `tls_key`.
    pub fn new(
        ca: &'a Option<PathBuf>,
        cert: &'a Option<PathBuf>,
        key: &'a Option<PathBuf>,
    ) -> TlsFiles<'a> {
        TlsFiles {
            ca: ca.as_deref(),
            identity: cert.as_deref().zip(key.as_deref()),
        }
    }
}

/// The client TLS settings of an output: system roots plus the
/// certificates of `files.ca`, which must hold at least one, and the
/// client certificate of `files.identity` when there is one.
pub(crate) fn client_config(
    output: &str,
    files: TlsFiles<'_>,
) -> Result<rustls::ClientConfig, SetupError> {
    let mut roots = RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        tracing::debug!(
            "some system CA certificates could not be loaded: {:?}",
            loaded.errors
        );
    }
    roots.add_parsable_certificates(loaded.certs);
    if let Some(path) = files.ca {
        let certs = certificates(output, "tls_ca", path)?;
        roots.add_parsable_certificates(certs);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::new(output, "tls_ca", format!("TLS settings: {e}")))?
        .with_root_certificates(roots);
    let Some((cert, key)) = files.identity else {
        return Ok(builder.with_no_client_auth());
    };
    let chain = certificates(output, "tls_cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        SetupError::new(
            output,
            "tls_key",
            format!("cannot read a PEM private key from {}: {e}", key.display()),
        )
    })?;
    builder
        .with_client_auth_cert(chain, key)
        .map_err(|e| SetupError::new(output, "tls_key", format!("the client certificate: {e}")))
}

/// The PEM certificates of `path` (at least one), blaming `key`.
fn certificates(
    output: &str,
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let bad = |why: String| SetupError::new(output, key, why);
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(bad(format!("{} holds no PEM certificate", path.display())));
    }
    Ok(certs)
}

/// A connector for `host`, checking its certificate against `config`.
pub(crate) struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl Tls {
    /// A connector for `host` (a name or an IP address).
    pub fn new(output: &str, host: &str, files: TlsFiles<'_>) -> Result<Tls, SetupError> {
        let config = client_config(output, files)?;
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            SetupError::new(
                output,
                "target",
                format!("{host:?} is not a TLS server name: {e}"),
            )
        })?;
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            name,
        })
    }

    /// The TLS handshake over `tcp`.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        target: &str,
    ) -> Result<TlsStream<TcpStream>, OutputError> {
        self.connector
            .connect(self.name.clone(), tcp)
            .await
            .map_err(|source| OutputError::Tls {
                target: target.to_owned(),
                source,
            })
    }
}
