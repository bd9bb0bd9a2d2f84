//! A real store and an input context for the handlers' unit tests, with
//! durability held back until the test opens the gate (a slow disk, on cue).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hark_event::Event;
use hark_event::sink::{AppendFuture, EventSink, Health, Receipt};
use hark_store::{Store, StoreConfig};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::stream::Conn;
use crate::{InputContext, telemetry};

/// How long a test waits for something that must happen.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

pub(crate) struct Rig {
    _dir: tempfile::TempDir,
    pub ctx: InputContext,
    events: hark_store::Tail,
    gate: watch::Sender<bool>,
}

impl Rig {
    /// A store whose appends are reported durable only after [`Rig::open_gate`].
    pub fn new(input: &str) -> Rig {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut sc = StoreConfig::new(dir.path());
        sc.index_memory = 30_000_000;
        sc.index_threads = 1;
        let store = Store::open(sc).expect("open the store");
        let events = store.subscribe("test");
        let (gate, held) = watch::channel(false);
        let ctx = InputContext {
            name: Arc::from(input),
            sink: Arc::new(GatedSink { store, gate: held }),
            shutdown: CancellationToken::new(),
            max_message: 64 * 1024,
            offset: chrono::FixedOffset::east_opt(0).expect("zero offset"),
            log_limit: Arc::new(telemetry::RateLimitedLog::new(Duration::from_secs(60))),
            parse: Arc::new(crate::ParseStage::default()),
        };
        Rig {
            _dir: dir,
            ctx,
            events,
            gate,
        }
    }

    /// A connection from a made-up peer.
    pub fn conn(&self) -> Conn {
        Conn {
            peer: SocketAddr::from(([127, 0, 0, 1], 40_000)),
            idle: Duration::from_secs(60),
            ctx: self.ctx.clone(),
        }
    }

    /// From now on, appended events are reported durable.
    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    /// Waits until at least `n` more events were written to the WAL; returns how many were.
    pub async fn written(&mut self, n: usize) -> usize {
        let mut got = 0;
        while got < n {
            let batch = tokio::time::timeout(PATIENCE, self.events.recv())
                .await
                .expect("events written in time")
                .expect("the store is open");
            got += batch.len();
        }
        got
    }

    /// The next `n` events written to the WAL (waits for them).
    pub async fn next_events(&mut self, n: usize) -> Vec<Event> {
        let mut got = Vec::new();
        while got.len() < n {
            let batch = tokio::time::timeout(PATIENCE, self.events.recv())
                .await
                .expect("events written in time")
                .expect("the store is open");
            got.extend(batch.iter().cloned());
        }
        got
    }

    /// Events written since the last call, without waiting.
    pub fn written_now(&mut self) -> usize {
        let mut got = 0;
        while let Ok(batch) = self.events.try_recv() {
            got += batch.len();
        }
        got
    }
}

/// The store, with durability reported only once the gate opens: a slow
/// disk, on cue. Events are written to the WAL (and seen by the live tail)
/// at once.
struct GatedSink {
    store: Store,
    gate: watch::Receiver<bool>,
}

impl EventSink for GatedSink {
    fn append(&self, events: Vec<Event>) -> AppendFuture<'_> {
        Box::pin(async move {
            let ticket = EventSink::append(&self.store, events).await?;
            let mut gate = self.gate.clone();
            Ok(Receipt::new(async move {
                let _ = gate.wait_for(|open| *open).await;
                ticket.durable().await
            }))
        })
    }

    fn health(&self) -> Health {
        self.store.health()
    }
}
