//! Finding and calling a running server from the CLI.

use anyhow::{Context, bail};

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
        let base = match (&args.url, &args.config) {
            (Some(u), _) => u.trim_end_matches('/').to_owned(),
            (None, Some(file)) => {
                let cfg = hark_config::Config::load(file)?;
                format!(
                    "http://{}",
                    crate::cmd::serve::display_addr(cfg.http.listen)
                )
            }
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
        let http = reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?;
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
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let msg = body
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("request failed");
        bail!("{status}: {msg}")
    }

    /// Sends a request and returns its JSON, turning API errors into readable ones.
    pub async fn json(&self, req: reqwest::RequestBuilder) -> anyhow::Result<serde_json::Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        let status = resp.status();
        let body: serde_json::Value = resp
            .json()
            .await
            .context("the server's answer is not JSON")?;
        if !status.is_success() {
            let msg = body
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("request failed");
            match body.get("position").and_then(|p| p.as_u64()) {
                Some(pos) => bail!("{status}: {msg} (at position {pos})"),
                None => bail!("{status}: {msg}"),
            }
        }
        Ok(body)
    }
}
