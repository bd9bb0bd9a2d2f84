//! The indexer thread: WAL batches in, committed splits out.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::schema::Schema;
use tantivy::{IndexWriter, TantivyDocument};

use super::document::build_doc;
use super::schema::SchemaFields;
use super::split::{SplitHandle, create_split};
use crate::maintenance::{MaintenanceMsg, report_awaiting_compaction};
use crate::state::Shared;
use crate::telemetry;
use crate::wal::{Batch, Replay};
use crate::{StoreError, index_err};

/// tantivy refuses writer threads with less memory than this.
const MIN_THREAD_MEMORY: usize = 15_000_000;
/// Segments of the active split with more events than this are not merged
/// again until the split is sealed.
const ACTIVE_MERGE_MAX_DOCS: usize = 50_000;
/// Uncommitted events that make a burst, committed early once it stops.
const BURST_EVENTS: u64 = 1_024;
/// How long after the last event a burst counts as stopped.
const QUIET_COMMIT_AFTER: Duration = Duration::from_millis(100);
/// Longest wait for work before checking the split's age.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// What the indexer thread is asked to do.
pub(crate) enum IndexerMsg {
    /// Index these (in sequence order).
    Batches(Vec<Batch>),
    /// Commit now and answer.
    Flush(Sender<Result<(), String>>),
    /// Commit and exit.
    Shutdown,
    /// Exit without committing, as a killed process would (tests).
    #[cfg(test)]
    Crash,
}

/// Indexer settings.
#[derive(Debug, Clone)]
pub(crate) struct IndexerConfig {
    pub commit_interval: Duration,
    pub split_max_events: u64,
    pub split_max_age: Duration,
    pub threads: usize,
    pub memory: usize,
}

/// Everything the indexer thread owns.
pub(crate) struct IndexerCtx {
    pub cfg: IndexerConfig,
    pub schema: Schema,
    pub fields: SchemaFields,
    pub shared: Arc<Shared>,
    /// The split to write to.
    pub active: Arc<SplitHandle>,
    /// WAL events to index before anything new.
    pub replay: Replay,
    pub rx: Receiver<IndexerMsg>,
    pub maintenance: Sender<MaintenanceMsg>,
}

/// What the active split holds, including what is not committed yet.
struct ActiveState {
    docs: u64,
    uncommitted: u64,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    /// Sequence number of the last event added.
    last_seq: u64,
    /// When the oldest uncommitted event was added.
    dirty_since: Option<Instant>,
    /// When the last batch was added.
    last_add: Instant,
    /// When the last commit finished.
    last_commit: Instant,
}

struct Indexer {
    ctx: IndexerCtx,
    writer: IndexWriter<TantivyDocument>,
    state: ActiveState,
    /// Threads letting sealed splits' writers finish their merges.
    finishing: Vec<JoinHandle<()>>,
    /// Scratch space for stored events.
    stored: Vec<u8>,
}

/// The indexer thread's body.
///
/// When indexing fails (a full disk, most often) nothing is lost: every
/// event is still in the WAL, which is truncated only below what the index
/// has committed. The indexer drops its writer (and with it what it had not
/// committed), waits [`RETRY_INTERVAL`], opens a new writer and reads the
/// WAL back from the last commit; batches that arrive meanwhile are skipped
/// here because that read brings them back.
pub(crate) fn run_indexer(mut ctx: IndexerCtx) {
    let mut failures = 0u32;
    loop {
        let error = match run_until_failure(ctx) {
            Ok(()) => return,
            Err(failed) => {
                ctx = *failed.ctx;
                failed.error
            }
        };
        failures += 1;
        if failures == 1 || failures.is_multiple_of(RETRY_LOG_EVERY) {
            tracing::error!(%error, attempts = failures, "indexing failed; events stay in the WAL and indexing is retried every {}s", RETRY_INTERVAL.as_secs());
        }
        telemetry::index_failed();
        if !wait_to_retry(&ctx, &error) {
            return;
        }
        ctx.replay = Replay::new(ctx.shared.wal_segments(), ctx.shared.committed_seq());
    }
}

/// How long the indexer waits after a failure before it tries again.
const RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// A failure that goes on is logged again every this many attempts.
const RETRY_LOG_EVERY: u32 = 12;

/// Why the indexer stopped, with what it needs to start again.
struct Failed {
    ctx: Box<IndexerCtx>,
    error: StoreError,
}

/// Starts, replays the WAL and serves until shutdown (`Ok`) or a failure.
fn run_until_failure(ctx: IndexerCtx) -> Result<(), Failed> {
    let mut ix = Indexer::start(ctx)?;
    let served = match ix.replay() {
        Ok(()) => ix.serve(),
        Err(e) => Err(e),
    };
    match served {
        Ok(()) => Ok(()),
        Err(error) => Err(Failed {
            ctx: Box::new(ix.into_ctx()),
            error,
        }),
    }
}

/// Waits [`RETRY_INTERVAL`] after a failure. Flushes are answered with the
/// error; batches are let go (they are read back from the WAL). False when
/// the store shuts down meanwhile.
fn wait_to_retry(ctx: &IndexerCtx, error: &StoreError) -> bool {
    let until = Instant::now() + RETRY_INTERVAL;
    loop {
        if ctx.shared.is_closing() {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        match ctx.rx.recv_timeout(left.min(IDLE_TICK)) {
            Ok(IndexerMsg::Batches(_)) => {}
            Ok(IndexerMsg::Flush(reply)) => {
                let _ = reply.send(Err(format!("indexing is failing: {error}")));
            }
            Ok(IndexerMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => return false,
            #[cfg(test)]
            Ok(IndexerMsg::Crash) => return false,
            Err(RecvTimeoutError::Timeout) if left.is_zero() => return true,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// When what was added must be committed: a commit interval after the
/// oldest uncommitted event; after a burst, as soon as events have stopped
/// for [`QUIET_COMMIT_AFTER`] (but not sooner than half an interval after the
/// last commit), so that the end of a load becomes searchable without
/// waiting out the interval.
fn commit_due_at(st: &ActiveState, interval: Duration) -> Option<Instant> {
    let regular = st.dirty_since? + interval;
    if st.uncommitted < BURST_EVENTS {
        return Some(regular);
    }
    let early = (st.last_add + QUIET_COMMIT_AFTER).max(st.last_commit + interval / 2);
    Some(regular.min(early))
}

fn open_writer(
    cfg: &IndexerConfig,
    split: &SplitHandle,
) -> Result<IndexWriter<TantivyDocument>, StoreError> {
    let threads = cfg.threads.max(1);
    let per_thread = (cfg.memory / threads).clamp(MIN_THREAD_MEMORY, 4_000_000_000);
    let options = IndexWriterOptions::builder()
        .num_worker_threads(threads)
        .num_merge_threads(1)
        .memory_budget_per_thread(per_thread)
        .build();
    let writer = split
        .index
        .writer_with_options(options)
        .map_err(index_err(format!("opening a writer on split {}", split.id)))?;
    writer.set_merge_policy(Box::new(active_merge_policy()));
    Ok(writer)
}

/// Merges in the split being written: small segments only, eight at a time.
/// Each commit leaves a segment per indexing thread; merging stops once
/// segments hold [`ACTIVE_MERGE_MAX_DOCS`], and the compaction that follows
/// sealing makes one segment of them all. Under a heavy load a commit's
/// segments are already that large, so an event is rewritten once, by the
/// compaction, rather than two or three times.
fn active_merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_max_docs_before_merge(ACTIVE_MERGE_MAX_DOCS);
    policy
}

impl Indexer {
    fn start(ctx: IndexerCtx) -> Result<Indexer, Failed> {
        let writer = match open_writer(&ctx.cfg, &ctx.active) {
            Ok(w) => w,
            Err(error) => {
                return Err(Failed {
                    ctx: Box::new(ctx),
                    error,
                });
            }
        };
        let m = ctx.active.manifest();
        let state = ActiveState {
            docs: m.docs,
            uncommitted: 0,
            min_ts: m.min_ts,
            max_ts: m.max_ts,
            last_seq: m.last_seq.max(ctx.shared.committed_seq()),
            dirty_since: None,
            last_add: Instant::now(),
            last_commit: Instant::now(),
        };
        let mut ix = Indexer {
            ctx,
            writer,
            state,
            finishing: Vec::new(),
            stored: Vec::with_capacity(1024),
        };
        match ix.seal_if_due() {
            Ok(()) => Ok(ix),
            Err(error) => Err(Failed {
                ctx: Box::new(ix.into_ctx()),
                error,
            }),
        }
    }

    /// Drops the writer and what it had not committed; gives back the context.
    fn into_ctx(mut self) -> IndexerCtx {
        self.join_finishing();
        let Indexer { ctx, writer, .. } = self;
        drop(writer);
        ctx
    }

    fn replay(&mut self) -> Result<(), StoreError> {
        let replay = std::mem::replace(&mut self.ctx.replay, Replay::empty());
        let mut events = 0u64;
        for batch in replay {
            let batch = batch?;
            events += batch.events.len() as u64;
            self.index_batch(&batch)?;
            self.commit_if_due()?;
        }
        self.commit()?;
        if events > 0 {
            tracing::info!(events, "replayed the WAL into the index");
        }
        Ok(())
    }

    fn serve(&mut self) -> Result<(), StoreError> {
        loop {
            let timeout = match self.commit_due_at() {
                Some(t) => t.saturating_duration_since(Instant::now()).min(IDLE_TICK),
                None => IDLE_TICK,
            };
            match self.ctx.rx.recv_timeout(timeout) {
                Ok(IndexerMsg::Batches(batches)) => {
                    for b in &batches {
                        self.index_batch(b)?;
                    }
                }
                Ok(IndexerMsg::Flush(reply)) => {
                    let r = self.commit();
                    let _ = reply.send(r.as_ref().map(|_| ()).map_err(|e| e.to_string()));
                    r?;
                }
                Ok(IndexerMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    self.commit()?;
                    self.join_finishing();
                    return Ok(());
                }
                #[cfg(test)]
                Ok(IndexerMsg::Crash) => {
                    self.join_finishing();
                    return Ok(());
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.commit_if_due()?;
            self.seal_if_due()?;
        }
    }

    fn index_batch(&mut self, batch: &Batch) -> Result<(), StoreError> {
        for (i, ev) in batch.events.iter().enumerate() {
            let seq = batch.first_seq + i as u64;
            if seq <= self.state.last_seq {
                continue;
            }
            let doc = build_doc(&self.ctx.fields, ev, seq, Some(&mut self.stored))
                .map_err(|e| StoreError::Index(format!("storing event {seq}: {e}")))?;
            self.writer
                .add_document(doc)
                .map_err(index_err("adding a document"))?;
            let st = &mut self.state;
            st.docs += 1;
            st.uncommitted += 1;
            st.last_seq = seq;
            st.min_ts = Some(st.min_ts.map_or(ev.timestamp, |m| m.min(ev.timestamp)));
            st.max_ts = Some(st.max_ts.map_or(ev.timestamp, |m| m.max(ev.timestamp)));
            if st.dirty_since.is_none() {
                st.dirty_since = Some(Instant::now());
            }
            if st.docs >= self.ctx.cfg.split_max_events {
                self.seal()?;
            }
        }
        self.state.last_add = Instant::now();
        Ok(())
    }

    fn commit_due_at(&self) -> Option<Instant> {
        commit_due_at(&self.state, self.ctx.cfg.commit_interval)
    }

    fn commit_if_due(&mut self) -> Result<(), StoreError> {
        match self.commit_due_at() {
            Some(t) if Instant::now() >= t => self.commit(),
            _ => Ok(()),
        }
    }

    /// Commits what was added, recording the last sequence number with it.
    fn commit(&mut self) -> Result<(), StoreError> {
        if self.state.uncommitted == 0 {
            return Ok(());
        }
        let active = &self.ctx.active;
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(index_err(format!("committing split {}", active.id)))?;
        prepared.set_payload(&self.state.last_seq.to_string());
        prepared
            .commit()
            .map_err(index_err(format!("committing split {}", active.id)))?;
        let st = &mut self.state;
        active.update_manifest(|m| {
            m.docs = st.docs;
            m.min_ts = st.min_ts;
            m.max_ts = st.max_ts;
            m.last_seq = st.last_seq;
        });
        active.reload()?;
        st.uncommitted = 0;
        st.dirty_since = None;
        st.last_commit = Instant::now();
        active.refresh_bytes();
        self.ctx.shared.note_committed(st.last_seq);
        let catalog = &self.ctx.shared.catalog;
        telemetry::set_index_size(catalog.len(), catalog.total_bytes());
        Ok(())
    }

    fn seal_if_due(&mut self) -> Result<(), StoreError> {
        if self.state.docs == 0 {
            return Ok(());
        }
        let age_ns = hark_event::now_nanos() - self.ctx.active.manifest().created_at;
        let max_age_ns = i64::try_from(self.ctx.cfg.split_max_age.as_nanos()).unwrap_or(i64::MAX);
        if self.state.docs >= self.ctx.cfg.split_max_events || age_ns >= max_age_ns {
            self.seal()?;
        }
        Ok(())
    }

    /// Commits and seals the active split and starts a new one.
    fn seal(&mut self) -> Result<(), StoreError> {
        self.commit()?;
        let old = self.ctx.active.clone();
        old.update_manifest(|m| m.sealed = true);
        old.manifest().write(&old.dir)?;
        let next = create_split(
            self.ctx.shared.catalog.root(),
            &self.ctx.schema,
            self.state.last_seq + 1,
        )?;
        let writer = open_writer(&self.ctx.cfg, &next)?;
        self.ctx.shared.catalog.add(next.clone());
        let old_writer = std::mem::replace(&mut self.writer, writer);
        self.ctx.active = next;
        self.state.docs = 0;
        self.state.min_ts = None;
        self.state.max_ts = None;
        let m = old.manifest();
        tracing::info!(split = %old.id, docs = m.docs, first_seq = m.first_seq, last_seq = m.last_seq, "sealed split");
        report_awaiting_compaction(&self.ctx.shared.catalog);
        // Merges still running in the old writer finish in the background;
        // maintenance then compacts the split.
        let maintenance = self.ctx.maintenance.clone();
        let finisher = std::thread::Builder::new()
            .name("hark-seal".into())
            .spawn(move || {
                if let Err(e) = old_writer.wait_merging_threads() {
                    tracing::warn!(split = %old.id, error = %e, "merges in a sealed split did not finish");
                }
                if let Err(e) = old.reload() {
                    tracing::warn!(split = %old.id, error = %e, "cannot reload a sealed split");
                }
                old.refresh_bytes();
                old.set_settled();
                let _ = maintenance.send(MaintenanceMsg::Tick);
            });
        match finisher {
            Ok(h) => self.finishing.push(h),
            Err(e) => tracing::warn!(error = %e, "cannot start a thread to finish a sealed split"),
        }
        self.finishing.retain(|h| !h.is_finished());
        Ok(())
    }

    fn join_finishing(&mut self) {
        for h in self.finishing.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(uncommitted: u64, t0: Instant) -> ActiveState {
        ActiveState {
            docs: uncommitted,
            uncommitted,
            min_ts: None,
            max_ts: None,
            last_seq: uncommitted,
            dirty_since: (uncommitted > 0).then_some(t0),
            last_add: t0,
            last_commit: t0,
        }
    }

    #[test]
    fn commits_are_due_an_interval_after_the_first_event() {
        let t0 = Instant::now();
        let interval = Duration::from_secs(1);
        assert_eq!(commit_due_at(&state(0, t0), interval), None);
        let mut st = state(10, t0);
        st.last_add = t0 + Duration::from_millis(900);
        assert_eq!(commit_due_at(&st, interval), Some(t0 + interval));
    }

    #[test]
    fn a_burst_is_committed_once_it_stops() {
        let t0 = Instant::now();
        let interval = Duration::from_secs(1);
        let mut st = state(BURST_EVENTS, t0);
        st.dirty_since = Some(t0 + Duration::from_millis(100));
        st.last_add = t0 + Duration::from_millis(600);
        // Quiet 100 ms after the last batch, before the interval runs out.
        assert_eq!(
            commit_due_at(&st, interval),
            Some(t0 + Duration::from_millis(700))
        );
        // Never sooner than half an interval after the last commit.
        st.last_add = t0 + Duration::from_millis(200);
        assert_eq!(
            commit_due_at(&st, interval),
            Some(t0 + Duration::from_millis(500))
        );
        // A burst still arriving waits for the interval.
        st.last_add = t0 + Duration::from_millis(1050);
        assert_eq!(
            commit_due_at(&st, interval),
            Some(t0 + Duration::from_millis(1100))
        );
    }
}
