//! The `windows` body parser on arbitrary bytes, named alone and under
//! `auto`: no panic, the message unchanged, every field name non-empty.
//! The first byte picks the application name; an odd byte also sets Beats' `winlog.*` fields from the message's words.

#![no_main]

use hark_event::parse::EventParser;
use hark_event::{Event, FieldValue};
use hark_parse::{Step, builtin};
use libfuzzer_sys::fuzz_target;

const APPS: &[Option<&str>] = &[None];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let message = String::from_utf8_lossy(rest).into_owned();
    let Some(format) = builtin("windows") else {
        return;
    };
    for step in [Step::new(format), Step::auto()] {
        let mut ev = Event::new(0, "fuzz");
        ev.message = message.clone();
        ev.app = APPS[usize::from(pick) % APPS.len()].map(str::to_owned);
        if pick % 2 == 1 {
            let mut words = message.split(' ');
            for name in [
                "winlog.event_id",
                "winlog.keywords",
                "winlog.event_data.TargetUserName",
                "winlog.event_data.LogonType",
                "winlog.event_data.IpAddress",
                "winlog.event_data.IpPort",
            ] {
                let value = words.next().unwrap_or_default();
                ev.fields.push((name.to_owned(), FieldValue::Str(value.to_owned())));
            }
        }
        step.parse(&mut ev);
        assert_eq!(ev.message, message);
        assert!(ev.fields.iter().all(|(k, _)| !k.is_empty()));
    }
});
