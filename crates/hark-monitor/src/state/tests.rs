use std::time::Duration;

use super::*;

const MIN: i64 = 60_000_000_000;

fn ctx(now: i64, max_attempts: u32) -> ApplyContext {
    ApplyContext {
        now,
        host_check: false,
        max_attempts,
        parent_problem: false,
        in_downtime: false,
        flap_start: 30.0,
        flap_stop: 25.0,
    }
}

fn host_ctx(now: i64, max_attempts: u32) -> ApplyContext {
    ApplyContext {
        host_check: true,
        ..ctx(now, max_attempts)
    }
}

fn result(status: Status) -> CheckOutcome {
    CheckOutcome::new(status, format!("{status} output"))
}

/// (state, type, attempt) of a monitor after a result.
type After = (State, StateType, u32);
/// (state, type, hard) of a change.
type Change = (State, StateType, bool);

/// Applies `status` and returns the monitor's state and the change, if any.
fn step(m: &mut MonitorState, status: Status, c: &ApplyContext) -> (After, Option<Change>) {
    let a = m.apply(&result(status), c);
    (
        (m.state, m.state_type, m.attempt),
        a.change.map(|ch| (ch.state, ch.state_type, ch.hard)),
    )
}

use State::{Crit, Down, Ok as OkS, Pending, Unreachable, Up, Warn};
use StateType::{Hard, Soft};

#[test]
fn new_monitor_is_pending() {
    let m = MonitorState::new();
    assert_eq!(m.state, Pending);
    assert!(!m.state.is_problem());
    assert_eq!(m.last_check, None);
    assert!(!m.uses_retry_interval());
}

#[test]
fn soft_attempts_then_hard_then_hard_recovery() {
    let mut m = MonitorState::new();
    // PENDING → OK: a hard OK.
    assert_eq!(
        step(&mut m, Status::Ok, &ctx(MIN, 3)),
        ((OkS, Hard, 1), Some((OkS, Hard, true)))
    );
    // OK → soft CRIT attempt 1, re-checked at retry_interval.
    let a = m.apply(&result(Status::Crit), &ctx(2 * MIN, 3));
    let ch = a.change.expect("OK -> CRIT is a change");
    assert_eq!((ch.state, ch.previous_state), (Crit, OkS));
    assert_eq!((ch.state_type, ch.attempt, ch.hard), (Soft, 1, false));
    assert_eq!(ch.output, "CRIT output");
    assert!(a.use_retry_interval);
    assert_eq!(m.last_change, Some(2 * MIN));
    assert_eq!(m.last_hard_state, OkS);
    // soft CRIT 2: not a change.
    let a = m.apply(&result(Status::Crit), &ctx(3 * MIN, 3));
    assert_eq!(a.change, None);
    assert!(a.use_retry_interval);
    assert_eq!((m.state, m.state_type, m.attempt), (Crit, Soft, 2));
    assert_eq!(m.last_change, Some(2 * MIN));
    // hard CRIT 3: a hard change, back to the normal interval.
    let a = m.apply(&result(Status::Crit), &ctx(4 * MIN, 3));
    let ch = a.change.expect("soft -> hard is a change");
    assert_eq!(
        (
            ch.state,
            ch.previous_state,
            ch.state_type,
            ch.attempt,
            ch.hard
        ),
        (Crit, Crit, Hard, 3, true)
    );
    assert!(!a.use_retry_interval);
    assert_eq!(m.last_hard_change, Some(4 * MIN));
    assert_eq!(m.last_hard_state, Crit);
    // Still CRIT: nothing, attempt stays at max.
    assert_eq!(
        step(&mut m, Status::Crit, &ctx(5 * MIN, 3)),
        ((Crit, Hard, 3), None)
    );
    // Hard recovery.
    assert_eq!(
        step(&mut m, Status::Ok, &ctx(6 * MIN, 3)),
        ((OkS, Hard, 1), Some((OkS, Hard, true)))
    );
    assert_eq!(m.last_hard_change, Some(6 * MIN));
    // Still OK: nothing.
    assert_eq!(
        step(&mut m, Status::Ok, &ctx(7 * MIN, 3)),
        ((OkS, Hard, 1), None)
    );
}

#[test]
fn soft_recovery_is_not_hard() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(MIN, 3));
    step(&mut m, Status::Crit, &ctx(2 * MIN, 3));
    step(&mut m, Status::Crit, &ctx(3 * MIN, 3));
    let a = m.apply(&result(Status::Ok), &ctx(4 * MIN, 3));
    let ch = a.change.expect("recovery is a change");
    assert_eq!(
        (ch.state, ch.previous_state, ch.state_type, ch.hard),
        (OkS, Crit, Soft, false)
    );
    assert!(!a.use_retry_interval);
    // The monitor is in hard OK afterwards: the next problem starts over.
    assert_eq!((m.state, m.state_type, m.attempt), (OkS, Hard, 1));
    assert_eq!(m.last_hard_change, Some(MIN));
    assert_eq!(
        step(&mut m, Status::Warn, &ctx(5 * MIN, 3)),
        ((Warn, Soft, 1), Some((Warn, Soft, false)))
    );
}

#[test]
fn hard_problem_to_other_problem_is_hard_at_once() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 2));
    step(&mut m, Status::Warn, &ctx(MIN, 2));
    assert_eq!(
        step(&mut m, Status::Warn, &ctx(2 * MIN, 2)),
        ((Warn, Hard, 2), Some((Warn, Hard, true)))
    );
    let a = m.apply(&result(Status::Crit), &ctx(3 * MIN, 2));
    let ch = a.change.expect("WARN -> CRIT is a change");
    assert_eq!(
        (
            ch.state,
            ch.previous_state,
            ch.state_type,
            ch.attempt,
            ch.hard
        ),
        (Crit, Warn, Hard, 2, true)
    );
    assert!(!a.use_retry_interval);
}

#[test]
fn soft_problem_to_other_problem_counts_on() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 3));
    step(&mut m, Status::Warn, &ctx(MIN, 3));
    // A different soft problem is a (soft) change and the attempts go on.
    assert_eq!(
        step(&mut m, Status::Crit, &ctx(2 * MIN, 3)),
        ((Crit, Soft, 2), Some((Crit, Soft, false)))
    );
    assert_eq!(
        step(&mut m, Status::Unknown, &ctx(3 * MIN, 3)),
        (
            (State::Unknown, Hard, 3),
            Some((State::Unknown, Hard, true))
        )
    );
}

#[test]
fn max_attempts_one_is_hard_at_once() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 1));
    let a = m.apply(&result(Status::Crit), &ctx(MIN, 1));
    let ch = a.change.expect("a change");
    assert_eq!((ch.state_type, ch.attempt, ch.hard), (Hard, 1, true));
    assert!(!a.use_retry_interval);
    // From PENDING too.
    let mut m = MonitorState::new();
    assert_eq!(
        step(&mut m, Status::Crit, &ctx(0, 1)),
        ((Crit, Hard, 1), Some((Crit, Hard, true)))
    );
}

#[test]
fn pending_to_problem_is_soft_attempt_one() {
    let mut m = MonitorState::new();
    let a = m.apply(&result(Status::Crit), &ctx(0, 3));
    let ch = a.change.expect("a change");
    assert_eq!(
        (
            ch.previous_state,
            ch.state,
            ch.state_type,
            ch.attempt,
            ch.hard
        ),
        (Pending, Crit, Soft, 1, false)
    );
    assert!(a.use_retry_interval);
    assert_eq!(m.last_hard_state, Pending);
}

#[test]
fn lowered_max_attempts_makes_the_next_problem_hard() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 5));
    step(&mut m, Status::Crit, &ctx(MIN, 5));
    step(&mut m, Status::Crit, &ctx(2 * MIN, 5));
    step(&mut m, Status::Crit, &ctx(3 * MIN, 5));
    assert_eq!(m.attempt, 3);
    // The configuration now says 2: attempt 4 ≥ 2 is hard, capped at 2.
    assert_eq!(
        step(&mut m, Status::Crit, &ctx(4 * MIN, 2)),
        ((Crit, Hard, 2), Some((Crit, Hard, true)))
    );
}

#[test]
fn host_checks_map_to_up_and_down() {
    let mut m = MonitorState::new();
    assert_eq!(step(&mut m, Status::Warn, &host_ctx(0, 2)).0, (Up, Hard, 1));
    assert_eq!(
        step(&mut m, Status::Unknown, &host_ctx(MIN, 2)).0,
        (Down, Soft, 1)
    );
    assert_eq!(
        step(&mut m, Status::Crit, &host_ctx(2 * MIN, 2)),
        ((Down, Hard, 2), Some((Down, Hard, true)))
    );
    assert_eq!(State::from_result(Status::Ok, true, true), Up);
}

#[test]
fn failure_behind_failing_parent_is_unreachable() {
    let behind = |c: ApplyContext| ApplyContext {
        parent_problem: true,
        ..c
    };
    // A host.
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &host_ctx(0, 2));
    assert_eq!(
        step(&mut m, Status::Crit, &behind(host_ctx(MIN, 2))),
        ((Unreachable, Soft, 1), Some((Unreachable, Soft, false)))
    );
    assert_eq!(
        step(&mut m, Status::Crit, &behind(host_ctx(2 * MIN, 2))),
        ((Unreachable, Hard, 2), Some((Unreachable, Hard, true)))
    );
    // The parent is back but the host is still down: a hard change to DOWN.
    assert_eq!(
        step(&mut m, Status::Crit, &host_ctx(3 * MIN, 2)),
        ((Down, Hard, 2), Some((Down, Hard, true)))
    );
    // A service with a parent.
    let mut s = MonitorState::new();
    assert_eq!(
        step(&mut s, Status::Unknown, &behind(ctx(0, 1))),
        ((Unreachable, Hard, 1), Some((Unreachable, Hard, true)))
    );
    // A WARN answer is not a failure: it stays WARN.
    assert_eq!(
        step(&mut s, Status::Warn, &behind(ctx(MIN, 1))).0,
        (Warn, Hard, 1)
    );
    // And an OK recovers despite the parent.
    assert_eq!(
        step(&mut s, Status::Ok, &behind(ctx(2 * MIN, 1))).0,
        (OkS, Hard, 1)
    );
}

#[test]
fn which_states_fail_a_parent() {
    for s in [Crit, State::Unknown, Down, Unreachable] {
        assert!(s.is_failure() && s.is_problem(), "{s}");
    }
    assert!(!Warn.is_failure() && Warn.is_problem());
    for s in [OkS, Up, Pending] {
        assert!(!s.is_failure() && !s.is_problem(), "{s}");
    }
}

#[test]
fn changes_in_downtime_are_flagged() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 1));
    let c = ApplyContext {
        in_downtime: true,
        ..ctx(MIN, 1)
    };
    let a = m.apply(&result(Status::Crit), &c);
    let ch = a.change.expect("state still changes in a downtime");
    assert!(ch.in_downtime && ch.hard);
    assert_eq!(m.state, Crit);
    let ch = m
        .apply(&result(Status::Ok), &ctx(2 * MIN, 1))
        .change
        .expect("a change");
    assert!(!ch.in_downtime);
}

#[test]
fn flapping_starts_with_alternation_and_stops_when_steady() {
    let mut m = MonitorState::new();
    // Result 1 leaves PENDING and is not a state change for flapping.
    let mut started_at = None;
    for i in 0..20 {
        let status = if i % 2 == 0 { Status::Ok } else { Status::Crit };
        let a = m.apply(&result(status), &ctx(i * MIN, 1));
        if a.flapping == FlapTransition::Started {
            assert!(a.change.as_ref().is_some_and(|c| c.flapping));
            started_at.get_or_insert(i + 1);
        }
        assert_ne!(a.flapping, FlapTransition::Stopped);
    }
    // The 7th result is the 6th change: 34.4 % ≥ 30 %.
    assert_eq!(started_at, Some(7));
    assert!(m.is_flapping());
    // 19 changes in the window (all but the oldest position).
    assert!(
        (m.flap_percent() - 96.0).abs() < 1e-9,
        "{}",
        m.flap_percent()
    );
    // Now steady OK (the last alternating result was CRIT: one more change).
    let mut stopped_after = None;
    for i in 0..20 {
        let a = m.apply(&result(Status::Ok), &ctx((20 + i) * MIN, 1));
        if a.flapping == FlapTransition::Stopped {
            stopped_after = Some(i + 1);
            break;
        }
    }
    // The first OK is itself a change. After k steady results the changes
    // sit at ages k-1..=19: weighted sum Σ_{a=k-1}^{19} (1.2 - 0.4a/19),
    // below 5 (25 %) first at k = 16 (k = 15: 5.116, k = 16: 4.211).
    assert_eq!(stopped_after, Some(16));
    assert!(!m.is_flapping());
    assert!(m.flap_percent() < 25.0);
}

#[test]
fn ack_only_on_problems() {
    let ack = |sticky| Ack {
        author: "ops".into(),
        comment: "on it".into(),
        sticky,
        at: 5,
    };
    let mut m = MonitorState::new();
    assert_eq!(
        m.acknowledge(ack(false)),
        Err(AckError::NotAProblem(Pending))
    );
    step(&mut m, Status::Ok, &ctx(0, 1));
    assert_eq!(m.acknowledge(ack(false)), Err(AckError::NotAProblem(OkS)));
    let mut h = MonitorState::new();
    step(&mut h, Status::Ok, &host_ctx(0, 1));
    assert_eq!(h.acknowledge(ack(false)), Err(AckError::NotAProblem(Up)));
    step(&mut m, Status::Warn, &ctx(MIN, 3));
    assert_eq!(m.acknowledge(ack(false)), Ok(()));
    assert_eq!(m.remove_acknowledgement(), Some(ack(false)));
    assert_eq!(m.ack, None);
}

#[test]
fn normal_ack_is_cleared_by_the_next_state_change() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 2));
    step(&mut m, Status::Crit, &ctx(MIN, 2));
    let ack = Ack {
        author: "ops".into(),
        comment: "disk replaced soon".into(),
        sticky: false,
        at: MIN,
    };
    m.acknowledge(ack.clone())
        .expect("CRIT can be acknowledged");
    // soft CRIT → hard CRIT: the same problem, the ack stays.
    let a = m.apply(&result(Status::Crit), &ctx(2 * MIN, 2));
    assert!(a.change.is_some() && !a.ack_cleared);
    assert_eq!(m.ack, Some(ack.clone()));
    // CRIT → WARN clears it.
    let a = m.apply(&result(Status::Warn), &ctx(3 * MIN, 2));
    assert!(a.ack_cleared);
    assert_eq!(m.ack, None);
}

#[test]
fn sticky_ack_stays_until_recovery() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(0, 1));
    step(&mut m, Status::Crit, &ctx(MIN, 1));
    m.acknowledge(Ack {
        author: "ops".into(),
        comment: "known".into(),
        sticky: true,
        at: MIN,
    })
    .expect("CRIT can be acknowledged");
    for (i, s) in [Status::Warn, Status::Unknown, Status::Crit]
        .into_iter()
        .enumerate()
    {
        let a = m.apply(&result(s), &ctx((2 + i as i64) * MIN, 1));
        assert!(a.change.is_some() && !a.ack_cleared);
        assert!(m.ack.is_some(), "sticky ack kept through {s}");
    }
    let a = m.apply(&result(Status::Ok), &ctx(9 * MIN, 1));
    assert!(a.ack_cleared);
    assert_eq!(m.ack, None);
}

#[test]
fn stale_after_one_and_a_half_intervals() {
    let interval = Duration::from_secs(60);
    assert!(!is_stale(100 * MIN, None, interval));
    let last = Some(10 * MIN);
    assert!(!is_stale(10 * MIN + MIN / 2 * 3, last, interval));
    assert!(is_stale(10 * MIN + MIN / 2 * 3 + 1, last, interval));
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(10 * MIN, 1));
    assert!(!m.is_stale(11 * MIN, interval));
    assert!(m.is_stale(12 * MIN, interval));
}

#[test]
fn state_names_in_json() {
    let all = [
        OkS,
        Warn,
        Crit,
        State::Unknown,
        Up,
        Down,
        Unreachable,
        Pending,
    ];
    let names: Vec<String> = all
        .iter()
        .map(|s| serde_json::to_string(s).expect("serializes"))
        .collect();
    assert_eq!(
        names,
        [
            "\"OK\"",
            "\"WARN\"",
            "\"CRIT\"",
            "\"UNKNOWN\"",
            "\"UP\"",
            "\"DOWN\"",
            "\"UNREACHABLE\"",
            "\"PENDING\""
        ]
    );
    for s in all {
        assert_eq!(
            serde_json::to_string(&s).ok(),
            Some(format!("\"{}\"", s.name()))
        );
    }
    assert_eq!(
        serde_json::to_string(&Soft).ok().as_deref(),
        Some("\"soft\"")
    );
    assert_eq!(
        serde_json::to_string(&Hard).ok().as_deref(),
        Some("\"hard\"")
    );
}

#[test]
fn monitor_state_round_trips_through_json() {
    let mut m = MonitorState::new();
    step(&mut m, Status::Ok, &ctx(1_763_790_000_123_456_789, 3));
    let mut out = CheckOutcome::new(Status::Crit, "HTTP 503");
    out.perf.push(Perf::new("time", 0.25, "s"));
    m.apply(&out, &ctx(1_763_790_060_000_000_000, 3));
    m.acknowledge(Ack {
        author: "ops".into(),
        comment: "deploying".into(),
        sticky: true,
        at: 1_763_790_070_000_000_000,
    })
    .expect("CRIT can be acknowledged");
    let text = serde_json::to_string(&m).expect("serializes");
    assert!(
        text.contains("\"last_check\":\"2025-11-22T05:41:00.000000000Z\""),
        "{text}"
    );
    let back: MonitorState = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, m);
    // Fields missing from an older file take their defaults.
    let old: MonitorState =
        serde_json::from_str(r#"{"state":"CRIT","state_type":"soft","attempt":2}"#)
            .expect("parses");
    assert_eq!((old.state, old.state_type, old.attempt), (Crit, Soft, 2));
    assert_eq!(old.ack, None);
}
