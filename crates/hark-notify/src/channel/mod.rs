//! The channels that carry messages: mail over SMTP and HTTP webhooks.
//! Each is built once from its configuration (secrets and CA files are read
//! then) and sends a rendered [`Message`], answering with the server's
//! reply or why it did not accept.

mod smtp;
mod webhook;

use std::path::Path;
use std::sync::Arc;

use hark_config::{ChannelConfig, NotifyConfig};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::NotifyError;
use crate::render::Message;

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    /// The server's answer (`535 5.7.8 …`, `500 …`) or the network error.
    pub answer: String,
    /// The server refused for good (SMTP 5xx, HTTP 4xx): retrying only
    /// helps once someone fixes the configuration.
    pub permanent: bool,
}

/// A channel ready to send.
pub(crate) enum Sender {
    /// Mail.
    Smtp(smtp::SmtpSender),
    /// HTTP POST.
    Webhook(webhook::WebhookSender),
}

impl Sender {
    /// Builds channel `name`: reads its secret and CA files and checks its addresses.
    pub fn build(name: &str, cfg: &NotifyConfig) -> Result<Sender, NotifyError> {
        let NotifyConfig {
            group_wait: _,
            group_interval: _,
            channel,
        } = cfg;
        match channel {
            ChannelConfig::Smtp(c) => smtp::SmtpSender::new(name, c).map(Sender::Smtp),
            ChannelConfig::Webhook(c) => webhook::WebhookSender::new(name, c).map(Sender::Webhook),
        }
    }

    /// Sends `message`; the server's answer when accepted.
    pub async fn send(&self, message: &Message) -> Result<String, SendError> {
        match self {
            Sender::Smtp(s) => s.send(message).await,
            Sender::Webhook(w) => w.send(message).await,
        }
    }
}

/// A secret kept out of logs and `Debug` output.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    /// Reads `path`; a trailing line break is not part of the secret.
    pub fn read(channel: &str, key: &str, path: &Path) -> Result<Secret, NotifyError> {
        let text = std::fs::read_to_string(path).map_err(|e| NotifyError::Setup {
            channel: channel.to_owned(),
            message: format!("cannot read {key} {}: {e}", path.display()),
        })?;
        Ok(Secret(text.trim_end_matches(['\r', '\n']).to_owned()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The ring provider: the only one Hark builds with.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM bundle, for `ca_file`.
pub(crate) fn read_ca_file(
    channel: &str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, NotifyError> {
    let setup = |message: String| NotifyError::Setup {
        channel: channel.to_owned(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| setup(format!("cannot read ca_file {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(setup(format!(
            "ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The system's CA certificates plus `extra`.
pub(crate) fn roots(extra: Vec<CertificateDer<'static>>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    if !loaded.errors.is_empty() {
        tracing::debug!(
            "some system CA certificates could not be loaded: {:?}",
            loaded.errors
        );
    }
    roots.add_parsable_certificates(loaded.certs);
    roots.add_parsable_certificates(extra);
    roots
}
