//! A full disk: appends are held, not refused, and nothing is lost once
//! space returns; an index that cannot write catches up from the WAL.
//!
//! The data directory is a small tmpfs the test mounts (the tests run as
//! root, as CI does), so the disk really fills.

use std::time::{Duration, Instant};

use hark_event::sink::{Health, SinkError};
use hark_testkit::tmpfs::Tmpfs;
use hark_testkit::wait::{PATIENCE, until_async};
use tokio::task::JoinHandle;

use super::{BASE, SEC, config, numbered, search};
use crate::Store;

/// Event `n` with a message long enough to fill a small disk quickly.
fn padded(n: u64) -> hark_event::Event {
    let mut e = numbered(n, BASE + n as i64 * SEC);
    e.message = format!("event number {n} {}", "x".repeat(400));
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_holds_appends_and_loses_nothing_once_space_returns() {
    let fs = Tmpfs::temp(4);
    let store = Store::open(config(fs.path())).unwrap();
    const BATCH: u64 = 200;
    let mut next = 0u64;
    let mut acks: Vec<JoinHandle<Result<u64, SinkError>>> = Vec::new();
    // Append until a batch is held: the disk is full.
    loop {
        assert!(next < 100_000, "a 4 MiB disk never filled");
        let batch = (next..next + BATCH).map(padded).collect();
        next += BATCH;
        let ticket = store.append(batch).await.unwrap();
        let ack = tokio::spawn(ticket.wait());
        let deadline = Instant::now() + PATIENCE;
        while !ack.is_finished() && store.health() == Health::Ready {
            assert!(
                Instant::now() < deadline,
                "an append neither finished nor stalled"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        acks.push(ack);
        if store.health() != Health::Ready {
            break;
        }
    }
    let Health::Unavailable { cause, since_unix } = store.health() else {
        panic!("the store is ready again on a full disk");
    };
    assert!(cause.contains("No space left"), "cause: {cause}");
    assert!(since_unix > 0);

    // Held, not refused: nothing is answered, not after retries either.
    tokio::time::sleep(crate::wal::RETRY_INTERVAL * 2).await;
    let held = acks.iter().filter(|a| !a.is_finished()).count();
    assert!(held >= 1, "no append is held");
    // More arrives meanwhile; flushing says why it cannot.
    let late: Vec<_> = (next..next + BATCH).map(padded).collect();
    next += BATCH;
    let s = store.clone();
    acks.push(tokio::spawn(async move {
        let ticket = s.append(late).await.unwrap();
        ticket.wait().await
    }));
    let flush = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.flush()
    })
    .await
    .unwrap();
    let err = flush.expect_err("a flush succeeded on a full disk");
    assert!(err.to_string().contains("No space left"), "{err}");

    // Space returns: everything held is written, in order, and searchable.
    fs.resize(64);
    let mut last = 0;
    for ack in acks {
        let seq = tokio::time::timeout(PATIENCE, ack)
            .await
            .expect("held appends answered once space returned")
            .unwrap()
            .expect("held appends stored");
        assert!(seq > last, "answers out of order: {seq} after {last}");
        last = seq;
    }
    assert_eq!(last, next, "sequence numbers are dense");
    until_async("the store to be ready", || store.health() == Health::Ready).await;
    store.flush().unwrap();
    assert_eq!(search(&store, "*").total, next);
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_that_cannot_write_catches_up_from_the_wal() {
    let fs = Tmpfs::temp(16);
    let store = Store::open(config(fs.path())).unwrap();
    const EVENTS: u64 = 3_000;
    for start in (0..EVENTS).step_by(500) {
        super::append(&store, (start..start + 500).map(padded).collect()).await;
    }
    // Fill what is left, so that the index's commit fails.
    let ballast = fs.path().join("ballast");
    let mut file = std::fs::File::create(&ballast).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    drop(file);
    let flush = tokio::task::spawn_blocking({
        let store = store.clone();
        move || store.flush()
    })
    .await
    .unwrap();
    assert!(flush.is_err(), "the index committed on a full disk");
    assert_eq!(search(&store, "*").total, 0);

    // Space returns: the indexer reopens, reads the WAL back, commits.
    std::fs::remove_file(&ballast).unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let s = store.clone();
        if tokio::task::spawn_blocking(move || s.flush())
            .await
            .unwrap()
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the index never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(search(&store, "*").total, EVENTS);
    assert_eq!(store.stats().indexed_seq, EVENTS);
    // Events appended after the recovery are indexed as usual.
    super::append(&store, (EVENTS..EVENTS + 10).map(padded).collect()).await;
    store.flush().unwrap();
    assert_eq!(search(&store, "*").total, EVENTS + 10);
    store.shutdown().unwrap();
}
