//! [`Step`]: formats as one step of an input's parse stage.

use std::sync::Arc;

use hark_event::Event;
use hark_event::parse::EventParser;

use crate::user::Matcher;
use crate::{Body, Format, Out};

/// Runs the first of its formats that claims an event.
///
/// A step holds one format (an input that names it) or, for `auto`, every
/// built-in format in detection order; each format's claim is a prefix or
/// application-name check, so choosing costs a few comparisons. An event
/// no format claims is left as it was and the stage's next parser is tried. An event it claims but cannot read whole keeps its
/// message and the fields read so far, and gets a parse error naming the
/// format and the byte where it gave up.
#[derive(Clone)]
pub struct Step {
    name: &'static str,
    formats: Vec<Arc<dyn Format>>,
}

impl Step {
    /// A step running `format` alone.
    pub fn new(format: Arc<dyn Format>) -> Step {
        Step {
            name: format.name(),
            formats: vec![format],
        }
    }

    /// The `auto` step: every built-in format, chosen by content.
    pub fn auto() -> Step {
        Step {
            name: "auto",
            formats: crate::formats::detection_order(),
        }
    }
}

impl EventParser for Step {
    fn name(&self) -> &str {
        self.name
    }

    fn parse(&self, event: &mut Event) -> bool {
        let Event {
            message,
            app,
            fields,
            timestamp,
            parse_error,
            ..
        } = event;
        let mut existing = std::mem::take(fields);
        let body = Body {
            message,
            app: app.as_deref(),
            fields: &existing,
        };
        let Some(format) = self.formats.iter().find(|f| f.claims(&body)) else {
            *fields = existing;
            return false;
        };
        let mut added = Vec::new();
        let mut out = Out::new(&mut added);
        let result = format.parse(&body, &mut out);
        if let Some(ts) = out.timestamp() {
            *timestamp = ts;
        }
        if let Err(failure) = result
            && parse_error.is_none()
        {
            *parse_error = Some(format!(
                "{}: {} at byte {}",
                format.name(),
                failure.reason,
                failure.offset
            ));
        }
        existing.append(&mut added);
        *fields = existing;
        true
    }
}

/// A built-in format run only on the events a query selects
/// (`[parsers.NAME]` with `match` and `format`), named after its table.
pub struct MatchedStep {
    name: String,
    matcher: Matcher,
    step: Step,
}

impl MatchedStep {
    /// Runs `format` on the events `matcher` accepts; `name` is the table's.
    pub fn new(name: &str, matcher: Matcher, format: Arc<dyn Format>) -> MatchedStep {
        MatchedStep {
            name: name.to_owned(),
            matcher,
            step: Step::new(format),
        }
    }
}

impl EventParser for MatchedStep {
    fn name(&self) -> &str {
        &self.name
    }

    fn parse(&self, event: &mut Event) -> bool {
        self.matcher.matches(event) && self.step.parse(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin;

    #[test]
    fn a_matched_step_reads_only_the_events_its_query_selects() {
        let cef = builtin("cef").expect("cef is built in");
        let step = MatchedStep::new("ids", Matcher::new("host:ids*").expect("query"), cef);
        assert_eq!(step.name(), "ids");
        let body = "CEF:0|Acme|Sensor|1|7|Scan|5|dpt=22";
        let mut selected = Event::new(0, "in");
        selected.host = Some("ids1".into());
        selected.message = body.into();
        assert!(step.parse(&mut selected));
        assert!(selected.field("destination.port").is_some());
        let mut other = Event::new(0, "in");
        other.host = Some("web1".into());
        other.message = body.into();
        assert!(!step.parse(&mut other));
        assert!(other.fields.is_empty());
    }
}
