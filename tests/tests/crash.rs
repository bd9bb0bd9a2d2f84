//! Kill -9 in the middle of a burst: with `fsync = "always"` every event the
//! server counted as stored survives, and recovery stores nothing twice.

use std::collections::HashSet;
use std::time::Duration;

use hark_e2e::{Hark, Transport, marker, number_after};
use hark_testkit::{ChildGuard, poll};

const COUNT: u64 = 200_000;
/// Kill once at least this many are stored: well inside the burst.
const KILL_AFTER: f64 = 50_000.0;
const STORED: &str = "hark_events_stored_total{input=\"tcp\"}";

/// The numbers in the stored messages of `m`; panics on a duplicate.
fn stored_numbers(hark: &Hark, m: &str) -> HashSet<u64> {
    let mut seen = HashSet::new();
    for msg in hark.query_all_messages(m) {
        let n = number_after(&msg, "n=").unwrap_or_else(|| panic!("no number in {msg:?}"));
        assert!(seen.insert(n), "n={n} stored more than once");
    }
    seen
}

#[test]
fn kill9_mid_burst_keeps_stored_events_once() {
    let mut hark = Hark::builder()
        .input("tcp", Transport::Tcp)
        .extra("[storage]\nfsync = \"always\"\ncommit_interval = \"200ms\"")
        .start();
    let m = marker("crash");
    let target = hark.addr("tcp").to_string();
    let message = format!("{m} n={{n}}");
    let sender_log = hark.dir().join("send.log");
    let log_file = std::fs::File::create(&sender_log).expect("create send.log");
    let mut sender = ChildGuard::spawn(
        "hark send",
        hark.cli()
            .args(["send", "--target", &target, "--transport", "tcp"])
            .args(["--count", &COUNT.to_string(), "--rate", "20000"])
            .args(["--message", &message])
            .stdout(log_file.try_clone().expect("clone a file handle"))
            .stderr(log_file),
    );

    // Read the stored counter, then kill at once: everything counted by then
    // was durable (fsync always) before the kill.
    let stored_before = poll(Duration::from_secs(300), Duration::from_millis(20), || {
        let s = hark.metric(STORED);
        (s >= KILL_AFTER).then_some(s)
    });
    let Some(stored_before) = stored_before else {
        panic!(
            "the server never counted {KILL_AFTER} stored events (sender exit: {:?}, stored {})\n{}",
            sender.try_wait(),
            hark.metric(STORED),
            hark.output()
        );
    };
    let sender_state = sender.try_wait();
    hark.kill9();
    if let Some(status) = sender_state {
        panic!(
            "the sender finished ({status}) before the kill: the kill was not mid-burst\n{}",
            std::fs::read_to_string(&sender_log).unwrap_or_default()
        );
    }
    // A sender that reconnected would re-send on its own; stop it here.
    drop(sender);
    eprintln!("killed with {stored_before} events counted as stored");

    hark.restart();
    let total = hark.wait_settled(
        &m,
        stored_before as u64,
        Duration::from_secs(3),
        Duration::from_secs(300),
    );
    let after_crash = stored_numbers(&hark, &m);
    assert_eq!(
        after_crash.len() as u64,
        total,
        "query --all agrees with the total"
    );
    assert!(
        after_crash.len() as f64 >= stored_before,
        "{} events found after the crash, but {stored_before} were counted as stored before it\n{}",
        after_crash.len(),
        hark.output()
    );
    assert!(after_crash.len() as u64 <= COUNT);
    eprintln!("{} events found after the restart", after_crash.len());

    // A clean stop and start changes nothing.
    let status = hark.stop();
    assert!(status.success(), "hark serve exit after SIGTERM: {status}");
    hark.restart();
    let total = hark.wait_settled(
        &m,
        after_crash.len() as u64,
        Duration::from_secs(3),
        Duration::from_secs(300),
    );
    assert_eq!(
        total,
        after_crash.len() as u64,
        "total after a clean restart"
    );
    let after_restart = stored_numbers(&hark, &m);
    assert_eq!(
        after_restart, after_crash,
        "the same events after a clean restart"
    );
}
