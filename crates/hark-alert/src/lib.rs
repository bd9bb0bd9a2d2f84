//! Hark's alerting: `[alerts.*]` rules evaluated on the event stream.
//!
//! Log rules count the events that match a query in a sliding window per
//! group key (`count > N`, `count < N`, `distinct(field) > N`); monitor
//! rules follow the hard state changes that monitors write as events. Both
//! read the WAL through one durable reader (`alerts`), in order, so no
//! event is skipped however slow the evaluation, and alert state is saved
//! before the reader's position moves on, so a restart neither forgets an
//! alert nor announces one twice. Notices go to an [`Outbox`], which must
//! make them durable before it accepts them.
//!
//! The walk: [`runner`] reads batches, indexes each once in memory, runs
//! every log rule's query on it and hands matches to the [`engine::Engine`];
//! once a second the engine looks at what depends on the clock (windows
//! that emptied, silence rules, reminders).

pub mod console;
pub mod engine;
pub mod notify;
pub mod rule;
mod runner;
pub mod silence;
mod snapshot;
pub mod stored;
pub mod window;

pub use console::{Phase, Problem};
pub use engine::{Acknowledgement, Alert, AlertStatus, Notice, NoticeKind, Sample};
pub use runner::{Alerting, NewSilence, RuleSource, RuleView};
pub use silence::{Matcher, Silence};
use std::path::Path;

/// The `input` of the events monitors write on a state change.
pub const MONITOR_INPUT: &str = hark_monitor::event::INPUT;
/// The `app` of the events monitors write on a state change.
pub const MONITOR_APP: &str = hark_monitor::event::APP;
/// The name of the durable WAL reader alert evaluation uses.
pub const READER: &str = "alerts";

/// Where notices go: an implementation must have made the notice durable
/// (or delivered it) before returning `Ok`, and must treat a notice whose
/// `id` it has seen before as already done.
pub trait Outbox: Send + Sync + 'static {
    /// Takes `notice` for delivery to its channels.
    fn submit(&self, notice: &Notice) -> Result<(), String>;
}

/// An outbox for a server without channels: accepts and forgets.
pub struct NoOutbox;

impl Outbox for NoOutbox {
    fn submit(&self, _: &Notice) -> Result<(), String> {
        Ok(())
    }
}

/// Why alerting could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A rule does not compile.
    #[error("alerts.{rule}.{key}: {message}")]
    Rule {
        /// The rule.
        rule: String,
        /// The key to blame.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A rule names a channel that is not configured.
    #[error(
        "alerts.{rule}.notify: no channel `{channel}`; configure [notify.{channel}] or remove it"
    )]
    UnknownChannel {
        /// The rule.
        rule: String,
        /// The channel it names.
        channel: String,
    },
    /// The saved state could not be read or written.
    #[error("alert state {path}: {message}")]
    State {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The store refused the WAL reader.
    #[error(transparent)]
    Store(#[from] hark_store::StoreError),
    /// A request made through the API is not valid.
    #[error("{0}")]
    Invalid(String),
    /// A request made through the API would change a rule of the configuration file.
    #[error("{0}")]
    Conflict(String),
}

impl AlertError {
    fn state(path: &Path, message: impl std::fmt::Display) -> AlertError {
        AlertError::State {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
