//! `[alerting]` and `[notify.NAME]`: where notifications go and how they
//! are grouped.
//!
//! Every channel table has a `type` and the keys of [`ChannelKeys`]
//! (`group_wait`, `group_interval`, which override `[alerting]` for this
//! channel); the other keys are those of the type's struct
//! ([`SmtpChannel`], [`WebhookChannel`]). A key of another type is an
//! error that lists the type's keys.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::table::{
    self, Located, Node, Spans, fields_of, first_key, name_missing_key, split_off, take_tag,
};
use crate::units::{duration, duration_opt};
use crate::url::HttpUrl;

/// Settings shared by every notification channel.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// A channel's first pending notification waits this long for others
    /// to join it in one message; 0 sends at once.
    #[serde(default = "default_group_wait", deserialize_with = "duration")]
    pub group_wait: Duration,
    /// At most one message per channel per this interval; 0 for no limit.
    #[serde(default = "default_group_interval", deserialize_with = "duration")]
    pub group_interval: Duration,
    /// A notification not delivered after this long is given up (failed).
    #[serde(default = "default_give_up_after", deserialize_with = "duration")]
    pub give_up_after: Duration,
    /// Base of the links in messages; `http://` and the API's address when absent.
    #[serde(default)]
    pub ui_url: Option<HttpUrl>,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            group_wait: default_group_wait(),
            group_interval: default_group_interval(),
            give_up_after: default_give_up_after(),
            ui_url: None,
        }
    }
}

fn default_group_wait() -> Duration {
    Duration::from_secs(30)
}
fn default_group_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_give_up_after() -> Duration {
    Duration::from_secs(86_400)
}

/// What kind of channel a `[notify.NAME]` table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelType {
    /// Mail through an SMTP server.
    Smtp,
    /// An HTTP POST to a URL.
    Webhook,
}

impl ChannelType {
    /// Every variant.
    pub const ALL: &[ChannelType] = &[ChannelType::Smtp, ChannelType::Webhook];

    /// The name written as `type`.
    pub fn name(self) -> &'static str {
        match self {
            ChannelType::Smtp => "smtp",
            ChannelType::Webhook => "webhook",
        }
    }

    /// The keys of this type's struct.
    fn keys(self) -> &'static [&'static str] {
        match self {
            ChannelType::Smtp => fields_of::<SmtpKeys>(),
            ChannelType::Webhook => fields_of::<WebhookChannel>(),
        }
    }
}

/// One named notification channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// Overrides `[alerting] group_wait` for this channel.
    pub group_wait: Option<Duration>,
    /// Overrides `[alerting] group_interval` for this channel.
    pub group_interval: Option<Duration>,
    /// The type and its settings.
    pub channel: ChannelConfig,
}

/// The type-specific part of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelConfig {
    /// `type = "smtp"`.
    Smtp(SmtpChannel),
    /// `type = "webhook"`.
    Webhook(WebhookChannel),
}

/// The keys every channel takes, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelKeys {
    #[serde(default, deserialize_with = "duration_opt")]
    group_wait: Option<Duration>,
    #[serde(default, deserialize_with = "duration_opt")]
    group_interval: Option<Duration>,
}

/// How an SMTP channel protects the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (no authentication allowed).
    None,
    /// STARTTLS after connecting, required (a server without it is an error).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpTls {
    /// The usual port: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// `type = "smtp"`: mail to `to` through `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpChannel {
    /// The SMTP server's name or address (also the name its certificate must carry).
    pub host: String,
    /// The server's port: as written, else [`SmtpTls::default_port`].
    pub port: u16,
    /// Plain, STARTTLS or implicit TLS.
    pub tls: SmtpTls,
    /// The user to authenticate as (only over TLS), with the password in `password_file`.
    pub username: Option<String>,
    /// The file holding the password (read when notifications start).
    pub password_file: Option<PathBuf>,
    /// A CA bundle (PEM) trusted besides the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// The sender, like `Hark <hark@example.test>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// The keys of an SMTP channel, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmtpKeys {
    host: String,
    port: Option<u16>,
    #[serde(default = "default_smtp_tls")]
    tls: SmtpTls,
    username: Option<String>,
    password_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    from: String,
    to: Vec<String>,
}

fn default_smtp_tls() -> SmtpTls {
    SmtpTls::Starttls
}

/// How a webhook's body is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookTemplate {
    /// `{"notifications": [...]}`.
    Json,
    /// Slack's incoming-webhook shape: `text` and `blocks`.
    Slack,
    /// A Microsoft Teams MessageCard.
    Teams,
    /// A minijinja template file, rendered with the same context as the built-in ones.
    File(PathBuf),
}

impl<'de> Deserialize<'de> for WebhookTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "json" => WebhookTemplate::Json,
            "slack" => WebhookTemplate::Slack,
            "teams" => WebhookTemplate::Teams,
            "" => {
                return Err(de::Error::custom(
                    "template is empty; expected \"json\", \"slack\", \"teams\" or the path of a template file",
                ));
            }
            path => WebhookTemplate::File(PathBuf::from(path)),
        })
    }
}

fn default_template() -> WebhookTemplate {
    WebhookTemplate::Json
}

/// `type = "webhook"`: an HTTP POST of each message to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChannel {
    /// Where to POST.
    pub url: HttpUrl,
    /// A file holding the HMAC key; each request then carries
    /// `X-Hark-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// The body's shape.
    #[serde(default = "default_template")]
    pub template: WebhookTemplate,
    /// A CA bundle (PEM) trusted besides the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl NotifyConfig {
    /// The type of the channel.
    pub fn kind(&self) -> ChannelType {
        match &self.channel {
            ChannelConfig::Smtp(_) => ChannelType::Smtp,
            ChannelConfig::Webhook(_) => ChannelType::Webhook,
        }
    }

    /// Reads the table of channel `name`.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let mut t = table::table(node, &format!("notify.{name}"))?;
        let kind = take_tag(
            &mut t,
            "notification channel",
            ChannelType::ALL,
            ChannelType::name,
        )?;
        let at = |key: &str, message: String| spans.error(&["notify", name, key], message);

        let common = split_off(&mut t, fields_of::<ChannelKeys>());
        let own = split_off(&mut t, kind.keys());
        if let Some((key, span)) = first_key(t.get_ref()) {
            return Err(Located::new(span, not_applicable(kind, &key)));
        }
        let ChannelKeys {
            group_wait,
            group_interval,
        } = table::value(table::node(common))?;
        let own = table::node(own);
        let missing = |e| name_missing_key(e, kind.name(), "channel", kind.keys());
        let channel = match kind {
            ChannelType::Smtp => {
                let keys: SmtpKeys = table::value(own).map_err(missing)?;
                ChannelConfig::Smtp(keys.check(name, &at)?)
            }
            ChannelType::Webhook => ChannelConfig::Webhook(table::value(own).map_err(missing)?),
        };
        Ok(NotifyConfig {
            group_wait,
            group_interval,
            channel,
        })
    }
}

impl SmtpKeys {
    /// The rules between keys; `at` blames a key of channel `name`.
    fn check(
        self,
        name: &str,
        at: &dyn Fn(&str, String) -> Located,
    ) -> Result<SmtpChannel, Located> {
        let SmtpKeys {
            host,
            port,
            tls,
            username,
            password_file,
            ca_file,
            from,
            to,
        } = self;
        if host.trim().is_empty() {
            return Err(at(
                "host",
                "host is empty; expected the SMTP server's name, e.g. host = \"mail.example.test\""
                    .into(),
            ));
        }
        match (&username, &password_file) {
            (Some(_), _) if tls == SmtpTls::None => {
                return Err(at(
                    "username",
                    format!(
                        "channel `{name}`: username needs tls = \"starttls\" or \"tls\"; \
                         a password is never sent over plain text"
                    ),
                ));
            }
            (Some(_), None) => {
                return Err(at(
                    "username",
                    format!(
                        "channel `{name}`: username needs password_file, the file holding the password"
                    ),
                ));
            }
            (None, Some(_)) => {
                return Err(at(
                    "password_file",
                    format!("channel `{name}`: password_file needs username"),
                ));
            }
            _ => {}
        }
        if !looks_like_address(&from) {
            return Err(at(
                "from",
                format!(
                    "invalid sender {from:?}; expected an address, like \"Hark <hark@example.test>\""
                ),
            ));
        }
        if to.is_empty() {
            return Err(at(
                "to",
                "to must name at least one recipient, e.g. to = [\"ops@example.test\"]".into(),
            ));
        }
        if let Some(bad) = to.iter().find(|a| !looks_like_address(a)) {
            return Err(at(
                "to",
                format!("invalid recipient {bad:?}; expected an address like \"ops@example.test\""),
            ));
        }
        Ok(SmtpChannel {
            host,
            port: port.unwrap_or(tls.default_port()),
            tls,
            username,
            password_file,
            ca_file,
            from,
            to,
        })
    }
}

/// A mailbox (`a@b` or `Name <a@b>`), checked loosely: the mail library
/// parses it strictly when the channel starts.
fn looks_like_address(text: &str) -> bool {
    let addr = match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    match addr.trim().split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The error for `key` in a channel of `kind` that does not take it.
fn not_applicable(kind: ChannelType, key: &str) -> String {
    let mut common = vec!["type"];
    common.extend(fields_of::<ChannelKeys>());
    let owner = ChannelType::ALL
        .iter()
        .find(|t| t.keys().contains(&key))
        .map(|t| t.name());
    table::key_not_applicable("channel", kind.name(), key, owner, &common, kind.keys())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::{ChannelConfig, Config, SmtpTls, WebhookTemplate};

    fn err(text: &str) -> String {
        match Config::from_toml_str("hark.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn documented_channels_parse_with_their_defaults() {
        let cfg = Config::from_toml_str(
            "hark.toml",
            r#"
[alerting]
group_wait = "0s"
ui_url = "http://hark.example.test:8514"

[notify.ops_mail]
type = "smtp"
host = "mail.example.test"
tls = "starttls"
username = "hark"
password_file = "/etc/hark/smtp.pass"
from = "Hark <hark@example.test>"
to = ["ops@example.test"]
group_interval = "1m"

[notify.plain]
type = "smtp"
host = "127.0.0.1"
tls = "none"
from = "hark@example.test"
to = ["a@example.test", "B <b@example.test>"]

[notify.chat]
type = "webhook"
url = "https://hooks.example.test/hark"
secret_file = "/etc/hark/webhook.secret"
template = "slack"

[notify.custom]
type = "webhook"
url = "http://127.0.0.1:9000/in"
template = "/etc/hark/body.j2"
"#,
        )
        .unwrap();
        assert_eq!(cfg.alerting.group_wait, Duration::ZERO);
        assert_eq!(cfg.alerting.group_interval, Duration::from_secs(300));
        assert_eq!(cfg.alerting.give_up_after, Duration::from_secs(86_400));
        assert_eq!(cfg.alerting.ui_url.as_ref().map(|u| u.port()), Some(8514));
        let mail = &cfg.notify["ops_mail"];
        assert_eq!(mail.group_interval, Some(Duration::from_secs(60)));
        assert_eq!(mail.group_wait, None);
        let ChannelConfig::Smtp(smtp) = &mail.channel else {
            panic!("ops_mail is smtp")
        };
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        let ChannelConfig::Smtp(plain) = &cfg.notify["plain"].channel else {
            panic!("plain is smtp")
        };
        assert_eq!((plain.port, plain.tls), (25, SmtpTls::None));
        let ChannelConfig::Webhook(chat) = &cfg.notify["chat"].channel else {
            panic!("chat is a webhook")
        };
        assert_eq!(chat.template, WebhookTemplate::Slack);
        assert_eq!(chat.url.port(), 443);
        let ChannelConfig::Webhook(custom) = &cfg.notify["custom"].channel else {
            panic!("custom is a webhook")
        };
        assert_eq!(
            custom.template,
            WebhookTemplate::File("/etc/hark/body.j2".into())
        );
    }

    #[test]
    fn defaults_apply_without_the_sections() {
        let cfg = Config::from_toml_str("hark.toml", "").unwrap();
        assert!(cfg.notify.is_empty());
        assert_eq!(cfg.alerting.group_wait, Duration::from_secs(30));
        let cfg = Config::from_toml_str(
            "hark.toml",
            "[notify.m]\ntype = \"smtp\"\nhost = \"h\"\ntls = \"tls\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
        )
        .unwrap();
        let ChannelConfig::Smtp(m) = &cfg.notify["m"].channel else {
            panic!("m is smtp")
        };
        assert_eq!(m.port, 465);
    }

    #[test]
    fn a_username_over_plain_text_is_refused_at_the_key() {
        let e = err(
            "[notify.m]\ntype = \"smtp\"\nhost = \"h\"\ntls = \"none\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n\nusername = \"u\"\npassword_file = \"/p\"\n",
        );
        assert!(e.starts_with("hark.toml:8:1:"), "{e}");
        assert!(e.contains("username needs tls"), "{e}");
    }

    #[test]
    fn a_key_of_the_other_type_names_the_type_and_its_line() {
        let e = err(
            "[notify.m]\ntype = \"smtp\"\nhost = \"h\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n\ntemplate = \"slack\"\n",
        );
        assert!(e.starts_with("hark.toml:7:1:"), "{e}");
        assert!(e.contains("type = \"webhook\""), "{e}");
        assert!(e.contains("password_file"), "{e}");
        let e = err("[notify.w]\ntype = \"webhook\"\nurl = \"http://h/\"\nsecrt_file = \"x\"\n");
        assert!(e.starts_with("hark.toml:4:1:"), "{e}");
        assert!(e.contains("unknown field `secrt_file`"), "{e}");
    }

    #[test]
    fn values_are_typed_at_load() {
        let e = err("[notify.w]\ntype = \"webhook\"\nurl = \"http://h:99999/\"\n");
        assert!(e.starts_with("hark.toml:3:"), "{e}");
        assert!(e.contains("invalid port"), "{e}");
        let e = err("[alerting]\ngroup_wait = \"soon\"\n");
        assert!(e.starts_with("hark.toml:2:"), "{e}");
        assert!(e.contains("invalid duration"), "{e}");
        let e =
            err("[notify.m]\ntype = \"smtp\"\nhost = \"h\"\nfrom = \"nobody\"\nto = [\"c@d\"]\n");
        assert!(e.starts_with("hark.toml:4:1:"), "{e}");
        let e = err("[notify.m]\ntype = \"smtp\"\nhost = \"h\"\nfrom = \"a@b\"\nto = []\n");
        assert!(e.starts_with("hark.toml:5:1:"), "{e}");
        let e = err("[notify.m]\ntype = \"fax\"\n");
        assert!(e.contains("`smtp`, `webhook`"), "{e}");
        let e = err("[notify.m]\ntype = \"smtp\"\nhost = \"h\"\nfrom = \"a@b\"\n");
        assert!(e.contains("a smtp channel needs to"), "{e}");
    }
}
