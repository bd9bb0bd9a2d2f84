//! `Matcher` on arbitrary query text, then on an event built from the rest
//! of the input: compiling either succeeds or gives an error, never a
//! panic, and a compiled matcher answers every event without panicking,
//! the same way each time.

#![no_main]

use hark_event::{Event, FieldValue, Severity};
use hark_parse::user::Matcher;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte says where the query ends and the event begins.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (split as usize).min(rest.len());
    let (query, body) = rest.split_at(at);
    let query = String::from_utf8_lossy(query);
    let Ok(matcher) = Matcher::new(&query) else {
        return;
    };
    let body = String::from_utf8_lossy(body);
    let mut parts = body.splitn(4, '|');
    let mut ev = Event::new(0, "fuzz");
    ev.app = parts.next().map(str::to_owned);
    ev.host = parts.next().map(str::to_owned);
    ev.severity = Severity::from_code(split % 9);
    if let Some(value) = parts.next() {
        ev.push_field("source.ip", value);
        ev.push_field(
            "http.response.status_code",
            FieldValue::Int(value.len() as i64),
        );
    }
    ev.message = parts.next().unwrap_or_default().to_owned();
    let first = matcher.matches(&ev);
    assert_eq!(first, matcher.matches(&ev));
    assert!(matcher.matches(&Event::new(0, "fuzz")) || !matcher.is_all());
});
