//! Finding and calling a running server from the CLI.

use anyhow::{Context, anyhow, bail};
use hark_config::HttpTls;
use hark_server::api::ErrorBody;
use serde::de::DeserializeOwned;

use crate::ConnectArgs;

/// A configured API client.
pub struct Client {
    /// Base URL without trailing slash.
    pub base: String,
    token: String,
    /// The HTTP client.
    pub http: reqwest::Client,
}

impl Client {
    /// Resolves URL and token from flags, environment and the configuration file.
    pub fn from_args(args: &ConnectArgs) -> anyhow::Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cfg = match &args.config {
            Some(file) => Some(hark_config::Config::load(file)?),
            None => None,
        };
        let base = match (&args.url, &cfg) {
            (Some(u), _) => u.trim_end_matches('/').to_owned(),
            (None, Some(cfg)) => format!(
                "{}://{}",
                cfg.http.scheme(),
                crate::cmd::serve::display_addr(cfg.http.listen)
            ),
            (None, None) => format!(
                "http://{}",
                crate::cmd::serve::display_addr(hark_config::Config::default().http.listen)
            ),
        };
        let Some(token) = args.token.clone() else {
            bail!(
                "no API token: pass --token or set HARK_TOKEN (the server prints an admin token on its first start; `hark token create` makes more)"
            );
        };
        let mut http = reqwest::Client::builder();
        // The server's own self-signed certificate is trusted by whoever may read its data directory.
        if let Some(cfg) = cfg
            .as_ref()
            .filter(|c| c.http.tls == Some(HttpTls::SelfSigned))
        {
            let path = cfg
                .data_dir
                .join(hark_server::tls::TLS_DIR)
                .join(hark_server::tls::SELF_SIGNED_CERT);
            let pem = std::fs::read(&path).with_context(|| {
                format!(
                    "cannot read the server's self-signed certificate {}",
                    path.display()
                )
            })?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
            http = http.add_root_certificate(cert);
        }
        let http = http.build().context("cannot build the HTTP client")?;
        Ok(Client { base, token, http })
    }

    /// A GET request to `path` with the token.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
    }

    /// A request with any method to `path` with the token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
    }

    /// Sends a request whose success has no body (204), turning API errors into readable ones.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<()> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        if resp.status().is_success() {
            return Ok(());
        }
        Err(api_error(resp).await)
    }

    /// Sends a request and reads its answer as `T`, turning API errors into
    /// readable ones.
    pub async fn json<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        if !resp.status().is_success() {
            return Err(api_error(resp).await);
        }
        let body = resp
            .bytes()
            .await
            .context("the server's answer broke off")?;
        serde_json::from_slice(&body)
            .context("the server's answer is not what this version of hark expects")
    }
}

/// An API error answer as a readable error: `403 Forbidden: <message>`.
pub async fn api_error(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(ErrorBody {
            error,
            position: Some(pos),
        }) => anyhow!("{status}: {error} (at position {pos})"),
        Ok(ErrorBody { error, .. }) => anyhow!("{status}: {error}"),
        Err(_) => anyhow!("{status}: request failed"),
    }
}
