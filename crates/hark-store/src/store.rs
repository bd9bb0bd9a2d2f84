//! Opening the store, starting and stopping its threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use hark_event::Event;
use hark_event::sink::SinkError;
use tantivy::schema::Schema;
use tokio::sync::{Semaphore, broadcast, oneshot};

use crate::fsutil::io_err;
use crate::index::{
    IndexerConfig, IndexerCtx, SchemaFields, build_schema, create_split, open_catalog, run_indexer,
};
use crate::maintenance::{Maintenance, MaintenanceMsg, run_maintenance};
use crate::query::QueryCompiler;
use crate::retention::RetentionPolicy;
use crate::state::Shared;
use crate::tail::Tail;
use crate::wal::{
    self, AppendRequest, Readers, Replay, WalWriter, WriterCtx, WriterMsg, run_writer,
};
use crate::{Mark, StoreConfig, StoreError, StoreStats};

/// WAL groups (each at most 16 384 events) the indexer may have queued
/// before the WAL writer waits for it. When indexing is the bottleneck the
/// queue is full as a load ends, so this bounds how long the last events
/// wait to become searchable: four groups are about half a second of work.
const INDEXER_QUEUE: usize = 4;
/// Batches kept for slow live-tail subscribers.
const LIVE_QUEUE: usize = 1024;

/// The store's state behind the [`crate::Store`] handle.
pub(crate) struct Inner {
    pub schema: Schema,
    pub fields: SchemaFields,
    pub compiler: QueryCompiler,
    pub shared: Arc<Shared>,
    pub search_threads: usize,
    writer_tx: Sender<WriterMsg>,
    queue: Arc<Semaphore>,
    queue_capacity: usize,
    live: broadcast::Sender<wal::Batch>,
    pub(crate) maintenance: Arc<Maintenance>,
    maintenance_tx: Sender<MaintenanceMsg>,
    threads: Mutex<Vec<(&'static str, JoinHandle<()>)>>,
    closed: AtomicBool,
    /// Held until shutdown: one store per data directory.
    lock: Mutex<Option<std::fs::File>>,
    /// The data directory.
    pub data_dir: std::path::PathBuf,
}

/// Takes the data directory's lock file, failing if another store holds it.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Io {
            context: format!("{} is in use by another store", dir.display()),
            source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Io {
            context: format!("locking {}", path.display()),
            source: e,
        }),
    }
}

fn spawn(
    name: &'static str,
    f: impl FnOnce() + Send + 'static,
) -> Result<(&'static str, JoinHandle<()>), StoreError> {
    std::thread::Builder::new()
        .name(format!("hark-{name}"))
        .spawn(f)
        .map(|h| (name, h))
        .map_err(io_err(format!("starting the {name} thread")))
}

impl Inner {
    /// Opens the data directory, replays what the index lacks and starts the threads.
    pub fn open(cfg: StoreConfig) -> Result<Inner, StoreError> {
        let wal_dir = cfg.data_dir.join("wal");
        let index_dir = cfg.data_dir.join("index");
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(io_err(format!("creating {}", cfg.data_dir.display())))?;
        let lock = lock_data_dir(&cfg.data_dir)?;
        let (schema, fields) = build_schema();
        let opened = open_catalog(&index_dir, &schema)?;
        let recovered = wal::recover(&wal_dir)?;
        if !recovered.problems.is_empty() {
            tracing::warn!(
                problems = recovered.problems.len(),
                "the WAL needed repair on open; events after a bad record are lost"
            );
        }
        let readers = Readers::open(
            &cfg.data_dir.join("readers"),
            cfg.wal_max_retained,
            cfg.wal_lagging_reader,
        )?;
        // A reader may have read appends a crash lost before they were
        // synced: their sequence numbers are not handed out again.
        let appended = recovered
            .last_seq
            .max(opened.committed_seq)
            .max(readers.highest_committed());
        // Without an index only the durable readers hold the WAL.
        let committed = if cfg.index {
            opened.committed_seq
        } else {
            appended
        };
        let catalog = opened.catalog;
        let active = match opened.active {
            Some(a) => Some(a),
            None if cfg.index => {
                let a = create_split(catalog.root(), &schema, committed + 1)?;
                catalog.add(a.clone());
                Some(a)
            }
            None => None,
        };
        let shared = Arc::new(Shared::new(
            catalog,
            appended,
            committed,
            recovered.segments.clone(),
            readers,
            recovered.marks.clone(),
            cfg.wal_block_at,
        ));
        let replay = Replay::new(recovered.segments.clone(), committed);
        let wal_writer = WalWriter::open(
            &wal_dir,
            &recovered,
            appended + 1,
            cfg.fsync,
            cfg.wal_segment_bytes,
        )?;

        let (writer_tx, writer_rx) = mpsc::channel();
        let (indexer_tx, indexer_rx) = mpsc::sync_channel(INDEXER_QUEUE);
        let (maintenance_tx, maintenance_rx) = mpsc::channel();
        let (live, _) = broadcast::channel(LIVE_QUEUE);
        let maintenance = Arc::new(Maintenance::new(
            shared.clone(),
            RetentionPolicy {
                max_age: cfg.retention_max_age,
                max_disk: cfg.retention_max_disk,
            },
            cfg.merge_max_docs,
            cfg.merge_trigger_splits,
        ));

        let mut threads = Vec::with_capacity(3);
        let indexer_tx = match active.filter(|_| cfg.index) {
            Some(active) => {
                let indexer_ctx = IndexerCtx {
                    cfg: IndexerConfig {
                        commit_interval: cfg.commit_interval,
                        split_max_events: cfg.split_max_events.max(1),
                        split_max_age: cfg.split_max_age,
                        threads: cfg.index_threads,
                        memory: cfg.index_memory,
                    },
                    schema: schema.clone(),
                    fields: fields.clone(),
                    shared: shared.clone(),
                    active,
                    replay,
                    rx: indexer_rx,
                    maintenance: maintenance_tx.clone(),
                };
                threads.push(spawn("indexer", move || run_indexer(indexer_ctx))?);
                Some(indexer_tx)
            }
            None => None,
        };
        let writer_ctx = WriterCtx {
            wal: wal_writer,
            rx: writer_rx,
            indexer: indexer_tx,
            live: live.clone(),
            shared: shared.clone(),
            indexer_gone: false,
            full_reported: None,
        };
        threads.push(spawn("wal", move || run_writer(writer_ctx))?);
        let m = maintenance.clone();
        threads.push(spawn("maintenance", move || {
            run_maintenance(m, maintenance_rx)
        })?);

        let queue_capacity = cfg
            .append_queue_events
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Ok(Inner {
            compiler: QueryCompiler::new(&schema, &fields),
            schema,
            fields,
            shared,
            search_threads: cfg.search_threads.max(1),
            writer_tx,
            queue: Arc::new(Semaphore::new(queue_capacity)),
            queue_capacity,
            live,
            maintenance,
            maintenance_tx,
            threads: Mutex::new(threads),
            closed: AtomicBool::new(false),
            lock: Mutex::new(Some(lock)),
            data_dir: cfg.data_dir.clone(),
        })
    }

    /// Queues `events` for the WAL once there is room; the receiver answers when they are durable.
    pub async fn enqueue(
        &self,
        events: Vec<Event>,
        mark: Option<Mark>,
    ) -> Result<oneshot::Receiver<Result<u64, SinkError>>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let (tx, rx) = oneshot::channel();
        if events.is_empty() {
            let _ = tx.send(Ok(self.shared.appended_seq()));
            return Ok(rx);
        }
        let permits = events.len().min(self.queue_capacity) as u32;
        let permit = self
            .queue
            .clone()
            .acquire_many_owned(permits)
            .await
            .map_err(|_| StoreError::Closed)?;
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.writer_tx
            .send(WriterMsg::Append(AppendRequest {
                events,
                reply: tx,
                permit: Some(permit),
                mark,
            }))
            .map_err(|_| StoreError::Closed)?;
        Ok(rx)
    }

    /// A receiver of live batches.
    pub fn subscribe(&self, subscriber: &str) -> Tail {
        let rx = self.live.subscribe();
        Tail::new(rx, subscriber, self.shared.appended_seq() + 1)
    }

    /// Commits everything appended so far and makes it searchable.
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let (tx, rx) = mpsc::channel();
        self.writer_tx
            .send(WriterMsg::Flush(tx))
            .map_err(|_| StoreError::Closed)?;
        match rx.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(StoreError::Index(msg)),
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Has the WAL writer delete the segments every reader has passed now.
    #[cfg(test)]
    pub fn truncate_wal(&self) {
        let (tx, rx) = mpsc::channel();
        if self.writer_tx.send(WriterMsg::Truncate(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    /// Runs retention and merging now.
    pub fn maintain(&self) -> Result<(), StoreError> {
        self.maintenance.run_once()
    }

    /// Current counters.
    pub fn stats(&self) -> StoreStats {
        let s = &self.shared;
        StoreStats {
            wal_bytes: s.wal_bytes.load(Ordering::Relaxed),
            appended_seq: s.appended_seq(),
            indexed_seq: s.committed_seq(),
            index_lag_seconds: s.lag_seconds(),
            splits: s.catalog.len() as u64,
            index_bytes: s.catalog.total_bytes(),
        }
    }

    /// Stops accepting appends, writes and fsyncs what is queued, commits, joins the threads.
    pub fn shutdown(&self) -> Result<(), StoreError> {
        self.stop(WriterMsg::Shutdown)
    }

    /// Stops the threads the way a killed process would: nothing more is
    /// fsynced or committed.
    #[cfg(test)]
    pub fn crash(&self) {
        let _ = self.stop(WriterMsg::Crash);
    }

    fn stop(&self, how: WriterMsg) -> Result<(), StoreError> {
        let threads = {
            let mut guard = match self.threads.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            std::mem::take(&mut *guard)
        };
        self.closed.store(true, Ordering::Release);
        self.shared.close();
        self.queue.close();
        if threads.is_empty() {
            return Ok(());
        }
        let _ = self.writer_tx.send(how);
        self.maintenance.stopping.store(true, Ordering::Relaxed);
        let _ = self.maintenance_tx.send(MaintenanceMsg::Stop);
        let mut panicked = Vec::new();
        for (name, handle) in threads {
            if handle.join().is_err() {
                panicked.push(name);
            }
        }
        // Everything is on disk: another store may open the directory now.
        match self.lock.lock() {
            Ok(mut l) => drop(l.take()),
            Err(poisoned) => drop(poisoned.into_inner().take()),
        }
        if panicked.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Index(format!(
                "thread(s) {} panicked",
                panicked.join(", ")
            )))
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "store shutdown on drop failed");
        }
    }
}
