//! What every body-format target checks, shared: the format named alone
//! and under `auto`, on arbitrary bytes (lossy UTF-8), must not panic,
//! must leave the message as it was, and must name every field it writes.
//!
//! The first byte picks the event's application name among `apps` (or
//! none); when it is odd and `preset` names fields, the message's words
//! become those fields first, as a protocol decoder would have set them.

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue};
use hark_parse::{Step, builtin};

/// Runs the checks for the built-in format `name` on `data`.
pub fn check(name: &str, apps: &[&str], preset: &[&str], data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let message = String::from_utf8_lossy(rest).into_owned();
    let format = builtin(name).unwrap_or_else(|| panic!("{name} is a built-in format"));
    let app = apps
        .get(usize::from(pick) % (apps.len() + 1))
        .map(|a| (*a).to_owned());
    for step in [Step::new(format), Step::auto()] {
        let mut ev = Event::new(1_795_323_600_000_000_000, "fuzz");
        ev.message = message.clone();
        ev.app = app.clone();
        if pick % 2 == 1 {
            let mut words = message.split(' ');
            for field in preset {
                let value = words.next().unwrap_or_default();
                ev.fields
                    .push(((*field).to_owned(), FieldValue::Str(value.to_owned())));
            }
        }
        step.parse(&mut ev);
        assert_eq!(ev.message, message);
        assert!(ev.fields.iter().all(|(k, _)| !k.is_empty()));
    }
}
