//! What the alert engine hands over ([`Notification`]) and what the log of
//! deliveries shows ([`NotificationRecord`]).

use serde::{Deserialize, Serialize};

/// One thing to tell a channel about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable idempotency key chosen by the caller: submitting an id already
    /// known (pending, sent or failed) does nothing.
    pub id: String,
    /// The `[notify.NAME]` channel to deliver through.
    pub channel: String,
    /// The rule (or monitor) that raised it.
    pub rule: String,
    /// The group key, e.g. `[("host", "web1")]`; may be empty.
    pub group: Vec<(String, String)>,
    /// What happened.
    pub kind: Kind,
    /// Free text shown in messages: `critical`, `warning`, `info`, ….
    pub severity: String,
    /// One line, e.g. `ssh_bruteforce: count 25 > 20 in 5m on host=web1`.
    pub summary: String,
    /// When the condition began (unix nanoseconds).
    pub since: i64,
    /// When this transition happened (unix nanoseconds).
    pub at: i64,
    /// How many events or checks matched.
    pub count: u64,
    /// Up to ten example events.
    pub samples: Vec<Sample>,
    /// The search that shows the matching events, for the link in messages.
    pub query: Option<String>,
}

/// An example event in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// When it happened (unix nanoseconds).
    pub timestamp: i64,
    /// The sending host, if known.
    pub host: Option<String>,
    /// The application, if known.
    pub app: Option<String>,
    /// The message text.
    pub message: String,
}

/// The transition a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A condition started.
    Firing,
    /// A condition ended.
    Resolved,
    /// A condition still holds.
    Reminder,
    /// A condition began to flap.
    FlappingStarted,
    /// A condition stopped flapping.
    FlappingStopped,
    /// A problem was opened (event console).
    ProblemOpened,
    /// A problem was closed (event console).
    ProblemClosed,
    /// A test message (`hark notify test`).
    Test,
}

impl Kind {
    /// The label in subjects: `FIRING`, `RESOLVED`, ….
    pub fn label(self) -> &'static str {
        match self {
            Kind::Firing => "FIRING",
            Kind::Resolved => "RESOLVED",
            Kind::Reminder => "REMINDER",
            Kind::FlappingStarted => "FLAPPING",
            Kind::FlappingStopped => "FLAPPING STOPPED",
            Kind::ProblemOpened => "PROBLEM",
            Kind::ProblemClosed => "CLOSED",
            Kind::Test => "TEST",
        }
    }
}

impl Notification {
    /// A test notification for `channel`, at `now` (unix nanoseconds).
    pub fn test(channel: &str, now: i64) -> Notification {
        Notification {
            id: format!("test-{channel}-{now}"),
            channel: channel.to_owned(),
            rule: "test".to_owned(),
            group: Vec::new(),
            kind: Kind::Test,
            severity: "info".to_owned(),
            summary: format!("Test message from Hark through channel {channel}"),
            since: now,
            at: now,
            count: 1,
            samples: Vec::new(),
            query: None,
        }
    }

    /// The group written as `host=web1 app=sshd`.
    pub fn group_text(&self) -> String {
        self.group
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its group, or for the next retry.
    Pending,
    /// Accepted by the channel's server.
    Sent,
    /// Given up after `give_up_after` (or its channel is gone).
    Failed,
}

impl DeliveryState {
    /// `pending`, `sent` or `failed`.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }
}

/// One try to deliver a message holding a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the answer came (unix nanoseconds).
    pub at: i64,
    /// The server's answer when it accepted the message (`250 …`, `200 OK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Why it was not accepted: the server's answer (`535 …`) or the network error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A notification and its delivery, as `GET /api/v1/notifications` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// The idempotency key.
    pub id: String,
    /// The channel.
    pub channel: String,
    /// The rule that raised it.
    pub rule: String,
    /// The group key.
    pub group: Vec<(String, String)>,
    /// What happened.
    pub kind: Kind,
    /// The one-line summary.
    pub summary: String,
    /// Pending, sent or failed.
    pub state: DeliveryState,
    /// When it was submitted (unix nanoseconds).
    pub created: i64,
    /// Every delivery attempt, oldest first.
    pub attempts: Vec<Attempt>,
}
