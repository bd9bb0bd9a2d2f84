use std::collections::HashSet;

use super::files::MAX_STEM;
use super::legacy;
use super::*;
use crate::downtime::Schedule;
use crate::outcome::{Perf, Status};
use crate::state::{State, StateType};

const MIN: i64 = 60_000_000_000;
/// 2025-11-22T00:00:00Z.
const T0: i64 = 1_763_769_600_000_000_000;

fn ctx(now: i64) -> ApplyContext {
    ApplyContext {
        now,
        host_check: false,
        max_attempts: 2,
        parent_problem: false,
        in_downtime: false,
        flap_start: 30.0,
        flap_stop: 25.0,
    }
}

fn outcome(status: Status, ms: u64) -> CheckOutcome {
    let mut o = CheckOutcome::new(status, format!("{status} in {ms} ms"));
    o.perf.push(Perf::new("time", ms as f64 / 1000.0, "s"));
    o
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"))
}

fn open(dir: &Path, now: i64) -> StateStore {
    StateStore::open(dir, now).unwrap_or_else(|e| panic!("open: {e}"))
}

fn parts(batch: &FlushBatch) -> HashSet<String> {
    batch.parts().into_iter().collect()
}

fn names(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn everything_survives_a_restart() {
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(["web", "db/primary"], T0);
    for i in 0..5 {
        let status = if i < 2 { Status::Ok } else { Status::Crit };
        store.apply("web", &outcome(status, 10 + i as u64), &ctx(T0 + i * MIN));
        store.apply("db/primary", &outcome(Status::Ok, 3), &ctx(T0 + i * MIN));
    }
    store
        .acknowledge(
            "web",
            Ack {
                author: "ops".into(),
                comment: "looking".into(),
                sticky: false,
                at: T0 + 5 * MIN,
            },
        )
        .unwrap_or_else(|e| panic!("ack: {e}"));
    let downtime = store
        .add_downtime(
            NewDowntime {
                monitors: vec!["db/primary".into()],
                schedule: Schedule::Once {
                    start: T0 + 10 * MIN,
                    end: T0 + 20 * MIN,
                },
                comment: "upgrade".into(),
                author: "ops".into(),
            },
            T0 + 5 * MIN,
        )
        .unwrap_or_else(|e| panic!("downtime: {e}"));
    let report = store.flush_all(T0 + 5 * MIN);
    assert!(report.error.is_none());
    // 3 parts for each of the 2 monitors, and the downtimes, in one file.
    assert_eq!(report.entries, 7);
    let files: Vec<_> = fs::read_dir(data.path().join("monitors"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|f| f.ok())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["flush-1.json"]);

    let mut again = open(data.path(), T0 + 6 * MIN);
    again.set_monitors(["web", "db/primary"], T0 + 6 * MIN);
    for name in ["web", "db/primary"] {
        assert_eq!(again.state(name), store.state(name), "{name}");
        assert_eq!(again.history(name), store.history(name), "{name}");
    }
    let web = again.state("web").cloned().unwrap_or_default();
    assert_eq!(
        (web.state, web.state_type, web.attempt),
        (State::Crit, StateType::Hard, 2)
    );
    assert_eq!(web.ack.map(|a| a.comment), Some("looking".to_string()));
    assert_eq!(again.downtimes(), store.downtimes());
    assert_eq!(again.downtimes().get(downtime.id), Some(&downtime));
    assert!(again.in_downtime("db/primary", T0 + 15 * MIN));
    // Nothing changed since loading: nothing to write.
    assert!(again.prepare_flush_all(T0 + 7 * MIN).is_empty());
}

#[test]
fn state_changes_are_written_at_once_checks_lazily() {
    let data = tempdir();
    let policy = FlushPolicy {
        state_every: Duration::from_secs(300),
        intervals_every: Duration::from_secs(60),
        series_every: Duration::from_secs(1800),
        snapshot_after_files: 1000,
    };
    let mut store =
        StateStore::open_with(data.path(), T0, policy).unwrap_or_else(|e| panic!("open: {e}"));
    store.set_monitors(["api"], T0);
    // PENDING → OK: a change; a new interval begins. Write all to start
    // every period now (the first lazy writes are spread by name).
    store.apply("api", &outcome(Status::Ok, 5), &ctx(T0));
    let batch = store.prepare_flush_all(T0);
    assert_eq!(
        parts(&batch),
        names(&["api.state", "api.intervals", "api.series"])
    );
    assert_eq!(batch.write().entries, 3);
    // Just another OK: nothing due yet.
    store.apply("api", &outcome(Status::Ok, 6), &ctx(T0 + MIN / 3));
    assert!(store.prepare_flush(T0 + MIN / 3).is_empty());
    // A soft problem: the state at once; the intervals a minute after their last write.
    store.apply("api", &outcome(Status::Crit, 7), &ctx(T0 + MIN / 2));
    assert_eq!(
        parts(&store.prepare_flush(T0 + MIN / 2)),
        names(&["api.state"])
    );
    assert!(store.prepare_flush(T0 + MIN - 1).is_empty());
    assert_eq!(
        parts(&store.prepare_flush(T0 + MIN)),
        names(&["api.intervals"])
    );
    // Attempt 1 → 2 made it hard: a change, written at once.
    store.apply("api", &outcome(Status::Crit, 8), &ctx(T0 + 3 * MIN));
    assert_eq!(
        parts(&store.prepare_flush(T0 + 3 * MIN)),
        names(&["api.state"])
    );
    // An unchanged check is written once its period is up, and so is the series.
    store.apply("api", &outcome(Status::Crit, 8), &ctx(T0 + 4 * MIN));
    assert!(store.prepare_flush(T0 + 8 * MIN - 1).is_empty());
    assert_eq!(
        parts(&store.prepare_flush(T0 + 8 * MIN)),
        names(&["api.state"])
    );
    assert!(store.prepare_flush(T0 + 30 * MIN - 1).is_empty());
    assert_eq!(
        parts(&store.prepare_flush(T0 + 30 * MIN)),
        names(&["api.series"])
    );
    assert!(store.prepare_flush(T0 + 60 * MIN).is_empty());
}

#[test]
fn first_lazy_writes_are_spread_by_name() {
    let period = Duration::from_secs(300);
    let spread: HashSet<i64> = (0..50).map(|i| stagger(&format!("m{i}"), period)).collect();
    assert!(spread.len() > 45, "{spread:?}");
    assert!(spread.iter().all(|&s| (0..nanos(period)).contains(&s)));
    assert_eq!(stagger("web", period), stagger("web", period));
}

/// Writes `store`'s monitors and downtimes in the per-monitor layout of
/// earlier versions.
fn write_legacy(store: &StateStore, dir: &Path) {
    let write = |path: PathBuf, value: serde_json::Value| {
        fs::write(&path, value.to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    for name in store.names() {
        let stem = file_stem(name);
        let (state, history) = (
            store.state(name).unwrap_or_else(|| panic!("{name}")),
            store.history(name).unwrap_or_else(|| panic!("{name}")),
        );
        let named = |data: serde_json::Value| serde_json::json!({"name": name, "data": data});
        write(
            dir.join(format!("{stem}.state.json")),
            named(to_json(state)),
        );
        write(
            dir.join(format!("{stem}.intervals.json")),
            named(to_json(&history.intervals_part())),
        );
        write(
            dir.join(format!("{stem}.series.json")),
            named(to_json(&history.series_part())),
        );
    }
    write(dir.join(legacy::DOWNTIMES_FILE), to_json(store.downtimes()));
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{e}"))
}

/// A store with two monitors in CRIT and a downtime, nothing written yet.
fn two_crit_monitors(data: &Path) -> StateStore {
    let mut store = open(data, T0);
    store.set_monitors(["web", "db"], T0);
    for name in ["web", "db"] {
        store.apply(name, &outcome(Status::Crit, 5), &ctx(T0));
        store.apply(name, &outcome(Status::Crit, 5), &ctx(T0 + MIN));
    }
    store
        .add_downtime(
            NewDowntime {
                monitors: vec!["db".into()],
                schedule: Schedule::Once {
                    start: T0 + 10 * MIN,
                    end: T0 + 20 * MIN,
                },
                comment: "upgrade".into(),
                author: "ops".into(),
            },
            T0 + MIN,
        )
        .unwrap_or_else(|e| panic!("downtime: {e}"));
    store
}

#[test]
fn the_old_layout_is_upgraded_once() {
    let data = tempdir();
    let dir = data.path().join("monitors");
    let old = two_crit_monitors(data.path());
    write_legacy(&old, &dir);
    assert!(dir.join("web.state.json").is_file());

    let mut again = open(data.path(), T0 + 2 * MIN);
    again.set_monitors(["web", "db"], T0 + 2 * MIN);
    for name in ["web", "db"] {
        assert_eq!(again.state(name), old.state(name), "{name}");
        assert_eq!(again.history(name), old.history(name), "{name}");
    }
    assert_eq!(again.downtimes(), old.downtimes());
    // The old files are gone; one snapshot holds everything.
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|f| f.ok())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["snapshot.json"]);
    assert!(again.prepare_flush_all(T0 + 2 * MIN).is_empty());

    // Later starts read the snapshot.
    let mut third = open(data.path(), T0 + 3 * MIN);
    third.set_monitors(["web", "db"], T0 + 3 * MIN);
    for name in ["web", "db"] {
        assert_eq!(third.state(name), old.state(name), "{name}");
        assert_eq!(third.history(name), old.history(name), "{name}");
    }
    assert_eq!(third.downtimes(), old.downtimes());
}

#[test]
fn corrupt_files_are_set_aside() {
    let data = tempdir();
    let dir = data.path().join("monitors");
    let store = two_crit_monitors(data.path());
    write_legacy(&store, &dir);
    fs::write(
        dir.join("web.state.json"),
        b"{\"name\":\"web\",\"data\":{\"state\":",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    fs::write(dir.join("db.intervals.json"), b"\0\0\0 not json").unwrap_or_else(|e| panic!("{e}"));
    fs::write(dir.join(legacy::DOWNTIMES_FILE), b"[1, 2").unwrap_or_else(|e| panic!("{e}"));

    let mut again = open(data.path(), T0 + 2 * MIN);
    again.set_monitors(["web", "db"], T0 + 2 * MIN);
    // web starts PENDING, its history is intact.
    assert_eq!(again.state("web").map(|s| s.state), Some(State::Pending));
    assert_eq!(again.history("web"), store.history("web"));
    assert!(dir.join("web.state.json.corrupt").is_file());
    assert!(!dir.join("web.state.json").exists());
    // db keeps its state and series, loses its intervals.
    assert_eq!(again.state("db"), store.state("db"));
    let db = again.history("db").cloned().unwrap_or_default();
    assert!(db.intervals(i64::MIN, i64::MAX).is_empty());
    assert_eq!(
        db.series(T0, T0 + MIN),
        store
            .history("db")
            .map(|h| h.series(T0, T0 + MIN))
            .unwrap_or(db.series(0, 0))
    );
    assert!(dir.join("db.intervals.json.corrupt").is_file());
    assert!(again.downtimes().is_empty());
    assert!(dir.join("downtimes.json.corrupt").is_file());
}

#[test]
fn a_torn_flush_file_is_set_aside_and_later_ones_apply() {
    let data = tempdir();
    let dir = data.path().join("monitors");
    let mut store = open(data.path(), T0);
    store.set_monitors(["web", "db"], T0);
    // flush-1: both OK.
    for name in ["web", "db"] {
        store.apply(name, &outcome(Status::Ok, 5), &ctx(T0));
    }
    assert_eq!(store.flush_all(T0).entries, 6);
    let both_ok = store.state("db").cloned();
    // flush-2: both WARN.
    for name in ["web", "db"] {
        store.apply(name, &outcome(Status::Warn, 5), &ctx(T0 + MIN));
    }
    assert_eq!(store.flush_all(T0 + MIN).entries, 6);
    // flush-3: web CRIT.
    store.apply("web", &outcome(Status::Crit, 5), &ctx(T0 + 2 * MIN));
    assert_eq!(store.flush_all(T0 + 2 * MIN).entries, 3);
    // flush-2 loses its end, as a disk that lies about fsync could leave it.
    let torn = dir.join("flush-2.json");
    let bytes = fs::read(&torn).unwrap_or_else(|e| panic!("{e}"));
    fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    // And a temporary file of a flush interrupted before its rename.
    fs::write(dir.join("flush-4.json.tmp"), b"{\"flush\":4,").unwrap_or_else(|e| panic!("{e}"));

    let mut again = open(data.path(), T0 + 3 * MIN);
    again.set_monitors(["web", "db"], T0 + 3 * MIN);
    assert!(dir.join("flush-2.json.corrupt").is_file());
    assert!(!torn.exists());
    assert!(!dir.join("flush-4.json.tmp").exists());
    // web's latest state was in flush-3; db's in the torn file, so it has
    // that of flush-1.
    assert_eq!(again.state("web"), store.state("web"));
    assert_eq!(again.state("db"), both_ok.as_ref());
    // Numbering goes on after the highest file.
    again.apply("db", &outcome(Status::Crit, 5), &ctx(T0 + 3 * MIN));
    again.flush_all(T0 + 3 * MIN);
    assert!(dir.join("flush-4.json").is_file());
}

#[test]
fn flush_files_are_folded_into_a_snapshot() {
    let data = tempdir();
    let dir = data.path().join("monitors");
    let policy = FlushPolicy {
        snapshot_after_files: 3,
        ..FlushPolicy::default()
    };
    let mut store =
        StateStore::open_with(data.path(), T0, policy).unwrap_or_else(|e| panic!("open: {e}"));
    store.set_monitors(["a", "b", "c"], T0);
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        store.apply(name, &outcome(Status::Crit, 5), &ctx(T0 + i as i64));
        store.flush_all(T0 + i as i64);
    }
    assert!(dir.join("flush-3.json").is_file());
    assert!(!dir.join("snapshot.json").exists());
    // The fourth flush writes its file, then the snapshot.
    store.apply("a", &outcome(Status::Ok, 5), &ctx(T0 + MIN));
    let report = store.flush_all(T0 + MIN);
    assert!(report.snapshot_bytes.is_some());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|f| f.ok())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["snapshot.json"]);
    // The next flush is numbered after those the snapshot holds.
    store.apply("b", &outcome(Status::Ok, 5), &ctx(T0 + MIN));
    store.flush_all(T0 + MIN);
    assert!(dir.join("flush-5.json").is_file());

    let mut again = open(data.path(), T0 + 2 * MIN);
    again.set_monitors(["a", "b", "c"], T0 + 2 * MIN);
    for name in ["a", "b", "c"] {
        assert_eq!(again.state(name), store.state(name), "{name}");
        assert_eq!(again.history(name), store.history(name), "{name}");
    }
}

#[test]
fn a_file_of_another_monitor_is_not_loaded() {
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(["a"], T0);
    store.apply("a", &outcome(Status::Crit, 5), &ctx(T0));
    let dir = data.path().join("monitors");
    write_legacy(&store, &dir);
    fs::rename(dir.join("a.state.json"), dir.join("b.state.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut again = open(data.path(), T0);
    again.set_monitors(["b"], T0);
    assert_eq!(again.state("b").map(|s| s.state), Some(State::Pending));
}

#[test]
fn removed_monitors_keep_their_data_and_unsaved_changes() {
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(["old", "kept"], T0);
    store.apply("old", &outcome(Status::Warn, 5), &ctx(T0));
    store.set_monitors(["kept"], T0);
    assert_eq!(store.names().collect::<Vec<_>>(), ["kept"]);
    assert_eq!(store.state("old"), None);
    // Its unsaved state goes out with the next flush.
    let batch = store.prepare_flush(T0);
    assert_eq!(
        parts(&batch),
        names(&["old.state", "old.intervals", "old.series"])
    );
    batch.write();
    // Added back, it has its state again, in this process and the next.
    store.set_monitors(["kept", "old"], T0 + MIN);
    assert_eq!(store.state("old").map(|s| s.state), Some(State::Warn));
    let mut next = open(data.path(), T0 + MIN);
    next.set_monitors(["kept", "old"], T0 + MIN);
    assert_eq!(next.state("old").map(|s| s.state), Some(State::Warn));
    // forget deletes its data with the next flush.
    store.forget("old");
    let batch = store.prepare_flush(T0 + MIN);
    assert_eq!(parts(&batch), names(&["old.forget"]));
    assert_eq!(batch.write().entries, 1);
    store.set_monitors(["old"], T0 + MIN);
    assert_eq!(store.state("old").map(|s| s.state), Some(State::Pending));
    let mut next = open(data.path(), T0 + MIN);
    next.set_monitors(["old"], T0 + MIN);
    assert_eq!(next.state("old").map(|s| s.state), Some(State::Pending));
}

#[test]
fn failed_writes_are_retried() {
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(["x"], T0);
    store.apply("x", &outcome(Status::Crit, 5), &ctx(T0));
    // A directory where the flush file goes makes the rename fail.
    let blocker = data.path().join("monitors/flush-1.json");
    fs::create_dir(&blocker).unwrap_or_else(|e| panic!("{e}"));
    fs::write(blocker.join("keep"), b"").unwrap_or_else(|e| panic!("{e}"));
    let report = store.flush(T0);
    assert!(report.error.is_some());
    assert_eq!(report.entries, 0, "nothing was written");
    fs::remove_dir_all(&blocker).unwrap_or_else(|e| panic!("{e}"));
    // flush requeued the parts by itself.
    let batch = store.prepare_flush(T0 + 1);
    assert_eq!(parts(&batch), names(&["x.state", "x.intervals"]));
    assert_eq!(batch.write().entries, 2);
    let again = {
        let mut s = open(data.path(), T0);
        s.set_monitors(["x"], T0);
        s
    };
    assert_eq!(again.state("x").map(|s| s.state), Some(State::Crit));
}

#[test]
fn file_stems_are_safe_and_distinct() {
    let long = "ü".repeat(200);
    let tricky = [
        "web",
        "Web",
        "a.b",
        "a%2Eb",
        "..",
        ".",
        "",
        "%",
        "a/b",
        "a\\b",
        "a b",
        "a\0b",
        "CON",
        "ключ",
        "emoji 🚀",
        "-",
        "_",
        &long,
    ];
    let mut seen = HashSet::new();
    for name in tricky {
        let stem = file_stem(name);
        assert!(seen.insert(stem.clone()), "{name:?} collides as {stem}");
        assert!(stem.len() <= MAX_STEM, "{stem}");
        assert!(!stem.is_empty() && !stem.starts_with('.'), "{stem}");
        assert!(
            stem.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_%~".contains(&b)),
            "{stem}"
        );
    }
    assert_eq!(file_stem("db/primary"), "db%2Fprimary");
    assert_eq!(file_stem("a.b"), "a%2Eb");
    assert_eq!(file_stem("a%2Eb"), "a%252Eb");
    assert!(file_stem(&long).contains('~'));
    assert_ne!(file_stem(&long), file_stem(&"ü".repeat(201)));

    // The store works with such names.
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(tricky, T0);
    for name in tricky {
        store.apply(name, &outcome(Status::Warn, 1), &ctx(T0));
    }
    assert!(store.flush_all(T0).error.is_none());
    let mut again = open(data.path(), T0);
    again.set_monitors(tricky, T0);
    for name in tricky {
        assert_eq!(
            again.state(name).map(|s| s.state),
            Some(State::Warn),
            "{name:?}"
        );
    }
}

#[test]
fn context_sees_parent_and_downtime() {
    let data = tempdir();
    let mut store = open(data.path(), T0);
    store.set_monitors(["router", "web"], T0);
    let cfg: hark_config::Config = toml_config(
        r#"
        [monitors.router]
        type = "icmp"
        host = "192.0.2.1"
        max_attempts = 1
        [monitors.web]
        type = "tcp"
        host = "192.0.2.10"
        port = 443
        parent = "router"
        max_attempts = 4
        "#,
    );
    let (router, web) = (&cfg.monitors["router"], &cfg.monitors["web"]);
    let c = store.context("router", router, &cfg.monitoring, T0);
    assert!(c.host_check && !c.parent_problem && !c.in_downtime);
    let c = store.context("web", web, &cfg.monitoring, T0);
    assert_eq!(
        (c.host_check, c.max_attempts, c.parent_problem),
        (false, 4, false)
    );
    let c = store.context("router", router, &cfg.monitoring, T0);
    store.apply("router", &outcome(Status::Crit, 1), &c);
    store
        .add_downtime(
            NewDowntime {
                monitors: vec!["*".into()],
                schedule: Schedule::Once {
                    start: T0,
                    end: T0 + MIN,
                },
                comment: String::new(),
                author: String::new(),
            },
            T0,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let c = store.context("web", web, &cfg.monitoring, T0);
    assert!(c.parent_problem && c.in_downtime);
    let applied = store.apply("web", &outcome(Status::Crit, 1), &c);
    let change = applied.change.clone().unwrap_or_else(|| panic!("a change"));
    assert_eq!(change.state, State::Unreachable);
    assert!(change.in_downtime);
    assert_eq!(applied.next_interval(web), web.retry_interval);
    // The downtime is left out of availability: nothing else observed.
    let a = store
        .availability("web", T0 + MIN)
        .unwrap_or_else(|| panic!("known monitor"));
    assert_eq!(a.last_24h, None);
    assert_eq!(store.availability("nope", T0), None);
    assert!(matches!(
        store.acknowledge(
            "nope",
            Ack {
                author: String::new(),
                comment: String::new(),
                sticky: false,
                at: 0
            }
        ),
        Err(StoreError::UnknownMonitor(_))
    ));
}

fn toml_config(text: &str) -> hark_config::Config {
    hark_config::Config::from_toml_str("test.toml", text).unwrap_or_else(|e| panic!("config: {e}"))
}

#[test]
fn a_full_history_stays_small() {
    // One check a minute for 31 days with varying response times and a state
    // change every 6 hours.
    let mut h = History::default();
    let mut t = T0;
    let end = T0 + 31 * 24 * 60 * MIN;
    let mut i: u64 = 0;
    while t < end {
        let state = if (i / 360).is_multiple_of(2) {
            State::Ok
        } else {
            State::Crit
        };
        h.record(
            t,
            state,
            false,
            Duration::from_micros(20_000 + (i * 7919) % 15_000),
        );
        t += MIN;
        i += 1;
    }
    let series = serde_json::to_vec(&h.series_part())
        .map(|v| v.len())
        .unwrap_or(0);
    let intervals = serde_json::to_vec(&h.intervals_part())
        .map(|v| v.len())
        .unwrap_or(0);
    // 360 + 288 + 744 buckets.
    assert!(
        series > 20_000 && series < 40_000,
        "series file {series} bytes"
    );
    assert!(intervals < 10_000, "intervals file {intervals} bytes");
}
