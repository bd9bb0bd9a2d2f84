use super::*;

const MIN: i64 = NANOS_PER_MIN;
const HOUR: i64 = 60 * MIN;
/// 2025-11-22T00:00:00Z, a whole hour.
const T0: i64 = 1_763_769_600_000_000_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn spans(h: &History, from: i64, to: i64) -> Vec<(i64, Option<i64>, State, bool)> {
    h.intervals(from, to)
        .into_iter()
        .map(|i| (i.start, i.end, i.state, i.in_downtime))
        .collect()
}

#[test]
fn intervals_follow_state_and_downtime_changes() {
    let mut h = History::default();
    h.record(T0, State::Ok, false, ms(10));
    h.record(T0 + MIN, State::Ok, false, ms(10));
    h.record(T0 + 2 * MIN, State::Crit, false, ms(10));
    h.record(T0 + 3 * MIN, State::Crit, true, ms(10));
    h.record(T0 + 4 * MIN, State::Crit, true, ms(10));
    h.record(T0 + 5 * MIN, State::Ok, true, ms(10));
    assert_eq!(
        spans(&h, T0, T0 + HOUR),
        vec![
            (T0, Some(T0 + 2 * MIN), State::Ok, false),
            (T0 + 2 * MIN, Some(T0 + 3 * MIN), State::Crit, false),
            (T0 + 3 * MIN, Some(T0 + 5 * MIN), State::Crit, true),
            (T0 + 5 * MIN, None, State::Ok, true),
        ]
    );
    // Only what overlaps the range.
    assert_eq!(
        spans(&h, T0 + 2 * MIN + 1, T0 + 3 * MIN + 1),
        vec![
            (T0 + 2 * MIN, Some(T0 + 3 * MIN), State::Crit, false),
            (T0 + 3 * MIN, Some(T0 + 5 * MIN), State::Crit, true),
        ]
    );
    assert_eq!(spans(&h, T0 - HOUR, T0), vec![]);
    assert_eq!(h.last_record(), Some(T0 + 5 * MIN));
}

#[test]
fn intervals_older_than_91_days_are_pruned() {
    let mut h = History::default();
    h.record(T0, State::Ok, false, ms(1));
    h.record(T0 + HOUR, State::Crit, false, ms(1));
    h.record(T0 + 2 * HOUR, State::Ok, false, ms(1));
    // 91 days after the first interval ended: it is kept until it is older.
    h.record(T0 + HOUR + 91 * DAY, State::Ok, false, ms(1));
    assert_eq!(h.intervals(i64::MIN, i64::MAX).len(), 3);
    h.record(T0 + HOUR + 91 * DAY + 1, State::Warn, false, ms(1));
    let left = spans(&h, i64::MIN, i64::MAX);
    assert_eq!(
        left.first().map(|i| (i.0, i.2)),
        Some((T0 + HOUR, State::Crit))
    );
    assert_eq!(left.len(), 3);
}

#[test]
fn intervals_are_capped() {
    let mut h = History::default();
    for i in 0..(MAX_INTERVALS as i64 + 5) {
        let s = if i % 2 == 0 { State::Ok } else { State::Crit };
        h.record(T0 + i * 10 * NANOS_PER_SEC, s, false, ms(1));
    }
    let all = h.intervals(i64::MIN, i64::MAX);
    assert_eq!(all.len(), MAX_INTERVALS);
    assert_eq!(
        all.first().map(|i| i.start),
        Some(T0 + 5 * 10 * NANOS_PER_SEC)
    );
}

#[test]
fn series_buckets_hold_min_avg_max_count() {
    let mut h = History::default();
    h.record(T0, State::Ok, false, ms(10));
    h.record(T0 + 20 * NANOS_PER_SEC, State::Ok, false, ms(30));
    h.record(T0 + 59 * NANOS_PER_SEC, State::Ok, false, ms(20));
    h.record(T0 + MIN, State::Ok, false, ms(100));
    let s = h.series(T0, T0 + 10 * MIN);
    assert_eq!(s.step_secs, 60);
    assert_eq!(
        s.points,
        vec![
            Point {
                start: T0,
                count: 3,
                min: 0.01,
                avg: 0.02,
                max: 0.03
            },
            Point {
                start: T0 + MIN,
                count: 1,
                min: 0.1,
                avg: 0.1,
                max: 0.1
            },
        ]
    );
}

#[test]
fn series_picks_the_finest_resolution_that_covers_the_range() {
    let mut h = History::default();
    // One result a minute for two days.
    let end = T0 + 2 * 24 * HOUR;
    let mut t = T0;
    while t < end {
        h.record(t, State::Ok, false, ms(5));
        t += MIN;
    }
    let now = end - MIN;
    let last_hour = h.series(now - HOUR, now);
    assert_eq!(last_hour.step_secs, 60);
    assert_eq!(last_hour.points.len(), 60);
    let last_day = h.series(now - 24 * HOUR + MIN, now);
    assert_eq!(last_day.step_secs, 300);
    assert_eq!(last_day.points.first().map(|p| p.count), Some(5));
    let two_days = h.series(T0, now);
    assert_eq!(two_days.step_secs, 3600);
    assert_eq!(two_days.points.len(), 48);
    assert!(
        two_days
            .points
            .iter()
            .all(|p| p.count == 60 && p.max == 0.005)
    );
    // The finer series keep only their span.
    assert_eq!(h.tiers[0].len(), 6 * 60);
    assert_eq!(h.tiers[1].len(), 24 * 12);
    assert_eq!(h.tiers[2].len(), 48);
}

#[test]
fn a_late_result_goes_into_its_own_bucket() {
    let mut h = History::default();
    h.record(T0 + 5 * MIN, State::Ok, false, ms(50));
    h.record(T0 + 2 * MIN, State::Ok, false, ms(20));
    h.record(T0 + 5 * MIN + 1, State::Ok, false, ms(10));
    let s = h.series(T0, T0 + 10 * MIN);
    let got: Vec<(i64, u32)> = s.points.iter().map(|p| (p.start, p.count)).collect();
    assert_eq!(got, vec![(T0 + 2 * MIN, 1), (T0 + 5 * MIN, 2)]);
    // The state interval does not go back in time.
    assert_eq!(h.last_record(), Some(T0 + 5 * MIN + 1));
}

#[test]
fn availability_excludes_downtime_and_pending() {
    let mut h = History::default();
    h.record(T0, State::Pending, false, ms(1));
    h.record(T0 + HOUR, State::Ok, false, ms(1));
    h.record(T0 + 3 * HOUR, State::Crit, false, ms(1));
    h.record(T0 + 4 * HOUR, State::Warn, false, ms(1));
    h.record(T0 + 5 * HOUR, State::Down, true, ms(1));
    h.record(T0 + 6 * HOUR, State::Ok, false, ms(1));
    let now = T0 + 8 * HOUR;
    let day = Duration::from_secs(86_400);
    // Known and not in a downtime: OK 2 h, CRIT 1 h, WARN 1 h, OK 2 h = 6 h,
    // 5 h of them available.
    let a = h.availability(now, day, &[]);
    assert_eq!(a, Some(100.0 * 5.0 / 6.0));
    // A downtime over half the CRIT hour leaves it out: 5 of 5.5 h.
    let dt = [(T0 + 3 * HOUR + 30 * MIN, T0 + 4 * HOUR)];
    assert_eq!(h.availability(now, day, &dt), Some(100.0 * 5.0 / 5.5));
    // Over all of it (and OK time before): everything left was available.
    let dt = [(T0 + 2 * HOUR + 30 * MIN, T0 + 4 * HOUR)];
    assert_eq!(h.availability(now, day, &dt), Some(100.0));
    assert_eq!(h.availability(now, day, &dt), Some(100.0));
    // Overlapping windows are not subtracted twice.
    let dt = [
        (T0 + 3 * HOUR, T0 + 4 * HOUR),
        (T0 + 3 * HOUR, T0 + 3 * HOUR + 30 * MIN),
    ];
    assert_eq!(h.availability(now, day, &dt), Some(100.0));
    // The window cuts: the last 3 hours are 1 h in a downtime, 2 h OK.
    assert_eq!(
        h.availability(now, Duration::from_secs(3 * 3600), &[]),
        Some(100.0)
    );
    // The last 2.5 h before 6 h into the day: WARN 1 h, CRIT 0.5 h (and 1 h downtime).
    assert_eq!(
        h.availability(T0 + 6 * HOUR, Duration::from_secs(9000), &[]),
        Some(100.0 * 1.0 / 1.5)
    );
    // Nothing known.
    assert_eq!(History::default().availability(now, day, &[]), None);
    assert_eq!(
        h.availability(T0 + HOUR, Duration::from_secs(3600), &[]),
        None
    );
    let summary = h.availability_summary(now, &[]);
    assert_eq!(summary.last_24h, a);
    assert_eq!(summary.last_30d, a);
    assert_eq!(History::availability_from(now), now - 30 * DAY);
}

#[test]
fn file_form_round_trips() {
    let mut h = History::default();
    for i in 0..500 {
        let s = if i % 50 < 45 { State::Up } else { State::Down };
        h.record(T0 + i * 30 * NANOS_PER_SEC, s, i > 400, ms(i as u64 % 7));
    }
    let text = serde_json::to_string(&h).expect("serializes");
    assert!(
        text.contains("\"minute_deltas\":[29396160,1,1,"),
        "{}",
        &text[..200.min(text.len())]
    );
    let back: History = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, h);
    assert_eq!(back.series(T0, T0 + DAY), h.series(T0, T0 + DAY));
}

#[test]
fn damaged_file_forms_are_refused() {
    let uneven = r#"{"series":[{"step_minutes":1,"minute_deltas":[1,1],"count":[1],"min_us":[1],"max_us":[1],"sum_us":[1]}]}"#;
    assert!(serde_json::from_str::<History>(uneven).is_err());
    let disorder = r#"{"intervals":[[10,20,"OK",false],[5,null,"CRIT",false]]}"#;
    assert!(serde_json::from_str::<History>(disorder).is_err());
    // A resolution that is no longer kept is dropped, the rest stays.
    let old = r#"{"last_record":5,"intervals":[[1,null,"OK",false]],
        "series":[{"step_minutes":2,"minute_deltas":[4],"count":[1],"min_us":[1],"max_us":[1],"sum_us":[1]}]}"#;
    let h: History = serde_json::from_str(old).expect("parses");
    assert_eq!(h.intervals(0, 10).len(), 1);
    assert!(h.tiers.iter().all(|t| t.is_empty()));
}
