//! The TLS client configuration: exactly the configured CA, or the
//! system's roots; ring as the only crypto provider.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::LdapError;

/// Where the trusted roots came from, for the connection test's report.
#[derive(Debug, Clone)]
pub enum Trust {
    /// `auth.ldap.tls_ca` and how many certificates it holds.
    Ca {
        /// The file.
        path: String,
        /// Certificates read from it.
        certificates: usize,
    },
    /// The operating system's store and how many roots it gave.
    System {
        /// Roots loaded.
        roots: usize,
    },
}

impl std::fmt::Display for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trust::Ca { path, certificates } => write!(
                f,
                "the certificate verified against tls_ca {path} ({certificates} certificate(s))"
            ),
            Trust::System { roots } => {
                write!(
                    f,
                    "the certificate verified against the system's {roots} roots"
                )
            }
        }
    }
}

/// A rustls client configuration trusting `tls_ca` (PEM) alone when given,
/// else the system's roots.
pub fn client_config(tls_ca: Option<&Path>) -> Result<(Arc<ClientConfig>, Trust), LdapError> {
    let (roots, trust) = match tls_ca {
        Some(path) => ca_roots(path)?,
        None => system_roots()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LdapError::Protocol {
            operation: "setting up TLS".into(),
            message: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(config), trust))
}

/// The certificates of the PEM file `path`.
fn ca_roots(path: &Path) -> Result<(RootCertStore, Trust), LdapError> {
    let file_error = |reason: String| LdapError::File {
        key: "tls_ca",
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| {
        file_error(format!(
            "cannot be read ({e}); give the PEM file of the CA that signed the directory's \
             certificate, or remove tls_ca to trust the system's roots"
        ))
    })?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| file_error(format!("is not valid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| file_error(format!("holds a certificate rustls refuses: {e}")))?;
    }
    if roots.is_empty() {
        return Err(file_error(
            "holds no certificate; it must contain -----BEGIN CERTIFICATE----- blocks (PEM)".into(),
        ));
    }
    let certificates = roots.len();
    Ok((
        roots,
        Trust::Ca {
            path: path.display().to_string(),
            certificates,
        },
    ))
}

/// The operating system's trusted roots.
fn system_roots() -> Result<(RootCertStore, Trust), LdapError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(LdapError::Protocol {
            operation: "loading the system's trusted roots".into(),
            message: format!(
                "none found{why}; install ca-certificates or set auth.ldap.tls_ca to the \
                 directory's CA (PEM)"
            ),
        });
    }
    Ok((roots, Trust::System { roots: added }))
}
