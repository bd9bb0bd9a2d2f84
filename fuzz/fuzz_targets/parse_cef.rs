//! The `cef` format on arbitrary bytes: no panic, the message unchanged,
//! every field named; the same under `auto`.

#![no_main]

use hark_event::Event;
use hark_event::parse::EventParser;
use hark_parse::{Step, builtin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let Some(format) = builtin("cef") else { return };
    for step in [Step::new(format), Step::auto()] {
        let mut ev = Event::new(0, "fuzz");
        ev.message = text.clone();
        step.parse(&mut ev);
        assert_eq!(ev.message, text);
        assert!(ev.fields.iter().all(|(name, _)| !name.is_empty()));
    }
});
