//! The parse stage's seam: an [`EventParser`] reads a decoded event (usually
//! its message) and adds what it finds as fields.
//!
//! A protocol's decoder turns bytes into an [`Event`] (the syslog header,
//! GELF's JSON, a Beats document); parsers come after it and understand the
//! body: a vendor's key=value format, CEF, a user's grok pattern. Each input
//! has its own ordered list of parsers, so an input that only firewalls send
//! to can be told which format to expect.
//!
//! ```
//! use hark_event::{Event, FieldValue};
//! use hark_event::parse::EventParser;
//!
//! /// Recognises `user=NAME` in the message.
//! struct UserParser;
//! impl EventParser for UserParser {
//!     fn name(&self) -> &str { "user" }
//!     fn parse(&self, ev: &mut Event) -> bool {
//!         let Some(name) = ev.message.strip_prefix("user=") else { return false };
//!         let name = name.to_owned();
//!         ev.fields.push(("user.name".into(), FieldValue::Str(name)));
//!         true
//!     }
//! }
//! let mut ev = Event::new(0, "syslog");
//! ev.message = "user=alice".into();
//! assert!(UserParser.parse(&mut ev));
//! assert_eq!(ev.fields[0].1, FieldValue::Str("alice".into()));
//! ```

use crate::Event;

/// A parser of event bodies, one step of an input's parse stage.
pub trait EventParser: Send + Sync {
    /// The parser's name as the configuration calls it.
    fn name(&self) -> &str;

    /// Reads `event` and adds the fields it finds. Returns whether it
    /// recognised the event; an event it does not recognise is left as it
    /// was, and the next parser of the stage is tried.
    fn parse(&self, event: &mut Event) -> bool;
}
