//! Events into the bytes a destination receives: syslog messages
//! (RFC 5424 or RFC 3164 header) whose text is the event's message, an
//! ECS-shaped JSON object, or a CEF line. Pure functions; any event text
//! is written as valid output of its format (escaped or replaced, never
//! refused).

mod cef;
mod ecs;
mod syslog;

pub use cef::{cef, cef_severity};
pub use ecs::{ecs_json, ecs_object};
pub use syslog::{rfc3164, rfc5424};

use hark_config::OutputFormat;
use hark_event::Event;

/// Appends `event` to `out` as one syslog message in `format`: an
/// RFC 5424 or RFC 3164 message, or an RFC 5424 header (without
/// structured data) in front of the event's ECS JSON or CEF line.
pub fn syslog_message(event: &Event, format: OutputFormat, out: &mut Vec<u8>) {
    match format {
        OutputFormat::Rfc5424 => rfc5424(event, out),
        OutputFormat::Rfc3164 => rfc3164(event, out),
        OutputFormat::Json => syslog::rfc5424_with_body(event, &ecs_json(event), out),
        OutputFormat::Cef => syslog::rfc5424_with_body(event, cef(event).as_bytes(), out),
    }
}
