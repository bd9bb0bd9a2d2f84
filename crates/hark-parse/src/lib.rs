//! Body parsers: the formats vendors write inside a syslog message (or a
//! Beats, GELF or HTTP event) become typed fields under Elastic Common
//! Schema names, with the vendor's own fields kept beside them.
//!
//! A [`Format`] is pure: it reads a [`Body`] and writes into an [`Out`]; it
//! does no I/O and keeps no state between events. [`Step`] puts formats
//! into an input's parse stage; [`Step::auto`] picks the format of each
//! event by cheap checks on its first bytes and its application name, never
//! by trying every parser in turn.
//!
//! ```
//! use hark_event::{Event, FieldValue};
//! use hark_event::parse::EventParser;
//! use hark_parse::Step;
//!
//! let mut ev = Event::new(0, "fw");
//! ev.message = r#"CEF:0|Acme|Wall|1.0|100|Blocked|5|src=10.0.0.1 dpt=22"#.into();
//! let step = Step::auto();
//! assert!(step.parse(&mut ev));
//! assert_eq!(ev.field("destination.port"), Some(&FieldValue::Int(22)));
//! ```

pub mod ecs;
pub mod enrich;
pub mod formats;
mod out;
mod step;
#[cfg(test)]
mod testing;
pub mod user;

pub use formats::{BUILTIN, builtin};
pub use out::Out;
pub use step::{MatchedStep, Step};

use hark_event::FieldValue;

/// What a format reads: the event's text and the header fields formats
/// key on.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    /// The message text.
    pub message: &'a str,
    /// The application name (syslog APP-NAME or TAG), when known.
    pub app: Option<&'a str>,
    /// The fields the protocol's decoder already set (Beats' `winlog.*`).
    pub fields: &'a [(String, FieldValue)],
}

/// Where a format stopped reading, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Byte offset in the message where the format gave up.
    pub offset: usize,
    /// What the format expected there.
    pub reason: String,
}

impl Failure {
    /// A failure at `offset` because of `reason`.
    pub fn new(offset: usize, reason: impl Into<String>) -> Failure {
        Failure {
            offset,
            reason: reason.into(),
        }
    }
}

/// One body format.
pub trait Format: Send + Sync {
    /// The name inputs and parser lists use (`fortigate`, `cef`…).
    fn name(&self) -> &'static str;

    /// Whether `body` looks like this format. Must be cheap: a prefix or
    /// application-name check, no full scan.
    fn claims(&self, body: &Body<'_>) -> bool;

    /// Reads `body` into `out`. On failure the fields written so far stay,
    /// and the event keeps its message whole.
    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure>;
}
