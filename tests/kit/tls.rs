//! Certificates made for one test (a CA, a server and a client certificate)
//! and a plain rustls client.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::init_crypto;

/// The name (and SAN) of the server certificate.
pub const SERVER_NAME: &str = "localhost";

/// PEM files of a fresh CA, a server certificate for `localhost` and
/// 127.0.0.1, and a client certificate, all written under one directory.
pub struct TlsFiles {
    /// CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// Server certificate (PEM), signed by the CA.
    pub server_cert: PathBuf,
    /// Server key (PKCS#8 PEM).
    pub server_key: PathBuf,
    /// Client certificate (PEM), signed by the CA.
    pub client_cert: PathBuf,
    /// Client key (PKCS#8 PEM).
    pub client_key: PathBuf,
    ca_der: CertificateDer<'static>,
    client_der: CertificateDer<'static>,
    client_key_der: Vec<u8>,
}

impl TlsFiles {
    /// Generates the set and writes it into `dir`.
    pub fn generate(dir: &Path) -> TlsFiles {
        std::fs::create_dir_all(dir).expect("create the certificate directory");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "hark e2e test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf = |names: Vec<String>, cn: &str, eku: ExtendedKeyUsagePurpose| {
            let mut p = CertificateParams::new(names).expect("leaf params");
            p.distinguished_name.push(DnType::CommonName, cn);
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            p.extended_key_usages = vec![eku];
            p.use_authority_key_identifier_extension = true;
            let key = KeyPair::generate().expect("leaf key");
            let cert = p.signed_by(&key, &issuer).expect("sign the leaf");
            (cert, key)
        };
        let (server, server_key) = leaf(
            vec![SERVER_NAME.to_owned(), "127.0.0.1".to_owned()],
            SERVER_NAME,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client, client_key) = leaf(
            vec!["client.hark.test".to_owned()],
            "client.hark.test",
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write a PEM file");
            p
        };
        TlsFiles {
            ca_cert: write("ca.pem", ca.pem()),
            server_cert: write("server.pem", server.pem()),
            server_key: write("server.key", server_key.serialize_pem()),
            client_cert: write("client.pem", client.pem()),
            client_key: write("client.key", client_key.serialize_pem()),
            ca_der: ca.der().clone(),
            client_der: client.der().clone(),
            client_key_der: client_key.serialize_der(),
        }
    }

    /// A rustls client configuration trusting the CA, presenting the client
    /// certificate when `with_client_cert`.
    pub fn client_config(&self, with_client_cert: bool) -> Arc<ClientConfig> {
        init_crypto();
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("add the CA root");
        let builder = ClientConfig::builder().with_root_certificates(roots);
        let config = if with_client_cert {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.client_key_der.clone()));
            builder
                .with_client_auth_cert(vec![self.client_der.clone()], key)
                .expect("client certificate")
        } else {
            builder.with_no_client_auth()
        };
        Arc::new(config)
    }
}

/// A blocking TLS stream to `addr` for [`SERVER_NAME`]; the handshake runs on
/// first read or write.
pub fn tls_connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let sock = TcpStream::connect(addr)?;
    let name = ServerName::try_from(SERVER_NAME).map_err(std::io::Error::other)?;
    let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    Ok(StreamOwned::new(conn, sock))
}
