use hark_event::FieldValue;

use super::*;

use crate::testing::{Parsed, get, run_with, s};

/// The fields, event time and result of parsing `text`.
fn run(text: &str) -> Parsed {
    run_with(|out| parse(text, out))
}

#[test]
fn header_and_typed_extension() {
    let (f, ts, r) =
        run("CEF:0|Acme|Wall|1.0|100|Blocked|5|src=10.0.0.1 dpt=22 proto=6 rt=1543270652000");
    assert_eq!(r, Ok(()));
    assert_eq!(get(&f, "destination.port"), Some(&FieldValue::Int(22)));
    assert_eq!(get(&f, "source.ip"), Some(&s("10.0.0.1")));
    assert_eq!(get(&f, "network.transport"), Some(&s("tcp")));
    assert_eq!(get(&f, "event.severity"), Some(&FieldValue::Int(5)));
    assert_eq!(get(&f, "observer.vendor"), Some(&s("Acme")));
    assert_eq!(get(&f, "cef.version"), Some(&FieldValue::Int(0)));
    assert_eq!(ts, Some(1_543_270_652_000_000_000));
}

#[test]
fn word_severity_is_mapped_and_kept() {
    let (f, _, _) = run("CEF:0|A|B|1|2|n|Very-High|");
    assert_eq!(get(&f, "event.severity"), Some(&FieldValue::Int(10)));
    assert_eq!(get(&f, "cef.severity"), Some(&s("Very-High")));
}

#[test]
fn truncated_header_fails_with_the_fields_so_far() {
    let (f, _, r) = run("CEF:0|Check Point|VPN-1|Check Point|Log|https|");
    assert_eq!(r, Err(Failure::new(46, "expected `|` after the severity")));
    assert_eq!(get(&f, "observer.vendor"), Some(&s("Check Point")));
}

#[test]
fn missing_key_is_an_error_at_its_offset() {
    let text = "CEF:0|A|B|1|2|n|5|act=Accept =0.0.0.0";
    let (f, _, r) = run(text);
    assert_eq!(get(&f, "event.action"), Some(&s("Accept =0.0.0.0")));
    assert_eq!(r, Ok(()));
    let (_, _, r) = run("CEF:0|A|B|1|2|n|5|=0.0.0.0");
    assert_eq!(r, Err(Failure::new(18, "expected key=value")));
}

#[test]
fn custom_fields_keep_their_labels_beside_them() {
    let (f, _, _) =
        run("CEF:0|A|B|1|2|n|5|cs1Label=Rule Name cs1=allow all cn1=42 cn1Label=Internal ID");
    assert_eq!(get(&f, "cef.extensions.cs1Label"), Some(&s("Rule Name")));
    assert_eq!(get(&f, "cef.extensions.cs1"), Some(&s("allow all")));
    assert_eq!(get(&f, "cef.extensions.cn1"), Some(&FieldValue::Int(42)));
}

#[test]
fn bad_values_stay_text_and_non_ascii_survives() {
    let (f, ts, r) = run(
        "CEF:0|Ünï|B|1|2|n|5|src=not-an-ip spt=99999999999999999999 rt=Jan 1 2024 10:00:00 msg=héllo wörld",
    );
    assert_eq!(r, Ok(()));
    assert_eq!(get(&f, "source.ip"), Some(&s("not-an-ip")));
    assert_eq!(get(&f, "source.port"), Some(&s("99999999999999999999")));
    assert_eq!(
        get(&f, "cef.extensions.rt"),
        Some(&s("Jan 1 2024 10:00:00"))
    );
    assert_eq!(get(&f, "cef.extensions.msg"), Some(&s("héllo wörld")));
    assert_eq!(get(&f, "observer.vendor"), Some(&s("Ünï")));
    assert_eq!(ts, None);
}

#[test]
fn claims_only_cef_bodies() {
    let body = |m| Body {
        message: m,
        app: None,
        fields: &[],
    };
    assert!(Cef.claims(&body("CEF:0|a|b|c|d|e|f|")));
    assert!(!Cef.claims(&body("LEEF:1.0|a|b|c|d|")));
    assert!(!Cef.claims(&body("sshd[1]: CEF:0")));
}
