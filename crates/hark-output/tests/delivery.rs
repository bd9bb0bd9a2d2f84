//! The delivery loop against a real store: commit only after delivery,
//! partial deliveries, retries, the query, and resuming after a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hark_event::Event;
use hark_output::{DeliveryError, Destination, OutputError, OutputState, Statuses, run};
use hark_store::{Store, StoreConfig};
use tokio_util::sync::CancellationToken;

/// Takes events into a shared list; fails as told: each entry of `plan` is
/// how many events the next attempt takes before failing (`None`: all).
#[derive(Clone, Default)]
struct Recorder {
    got: Arc<Mutex<Vec<String>>>,
    plan: Arc<Mutex<Vec<Option<usize>>>>,
}

impl Recorder {
    fn messages(&self) -> Vec<String> {
        self.got.lock().unwrap().clone()
    }
}

impl Destination for Recorder {
    async fn deliver(&mut self, events: &[Event]) -> Result<(), DeliveryError> {
        let step = {
            let mut plan = self.plan.lock().unwrap();
            if plan.is_empty() {
                None
            } else {
                plan.remove(0)
            }
        };
        let take = step.unwrap_or(events.len()).min(events.len());
        self.got
            .lock()
            .unwrap()
            .extend(events[..take].iter().map(|e| e.message.clone()));
        if step.is_some() {
            return Err(DeliveryError::after(
                take,
                OutputError::Refused {
                    target: "test".into(),
                    reason: "planned failure".into(),
                },
            ));
        }
        Ok(())
    }
}

fn event(msg: &str, app: &str) -> Event {
    let mut e = Event::new(hark_event::now_nanos(), "test");
    e.message = msg.to_owned();
    e.app = Some(app.to_owned());
    e
}

async fn append(store: &Store, events: Vec<Event>) {
    store.append(events).await.unwrap().wait().await.unwrap();
}

/// A store whose WAL keeps 4 KiB for a lagging reader, then detaches it.
fn detaching_store(dir: &std::path::Path) -> Store {
    let mut cfg = StoreConfig::new(dir);
    cfg.wal_segment_bytes = 1024;
    cfg.wal_max_retained = Some(4096);
    cfg.wal_lagging_reader = hark_store::LaggingReader::Detach;
    cfg.commit_interval = Duration::from_millis(50);
    Store::open(cfg).unwrap()
}

/// Polls `f` every 20 ms until it holds, for at most 30 s.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_failures_are_retried_without_loss_or_duplicates_and_the_query_selects() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    let reader = store.wal_reader("output-t").unwrap();
    let filter = Arc::new(store.compile_filter("app:keep").unwrap());
    let dest = Recorder::default();
    // First attempt takes 2 then fails, the second takes none, then all.
    *dest.plan.lock().unwrap() = vec![Some(2), Some(0)];
    let statuses = Statuses::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run(
        reader,
        Some(filter),
        dest.clone(),
        shutdown.clone(),
        statuses.reporter("t"),
    ));
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.push(event(&format!("keep {i}"), "keep"));
        batch.push(event(&format!("drop {i}"), "other"));
    }
    append(&store, batch).await;
    let want: Vec<String> = (0..10).map(|i| format!("keep {i}")).collect();
    until("all selected events delivered", || dest.messages() == want).await;
    until("lag back to 0", || statuses.snapshot()["t"].lag_events == 0).await;
    let status = &statuses.snapshot()["t"];
    assert_eq!(status.delivered, 10);
    assert_eq!(status.failed_attempts, 2);
    assert_eq!(status.state, OutputState::Running);
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("planned failure")
    );
    shutdown.cancel();
    task.await.unwrap();
    assert_eq!(statuses.snapshot()["t"].state, OutputState::Stopped);

    // Restarted, the output goes on after what it committed.
    append(&store, vec![event("keep later", "keep")]).await;
    let reader = store.wal_reader("output-t").unwrap();
    let again = Recorder::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run(
        reader,
        None,
        again.clone(),
        shutdown.clone(),
        statuses.reporter("t"),
    ));
    until("the new event delivered", || !again.messages().is_empty()).await;
    assert_eq!(again.messages(), ["keep later"]);
    shutdown.cancel();
    task.await.unwrap();
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_keeps_failing_holds_the_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    let reader = store.wal_reader("output-down").unwrap();
    let dest = Recorder::default();
    *dest.plan.lock().unwrap() = vec![Some(0); 1000];
    let statuses = Statuses::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run(
        reader,
        None,
        dest.clone(),
        shutdown.clone(),
        statuses.reporter("down"),
    ));
    append(&store, vec![event("a", "x"), event("b", "x")]).await;
    until("two failed attempts", || {
        statuses.snapshot()["down"].failed_attempts >= 2
    })
    .await;
    let status = &statuses.snapshot()["down"];
    assert_eq!(status.state, OutputState::Retrying);
    assert_eq!(status.lag_events, 2);
    shutdown.cancel();
    task.await.unwrap();
    // Nothing was committed: a new handle reads both events again.
    let mut reader = store.wal_reader("output-down").unwrap();
    assert_eq!(reader.committed(), 0);
    let batch = reader.next_batch().await.unwrap();
    assert_eq!(batch.events.len(), 2);
    drop(reader);
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_detached_while_its_destination_is_down_stops_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = detaching_store(dir.path());
    let reader = store.wal_reader("output-far").unwrap();
    let dest = Recorder::default();
    *dest.plan.lock().unwrap() = vec![Some(0); 100_000];
    let statuses = Statuses::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(run(
        reader,
        None,
        dest.clone(),
        shutdown.clone(),
        statuses.reporter("far"),
    ));
    for b in 0..20 {
        let events = (0..50)
            .map(|i| event(&format!("event {b} {i} with some padding"), "x"))
            .collect();
        append(&store, events).await;
    }
    store.flush().unwrap();
    until("the output reports it was detached", || {
        statuses.snapshot()["far"].state == OutputState::Detached
    })
    .await;
    // It stopped by itself.
    task.await.unwrap();
    let status = &statuses.snapshot()["far"];
    assert!(
        status.last_error.as_deref().unwrap().contains("detached"),
        "{status:?}"
    );
    assert!(dest.messages().is_empty());
    shutdown.cancel();
    store.shutdown().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_output_is_reattached_without_a_restart_from_the_newest_event() {
    use hark_output::{Outputs, ReattachError};
    use tokio::io::AsyncReadExt;

    let dir = tempfile::tempdir().unwrap();
    let store = detaching_store(dir.path());
    // Nothing listens on the destination's port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = hark_config::Config::from_toml_str(
        "hark.toml",
        &format!(
            "[outputs.far]\ntype = \"syslog\"\ntransport = \"tcp\"\ntarget = \"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let shutdown = CancellationToken::new();
    let outputs = Outputs::start(&store, &config.outputs, &shutdown).unwrap();
    assert!(matches!(
        outputs.reattach("far").await,
        Err(ReattachError::NotDetached(_))
    ));
    assert!(matches!(
        outputs.reattach("nowhere").await,
        Err(ReattachError::Unknown(_))
    ));
    for b in 0..20 {
        let events = (0..50)
            .map(|i| event(&format!("before {b} {i} with some padding"), "x"))
            .collect();
        append(&store, events).await;
    }
    store.flush().unwrap();
    until("the output reports it was detached", || {
        outputs.statuses().snapshot()["far"].state == OutputState::Detached
    })
    .await;

    // The destination comes up and the output is re-attached, in the same process.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    outputs.reattach("far").await.unwrap();
    assert_ne!(
        outputs.statuses().snapshot()["far"].state,
        OutputState::Detached
    );
    append(&store, vec![event("after re-attaching", "x")]).await;
    let (mut conn, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .expect("the output connects")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("after re-attaching") {
        let n = tokio::time::timeout(Duration::from_secs(30), conn.read(&mut buf))
            .await
            .expect("the event arrives")
            .unwrap();
        assert!(n > 0, "the connection closed");
        got.extend_from_slice(&buf[..n]);
    }
    // It went on from the newest event: nothing from before it was detached.
    assert!(!String::from_utf8_lossy(&got).contains("before "));
    shutdown.cancel();
    outputs.join().await;
    store.shutdown().unwrap();
}
