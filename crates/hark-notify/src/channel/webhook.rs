//! An HTTP POST per message (reqwest over rustls with ring). The body is
//! JSON (`{"notifications": [...]}`), Slack's or Teams' shape, or a user's
//! template; `X-Hark-Notification-Id` carries the message key and, with a
//! secret, `X-Hark-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use std::time::Duration;

use hark_config::{WebhookChannel, WebhookTemplate};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Secret, SendError};
use crate::NotifyError;
use crate::render::{FileTemplate, Message};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Slack takes at most 50 blocks; a digest lists this many and counts the rest.
const SLACK_ITEMS: usize = 45;
/// The most of an answer's body kept in the record.
const ANSWER_MAX: usize = 200;

/// The body's shape, templates compiled.
enum Body {
    Json,
    Slack,
    Teams,
    File(Box<FileTemplate>),
}

/// A webhook channel.
pub(crate) struct WebhookSender {
    client: reqwest::Client,
    url: String,
    secret: Option<Secret>,
    body: Body,
}

impl WebhookSender {
    /// Builds channel `name`: reads the secret, CA and template files.
    pub fn new(name: &str, cfg: &WebhookChannel) -> Result<WebhookSender, NotifyError> {
        let WebhookChannel {
            url,
            secret_file,
            template,
            ca_file,
        } = cfg;
        let setup = |message: String| NotifyError::Setup {
            channel: name.to_owned(),
            message,
        };
        let extra = match ca_file {
            Some(path) => super::read_ca_file(name, path)?,
            None => Vec::new(),
        };
        let mut tls = rustls::ClientConfig::builder_with_provider(super::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| setup(format!("TLS settings: {e}")))?
            .with_root_certificates(super::roots(extra))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| setup(format!("HTTP client: {e}")))?;
        let secret = secret_file
            .as_deref()
            .map(|p| Secret::read(name, "secret_file", p))
            .transpose()?;
        let body = match template {
            WebhookTemplate::Json => Body::Json,
            WebhookTemplate::Slack => Body::Slack,
            WebhookTemplate::Teams => Body::Teams,
            WebhookTemplate::File(path) => {
                let source = std::fs::read_to_string(path)
                    .map_err(|e| setup(format!("cannot read template {}: {e}", path.display())))?;
                let name = path.display().to_string();
                Body::File(Box::new(
                    FileTemplate::new(&name, source).map_err(|e| setup(e.to_string()))?,
                ))
            }
        };
        Ok(WebhookSender {
            client,
            url: url.to_string(),
            secret,
            body,
        })
    }

    /// POSTs `message`; `STATUS BODY` of a 2xx answer.
    pub async fn send(&self, message: &Message) -> Result<String, SendError> {
        let body = self.body(message)?;
        let is_json = serde_json::from_str::<Value>(&body).is_ok();
        let mut req = self
            .client
            .post(&self.url)
            .header("X-Hark-Notification-Id", &message.key)
            .header(
                reqwest::header::CONTENT_TYPE,
                if is_json {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                },
            );
        if let Some(secret) = &self.secret {
            req = req.header("X-Hark-Signature", signature(secret.expose(), &body));
        }
        let resp = req.body(body).send().await.map_err(|e| SendError {
            answer: request_error(&e),
            permanent: false,
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let answer = format!("{} {}", status.as_u16(), cut(text.trim(), ANSWER_MAX))
            .trim_end()
            .to_owned();
        if status.is_success() {
            Ok(answer)
        } else {
            Err(SendError {
                answer,
                permanent: status.is_client_error(),
            })
        }
    }

    fn body(&self, message: &Message) -> Result<String, SendError> {
        let value = match &self.body {
            Body::Json => json!({ "notifications": message.notifications }),
            Body::Slack => slack(message),
            Body::Teams => teams(message),
            Body::File(t) => {
                return t.render(message).map_err(|e| SendError {
                    answer: e.to_string(),
                    permanent: true,
                });
            }
        };
        Ok(value.to_string())
    }
}

/// `sha256=<hex HMAC-SHA256 of body>`.
pub(crate) fn signature(secret: &str, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Slack's incoming-webhook shape: `text` (the subject) and blocks.
fn slack(message: &Message) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cut(&message.subject, 150)},
    })];
    for n in message.notifications.iter().take(SLACK_ITEMS) {
        let mut text = format!("*[{}] {}*", n.kind.label(), n.rule);
        let group = n.group_text();
        if !group.is_empty() {
            text.push_str(&format!(" `{group}`"));
        }
        text.push_str(&format!("\n{}", n.summary));
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": cut(&text, 3000)},
        }));
    }
    let more = message.notifications.len().saturating_sub(SLACK_ITEMS);
    if more > 0 {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("and {more} more")}],
        }));
    }
    json!({ "text": message.subject, "blocks": blocks })
}

/// A Microsoft Teams MessageCard.
fn teams(message: &Message) -> Value {
    let sections: Vec<Value> = message
        .notifications
        .iter()
        .map(|n| {
            json!({
                "activityTitle": format!("[{}] {} {}", n.kind.label(), n.rule, n.group_text()).trim_end(),
                "text": n.summary,
                "facts": [
                    {"name": "Severity", "value": n.severity},
                    {"name": "Count", "value": n.count.to_string()},
                ],
            })
        })
        .collect();
    json!({
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": message.subject,
        "title": message.subject,
        "text": message.text,
        "sections": sections,
    })
}

/// The error and its causes.
fn request_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn cut_respects_characters() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("abc", 10), "abc");
    }
}
