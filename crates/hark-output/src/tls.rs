//! TLS for outputs: the system's CA certificates plus the output's
//! `tls_ca`, with rustls over ring.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::OutputError;
use crate::build::SetupError;

/// The client TLS settings of an output: system roots plus the
/// certificates of `ca_file`, which must hold at least one.
pub(crate) fn client_config(
    output: &str,
    ca_file: Option<&Path>,
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
    if let Some(path) = ca_file {
        let bad = |why: String| SetupError::new(output, "tls_ca", why);
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(bad(format!("{} holds no PEM certificate", path.display())));
        }
        roots.add_parsable_certificates(certs);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::new(output, "tls_ca", format!("TLS settings: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// A connector for `host`, checking its certificate against `config`.
pub(crate) struct Tls {
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl Tls {
    /// A connector for `host` (a name or an IP address).
    pub fn new(output: &str, host: &str, ca_file: Option<&Path>) -> Result<Tls, SetupError> {
        let config = client_config(output, ca_file)?;
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
