use hark_event::FieldValue;

use super::*;

use crate::testing::{Parsed, get, run_with, s};

/// The fields, event time and result of parsing `text`.
fn run(text: &str) -> Parsed {
    run_with(|out| parse(text, out))
}

const TRAFFIC: &str = "1,2024/01/15 10:20:30,0123456789,TRAFFIC,end,2561,2024/01/15 10:20:29,10.0.0.5,8.8.8.8,203.0.113.9,8.8.8.8,allow-dns,corp\\bob,,dns,vsys1,trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/01/15 10:20:29,4242,1,53000,53,40000,53,0x400000,udp,allow,300,100,200,2,2024/01/15 10:20:00,30";

#[test]
fn traffic_missing_trailing_columns() {
    let (f, ts, r) = run(TRAFFIC);
    assert_eq!(r, Ok(()));
    assert_eq!(ts, None);
    assert_eq!(get(&f, "source.ip"), Some(&s("10.0.0.5")));
    assert_eq!(get(&f, "source.nat.ip"), Some(&s("203.0.113.9")));
    assert_eq!(get(&f, "source.nat.port"), Some(&FieldValue::Int(40000)));
    assert_eq!(get(&f, "destination.port"), Some(&FieldValue::Int(53)));
    assert_eq!(get(&f, "network.transport"), Some(&s("udp")));
    assert_eq!(get(&f, "event.outcome"), Some(&s("success")));
    assert_eq!(get(&f, "source.user.name"), Some(&s("corp\\bob")));
    assert_eq!(
        get(&f, "event.duration"),
        Some(&FieldValue::Int(30_000_000_000))
    );
    assert_eq!(
        get(&f, "panw.panos.sessionid"),
        Some(&FieldValue::Int(4242))
    );
    assert_eq!(get(&f, "observer.serial_number"), Some(&s("0123456789")));
}

#[test]
fn extra_columns_are_kept() {
    let mut line = String::from(
        "1,2024/01/15 10:20:30,0123,SYSTEM,general,0,2024/01/15 10:20:30,,general,,0,0,general,informational,\"a, \"\"quoted\"\" text\",1,0x0,0,0,0,0,,fw1,0,0,2024-01-15T10:20:30.123+01:00",
    );
    line.push_str(",surplus");
    let (f, ts, r) = run(&line);
    assert_eq!(r, Ok(()));
    assert_eq!(
        get(&f, "panw.panos.description"),
        Some(&s("a, \"quoted\" text"))
    );
    assert_eq!(get(&f, "panw.panos.extra_26"), Some(&s("surplus")));
    assert_eq!(get(&f, "observer.hostname"), Some(&s("fw1")));
    assert_eq!(ts, Some(1_705_310_430_123_000_000));
}

#[test]
fn unterminated_quote_keeps_what_came_before() {
    let (f, _, r) = run(
        "1,2024/01/15 10:20:30,0123,SYSTEM,general,0,2024/01/15 10:20:30,,general,,0,0,general,low,\"open",
    );
    assert_eq!(r, Err(Failure::new(90, "expected a closing quote")));
    assert_eq!(get(&f, "panw.panos.severity"), Some(&s("low")));
}

#[test]
fn threat_name_and_id() {
    let (f, _, _) = run(
        "1,2024/01/15 10:20:30,0123,THREAT,virus,0,2024/01/15 10:20:30,10.0.0.1,10.0.0.2,0.0.0.0,0.0.0.0,r,,,web-browsing,vsys1,a,b,e1,e2,fwd,,1,1,1,80,0,0,0x0,tcp,reset-both,\"eicar.file\",Eicar Test File(39040),any,medium",
    );
    assert_eq!(
        get(&f, "threat.indicator.name"),
        Some(&s("Eicar Test File"))
    );
    assert_eq!(
        get(&f, "panw.panos.threat_id"),
        Some(&FieldValue::Int(39040))
    );
    assert_eq!(get(&f, "source.nat.ip"), None);
    assert_eq!(get(&f, "event.outcome"), Some(&s("failure")));
    assert_eq!(get(&f, "panw.panos.misc"), Some(&s("eicar.file")));
}

#[test]
fn bad_values_stay_text() {
    let (f, _, _) = run(
        "1,2024/01/15 10:20:30,0123,TRAFFIC,end,0,2024/01/15 10:20:30,not-ip,10.0.0.2,,,r,,,app,vsys1,a,b,e1,e2,fwd,,x,1,99999999999999999999,80,0,0,0x0,6",
    );
    assert_eq!(get(&f, "source.ip"), Some(&s("not-ip")));
    assert_eq!(get(&f, "source.port"), Some(&s("99999999999999999999")));
    assert_eq!(get(&f, "panw.panos.sessionid"), Some(&s("x")));
    assert_eq!(get(&f, "network.transport"), Some(&s("tcp")));
}

#[test]
fn claims() {
    let body = |m, app| Body {
        message: m,
        app,
        fields: &[],
    };
    assert!(Panos.claims(&body(TRAFFIC, None)));
    assert!(Panos.claims(&body(",2024/01/15 10:20:30,0123,CONFIG,0,", None)));
    assert!(Panos.claims(&body("10:20:30,0123,TRAFFIC,end", Some("1,2024/01/15"))));
    assert!(!Panos.claims(&body("10:20:30 something", Some("1,2024/01/15"))));
    assert!(!Panos.claims(&body("1,2024/01/15 10:20:30,0123,traffic,", None)));
    assert!(!Panos.claims(&body("CEF:0|a|b|c|d|e|f|", None)));
    assert!(!Panos.claims(&body("Accepted password for bob", Some("sshd"))));
}

#[test]
fn header_split_body_is_rejoined() {
    let body = Body {
        message: "10:20:30,0123,USERID,login,0,2024/01/15 10:20:30,vsys1,10.1.1.1,corp\\amy",
        app: Some("1,2024/01/15"),
        fields: &[],
    };
    let mut fields = Vec::new();
    let mut out = Out::new(&mut fields);
    assert_eq!(Panos.parse(&body, &mut out), Ok(()));
    assert_eq!(get(&fields, "user.name"), Some(&s("corp\\amy")));
    assert_eq!(get(&fields, "source.ip"), Some(&s("10.1.1.1")));
    assert_eq!(
        get(&fields, "panw.panos.receive_time"),
        Some(&s("2024/01/15 10:20:30"))
    );
}

#[test]
fn globalprotect_status_gives_the_outcome() {
    let line = "1,2023/11/09 16:39:17,0123,GLOBALPROTECT,0,2561,2023/11/09 16:39:17,vsys1,gateway-auth,login,,,bob,,,198.51.100.7,,,,,,,,,1,,,\"\",failure";
    let (f, _, r) = run(line);
    assert_eq!(r, Ok(()));
    assert_eq!(get(&f, "event.outcome"), Some(&s("failure")));
    assert_eq!(get(&f, "panw.panos.status"), Some(&s("failure")));
    assert_eq!(get(&f, "source.ip"), Some(&s("198.51.100.7")));
    assert_eq!(get(&f, "source.user.name"), Some(&s("bob")));
}

#[test]
fn a_line_without_host_name_is_read_from_its_time() {
    let body = Body {
        message: "09:46:12,01606001116,TRAFFIC,start,1,2012/04/10 04:39:58,192.168.0.2,204.232.231.46",
        app: None,
        fields: &[],
    };
    assert!(Panos.claims(&body));
    let mut fields = Vec::new();
    let mut out = Out::new(&mut fields);
    assert_eq!(Panos.parse(&body, &mut out), Ok(()));
    assert_eq!(
        get(&fields, "panw.panos.receive_time"),
        Some(&s("09:46:12"))
    );
    assert_eq!(
        get(&fields, "observer.serial_number"),
        Some(&s("01606001116"))
    );
    assert_eq!(get(&fields, "destination.ip"), Some(&s("204.232.231.46")));
    let plain = Body {
        message: "09:46:12 the backup finished, 3 files",
        app: None,
        fields: &[],
    };
    assert!(!Panos.claims(&plain));
}
