//! Turning notifications into a message: the subject and text every
//! channel uses (minijinja templates written to read well in a phone's mail
//! app), the webhook bodies (JSON, Slack, Teams, or a template file), and
//! the stable message id.
//!
//! Every template sees the same context: `notifications` (each with `id`,
//! `rule`, `group` as `[{name, value}]`, `group_text`, `kind`,
//! `kind_label`, `severity`, `summary`, `since`, `at`, `count`, `samples`
//! and `link`), `count`, `rules`, `subject`, `message_id` and `ui_url`.

use minijinja::{Environment, context};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::Notification;

const SUBJECT: &str = "\
{%- if count == 1 -%}
[{{ n.kind_label }}] {{ n.rule }}{% if n.group_text %} {{ n.group_text }}{% endif %}
{%- else -%}
[{{ count }} alerts] {{ rules | join(', ') }}
{%- endif -%}";

const TEXT: &str = "\
{%- for n in notifications -%}
{% if count > 1 %}{{ loop.index }}. {% endif %}[{{ n.kind_label }}] {{ n.summary }}
Rule: {{ n.rule }}
{% if n.group_text %}Where: {{ n.group_text }}
{% endif %}Severity: {{ n.severity }}
Since: {{ n.since }}
{% if n.kind != 'test' %}Count: {{ n.count }}
{% endif %}{% if n.link %}Search: {{ n.link }}
{% endif %}{% if n.samples %}Sample events:
{% for s in n.samples %}  {{ s.time }} {{ s.host or '-' }} {{ s.app or '-' }}: {{ s.message }}
{% endfor %}{% endif %}Id: {{ n.id }}

{% endfor -%}
-- 
Sent by Hark{% if ui_url %} ({{ ui_url }}){% endif %}
";

/// A message ready for a channel.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// The notification's id, or for a digest `digest-` and a hash of its ids.
    pub key: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// What it holds, oldest first.
    pub notifications: Vec<Notification>,
    /// The template context, for webhook bodies.
    pub context: minijinja::Value,
}

impl Message {
    /// The mail `Message-ID`, derived from the key: the same message gets
    /// the same id on every try and after a restart.
    pub fn mail_message_id(&self) -> String {
        format!("<{}@hark>", short_hash(&self.key))
    }
}

/// A template that failed to compile or render.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct RenderError {
    /// The template.
    pub name: String,
    /// What went wrong, with the line.
    pub message: String,
}

impl RenderError {
    fn from_jinja(name: &str, e: &minijinja::Error) -> RenderError {
        let mut message = e.to_string();
        if let Some(line) = e.line() {
            message = format!("line {line}: {message}");
        }
        RenderError {
            name: name.to_owned(),
            message,
        }
    }
}

/// The templates and the base of links.
pub(crate) struct Renderer {
    env: Environment<'static>,
    /// `http://host:port`, without a trailing slash.
    ui_url: String,
}

/// One notification as templates see it.
#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    channel: &'a str,
    rule: &'a str,
    group: Vec<GroupPart<'a>>,
    group_text: String,
    kind: crate::model::Kind,
    kind_label: &'static str,
    severity: &'a str,
    summary: &'a str,
    since: String,
    at: String,
    count: u64,
    samples: Vec<SampleView<'a>>,
    link: Option<String>,
}

#[derive(Serialize)]
struct GroupPart<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct SampleView<'a> {
    time: String,
    host: Option<&'a str>,
    app: Option<&'a str>,
    message: &'a str,
}

impl Renderer {
    /// The built-in templates; links start with `ui_url`.
    pub fn new(ui_url: &str) -> Renderer {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        // The built-in templates are constants checked by the tests.
        let _ = env.add_template("subject", SUBJECT);
        let _ = env.add_template("text", TEXT);
        Renderer {
            env,
            ui_url: ui_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The message for `notifications` (oldest first; at least one).
    pub fn message(&self, notifications: &[Notification]) -> Result<Message, RenderError> {
        let key = match notifications {
            [one] => one.id.clone(),
            many => {
                let mut ids: Vec<&str> = many.iter().map(|n| n.id.as_str()).collect();
                ids.sort_unstable();
                format!("digest-{}", short_hash(&ids.join("\n")))
            }
        };
        let items: Vec<Item<'_>> = notifications.iter().map(|n| self.item(n)).collect();
        let mut rules: Vec<&str> = notifications.iter().map(|n| n.rule.as_str()).collect();
        rules.dedup();
        let mut seen = Vec::new();
        rules.retain(|r| {
            let new = !seen.contains(r);
            seen.push(*r);
            new
        });
        let base = context! {
            notifications => items,
            n => items.first(),
            count => notifications.len(),
            rules => rules,
            message_id => key,
            ui_url => self.ui_url,
        };
        let subject = self.render("subject", &base)?;
        let ctx = context! { subject => subject, ..base };
        let text = self.render("text", &ctx)?;
        Ok(Message {
            key,
            subject,
            text,
            notifications: notifications.to_vec(),
            context: ctx,
        })
    }

    fn render(&self, name: &str, ctx: &minijinja::Value) -> Result<String, RenderError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| RenderError::from_jinja(name, &e))
    }

    fn item<'a>(&self, n: &'a Notification) -> Item<'a> {
        Item {
            id: &n.id,
            channel: &n.channel,
            rule: &n.rule,
            group: n
                .group
                .iter()
                .map(|(name, value)| GroupPart { name, value })
                .collect(),
            group_text: n.group_text(),
            kind: n.kind,
            kind_label: n.kind.label(),
            severity: &n.severity,
            summary: &n.summary,
            since: time_text(n.since),
            at: time_text(n.at),
            count: n.count,
            samples: n
                .samples
                .iter()
                .map(|s| SampleView {
                    time: time_text(s.timestamp),
                    host: s.host.as_deref(),
                    app: s.app.as_deref(),
                    message: &s.message,
                })
                .collect(),
            link: n.query.as_ref().map(|q| self.search_link(q, n.since, n.at)),
        }
    }

    /// `{ui_url}/search?q=…&from=…&to=…`: the query over the time of the
    /// condition, a minute either side.
    fn search_link(&self, query: &str, since: i64, at: i64) -> String {
        const MINUTE: i64 = 60_000_000_000;
        format!(
            "{}/search?q={}&from={}&to={}",
            self.ui_url,
            percent_encode(query),
            percent_encode(&rfc3339(since.saturating_sub(MINUTE))),
            percent_encode(&rfc3339(at.saturating_add(MINUTE))),
        )
    }
}

/// A user's template file compiled once, rendered with the message context.
pub(crate) struct FileTemplate {
    env: Environment<'static>,
    name: String,
}

impl FileTemplate {
    /// Compiles `source`; `name` (the path) names it in errors.
    pub fn new(name: &str, source: String) -> Result<FileTemplate, RenderError> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        env.add_template_owned(name.to_owned(), source)
            .map_err(|e| RenderError::from_jinja(name, &e))?;
        Ok(FileTemplate {
            env,
            name: name.to_owned(),
        })
    }

    /// The body for `message`.
    pub fn render(&self, message: &Message) -> Result<String, RenderError> {
        self.env
            .get_template(&self.name)
            .and_then(|t| t.render(&message.context))
            .map_err(|e| RenderError::from_jinja(&self.name, &e))
    }
}

/// `2026-03-01 14:05:09 UTC`.
fn time_text(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

fn rfc3339(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Everything but RFC 3986's unreserved characters, percent-encoded.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first 32 hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Sample};

    const T0: i64 = 1_772_373_909_000_000_000; // 2026-03-01 14:05:09 UTC

    fn firing(id: &str, rule: &str, host: &str) -> Notification {
        Notification {
            id: id.to_owned(),
            channel: "mail".to_owned(),
            rule: rule.to_owned(),
            group: vec![("host".to_owned(), host.to_owned())],
            kind: Kind::Firing,
            severity: "critical".to_owned(),
            summary: format!("{rule}: count 25 > 20 in 5m on host={host}"),
            since: T0,
            at: T0 + 60_000_000_000,
            count: 25,
            samples: vec![Sample {
                timestamp: T0,
                host: Some(host.to_owned()),
                app: Some("sshd".to_owned()),
                message: "Failed password for root".to_owned(),
            }],
            query: Some("app:sshd AND \"Failed password\"".to_owned()),
        }
    }

    #[test]
    fn a_single_notification_reads_as_one_alert() {
        let r = Renderer::new("http://hark.example.test:8514/");
        let m = r
            .message(&[firing("a1", "ssh_bruteforce", "web1")])
            .unwrap();
        assert_eq!(m.subject, "[FIRING] ssh_bruteforce host=web1");
        assert_eq!(m.key, "a1");
        let expected = "\
[FIRING] ssh_bruteforce: count 25 > 20 in 5m on host=web1
Rule: ssh_bruteforce
Where: host=web1
Severity: critical
Since: 2026-03-01 14:05:09 UTC
Count: 25
Search: http://hark.example.test:8514/search?q=app%3Asshd%20AND%20%22Failed%20password%22&from=2026-03-01T14%3A04%3A09Z&to=2026-03-01T14%3A07%3A09Z
Sample events:
  2026-03-01 14:05:09 UTC web1 sshd: Failed password for root
Id: a1

-- 
Sent by Hark (http://hark.example.test:8514)
";
        assert_eq!(m.text, expected);
    }

    #[test]
    fn several_notifications_make_a_digest_with_a_stable_key() {
        let r = Renderer::new("http://h:1");
        let notes = [
            firing("a1", "ssh_bruteforce", "web1"),
            firing("a2", "ssh_bruteforce", "web2"),
            firing("a3", "disk_full", "db1"),
        ];
        let m = r.message(&notes).unwrap();
        assert_eq!(m.subject, "[3 alerts] ssh_bruteforce, disk_full");
        for (i, host) in ["web1", "web2", "db1"].iter().enumerate() {
            assert!(
                m.text.contains(&format!("{}. [FIRING] ", i + 1)),
                "{}",
                m.text
            );
            assert!(
                m.text.contains(&format!("Where: host={host}\n")),
                "{}",
                m.text
            );
        }
        assert!(m.key.starts_with("digest-"));
        let reordered = r
            .message(&[notes[2].clone(), notes[0].clone(), notes[1].clone()])
            .unwrap();
        assert_eq!(reordered.key, m.key);
        assert_eq!(reordered.mail_message_id(), m.mail_message_id());
        let other = r.message(&notes[..2]).unwrap();
        assert_ne!(other.key, m.key);
    }

    #[test]
    fn resolved_and_test_messages_say_so() {
        let r = Renderer::new("http://h:1");
        let mut n = firing("a1", "disk_full", "db1");
        n.kind = Kind::Resolved;
        n.group.clear();
        assert_eq!(r.message(&[n]).unwrap().subject, "[RESOLVED] disk_full");
        let t = r.message(&[Notification::test("ops", T0)]).unwrap();
        assert_eq!(t.subject, "[TEST] test");
        assert!(!t.text.contains("Count:"), "{}", t.text);
        assert!(
            t.text
                .contains("Test message from Hark through channel ops")
        );
    }

    #[test]
    fn a_template_file_sees_the_context() {
        let r = Renderer::new("http://h:1");
        let m = r.message(&[firing("a1", "ssh", "web1")]).unwrap();
        let t = FileTemplate::new(
            "custom.j2",
            "{{ subject }}|{% for n in notifications %}{{ n.group[0].value }} {{ n.kind }}{% endfor %}|{{ notifications | tojson }}".to_owned(),
        )
        .unwrap();
        let body = t.render(&m).unwrap();
        assert!(
            body.starts_with("[FIRING] ssh host=web1|web1 firing|["),
            "{body}"
        );
        let e = FileTemplate::new("bad.j2", "{% for %}".to_owned())
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("template bad.j2: line 1"), "{e}");
    }
}
