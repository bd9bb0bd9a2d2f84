//! The `linux_auth` body parser on arbitrary bytes, named alone and under
//! `auto`: no panic, the message unchanged, every field name non-empty.
//! The first byte picks the application name.

#![no_main]

use hark_event::parse::EventParser;
use hark_event::Event;
use hark_parse::{Step, builtin};
use libfuzzer_sys::fuzz_target;

const APPS: &[Option<&str>] = &[Some("sshd"), Some("sudo"), Some("su"), Some("su(pam_unix)"), Some("useradd"), Some("userdel"), Some("groupadd"), Some("groupdel"), Some("passwd"), Some("chpasswd"), Some("systemd-logind"), None];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let message = String::from_utf8_lossy(rest).into_owned();
    let Some(format) = builtin("linux_auth") else {
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
