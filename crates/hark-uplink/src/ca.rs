//! The center's own certificate authority for the uplink.
//!
//! Made on first use and kept in `DATA_DIR/uplink/` (`ca.crt`, and
//! `ca.key` readable by its owner only). It signs the uplink's server
//! certificate and each enrolled forwarder's client certificate. A
//! forwarder learns to trust it from the SHA-256 of `ca.crt` (DER) carried
//! in its enrolment token, so the first contact is authenticated too.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::UplinkError;
use crate::files::{write_private, write_public};

/// The CA certificate, PEM.
pub const CA_CERT: &str = "ca.crt";
/// The CA key, PEM.
const CA_KEY: &str = "ca.key";
/// The uplink's server certificate (chain: leaf, then the CA), PEM.
const SERVER_CERT: &str = "server.crt";
/// Its key, PEM.
const SERVER_KEY: &str = "server.key";
/// The names the server certificate was made for, one per line.
const SERVER_NAMES: &str = "server.names";

/// A client certificate made for an enrolled forwarder.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its serial number, lower-case hex.
    pub serial: String,
}

/// The center's CA, loaded from (or made in) its directory.
pub struct CenterCa {
    dir: PathBuf,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key: KeyPair,
}

impl CenterCa {
    /// Loads the CA in `dir` (`DATA_DIR/uplink`), making it if there is none.
    pub fn open(dir: &Path) -> Result<CenterCa, UplinkError> {
        let cert_path = dir.join(CA_CERT);
        let key_path = dir.join(CA_KEY);
        if !cert_path.exists() {
            make_ca(dir, &cert_path, &key_path)?;
        }
        let cert_pem = std::fs::read_to_string(&cert_path)
            .map_err(|e| UplinkError::file(&cert_path, "reading", e))?;
        let key_pem = std::fs::read_to_string(&key_path)
            .map_err(|e| UplinkError::file(&key_path, "reading", e))?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| UplinkError::Certificate(format!("{}: {e}", cert_path.display())))?;
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| UplinkError::Certificate(format!("{}: {e}", key_path.display())))?;
        Ok(CenterCa {
            dir: dir.to_owned(),
            cert_der,
            cert_pem,
            key,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Lower-case hex SHA-256 of the CA certificate (DER): what tokens carry.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert_der)
    }

    fn issuer(&self) -> Result<Issuer<'_, &KeyPair>, UplinkError> {
        Issuer::from_ca_cert_der(&self.cert_der, &self.key)
            .map_err(|e| UplinkError::Certificate(format!("the uplink CA: {e}")))
    }

    /// The uplink's server certificate chain and key, made (again) when
    /// missing or when `names` changed.
    pub fn server_identity(
        &self,
        names: &[String],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), UplinkError> {
        let cert_path = self.dir.join(SERVER_CERT);
        let key_path = self.dir.join(SERVER_KEY);
        let names_path = self.dir.join(SERVER_NAMES);
        let wanted = names.join("\n");
        let current = std::fs::read_to_string(&names_path).ok();
        if !cert_path.exists() || current.as_deref() != Some(wanted.as_str()) {
            let mut params = CertificateParams::new(names.to_vec())
                .map_err(|e| UplinkError::Certificate(format!("server names: {e}")))?;
            params
                .distinguished_name
                .push(DnType::CommonName, "Hark uplink");
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.not_before = rcgen::date_time_ymd(2025, 1, 1);
            params.not_after = rcgen::date_time_ymd(2045, 1, 1);
            let key = KeyPair::generate().map_err(cert_err)?;
            let cert = params.signed_by(&key, &self.issuer()?).map_err(cert_err)?;
            write_private(&key_path, key.serialize_pem().as_bytes())?;
            write_public(
                &cert_path,
                format!("{}{}", cert.pem(), self.cert_pem).as_bytes(),
            )?;
            write_public(&names_path, wanted.as_bytes())?;
        }
        let chain = CertificateDer::pem_file_iter(&cert_path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| UplinkError::Certificate(format!("{}: {e}", cert_path.display())))?;
        let key = PrivateKeyDer::from_pem_file(&key_path)
            .map_err(|e| UplinkError::Certificate(format!("{}: {e}", key_path.display())))?;
        Ok((chain, key))
    }

    /// Signs a client certificate for forwarder `name` with the public key
    /// of `csr_pem`. Nothing else of the request is used: the name, the
    /// usage and the validity are the center's.
    pub fn sign_forwarder(&self, name: &str, csr_pem: &str) -> Result<Issued, UplinkError> {
        let csr =
            CertificateSigningRequestDer::from_pem_slice(csr_pem.as_bytes()).map_err(|e| {
                UplinkError::Refused(format!("the certificate request is not PEM: {e}"))
            })?;
        let csr = CertificateSigningRequestParams::from_der(&csr).map_err(|e| {
            UplinkError::Refused(format!("the certificate request is not valid: {e}"))
        })?;
        let serial: [u8; 16] = rand::random();
        let mut serial = serial.to_vec();
        // Positive and without a leading zero byte, so DER keeps it as it is.
        serial[0] = (serial[0] & 0x3f) | 0x40;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.subject_alt_names =
            vec![SanType::DnsName(name.try_into().map_err(|e| {
                UplinkError::Refused(format!("forwarder name `{name}`: {e}"))
            })?)];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let cert = params
            .signed_by(&csr.public_key, &self.issuer()?)
            .map_err(cert_err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            serial: hex::encode(serial),
        })
    }
}

/// Lower-case hex SHA-256 of a certificate (DER).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(Sha256::digest(cert.as_ref()))
}

fn cert_err(e: rcgen::Error) -> UplinkError {
    UplinkError::Certificate(e.to_string())
}

fn make_ca(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), UplinkError> {
    std::fs::create_dir_all(dir).map_err(|e| UplinkError::file(dir, "creating", e))?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Hark uplink CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let key = KeyPair::generate().map_err(cert_err)?;
    let cert = params.self_signed(&key).map_err(cert_err)?;
    write_private(key_path, key.serialize_pem().as_bytes())?;
    write_public(cert_path, cert.pem().as_bytes())?;
    tracing::info!(dir = %dir.display(), "made the uplink CA");
    Ok(())
}

/// The serial number of a certificate (DER), lower-case hex, and its
/// subject's common name.
pub fn serial_and_name(cert: &CertificateDer<'_>) -> Option<(String, String)> {
    use x509_parser::prelude::FromDer;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(cert.as_ref()).ok()?;
    let name = parsed
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    Some((hex::encode(parsed.raw_serial()), name))
}
