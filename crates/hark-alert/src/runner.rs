//! The running alerting: a task that reads the WAL and one that evaluates,
//! and the handle the API uses to list, acknowledge and silence.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use std::collections::BTreeMap;

use hark_config::{AlertConfig, Config};
use hark_store::{Store, StoreError, WalBatch};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::console::{ConsoleRule, Problem};
use crate::engine::{Alert, Engine};
use crate::rule::Rule;
use crate::silence::{Matcher, Silence};
use crate::stored::StoredRules;
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
    store: Store,
    /// The configured `[notify.*]` names.
    channels: Vec<String>,
    /// The rules of the configuration file.
    config_rules: BTreeMap<String, AlertConfig>,
    /// The rules made through the API.
    stored: Mutex<StoredRules>,
    /// What the reader task needs, until it is started.
    reader: Mutex<Option<(mpsc::Sender<WalBatch>, watch::Receiver<u64>)>>,
}

impl Inner {
    /// Starts the task that reads the WAL, once.
    fn start_reader(&self) -> Result<(), AlertError> {
        let Some((batches, done)) = lock(&self.reader).take() else {
            return Ok(());
        };
        let reader = self.store.wal_reader(READER)?;
        lock(&self.tasks).push(tokio::spawn(read(reader, batches, done)));
        Ok(())
    }

    /// Puts the rules of the file and of `stored` into the engine, keeping
    /// the state of the rules that did not change.
    fn reload(&self, stored: &StoredRules) -> Result<(), AlertError> {
        let mut all = self.config_rules.clone();
        for (name, rule) in stored.configs()? {
            all.entry(name).or_insert(rule);
        }
        let rules = compile_all(&all, &self.channels, &self.store)?;
        let has_rules = {
            let mut engine = lock(&self.engine);
            engine.replace_rules(rules, hark_event::now_nanos());
            snapshot::save(&self.dir, engine.state())?;
            engine.has_rules()
        };
        if has_rules {
            self.start_reader()?;
        }
        Ok(())
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// The configuration file: read-only through the API.
    Config,
    /// Made through the API, kept in the data directory.
    Api,
}

/// A rule as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleView {
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub source: RuleSource,
    /// Its keys, as in `[alerts.NAME]`.
    pub rule: AlertConfig,
}

fn check_channels(rule: &str, notify: &[String], channels: &[String]) -> Result<(), AlertError> {
    match notify.iter().find(|c| !channels.contains(c)) {
        Some(channel) => Err(AlertError::UnknownChannel {
            rule: rule.to_owned(),
            channel: channel.clone(),
        }),
        None => Ok(()),
    }
}

fn compile_all(
    rules: &BTreeMap<String, AlertConfig>,
    channels: &[String],
    store: &Store,
) -> Result<Vec<Rule>, AlertError> {
    rules
        .iter()
        .map(|(name, rule)| {
            check_channels(name, &rule.notify, channels)?;
            Rule::compile(name, rule, store)
        })
        .collect()
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
    /// Compiles the rules of `cfg` and those made through the API, loads
    /// the saved state from `data_dir/alerts` and, when there are rules,
    /// starts reading the WAL of `store` through the durable reader
    /// `alerts`. `channels` are the configured `[notify.*]` names. Must be
    /// called within a tokio runtime.
    pub fn start(
        store: &Store,
        cfg: &Config,
        data_dir: &Path,
        channels: &[&str],
        outbox: Arc<dyn Outbox>,
    ) -> Result<Alerting, AlertError> {
        let dir = data_dir.join("alerts");
        std::fs::create_dir_all(&dir).map_err(|e| AlertError::state(&dir, e))?;
        let stored = StoredRules::load(&dir)?;
        let channels: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
        let mut console = Vec::with_capacity(cfg.event_rules.len());
        for (name, rule) in &cfg.event_rules {
            check_channels(&format!("event_rules.{name}"), &rule.notify, &channels)?;
            console.push(ConsoleRule::compile(name, rule, store)?);
        }
        let mut all = cfg.alerts.clone();
        for (name, rule) in stored.configs()? {
            if all.contains_key(&name) {
                tracing::warn!(rule = %name, "a rule of the configuration file has the name of a rule made through the API; the file's wins");
                continue;
            }
            all.insert(name, rule);
        }
        let rules = compile_all(&all, &channels, store)?;
        let state = snapshot::load(&dir)?;
        let engine = Engine::new(rules, console, state, hark_event::now_nanos());
        let has_rules = engine.has_rules();
        let (stop, stopped) = watch::channel(false);
        let (batches_tx, batches_rx) = mpsc::channel(READ_AHEAD);
        let (done_tx, done_rx) = watch::channel(0u64);
        let inner = Arc::new(Inner {
            engine: Mutex::new(engine),
            dir,
            outbox,
            stop,
            tasks: Mutex::new(Vec::new()),
            store: store.clone(),
            channels,
            config_rules: cfg.alerts.clone(),
            stored: Mutex::new(stored),
            reader: Mutex::new(Some((batches_tx, done_rx))),
        });
        if has_rules {
            inner.start_reader()?;
        } else {
            // Nothing reads the WAL for alerts: do not hold it back.
            store.remove_wal_reader(READER)?;
        }
        let task = tokio::spawn(evaluate(
            inner.clone(),
            store.clone(),
            batches_rx,
            done_tx,
            stopped,
        ));
        lock(&inner.tasks).push(task);
        Ok(Alerting { inner })
    }

    /// Every rule: those of the configuration file (read-only) and those
    /// made through the API.
    pub fn rules(&self) -> Vec<RuleView> {
        let stored = lock(&self.inner.stored);
        let mut out: Vec<RuleView> = self
            .inner
            .config_rules
            .iter()
            .map(|(name, rule)| RuleView {
                name: name.clone(),
                source: RuleSource::Config,
                rule: rule.clone(),
            })
            .collect();
        if let Ok(configs) = stored.configs() {
            out.extend(
                configs
                    .into_iter()
                    .filter(|(name, _)| !self.inner.config_rules.contains_key(name))
                    .map(|(name, rule)| RuleView {
                        name,
                        source: RuleSource::Api,
                        rule,
                    }),
            );
        }
        out
    }

    /// Creates or replaces rule `name` from its JSON object (the keys of
    /// `[alerts.NAME]`), validated like the configuration; it runs at once.
    pub fn put_rule(&self, name: &str, body: serde_json::Value) -> Result<RuleView, AlertError> {
        if self.inner.config_rules.contains_key(name) {
            return Err(AlertError::Conflict(format!(
                "rule `{name}` is in the configuration file; change it there"
            )));
        }
        let mut stored = lock(&self.inner.stored);
        let rule = stored.put(name, body, |rule| {
            check_channels(name, &rule.notify, &self.inner.channels)?;
            Rule::compile(name, rule, &self.inner.store).map(drop)
        })?;
        self.inner.reload(&stored)?;
        Ok(RuleView {
            name: name.to_owned(),
            source: RuleSource::Api,
            rule,
        })
    }

    /// Removes rule `name` made through the API; false when there is none.
    pub fn remove_rule(&self, name: &str) -> Result<bool, AlertError> {
        if self.inner.config_rules.contains_key(name) {
            return Err(AlertError::Conflict(format!(
                "rule `{name}` is in the configuration file; remove it there"
            )));
        }
        let mut stored = lock(&self.inner.stored);
        if !stored.remove(name)? {
            return Ok(false);
        }
        self.inner.reload(&stored)?;
        Ok(true)
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
                let needs_index = lock(&inner.engine).needs_index();
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
