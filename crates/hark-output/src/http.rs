//! `type = "http"`: each batch POSTed as NDJSON, one ECS-shaped JSON
//! object per line (see [`crate::encode::ecs_object`]), gzip-compressed
//! when asked.
//!
//! Guarantee: a batch counts as delivered on a 2xx answer. Any other
//! answer (429, 5xx, and other 4xx too, which are reported as errors) or
//! no answer is retried with backoff, forever: events are never skipped.
//! A batch the receiver kept before failing to answer is sent again
//! (at least once).

use std::io::Write;
use std::time::Duration;

use hark_config::HttpOutput;
use hark_event::Event;
use reqwest::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue,
};

use crate::build::SetupError;
use crate::encode::ecs_json;
use crate::{DeliveryError, Destination, OutputError};

/// Time for a whole request, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most bytes of an error answer's body kept in the error.
const MAX_ERROR_BODY: usize = 300;

/// An HTTP receiver.
pub struct HttpDestination {
    client: reqwest::Client,
    url: String,
    gzip: bool,
}

impl HttpDestination {
    /// The destination of output `name`; reads `auth_token_file` and
    /// its TLS files. The token is sent, never logged.
    pub fn new(name: &str, cfg: &HttpOutput) -> Result<HttpDestination, SetupError> {
        let HttpOutput {
            url,
            format: _,
            headers,
            auth_token_file,
            gzip,
            tls_ca,
            tls_cert,
            tls_key,
        } = cfg;
        let mut fixed = HeaderMap::new();
        for (key, value) in headers {
            let bad = |why: String| SetupError::new(name, "headers", why);
            let key = HeaderName::try_from(key.as_str())
                .map_err(|e| bad(format!("header {key:?}: {e}")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|e| bad(format!("value of header {key}: {e}")))?;
            fixed.insert(key, value);
        }
        if let Some(path) = auth_token_file {
            let bad = |why: String| SetupError::new(name, "auth_token_file", why);
            let token = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            let token = token.trim();
            if token.is_empty() {
                return Err(bad(format!("{} is empty", path.display())));
            }
            let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
                bad(format!(
                    "{} holds characters a header cannot",
                    path.display()
                ))
            })?;
            value.set_sensitive(true);
            fixed.insert(AUTHORIZATION, value);
        }
        fixed.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        if *gzip {
            fixed.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(fixed)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if url.is_https() {
            let files = crate::tls::TlsFiles::new(tls_ca, tls_cert, tls_key);
            let mut tls = crate::tls::client_config(name, files)?;
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            builder = builder.tls_backend_preconfigured(tls);
        }
        let client = builder
            .build()
            .map_err(|e| SetupError::new(name, "url", format!("HTTP client: {e}")))?;
        Ok(HttpDestination {
            client,
            url: url.to_string(),
            gzip: *gzip,
        })
    }

    fn body(&self, events: &[Event]) -> Result<Vec<u8>, OutputError> {
        let mut ndjson = Vec::with_capacity(events.len() * 256);
        for event in events {
            ndjson.extend_from_slice(&ecs_json(event));
            ndjson.push(b'\n');
        }
        if !self.gzip {
            return Ok(ndjson);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&ndjson)
            .and_then(|_| gz.finish())
            .map_err(|e| OutputError::Encode(format!("gzip: {e}")))
    }
}

impl Destination for HttpDestination {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        let body = self.body(events).map_err(DeliveryError::none)?;
        let answer = self
            .client
            .post(&self.url)
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::none(self.request_error(&e)))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let text = answer.text().await.unwrap_or_default();
        let mut text: String = text.chars().take(MAX_ERROR_BODY).collect();
        text = text.trim().to_owned();
        Err(DeliveryError::none(OutputError::Refused {
            target: self.url.clone(),
            reason: if text.is_empty() {
                status.to_string()
            } else {
                format!("{status}: {text}")
            },
        }))
    }
}

impl HttpDestination {
    /// A failed request as an error, with the causes reqwest wraps.
    fn request_error(&self, e: &reqwest::Error) -> OutputError {
        use std::error::Error as _;
        if e.is_timeout() {
            return OutputError::Timeout {
                target: self.url.clone(),
                seconds: REQUEST_TIMEOUT.as_secs(),
            };
        }
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        OutputError::Io {
            target: self.url.clone(),
            source: std::io::Error::other(text),
        }
    }
}
