//! The running alerting: a task that reads the WAL and one that evaluates,
//! and the handle the API uses to list, acknowledge and silence.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hark_config::Config;
use hark_store::{Store, StoreError, WalBatch};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::console::{ConsoleRule, Problem};
use crate::engine::{Alert, Engine};
use crate::rule::Rule;
use crate::silence::{Matcher, Silence};
use crate::{AlertError, Outbox, READER, snapshot};

/// How often the clock is looked at (windows, silence rules, reminders)
/// and the state saved when it changed.
const TICK: Duration = Duration::from_secs(1);
/// Batches read ahead of the evaluation.
const READ_AHEAD: usize = 4;

/// The running alerting; clones share it.
#[derive(Clone)]
pub struct Alerting {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Mutex<Engine>,
    dir: PathBuf,
    outbox: Arc<dyn Outbox>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A silence as asked for through the API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NewSilence {
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// From when (ns since the epoch); now when absent.
    #[serde(default)]
    pub starts_at: Option<i64>,
    /// Until when (ns since the epoch).
    pub ends_at: i64,
    /// Why.
    #[serde(default)]
    pub comment: String,
}

impl Alerting {
    /// Compiles the rules of `cfg`, loads the saved state from
    /// `data_dir/alerts` and, when there are rules, starts reading the WAL
    /// of `store` through the durable reader `alerts`. Must be called
    /// within a tokio runtime.
    pub fn start(
        store: &Store,
        cfg: &Config,
        data_dir: &Path,
        channels: &[&str],
        outbox: Arc<dyn Outbox>,
    ) -> Result<Alerting, AlertError> {
        let mut rules = Vec::with_capacity(cfg.alerts.len());
        for (name, rule) in &cfg.alerts {
            if let Some(channel) = rule.notify.iter().find(|c| !channels.contains(&c.as_str())) {
                return Err(AlertError::UnknownChannel {
                    rule: name.clone(),
                    channel: channel.clone(),
                });
            }
            rules.push(Rule::compile(name, rule, store)?);
        }
        let mut console = Vec::with_capacity(cfg.event_rules.len());
        for (name, rule) in &cfg.event_rules {
            if let Some(channel) = rule.notify.iter().find(|c| !channels.contains(&c.as_str())) {
                return Err(AlertError::UnknownChannel {
                    rule: format!("event_rules.{name}"),
                    channel: channel.clone(),
                });
            }
            console.push(ConsoleRule::compile(name, rule, store)?);
        }
        let dir = data_dir.join("alerts");
        std::fs::create_dir_all(&dir).map_err(|e| AlertError::state(&dir, e))?;
        let state = snapshot::load(&dir)?;
        let engine = Engine::new(rules, console, state, hark_event::now_nanos());
        let has_rules = engine.has_rules();
        let (stop, stopped) = watch::channel(false);
        let inner = Arc::new(Inner {
            engine: Mutex::new(engine),
            dir,
            outbox,
            stop,
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = Vec::new();
        let (batches_tx, batches_rx) = mpsc::channel(READ_AHEAD);
        let (done_tx, done_rx) = watch::channel(0u64);
        if has_rules {
            let reader = store.wal_reader(READER)?;
            tasks.push(tokio::spawn(read(reader, batches_tx, done_rx)));
        } else {
            // Nothing reads the WAL for alerts: do not hold it back.
            drop(batches_tx);
            store.remove_wal_reader(READER)?;
        }
        tasks.push(tokio::spawn(evaluate(
            inner.clone(),
            store.clone(),
            batches_rx,
            done_tx,
            stopped,
        )));
        *lock(&inner.tasks) = tasks;
        Ok(Alerting { inner })
    }

    /// Firing alerts, newest first, then recently resolved ones.
    pub fn alerts(&self) -> Vec<Alert> {
        lock(&self.inner.engine).alerts()
    }

    /// Acknowledges firing alert `id` as `by` (no reminders follow); false
    /// when no firing alert has that id.
    pub fn acknowledge(&self, id: &str, by: &str) -> Result<bool, AlertError> {
        let mut engine = lock(&self.inner.engine);
        let found = engine.acknowledge(id, by, hark_event::now_nanos());
        if found {
            snapshot::save(&self.inner.dir, engine.state())?;
        }
        Ok(found)
    }

    /// Silences, active and to come.
    pub fn silences(&self) -> Vec<Silence> {
        lock(&self.inner.engine).state().silences.clone()
    }

    /// Adds a silence made by `by`; it is saved before this returns.
    pub fn add_silence(&self, new: NewSilence, by: &str) -> Result<Silence, AlertError> {
        let silence = Silence {
            id: new_id(),
            matchers: new.matchers,
            starts_at: new.starts_at.unwrap_or_else(hark_event::now_nanos),
            ends_at: new.ends_at,
            comment: new.comment,
            created_by: by.to_owned(),
        };
        silence.validate().map_err(AlertError::Invalid)?;
        let mut engine = lock(&self.inner.engine);
        engine.add_silence(silence.clone());
        snapshot::save(&self.inner.dir, engine.state())?;
        Ok(silence)
    }

    /// Removes silence `id`; false when there is none.
    pub fn remove_silence(&self, id: &str) -> Result<bool, AlertError> {
        let mut engine = lock(&self.inner.engine);
        let found = engine.remove_silence(id);
        if found {
            snapshot::save(&self.inner.dir, engine.state())?;
        }
        Ok(found)
    }

    /// The event console's problems: open ones newest first, then closed ones.
    pub fn problems(&self) -> Vec<Problem> {
        lock(&self.inner.engine).problems()
    }

    /// Acknowledges open problem `id` as `by`; false when there is none.
    pub fn acknowledge_problem(&self, id: &str, by: &str) -> Result<bool, AlertError> {
        let mut engine = lock(&self.inner.engine);
        let found = engine.acknowledge_problem(id, by, hark_event::now_nanos());
        if found {
            snapshot::save(&self.inner.dir, engine.state())?;
        }
        Ok(found)
    }

    /// Closes open problem `id` by hand as `by`; the closed problem, or none.
    pub fn close_problem(&self, id: &str, by: &str) -> Result<Option<Problem>, AlertError> {
        let mut engine = lock(&self.inner.engine);
        let closed = engine.close_problem(id, by, hark_event::now_nanos());
        if closed.is_some() {
            deliver(&mut engine, self.inner.outbox.as_ref());
            snapshot::save(&self.inner.dir, engine.state())?;
        }
        Ok(closed)
    }

    /// The names of the configured rules.
    pub fn rule_names(&self) -> Vec<String> {
        lock(&self.inner.engine)
            .rules()
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    /// Stops evaluating and saves the state. Call before the store shuts down.
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        let tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        for task in tasks {
            // The reader may be waiting for events that never come.
            if !task.is_finished() {
                task.abort();
            }
            let _ = task.await;
        }
        let engine = lock(&self.inner.engine);
        if let Err(e) = snapshot::save(&self.inner.dir, engine.state()) {
            tracing::error!(error = %e, "saving the alert state at shutdown failed");
        }
    }
}

/// Reads the WAL and passes batches on; commits what the evaluator has
/// saved before each read.
async fn read(
    mut reader: hark_store::WalReader,
    batches: mpsc::Sender<WalBatch>,
    done: watch::Receiver<u64>,
) {
    loop {
        let saved = *done.borrow();
        let upto = saved.min(reader.position());
        if upto > reader.committed()
            && let Err(e) = reader.commit(upto)
        {
            tracing::warn!(error = %e, "committing the alert reader failed");
        }
        match reader.next_batch().await {
            Ok(batch) => {
                if batches.send(batch).await.is_err() {
                    return;
                }
            }
            Err(StoreError::Closed) => return,
            Err(e) => {
                tracing::error!(error = %e, "alert evaluation stopped reading the WAL");
                metrics::counter!("hark_alert_reader_errors_total").increment(1);
                return;
            }
        }
    }
}

/// Evaluates batches and ticks, delivers notices, saves the state.
async fn evaluate(
    inner: Arc<Inner>,
    store: Store,
    mut batches: mpsc::Receiver<WalBatch>,
    done: watch::Sender<u64>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = false;
    let mut ticks: u32 = 0;
    let mut reading = true;
    loop {
        tokio::select! {
            batch = batches.recv(), if reading => {
                let Some(batch) = batch else {
                    reading = false;
                    continue;
                };
                let needs_index = lock(&inner.engine).has_log_rules();
                let index = if needs_index {
                    let store = store.clone();
                    let events = batch.events.clone();
                    match tokio::task::spawn_blocking(move || store.index_batch(&events)).await {
                        Ok(Ok(index)) => Some(index),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "indexing a batch for the alert rules failed");
                            None
                        }
                        Err(_) => None,
                    }
                } else {
                    None
                };
                let mut engine = lock(&inner.engine);
                engine.apply(batch.first_seq, &batch.events, index.as_ref(), hark_event::now_nanos());
                deliver(&mut engine, inner.outbox.as_ref());
                record(&store, engine.take_console_events());
                dirty = true;
            }
            _ = ticker.tick() => {
                let mut engine = lock(&inner.engine);
                engine.tick(hark_event::now_nanos());
                deliver(&mut engine, inner.outbox.as_ref());
                record(&store, engine.take_console_events());
                // What a tick decides is decided the same way again after a
                // crash (and notices carry stable ids), so ticks alone save
                // only now and then.
                ticks = ticks.wrapping_add(1);
                if dirty || ticks.is_multiple_of(10) {
                    match snapshot::save(&inner.dir, engine.state()) {
                        Ok(()) => {
                            dirty = false;
                            let _ = done.send(engine.state().seq);
                        }
                        Err(e) => tracing::error!(error = %e, "saving the alert state failed; retrying"),
                    }
                }
                metrics::gauge!("hark_alerts_firing").set(
                    engine.alerts().iter().filter(|a| a.status == crate::AlertStatus::Firing).count() as f64,
                );
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Hands pending notices to the outbox; keeps those it refuses for the next try.
fn deliver(engine: &mut Engine, outbox: &dyn Outbox) {
    let pending = engine.take_pending();
    if pending.is_empty() {
        return;
    }
    let mut refused = Vec::new();
    for notice in pending {
        if let Err(e) = outbox.submit(&notice) {
            tracing::warn!(notice = %notice.id, error = %e, "the outbox refused a notice; retrying");
            refused.push(notice);
        }
    }
    if !refused.is_empty() {
        engine.requeue(refused);
    }
}

/// Appends the console's change events to the store, without waiting.
fn record(store: &Store, events: Vec<hark_event::Event>) {
    if events.is_empty() {
        return;
    }
    let store = store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.append(events).await {
            tracing::warn!(error = %e, "storing event-console changes failed");
        }
    });
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A random identifier for a silence.
fn new_id() -> String {
    let bytes: [u8; 8] = rand::random();
    hex::encode(bytes)
}
