//! Mail through an SMTP server (lettre over tokio and rustls with ring):
//! plain, required STARTTLS, or TLS from the first byte; AUTH only over
//! TLS (the configuration refuses a username with `tls = "none"`).

use std::time::Duration;

use hark_config::{SmtpChannel, SmtpTls};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Secret, SendError};
use crate::NotifyError;
use crate::render::Message;

/// How long one conversation with the server may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP channel.
pub(crate) struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Mailboxes,
}

impl SmtpSender {
    /// Builds the transport for channel `name`: reads the password and CA
    /// file, parses the addresses.
    pub fn new(name: &str, cfg: &SmtpChannel) -> Result<SmtpSender, NotifyError> {
        let SmtpChannel {
            host,
            port,
            tls,
            username,
            password_file,
            ca_file,
            from,
            to,
        } = cfg;
        let setup = |message: String| NotifyError::Setup {
            channel: name.to_owned(),
            message,
        };
        let params = || -> Result<TlsParameters, NotifyError> {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(path) = ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| setup(format!("cannot read ca_file {}: {e}", path.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| setup(format!("ca_file {}: {e}", path.display())))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls()
                .map_err(|e| setup(format!("TLS settings: {e}")))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
            .port(*port)
            .timeout(Some(TIMEOUT));
        builder = match tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::Starttls => builder.tls(Tls::Required(params()?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(params()?)),
        };
        if let (Some(user), Some(path)) = (username, password_file) {
            let password = Secret::read(name, "password_file", path)?;
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| setup(format!("from {from:?}: {e}")))?;
        let mut mailboxes = Mailboxes::new();
        for addr in to {
            let mailbox: Mailbox = addr
                .parse()
                .map_err(|e| setup(format!("to {addr:?}: {e}")))?;
            mailboxes.push(mailbox);
        }
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            to: mailboxes,
        })
    }

    /// Sends `message` as a plain-text mail; the server's answer to the data.
    pub async fn send(&self, message: &Message) -> Result<String, SendError> {
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.subject.clone())
            .message_id(Some(message.mail_message_id()))
            .header(ContentType::TEXT_PLAIN);
        for to in self.to.iter() {
            builder = builder.to(to.clone());
        }
        let mut mail = builder.body(message.text.clone()).map_err(|e| SendError {
            answer: format!("cannot build the mail: {e}"),
            permanent: true,
        })?;
        mail.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Hark-Notification-Id"),
            message.key.clone(),
        ));
        match self.transport.send(mail).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(SendError {
                answer: error_text(&e),
                permanent: e.is_permanent(),
            }),
        }
    }
}

/// `535 5.7.8 Authentication credentials invalid` for a refusal; the
/// error and its causes for anything else.
fn error_text(e: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let mut causes = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    match e.status() {
        Some(code) => format!("{code} {}", causes.join(": "))
            .trim_end()
            .to_owned(),
        // The error's text already holds its first cause.
        None => std::iter::once(e.to_string())
            .chain(causes.into_iter().skip(1))
            .collect::<Vec<_>>()
            .join(": "),
    }
}
