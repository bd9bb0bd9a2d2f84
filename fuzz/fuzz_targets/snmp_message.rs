//! `Message::decode` (the monitor's GET responses) on arbitrary bytes:
//! must not panic; whatever decodes re-encodes to bytes that decode to the
//! same message.

#![no_main]

use hark_proto::snmp::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = Message::decode(data) {
        assert_eq!(Message::decode(&msg.encode()).as_ref(), Ok(&msg));
    }
});
