//! The request and response bodies of the HTTP API, in one place: the
//! server answers with them and its clients (the `hark` CLI, the web UI)
//! read them, so both sides agree by construction.
//!
//! ```
//! use hark_server::api::{ErrorBody, SearchResponse};
//! let body: SearchResponse =
//!     serde_json::from_str(r#"{"total": 0, "hits": [], "next": null, "took_ms": 1}"#).unwrap();
//! assert_eq!(body.total, 0);
//! let error: ErrorBody = serde_json::from_str(r#"{"error": "missing or invalid bearer token"}"#).unwrap();
//! assert_eq!(error.position, None);
//! ```
//!
//! | Route | Request | Response |
//! |---|---|---|
//! | `GET /healthz` | | [`Health`] |
//! | `GET`/`POST /api/v1/search` | `q`, `from`, `to`, `since`, `limit`, `cursor`, `histogram`, `top` | [`SearchResponse`] |
//! | `POST /api/v1/ingest` | NDJSON events | [`IngestResponse`] |
//! | `GET /api/v1/tail` | `q`, `backlog` | [`TailMessage`]s |
//! | `GET /api/v1/export` | `q`, `from`, `to`, `since`, `order`, `format` | CSV or NDJSON |
//! | `GET /api/v1/fields` | `from`, `to`, `since` | field names |
//! | `GET /api/v1/sources` | `from`, `to`, `since` | [`SourcesResponse`] |
//! | `GET`/`POST /api/v1/saved-searches` | [`NewSavedSearch`] | [`SavedSearch`]s |
//! | `GET /api/v1/monitors` | | [`MonitorView`]s |
//! | `GET /api/v1/monitors/{name}` | | [`MonitorView`] |
//! | `GET /api/v1/monitors/{name}/history` | [`HistoryParams`] | [`HistoryView`] |
//! | `POST /api/v1/monitors/{name}/check` | | [`CheckOutcome`] |
//! | `POST /api/v1/monitors/{name}/ack` | [`AckRequest`] | [`MonitorView`] |
//! | `GET /api/v1/downtimes` | | [`Downtime`]s |
//! | `POST /api/v1/downtimes` | [`NewDowntime`] | [`Downtime`] |
//! | `GET /api/v1/alerts` | | [`Alert`]s |
//! | `POST /api/v1/alerts/{id}/ack` | | [`Alert`] |
//! | `GET /api/v1/silences` | | [`Silence`]s |
//! | `POST /api/v1/silences` | [`NewSilence`] | [`Silence`] |
//! | `GET /api/v1/rules` | | [`RuleView`]s |
//! | `POST /api/v1/rules` | [`NewRule`] | [`RuleView`] |
//! | `PUT /api/v1/rules/{name}` | the keys of `[alerts.NAME]` | [`RuleView`] |
//! | `GET /api/v1/problems` | | [`Problem`]s |
//! | `POST /api/v1/problems/{id}/ack`, `…/close` | | [`Problem`] |
//! | `GET /api/v1/notifications` | [`NotificationsParams`] | [`NotificationRecord`]s |
//! | `POST /api/v1/login` | [`LoginRequest`] (JSON or form) | [`LoginResponse`] + cookie |
//! | `POST /api/v1/logout` | | 204 |
//! | `GET /api/v1/me` | | [`Principal`] |
//! | `POST /api/v1/me/password` | [`PasswordChange`] | 204 |
//! | `GET /api/v1/users` | | [`UserView`]s |
//! | `POST /api/v1/users` | [`NewUser`] | [`UserView`] |
//! | `PUT /api/v1/users/{name}` | [`UserChange`] | [`UserView`] |
//! | `GET /api/v1/tokens` | | [`TokenInfo`]s |
//! | `POST /api/v1/tokens` | [`NewToken`] | [`CreatedToken`] |
//!
//! Every error is an [`ErrorBody`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::identity::{Principal, PrincipalKind, Role};
pub use crate::ndjson::LineError;
pub use crate::tokens::TokenInfo;
pub use hark_alert::{
    Acknowledgement, Alert, AlertStatus, Matcher, NewSilence, Notice, NoticeKind, Phase, Problem,
    RuleSource, RuleView, Sample, Silence,
};
pub use hark_config::{AlertConfig, AlertSeverity, ConsoleState};
pub use hark_event::EventJson;
pub use hark_monitor::CheckOutcome;
pub use hark_monitor::downtime::{Downtime, NewDowntime, Recurrence, Schedule};
pub use hark_monitor::service::{HistoryView, MonitorView};
pub use hark_monitor::state::{Ack, State, StateType};
pub use hark_notify::{
    Attempt as NotificationAttempt, DeliveryState, Kind as NotificationKind, NotificationRecord,
};

/// `POST /api/v1/rules`: a rule and its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRule {
    /// The rule's name (letters, digits, `_`, `-`).
    pub name: String,
    /// Its keys, as in `[alerts.NAME]`: `type`, `query`, `condition` …
    pub rule: serde_json::Value,
}

/// Every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// On a 400 about the query text: the byte offset of the problem, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// How many events match.
    pub total: u64,
    /// The page of matching events, newest first.
    pub hits: Vec<EventJson>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// How long the search took.
    pub took_ms: u64,
    /// Counts per time bucket, when asked for with `histogram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Vec<HistogramBucket>>,
    /// The most frequent values per field, when asked for with `top`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<BTreeMap<String, Vec<TopValue>>>,
}

/// One bucket of a search histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Its start, RFC 3339.
    pub start: String,
    /// Matching events in it.
    pub count: u64,
}

/// One of the most frequent values of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopValue {
    /// The value, as text.
    pub value: String,
    /// How many matching events have it.
    pub count: u64,
}

/// The answer to `POST /api/v1/ingest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Events stored.
    pub accepted: usize,
    /// Lines refused.
    pub rejected: usize,
    /// Why, for the first 1 000 refused lines.
    pub errors: Vec<LineError>,
}

/// One `data:` message of the live tail (a WebSocket text message carries
/// the same).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TailMessage {
    /// A matching event.
    Event(Box<EventJson>),
    /// This many events were dropped because the client read too slowly.
    Lagged {
        /// How many.
        lagged: u64,
    },
}

/// The time range of `GET /api/v1/monitors/{name}/history`: `from` and
/// `to` (RFC 3339), or `since` (a duration like `24h`, the default) before now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryParams {
    /// Start, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End, RFC 3339 (now when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// How far back from now, when `from` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// The body of `POST /api/v1/monitors/{name}/ack`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    /// Why, or what is being done.
    #[serde(default)]
    pub comment: String,
    /// Keep the acknowledgement until the monitor is OK or UP again.
    #[serde(default)]
    pub sticky: bool,
    /// Who acknowledges; the caller's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// The query of `GET /api/v1/notifications`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsParams {
    /// Most records to return (1 to 10 000; 100 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// `POST /api/v1/login` as JSON; a form post has the same fields and an
/// optional `next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// The answer to a JSON login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The user's name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    pub current: String,
    /// The password from now on.
    pub new: String,
}

/// A local user, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The user name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was added.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The user name (1 to 64 printable characters).
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The first password (at least 8 characters).
    pub password: String,
}

/// `PUT /api/v1/users/{name}`: what to change (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// A new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// A new password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name to recognise the token by.
    pub name: String,
    /// Its role: at most the caller's own, which is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// The answer to `POST /api/v1/tokens`: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Names the token in `DELETE /api/v1/tokens/{id}`.
    pub id: String,
    /// The secret, for `Authorization: Bearer`; not kept by the server.
    pub secret: String,
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// `POST /api/v1/auth/ldap/test`: whom to look up, and optionally their
/// password to try their own bind too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapTestRequest {
    /// The login name.
    pub username: String,
    /// The user's password; without it the user's bind is not tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// The answer of `POST /api/v1/auth/ldap/test`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LdapTestReport {
    /// Whether every step worked.
    pub ok: bool,
    /// The steps in order; the test stops at the first that fails.
    pub steps: Vec<hark_auth::login::DirectoryStep>,
}

/// A host seen in a time range, from `GET /api/v1/sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceView {
    /// The host name.
    pub host: String,
    /// When `host` is an IP address: its name in reverse DNS, once known
    /// (the first listing of a new address asks in the background and
    /// has none yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The inputs its events came in on, most used first.
    pub inputs: Vec<String>,
    /// Its events in the range.
    pub count: u64,
    /// The time of its newest event, RFC 3339.
    pub last_seen: String,
    /// Its events over time.
    pub per_minute: SourceActivity,
}

/// Event counts of a host in buckets of equal width.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceActivity {
    /// Start of the first bucket, RFC 3339.
    pub start: String,
    /// Width of each bucket in seconds: 60, or whole minutes for long ranges.
    pub bucket_secs: i64,
    /// Events per bucket, oldest first.
    pub counts: Vec<u64>,
}

/// The answer of `GET /api/v1/sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcesResponse {
    /// Hosts, the most recently seen first.
    pub hosts: Vec<SourceView>,
    /// Whether more hosts sent events than are listed.
    pub truncated: bool,
}

/// A search to save, for `POST /api/v1/saved-searches`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSavedSearch {
    /// What the user calls it.
    pub name: String,
    /// The query text.
    #[serde(default)]
    pub q: String,
    /// Start of the range, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the range, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A relative range such as `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// A saved search of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSearch {
    /// Its identifier.
    pub id: String,
    /// What the user calls it.
    pub name: String,
    /// The query text.
    pub q: String,
    /// Start of the range, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the range, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A relative range such as `24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// When it was saved, RFC 3339.
    pub created: String,
}
