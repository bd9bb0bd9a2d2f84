//! `decode_trap` on arbitrary bytes: must not panic; whatever decodes
//! must map to an event, re-encode to bytes that decode to the same trap,
//! and (for an inform) yield a response that decodes as a Response PDU.

#![no_main]

use hark_proto::ParseContext;
use hark_proto::snmp::{
    PduKind, SnmpError, decode_trap, encode_trap, inform_response, trap_to_event,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(trap) = decode_trap(data) else {
        return;
    };
    let ctx = ParseContext::new(1_795_323_600_000_000_000, "fuzz");
    let source = "192.0.2.1:162".parse().unwrap();
    let ev = trap_to_event(&trap, source, &ctx, true);
    assert!(!ev.message.is_empty());
    assert_eq!(decode_trap(&encode_trap(&trap)).as_ref(), Ok(&trap));
    match inform_response(&trap) {
        Ok(response) => assert_eq!(
            decode_trap(&response),
            Err(SnmpError::NotATrap {
                kind: PduKind::Response
            })
        ),
        Err(_) => assert_ne!(trap.pdu_kind, PduKind::InformRequest),
    }
});
