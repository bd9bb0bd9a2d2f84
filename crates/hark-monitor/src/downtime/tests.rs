use super::*;

const H: i64 = 3_600 * NANOS_PER_SEC;

/// Nanoseconds of a UTC time written `YYYY-MM-DDTHH:MM:SSZ`.
fn utc(s: &str) -> i64 {
    hark_event::parse_rfc3339_nanos(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

fn berlin() -> Tz {
    "Europe/Berlin".parse().unwrap_or(Tz::UTC)
}

fn recurring(weekdays: Vec<Weekday>, start: &str, secs: u64, tz: Tz) -> Schedule {
    Schedule::Recurring(Recurrence {
        weekdays,
        start: start.parse().unwrap_or(TimeOfDay { hour: 0, minute: 0 }),
        duration_secs: secs,
        time_zone: tz,
    })
}

fn new(monitors: &[&str], schedule: Schedule) -> NewDowntime {
    NewDowntime {
        monitors: monitors.iter().map(|m| m.to_string()).collect(),
        schedule,
        comment: "maintenance".into(),
        author: "ops".into(),
    }
}

#[test]
fn one_off_downtime() {
    let mut all = Downtimes::default();
    let (start, end) = (utc("2025-06-01T10:00:00Z"), utc("2025-06-01T12:00:00Z"));
    let d = all
        .add(
            new(&["web", "db"], Schedule::Once { start, end }),
            start - H,
        )
        .expect("valid");
    assert_eq!((d.id, d.created), (1, start - H));
    assert!(!all.active("web", start - 1));
    assert!(all.active("web", start));
    assert!(all.active("db", end - 1));
    assert!(!all.active("web", end));
    assert!(!all.active("mail", start));
    assert_eq!(
        all.active_for("db", start)
            .map(|d| d.id)
            .collect::<Vec<_>>(),
        [1]
    );
    // Windows are clipped to the range asked for.
    assert_eq!(
        all.windows("web", start + H, end + H),
        vec![(start + H, end)]
    );
    assert_eq!(all.windows("web", end, end + H), vec![]);
}

#[test]
fn star_means_every_monitor() {
    let mut all = Downtimes::default();
    all.add(new(&["*"], Schedule::Once { start: 10, end: 20 }), 0)
        .expect("valid");
    assert!(all.active("anything at all", 15));
    assert!(all.active("", 15));
}

#[test]
fn add_list_remove_and_ids() {
    let mut all = Downtimes::default();
    let a = all
        .add(new(&["a"], Schedule::Once { start: 0, end: 5 }), 0)
        .expect("valid")
        .id;
    let b = all
        .add(new(&["b"], Schedule::Once { start: 0, end: 5 }), 0)
        .expect("valid")
        .id;
    assert_eq!((a, b), (1, 2));
    assert_eq!(all.list().map(|d| d.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        all.remove(a).map(|d| d.monitors),
        Some(vec!["a".to_string()])
    );
    assert_eq!(all.remove(a), None);
    // Ids are not reused after a removal.
    let c = all
        .add(new(&["c"], Schedule::Once { start: 0, end: 5 }), 0)
        .expect("valid")
        .id;
    assert_eq!(c, 3);
    assert_eq!(all.len(), 2);
    assert_eq!(all.get(b).map(|d| d.author.as_str()), Some("ops"));
}

#[test]
fn invalid_downtimes_are_refused() {
    let mut all = Downtimes::default();
    let once = Schedule::Once { start: 5, end: 5 };
    assert_eq!(
        all.add(new(&[], once.clone()), 0).err(),
        Some(DowntimeError::NoMonitors)
    );
    assert_eq!(
        all.add(new(&[""], once.clone()), 0).err(),
        Some(DowntimeError::EmptyMonitorName)
    );
    assert_eq!(
        all.add(new(&["a"], once), 0).err(),
        Some(DowntimeError::EndNotAfterStart)
    );
    let zero = recurring(vec![], "02:00", 0, Tz::UTC);
    assert_eq!(
        all.add(new(&["a"], zero), 0).err(),
        Some(DowntimeError::Duration)
    );
    let long = recurring(vec![], "02:00", 8 * 86_400, Tz::UTC);
    assert_eq!(
        all.add(new(&["a"], long), 0).err(),
        Some(DowntimeError::Duration)
    );
    assert!(all.is_empty());
    for bad in ["24:00", "12:60", "7", "ab:cd", "12:5"] {
        assert_eq!(
            bad.parse::<TimeOfDay>(),
            Err(DowntimeError::TimeOfDay(bad.into()))
        );
    }
    assert_eq!(
        "7:05".parse::<TimeOfDay>(),
        Ok(TimeOfDay { hour: 7, minute: 5 })
    );
}

#[test]
fn recurring_daily_across_spring_forward_in_berlin() {
    // Berlin leaves CET (+1) for CEST (+2) on 2025-03-30 at 02:00 local.
    let s = recurring(vec![], "01:00", 2 * 3_600, berlin());
    let got = s.windows(utc("2025-03-29T00:00:00Z"), utc("2025-04-01T00:00:00Z"));
    assert_eq!(
        got,
        vec![
            // 01:00 CET.
            (utc("2025-03-29T00:00:00Z"), utc("2025-03-29T02:00:00Z")),
            // 01:00 CET on the changeover day; two hours later it is 04:00 CEST.
            (utc("2025-03-30T00:00:00Z"), utc("2025-03-30T02:00:00Z")),
            // 01:00 CEST: an hour earlier in UTC.
            (utc("2025-03-30T23:00:00Z"), utc("2025-03-31T01:00:00Z")),
            (utc("2025-03-31T23:00:00Z"), utc("2025-04-01T01:00:00Z")),
        ]
    );
    let mut all = Downtimes::default();
    all.add(new(&["backup"], s), 0).expect("valid");
    // 01:30 local: inside the window on both sides of the change.
    assert!(all.active("backup", utc("2025-03-29T00:30:00Z")));
    assert!(all.active("backup", utc("2025-03-30T23:30:00Z")));
    // 00:30 local: before it.
    assert!(!all.active("backup", utc("2025-03-28T23:30:00Z")));
    assert!(!all.active("backup", utc("2025-03-30T22:30:00Z")));
    // 03:30 local (02:30Z in winter, 01:30Z in summer): outside.
    assert!(!all.active("backup", utc("2025-03-29T02:30:00Z")));
    assert!(!all.active("backup", utc("2025-03-31T01:30:00Z")));
    // 01:30Z is 03:30 CEST on 31 March, but 02:30 CET on 29 March: inside.
    assert!(all.active("backup", utc("2025-03-29T01:30:00Z")));
}

#[test]
fn recurring_start_in_the_gap_and_in_the_overlap() {
    // 02:30 does not exist on 2025-03-30 in Berlin: it becomes 03:30 CEST.
    let s = recurring(vec![Weekday::Sun], "02:30", 3_600, berlin());
    assert_eq!(
        s.windows(utc("2025-03-29T00:00:00Z"), utc("2025-03-31T00:00:00Z")),
        vec![(utc("2025-03-30T01:30:00Z"), utc("2025-03-30T02:30:00Z"))]
    );
    // 02:30 exists twice on 2025-10-26 (CEST, then CET): the first one.
    assert_eq!(
        s.windows(utc("2025-10-25T00:00:00Z"), utc("2025-10-27T00:00:00Z")),
        vec![(utc("2025-10-26T00:30:00Z"), utc("2025-10-26T01:30:00Z"))]
    );
    // A week later it is 02:30 CET.
    assert_eq!(
        s.windows(utc("2025-11-01T00:00:00Z"), utc("2025-11-03T00:00:00Z")),
        vec![(utc("2025-11-02T01:30:00Z"), utc("2025-11-02T02:30:00Z"))]
    );
}

#[test]
fn recurring_on_weekdays_in_local_time() {
    // Mondays 23:00 UTC for two hours: still active early on Tuesday.
    let mut all = Downtimes::default();
    all.add(
        new(
            &["db"],
            recurring(vec![Weekday::Mon], "23:00", 2 * 3_600, Tz::UTC),
        ),
        0,
    )
    .expect("valid");
    // 2025-06-02 is a Monday.
    assert!(all.active("db", utc("2025-06-02T23:00:00Z")));
    assert!(all.active("db", utc("2025-06-03T00:59:59Z")));
    assert!(!all.active("db", utc("2025-06-03T01:00:00Z")));
    assert!(!all.active("db", utc("2025-06-03T23:30:00Z")));
    assert_eq!(
        all.windows(
            "db",
            utc("2025-06-01T00:00:00Z"),
            utc("2025-06-15T00:00:00Z")
        ),
        vec![
            (utc("2025-06-02T23:00:00Z"), utc("2025-06-03T01:00:00Z")),
            (utc("2025-06-09T23:00:00Z"), utc("2025-06-10T01:00:00Z")),
        ]
    );
    // The weekday is the local one: Monday 00:30 in Berlin is Sunday 22:30 UTC.
    let s = recurring(vec![Weekday::Mon], "00:30", 600, berlin());
    assert_eq!(
        s.windows(utc("2025-06-01T00:00:00Z"), utc("2025-06-03T00:00:00Z")),
        vec![(utc("2025-06-01T22:30:00Z"), utc("2025-06-01T22:40:00Z"))]
    );
}

#[test]
fn windows_of_several_downtimes_merge() {
    let mut all = Downtimes::default();
    all.add(new(&["web"], Schedule::Once { start: 10, end: 30 }), 0)
        .expect("valid");
    all.add(new(&["*"], Schedule::Once { start: 20, end: 40 }), 0)
        .expect("valid");
    all.add(new(&["web"], Schedule::Once { start: 40, end: 50 }), 0)
        .expect("valid");
    all.add(new(&["web"], Schedule::Once { start: 60, end: 70 }), 0)
        .expect("valid");
    assert_eq!(all.windows("web", 0, 100), vec![(10, 50), (60, 70)]);
    assert_eq!(all.windows("db", 0, 100), vec![(20, 40)]);
}

#[test]
fn prune_removes_old_one_off_downtimes_only() {
    let mut all = Downtimes::default();
    all.add(new(&["a"], Schedule::Once { start: 0, end: 10 }), 0)
        .expect("valid");
    all.add(new(&["a"], Schedule::Once { start: 0, end: 100 }), 0)
        .expect("valid");
    all.add(new(&["a"], recurring(vec![], "00:00", 60, Tz::UTC)), 0)
        .expect("valid");
    assert_eq!(all.prune(50), 1);
    assert_eq!(all.list().map(|d| d.id).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn json_form() {
    let text = r#"{
        "monitors": ["web"],
        "schedule": {"type": "recurring", "weekdays": ["sat", "sun"], "start": "02:00",
                     "duration_secs": 7200, "time_zone": "Europe/Berlin"},
        "comment": "backups"
    }"#;
    let n: NewDowntime = serde_json::from_str(text).expect("parses");
    assert_eq!(
        n.schedule,
        recurring(vec![Weekday::Sat, Weekday::Sun], "02:00", 7200, berlin())
    );
    assert_eq!(n.author, "");
    let mut all = Downtimes::default();
    all.add(n, utc("2025-06-01T00:00:00Z")).expect("valid");
    all.add(
        new(
            &["db"],
            Schedule::Once {
                start: utc("2025-06-02T01:00:00Z"),
                end: utc("2025-06-02T02:00:00Z"),
            },
        ),
        0,
    )
    .expect("valid");
    let saved = serde_json::to_string(&all).expect("serializes");
    assert!(saved.contains(r#""weekdays":["sat","sun"]"#), "{saved}");
    assert!(saved.contains(r#""time_zone":"Europe/Berlin""#), "{saved}");
    assert!(
        saved.contains(r#""start":"2025-06-02T01:00:00.000000000Z""#),
        "{saved}"
    );
    let back: Downtimes = serde_json::from_str(&saved).expect("parses");
    assert_eq!(back, all);

    let bad = text.replace("Europe/Berlin", "Mars/Olympus");
    let err = serde_json::from_str::<NewDowntime>(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("not an IANA time zone"), "{err}");
    let bad = text.replace("\"sat\"", "\"someday\"");
    assert!(serde_json::from_str::<NewDowntime>(&bad).is_err());
}
