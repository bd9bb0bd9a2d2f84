//! The `kv` body format on arbitrary bytes, named alone and chosen by
//! `auto`: must not panic, must leave the message as it was, and must
//! name every field it writes.

#![no_main]

use hark_event::Event;
use hark_event::parse::EventParser;
use hark_parse::{Step, builtin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let message = String::from_utf8_lossy(data).into_owned();
    let Some(format) = builtin("kv") else {
        panic!("kv is a built-in format");
    };
    for step in [Step::new(format), Step::auto()] {
        let mut ev = Event::new(1_795_323_600_000_000_000, "fuzz");
        ev.message = message.clone();
        step.parse(&mut ev);
        assert_eq!(ev.message, message);
        assert!(ev.fields.iter().all(|(name, _)| !name.is_empty()));
    }
});
