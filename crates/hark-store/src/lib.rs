//! Hark's durable store.
//!
//! Events enter through [`Store::append`], which puts them in the
//! write-ahead log (the durability point) and hands them on to the indexer
//! and to live-tail subscribers. The indexer writes tantivy *splits*
//! (time-bounded index directories); [`Store::search`] prunes splits by time
//! and merges their results.
//!
//! On disk, `data_dir/wal/` holds checksummed segment files and
//! `data_dir/index/<split-id>/` one tantivy index per split with its
//! `manifest.json`, `data_dir/readers/<name>.json` the cursor of each durable
//! WAL reader ([`Store::wal_reader`]). The WAL is truncated only below what
//! the index and every durable reader have committed, and replayed past the
//! index's position on open, so an acknowledged event survives a crash and
//! is indexed exactly once. `docs/internals/wal-and-recovery.md`
//! and `docs/internals/splits.md` describe the invariants the tests check.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hark_store::StoreError> {
//! use hark_store::{Store, StoreConfig, SearchRequest};
//! let store = Store::open(StoreConfig::new("./hark-data"))?;
//! let ev = hark_event::Event::new(hark_event::now_nanos(), "demo");
//! store.append(vec![ev]).await?.wait().await?;
//! let res = store.search(&SearchRequest::new("*"))?;
//! println!("{} events", res.total);
//! # Ok(()) }
//! ```

mod backlog;
mod fields;
mod filter;
mod fsutil;
mod index;
mod maintenance;
mod query;
mod reader;
mod retention;
mod state;
mod store;
mod tail;
mod telemetry;
mod wal;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hark_event::Event;
use hark_event::sink::{AppendFuture, EventSink, Health, Receipt, SinkError};

pub use backlog::{Backlog, MAX_BACKLOG};
pub use filter::{BatchIndex, EventFilter};
pub use reader::{WalBatch, WalReader};
pub use tail::{Tail, TailError};
pub use wal::{INDEX_READER, LaggingReader};

/// Where a batch came from and how far that origin has got: stored in the
/// batch's WAL record by [`Store::append_marked`], so it is durable exactly
/// when the batch is, and read back by [`Store::mark`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// Who sent the batch (e.g. a forwarder and its buffer's identity).
    pub origin: String,
    /// The origin's own position after this batch; marks of one origin only grow.
    pub seq: u64,
}

/// When the write-ahead log calls fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// After every group commit, before acknowledging.
    Always,
    /// At most this often; appends are acknowledged once written to the OS.
    Interval(Duration),
    /// Never (the OS decides).
    Never,
}

/// Store settings.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Root directory; the store uses `wal/` and `index/` below it.
    pub data_dir: PathBuf,
    /// WAL fsync policy.
    pub fsync: FsyncPolicy,
    /// Delete sealed splits whose newest event is older than this.
    pub retention_max_age: Option<Duration>,
    /// Delete oldest sealed splits while the index is larger than this many bytes.
    pub retention_max_disk: Option<u64>,
    /// How often the indexer commits (events become searchable).
    pub commit_interval: Duration,
    /// Seal the active split after this many events.
    pub split_max_events: u64,
    /// Seal the active split after it has been open this long.
    pub split_max_age: Duration,
    /// Indexing threads given to tantivy.
    pub index_threads: usize,
    /// tantivy writer memory budget in bytes (all threads).
    pub index_memory: usize,
    /// Roll over to a new WAL segment file once the current one reaches this size.
    pub wal_segment_bytes: u64,
    /// Most events that may wait for the WAL writer before `append` makes callers wait.
    pub append_queue_events: usize,
    /// Sealed splits with fewer documents than this are "small" and may be merged.
    pub merge_max_docs: u64,
    /// Merge small sealed splits once there are more than this many.
    pub merge_trigger_splits: usize,
    /// Threads a single search may use.
    pub search_threads: usize,
    /// Most WAL bytes kept for readers that lag behind (none: no cap).
    pub wal_max_retained: Option<u64>,
    /// What happens to a reader beyond `wal_max_retained`.
    pub wal_lagging_reader: LaggingReader,
    /// Appends wait while the WAL holds this many bytes (none: no cap); a
    /// disk buffer that slows its inputs down instead of growing.
    pub wal_block_at: Option<u64>,
    /// Whether events are indexed (searchable). Without an index the store
    /// is a disk buffer: the WAL is kept only for its durable readers.
    pub index: bool,
}

impl StoreConfig {
    /// Defaults: fsync every 100 ms, 30 days retention, commit every second.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            data_dir: data_dir.into(),
            fsync: FsyncPolicy::Interval(Duration::from_millis(100)),
            retention_max_age: Some(Duration::from_secs(30 * 86_400)),
            retention_max_disk: None,
            commit_interval: Duration::from_secs(1),
            split_max_events: 10_000_000,
            split_max_age: Duration::from_secs(86_400),
            index_threads: 2,
            index_memory: 200_000_000,
            wal_segment_bytes: 64 * 1024 * 1024,
            append_queue_events: 65_536,
            merge_max_docs: 1_000_000,
            merge_trigger_splits: 8,
            search_threads: std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(2),
            wal_max_retained: None,
            wal_lagging_reader: LaggingReader::Keep,
            wal_block_at: None,
            index: true,
        }
    }
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Filesystem trouble, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What the store was doing.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The index library failed.
    #[error("index: {0}")]
    Index(String),
    /// The store is shutting down or its writer thread has stopped.
    #[error("store is closed")]
    Closed,
    /// A query could not be run.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Appended events could not be made durable.
    #[error(transparent)]
    Durability(#[from] SinkError),
    /// A WAL reader cannot be opened, committed or removed as asked.
    #[error("{0}")]
    Reader(String),
    /// The WAL reader was detached for lagging beyond `wal_max_retained`.
    #[error(
        "WAL reader `{reader}` was detached at position {position} for lagging too far behind; remove it and register it again"
    )]
    ReaderDetached {
        /// The reader's name.
        reader: String,
        /// Its last committed position.
        position: u64,
    },
}

/// Errors from a query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query text is not valid; `position` is a byte offset into it when known.
    #[error("{message}")]
    Syntax {
        /// What is wrong.
        message: String,
        /// Byte offset of the problem in the query text.
        position: Option<usize>,
    },
    /// Another request parameter is invalid (bad cursor, unknown top field, …).
    #[error("{0}")]
    BadRequest(String),
    /// Something failed inside the store.
    #[error("query failed: {0}")]
    Internal(String),
}

/// Wraps a tantivy error with what the store was doing.
pub(crate) fn index_err(
    context: impl Into<String>,
) -> impl FnOnce(tantivy::TantivyError) -> StoreError {
    let context = context.into();
    move |e| StoreError::Index(format!("{context}: {e}"))
}

/// A handle on an append: await [`Ticket::wait`] to learn the batch is durable.
#[derive(Debug)]
pub struct Ticket {
    rx: tokio::sync::oneshot::Receiver<Result<u64, SinkError>>,
}

impl Ticket {
    /// Resolves with the sequence number of the batch's last event once it
    /// is in the WAL under the fsync policy. While the WAL cannot write (a
    /// full disk) this waits; it fails only when the store shuts down first
    /// or the WAL is broken (a failed fsync).
    pub async fn wait(self) -> Result<u64, SinkError> {
        match self.rx.await {
            Ok(r) => r,
            Err(_) => Err(SinkError::ShuttingDown),
        }
    }
}

/// Histogram bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistogramInterval {
    /// Chosen from the time range (about 60–120 buckets).
    Auto,
    /// Fixed width in nanoseconds.
    Fixed(i64),
}

/// The order of a search's hits, by `(timestamp, sequence number)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest first.
    #[default]
    Desc,
    /// Oldest first.
    Asc,
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Lucene-style query text; empty or `*` matches all.
    pub query: String,
    /// Inclusive lower bound on `timestamp`, ns since epoch.
    pub from: Option<i64>,
    /// Exclusive upper bound on `timestamp`, ns since epoch.
    pub to: Option<i64>,
    /// Hits to return (1–10 000).
    pub limit: usize,
    /// Cursor from a previous response's `next`.
    pub cursor: Option<String>,
    /// Ask for a histogram of counts over time.
    pub histogram: Option<HistogramInterval>,
    /// Fields to compute top values for.
    pub top: Vec<String>,
    /// How many top values per field.
    pub top_size: usize,
    /// Newest or oldest hits first; a cursor continues in the order of the
    /// request it came from.
    pub order: Order,
}

impl SearchRequest {
    /// A request for `query` over all time, 100 hits, no aggregations.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            from: None,
            to: None,
            limit: 100,
            cursor: None,
            histogram: None,
            top: Vec::new(),
            top_size: 10,
            order: Order::Desc,
        }
    }
}

/// One histogram bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    /// Bucket start, ns since epoch.
    pub start: i64,
    /// Events in the bucket.
    pub count: u64,
}

/// One top value of a field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TopValue {
    /// The value, as text.
    pub value: String,
    /// How many events have it.
    pub count: u64,
}

/// A search result.
#[derive(Debug, Clone)]
pub struct SearchResponse {
    /// Exact number of matching events in the time range.
    pub total: u64,
    /// Hits, newest first (oldest first for [`Order::Asc`]).
    pub hits: Vec<Event>,
    /// Cursor for the next page, when there are more hits.
    pub next: Option<String>,
    /// Histogram, when asked.
    pub histogram: Option<Vec<Bucket>>,
    /// Top values per asked field.
    pub top: BTreeMap<String, Vec<TopValue>>,
    /// Time taken, milliseconds.
    pub took_ms: u64,
}

/// Counters describing the store, for /metrics.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    /// Bytes in WAL segments on disk.
    pub wal_bytes: u64,
    /// Sequence number of the last event appended to the WAL.
    pub appended_seq: u64,
    /// Sequence number of the last event the index has committed.
    pub indexed_seq: u64,
    /// Age in seconds of the oldest appended event not yet committed to the index (0 when none).
    pub index_lag_seconds: f64,
    /// Number of splits.
    pub splits: u64,
    /// Bytes of index on disk.
    pub index_bytes: u64,
}

/// The store: a cheap-to-clone handle.
///
/// Dropping the last handle shuts the store down as [`Store::shutdown`] does.
#[derive(Clone)]
pub struct Store {
    inner: Arc<store::Inner>,
}

impl Store {
    /// Opens (or creates) the store in `cfg.data_dir`, replays the WAL into the index, starts its threads.
    pub fn open(cfg: StoreConfig) -> Result<Store, StoreError> {
        Ok(Store {
            inner: Arc::new(store::Inner::open(cfg)?),
        })
    }

    /// Queues a batch for the WAL. Awaiting this applies back-pressure (bounded queue);
    /// the returned [`Ticket`] resolves once the batch is durable.
    pub async fn append(&self, events: Vec<Event>) -> Result<Ticket, StoreError> {
        let rx = self.inner.enqueue(events, None).await?;
        Ok(Ticket { rx })
    }

    /// Like [`Store::append`], with `mark` written in the same WAL record:
    /// once the ticket resolves, [`Store::mark`] returns at least
    /// `mark.seq` for its origin, now and after any restart. An empty
    /// batch carries no mark.
    pub async fn append_marked(
        &self,
        events: Vec<Event>,
        mark: Mark,
    ) -> Result<Ticket, StoreError> {
        let rx = self.inner.enqueue(events, Some(mark)).await?;
        Ok(Ticket { rx })
    }

    /// The highest mark stored for `origin` (see [`Store::append_marked`]).
    pub fn mark(&self, origin: &str) -> Option<u64> {
        self.inner.shared.mark(origin)
    }

    /// Whether the WAL can write now; [`Health::Unavailable`] names the cause
    /// while appends are held (a full disk).
    pub fn health(&self) -> Health {
        self.inner.shared.health()
    }

    /// Live events, in batches, as they are appended to the WAL; lossy for
    /// a subscriber that falls behind (see [`Tail`]). `subscriber` labels
    /// its count of missed events in the metrics.
    pub fn subscribe(&self, subscriber: &str) -> Tail {
        self.inner.subscribe(subscriber)
    }

    /// Like [`Store::subscribe`], with the newest `backlog` stored events
    /// (at most [`MAX_BACKLOG`]) that match `query` before the first live
    /// batch: nothing appended is missed between the two or seen in both,
    /// including events in the WAL that are not searchable yet. Blocking.
    pub fn subscribe_with_backlog(
        &self,
        subscriber: &str,
        query: &str,
        backlog: usize,
    ) -> Result<Backlog, QueryError> {
        let filter = self.compile_filter(query)?;
        let tail = self.subscribe(subscriber);
        let history = backlog::history(&self.search_env(), &filter, &tail, query, backlog)?;
        Ok(Backlog { history, tail })
    }

    /// Opens the durable WAL reader `name`, registering it when new (it then
    /// reads the events appended from now on). See [`WalReader`].
    pub fn wal_reader(&self, name: &str) -> Result<WalReader, StoreError> {
        WalReader::open(self.inner.shared.clone(), name)
    }

    /// The names of the registered WAL readers (the index aside).
    pub fn wal_readers(&self) -> Vec<String> {
        self.inner.shared.readers.names()
    }

    /// Unregisters the WAL reader `name` (its handle must be dropped): the
    /// WAL no longer keeps segments for it. Returns whether it existed.
    pub fn remove_wal_reader(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.shared.readers.remove(name)
    }

    /// Events dropped from under the WAL reader `name` since the store
    /// opened (see [`LaggingReader::DropOldest`]).
    pub fn wal_reader_dropped(&self, name: &str) -> u64 {
        self.inner.shared.readers.dropped(name)
    }

    /// Changes the WAL's caps while the store runs: the values of
    /// [`StoreConfig::wal_max_retained`], [`StoreConfig::wal_lagging_reader`]
    /// and [`StoreConfig::wal_block_at`]. They apply at the next truncation
    /// and the next append (or retry of a held one).
    pub fn set_wal_caps(
        &self,
        max_retained: Option<u64>,
        lagging_reader: LaggingReader,
        block_at: Option<u64>,
    ) {
        self.inner
            .shared
            .readers
            .set_cap(max_retained, lagging_reader);
        self.inner.shared.set_wal_block_at(block_at);
    }

    /// The WAL's caps in force: `wal_max_retained`, `wal_lagging_reader`
    /// and `wal_block_at`.
    pub fn wal_caps(&self) -> (Option<u64>, LaggingReader, Option<u64>) {
        let (max_retained, lagging_reader) = self.inner.shared.readers.cap();
        (
            max_retained,
            lagging_reader,
            self.inner.shared.wal_block_at(),
        )
    }

    /// Compiles a query for filtering live events.
    pub fn compile_filter(&self, query: &str) -> Result<EventFilter, QueryError> {
        let compiled = self.inner.compiler.compile(query)?;
        Ok(EventFilter::new(
            compiled,
            &self.inner.schema,
            &self.inner.fields,
        ))
    }

    /// Indexes `events` in memory so that many [`EventFilter`]s can run on
    /// them with [`EventFilter::matching_in`].
    pub fn index_batch(&self, events: &[Event]) -> Result<BatchIndex, StoreError> {
        BatchIndex::build(&self.inner.schema, &self.inner.fields, events)
            .map_err(|e| StoreError::Index(e.to_string()))
    }

    /// Runs a search (blocking; call from a blocking-capable thread).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, QueryError> {
        query::search(&self.search_env(), req)
    }

    fn search_env(&self) -> query::SearchEnv<'_> {
        query::SearchEnv {
            shared: &self.inner.shared,
            compiler: &self.inner.compiler,
            schema: &self.inner.schema,
            fields: &self.inner.fields,
            threads: self.inner.search_threads,
        }
    }

    /// The field names of the searchable events in `[from, to)` (ns),
    /// sorted: the fixed ones (`host`, `message`, …) and those inside
    /// `fields` (without the `fields.` prefix). Read from index metadata,
    /// so events in the same splits just outside the range may add names.
    /// Blocking.
    pub fn field_names(
        &self,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<String>, QueryError> {
        fields::field_names(&self.inner.shared, from, to)
    }

    /// The data directory the store was opened in.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.inner.data_dir
    }

    /// Makes everything appended so far searchable now (commit + reload). Used by tests and shutdown.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    /// Runs retention and split merging now (they also run in the background
    /// every minute and after a split is sealed).
    pub fn maintain(&self) -> Result<(), StoreError> {
        self.inner.maintain()
    }

    /// Current counters.
    pub fn stats(&self) -> StoreStats {
        self.inner.stats()
    }

    /// Stops accepting appends, makes the WAL durable, commits the index and joins the threads.
    pub fn shutdown(&self) -> Result<(), StoreError> {
        self.inner.shutdown()
    }

    /// Stops the threads without fsyncing or committing, as `kill -9` would.
    #[cfg(test)]
    pub(crate) fn crash(&self) {
        self.inner.crash();
    }
}

impl EventSink for Store {
    fn append(&self, events: Vec<Event>) -> AppendFuture<'_> {
        Box::pin(async move {
            match Store::append(self, events).await {
                Ok(ticket) => Ok(Receipt::new(ticket.wait())),
                Err(_) => Err(SinkError::ShuttingDown),
            }
        })
    }

    fn health(&self) -> Health {
        Store::health(self)
    }
}
