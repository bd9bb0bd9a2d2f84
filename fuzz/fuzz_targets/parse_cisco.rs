//! The `cisco` body parser on arbitrary bytes, named alone and under
//! `auto`: no panic, the message unchanged, every field name non-empty.
//! The first byte picks the application name.

#![no_main]

use hark_event::parse::EventParser;
use hark_event::Event;
use hark_parse::{Step, builtin};
use libfuzzer_sys::fuzz_target;

const APPS: &[Option<&str>] = &[None, Some("ASA"), Some("%ASA-6-302013"), Some("%FTD-4-106023"), Some("%ASA-session-6-302014")];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let message = String::from_utf8_lossy(rest).into_owned();
    let Some(format) = builtin("cisco") else {
        return;
    };
    for step in [Step::new(format), Step::auto()] {
        let mut ev = Event::new(0, "fuzz");
        ev.message = message.clone();
        ev.app = APPS[usize::from(pick) % APPS.len()].map(str::to_owned);
        step.parse(&mut ev);
        assert_eq!(ev.message, message);
        assert!(ev.fields.iter().all(|(k, _)| !k.is_empty()));
    }
});
