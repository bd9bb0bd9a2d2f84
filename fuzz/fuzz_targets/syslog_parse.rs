//! `parse_syslog` on arbitrary bytes: must not panic, and must keep the
//! bytes whenever it could not parse them or they are not UTF-8.

#![no_main]

use hark_proto::{ParseContext, parse_syslog};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = ParseContext::new(1_795_323_600_000_000_000, "fuzz");
    let ev = parse_syslog(data, &ctx);
    if ev.parse_error.is_some() || std::str::from_utf8(data).is_err() {
        assert_eq!(ev.raw.as_deref(), Some(data));
    }
});
