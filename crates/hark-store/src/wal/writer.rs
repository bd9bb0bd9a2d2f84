//! The WAL writer thread: group commit, fsync policy, rotation, truncation.
//!
//! A write that fails (a full disk, a quota, an I/O error) loses nothing:
//! the failed part of the group is cut off the segment, its batches are
//! held unanswered, and the writer retries them every [`RETRY_INTERVAL`].
//! Batches that arrive meanwhile join them; the bounded append queue fills,
//! so inputs stop reading (back-pressure) instead of answering errors. The
//! cause is in the log (once, then a reminder every minute), in
//! `hark_storage_unavailable{cause}` and in [`crate::Store::health`]. When a
//! retry succeeds everything held is written and answered in order.
//!
//! With a byte cap (`StoreConfig::wal_block_at`) a full WAL is handled the
//! same way: the batches are held and tried again (every
//! [`FULL_RETRY_INTERVAL`]) until readers have committed enough for whole
//! segments to be deleted. The cause is `buffer_full`.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::{Duration, Instant};

use hark_event::Event;
use hark_event::sink::{Health, SinkError};
use tokio::sync::{OwnedSemaphorePermit, broadcast, oneshot};

use super::record::encode_record;
use super::segment::{SegmentFile, segment_name};
use super::{Batch, Marks, Recovered};
use crate::fsutil::{io_err, sync_dir};
use crate::index::IndexerMsg;
use crate::state::Shared;
use crate::telemetry;
use crate::{FsyncPolicy, Mark, StoreError};

/// Most events written in one group before acknowledging.
const MAX_GROUP_EVENTS: usize = 16_384;
/// How often an idle writer looks for segments it may delete.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// How often held batches are tried again while the WAL cannot write.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// How often held batches are tried again while the WAL is at its byte cap.
const FULL_RETRY_INTERVAL: Duration = Duration::from_millis(20);
/// How often the log is reminded that the WAL still cannot write.
const REMINDER_INTERVAL: Duration = Duration::from_secs(60);

/// A batch waiting to be written.
pub(crate) struct AppendRequest {
    /// The events.
    pub events: Vec<Event>,
    /// Answered with the last sequence number once durable under the policy.
    pub reply: oneshot::Sender<Result<u64, SinkError>>,
    /// Queue capacity held until the batch is written.
    pub permit: Option<OwnedSemaphorePermit>,
    /// The origin mark written in the batch's record.
    pub mark: Option<Mark>,
}

/// What the writer thread is asked to do.
pub(crate) enum WriterMsg {
    /// Write a batch.
    Append(AppendRequest),
    /// Make everything so far durable and searchable, then answer.
    Flush(Sender<Result<(), String>>),
    /// Write what is queued, fsync, stop the indexer, exit.
    Shutdown,
    /// Exit at once, as a killed process would (tests).
    #[cfg(test)]
    Crash,
    /// Retire and delete what every reader has committed now, then answer (tests).
    #[cfg(test)]
    Truncate(Sender<()>),
}

/// The open WAL, positioned for appending.
pub(crate) struct WalWriter {
    dir: PathBuf,
    segments: Vec<SegmentFile>,
    file: File,
    /// Bytes in the current (last) segment.
    cur_len: u64,
    next_seq: u64,
    fsync: FsyncPolicy,
    segment_bytes: u64,
    /// Written data not yet fsynced.
    dirty: bool,
    last_sync: Instant,
    /// A write could not be undone or an fsync failed: refuse further
    /// appends, with this cause.
    broken: Option<SinkError>,
}

impl WalWriter {
    /// Opens the WAL for appending after `recovered`; the first new event gets `next_seq`.
    pub fn open(
        dir: &Path,
        recovered: &Recovered,
        next_seq: u64,
        fsync: FsyncPolicy,
        segment_bytes: u64,
    ) -> Result<WalWriter, StoreError> {
        let mut segments = recovered.segments.clone();
        let reuse = segments
            .last()
            .is_some_and(|s| s.valid_len < segment_bytes && s.valid_len == file_len(&s.path));
        let (file, cur_len) = if let Some(last) = segments.last().filter(|_| reuse) {
            let f = OpenOptions::new()
                .append(true)
                .open(&last.path)
                .map_err(io_err(format!("opening {}", last.path.display())))?;
            (f, last.valid_len)
        } else {
            let (f, seg) = create_segment(dir, next_seq)?;
            segments.push(seg);
            (f, 0)
        };
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            segments,
            file,
            cur_len,
            next_seq,
            fsync,
            segment_bytes: segment_bytes.max(1),
            dirty: false,
            last_sync: Instant::now(),
            broken: None,
        })
    }

    fn total_bytes(&self) -> u64 {
        let older: u64 = self.segments[..self.segments.len() - 1]
            .iter()
            .map(|s| s.valid_len)
            .sum();
        older + self.cur_len
    }

    fn sync(&mut self) -> std::io::Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Starts a new segment whose first record will be `first_seq`. When the
    /// new file cannot be created the current segment simply grows on.
    fn rotate(&mut self, first_seq: u64) {
        if let Err(e) = self.sync() {
            self.break_on_fsync(&e);
            return;
        }
        match create_segment(&self.dir, first_seq) {
            Ok((file, seg)) => {
                if let Some(last) = self.segments.last_mut() {
                    last.valid_len = self.cur_len;
                }
                self.file = file;
                self.segments.push(seg);
                self.cur_len = 0;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start a new WAL segment; the current one grows on");
            }
        }
    }

    /// Writes `bytes` at the end of the current segment, or leaves it as it was.
    fn write_chunk(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.cur_len += bytes.len() as u64;
                self.dirty = true;
                Ok(())
            }
            Err(e) => {
                // A half-written record would end replay early: cut it off.
                if let Err(undo) = self.file.set_len(self.cur_len) {
                    tracing::error!(error = %undo, "cannot undo a failed WAL write; refusing further appends");
                    self.broken = Some(unavailable(format!(
                        "cannot undo a failed WAL write: {undo}"
                    )));
                }
                Err(e)
            }
        }
    }

    /// Deletes segments holding only events every reader has committed.
    /// The marks written so far are saved first (after an fsync, so that
    /// each belongs to a durable record): they outlive their segments.
    fn truncate(&mut self, committed: u64, marks: &Marks) {
        let deletable =
            self.segments.len() >= 2 && self.segments[1].first_seq <= committed.saturating_add(1);
        if !deletable {
            return;
        }
        if !marks.all().is_empty() {
            if let Err(e) = self.sync() {
                self.break_on_fsync(&e);
                return;
            }
            if let Err(e) = marks.save(&self.dir) {
                tracing::warn!(error = %e, "could not save the origin marks; keeping the WAL segments that hold them");
                return;
            }
        }
        let mut removed = false;
        while self.segments.len() >= 2 && self.segments[1].first_seq <= committed.saturating_add(1)
        {
            let seg = self.segments.remove(0);
            match std::fs::remove_file(&seg.path) {
                Ok(()) => removed = true,
                Err(e) => {
                    tracing::warn!(segment = %seg.path.display(), error = %e, "could not delete a WAL segment");
                    self.segments.insert(0, seg);
                    break;
                }
            }
        }
        if removed && let Err(e) = sync_dir(&self.dir) {
            tracing::warn!(error = %e, "could not sync the WAL directory");
        }
    }

    /// After a failed fsync the kernel may have dropped the written pages:
    /// nothing written since the last good fsync can be trusted, so the WAL
    /// takes no more appends until a restart replays what is on disk.
    fn break_on_fsync(&mut self, e: &std::io::Error) {
        tracing::error!(error = %e, "WAL fsync failed; refusing further appends until restart");
        telemetry::set_storage_unavailable(Some(cause_label(e)));
        self.broken = Some(unavailable(format!("WAL fsync failed: {e}")));
    }

    /// The segments with the current one's written length, for readers.
    fn published_segments(&self) -> Vec<SegmentFile> {
        let mut segments = self.segments.clone();
        if let Some(last) = segments.last_mut() {
            last.valid_len = self.cur_len;
        }
        segments
    }

    /// How long the thread may wait for work before it has something to do.
    fn idle_timeout(&self) -> Duration {
        match self.fsync {
            FsyncPolicy::Interval(d) if self.dirty => {
                (self.last_sync + d).saturating_duration_since(Instant::now())
            }
            _ => IDLE_TICK,
        }
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX)
}

fn create_segment(dir: &Path, first_seq: u64) -> Result<(File, SegmentFile), StoreError> {
    let path = dir.join(segment_name(first_seq));
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(io_err(format!("creating WAL segment {}", path.display())))?;
    // Reopen in append mode so that a rollback with set_len moves the write position too.
    drop(file);
    let file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_err(format!("opening WAL segment {}", path.display())))?;
    sync_dir(dir).map_err(io_err(format!("syncing {}", dir.display())))?;
    Ok((
        file,
        SegmentFile {
            first_seq,
            path,
            valid_len: 0,
        },
    ))
}

/// Everything the writer thread owns.
pub(crate) struct WriterCtx {
    /// The WAL.
    pub wal: WalWriter,
    /// Requests from [`crate::Store`].
    pub rx: Receiver<WriterMsg>,
    /// Where written batches go to be indexed (none: the store keeps no index).
    pub indexer: Option<SyncSender<IndexerMsg>>,
    /// Live-tail subscribers.
    pub live: broadcast::Sender<Batch>,
    /// Shared counters.
    pub shared: Arc<Shared>,
    /// The indexer's queue is closed (reported once).
    pub indexer_gone: bool,
    /// When a full WAL was last reported in the log.
    pub full_reported: Option<Instant>,
}

/// The writer thread's body.
pub(crate) fn run_writer(mut ctx: WriterCtx) {
    let mut appends: Vec<AppendRequest> = Vec::new();
    loop {
        let first = match ctx.rx.recv_timeout(ctx.wal.idle_timeout()) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                ctx.on_idle();
                ctx.retire_committed_segment();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => WriterMsg::Shutdown,
        };
        let mut next = Some(first);
        let mut events = 0usize;
        while let Some(msg) = next.take() {
            match msg {
                WriterMsg::Append(req) => {
                    events += req.events.len();
                    appends.push(req);
                    if events < MAX_GROUP_EVENTS {
                        next = ctx.rx.try_recv().ok();
                    }
                }
                WriterMsg::Flush(reply) => {
                    if ctx.write_group(&mut appends) == Flow::Exit {
                        return;
                    }
                    ctx.flush(reply);
                    next = ctx.rx.try_recv().ok();
                }
                WriterMsg::Shutdown => {
                    if ctx.write_group(&mut appends) == Flow::Continue {
                        ctx.shutdown();
                    }
                    return;
                }
                #[cfg(test)]
                WriterMsg::Crash => {
                    ctx.send_indexer(IndexerMsg::Crash);
                    return;
                }
                #[cfg(test)]
                WriterMsg::Truncate(reply) => {
                    if ctx.write_group(&mut appends) == Flow::Exit {
                        return;
                    }
                    ctx.retire_committed_segment();
                    ctx.truncate();
                    let _ = reply.send(());
                    next = ctx.rx.try_recv().ok();
                }
            }
        }
        if ctx.write_group(&mut appends) == Flow::Exit {
            return;
        }
        ctx.on_idle();
    }
}

/// Whether the writer thread goes on after a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Keep serving.
    Continue,
    /// The thread has shut down (while waiting out a failure).
    Exit,
}

/// A batch encoded into the group buffer.
struct Encoded {
    req: AppendRequest,
    first_seq: u64,
}

/// Batches a failed write left unanswered, to be tried again.
struct Held {
    reqs: Vec<AppendRequest>,
    error: std::io::Error,
}

/// An `Unavailable` error with `cause`, dated now.
fn unavailable(cause: String) -> SinkError {
    SinkError::Unavailable {
        cause,
        since_unix: unix_now(),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The WAL holds as many bytes as `StoreConfig::wal_block_at` allows.
#[derive(Debug)]
struct BufferFull {
    cap: u64,
}

impl std::fmt::Display for BufferFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the WAL holds its cap of {} bytes; appends wait until its readers catch up",
            self.cap
        )
    }
}

impl std::error::Error for BufferFull {}

fn is_buffer_full(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<BufferFull>())
}

/// A short, fixed name for what failed, used as a metric label.
fn cause_label(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    if is_buffer_full(e) {
        return "buffer_full";
    }
    match e.kind() {
        ErrorKind::StorageFull => "disk_full",
        ErrorKind::QuotaExceeded => "quota_exceeded",
        ErrorKind::ReadOnlyFilesystem => "read_only",
        _ => "io_error",
    }
}

impl WriterCtx {
    /// Hands a message to the indexer, when there is one.
    fn send_indexer(&mut self, msg: IndexerMsg) {
        if let Some(indexer) = &self.indexer
            && indexer.send(msg).is_err()
            && !self.indexer_gone
        {
            self.indexer_gone = true;
            tracing::error!("the indexer has stopped; events stay in the WAL until restart");
        }
    }

    fn on_idle(&mut self) {
        if let FsyncPolicy::Interval(d) = self.wal.fsync
            && self.wal.dirty
            && self.wal.last_sync.elapsed() >= d
            && let Err(e) = self.wal.sync()
        {
            self.wal.break_on_fsync(&e);
            self.note_broken();
        }
        self.truncate();
    }

    /// When nothing arrives and the index has committed everything, starts
    /// a new, empty segment so that the current one can be deleted: a quiet
    /// store keeps no WAL bytes it will never replay.
    fn retire_committed_segment(&mut self) {
        let all_committed = self.shared.committed_seq().saturating_add(1) >= self.wal.next_seq;
        if self.wal.cur_len == 0 || !all_committed || self.wal.broken.is_some() {
            return;
        }
        self.wal.rotate(self.wal.next_seq);
        self.note_broken();
        self.truncate();
    }

    fn truncate(&mut self) {
        let point = self
            .shared
            .wal_truncate_point(&self.wal.published_segments());
        let marks = self.shared.marks();
        self.wal.truncate(point, &marks);
        self.shared
            .publish_wal_segments(&self.wal.published_segments());
        let bytes = self.wal.total_bytes();
        self.shared.wal_bytes.store(bytes, Ordering::Relaxed);
        telemetry::set_wal_bytes(bytes);
    }

    /// Makes a broken WAL visible to inputs (HTTP answers 507 from it).
    fn note_broken(&self) {
        if let Some(SinkError::Unavailable { cause, since_unix }) = &self.wal.broken {
            self.shared.set_health(Health::Unavailable {
                cause: cause.clone(),
                since_unix: *since_unix,
            });
        }
    }

    /// Writes `reqs` as one group; when the write fails, holds the batches
    /// and retries them until it succeeds or the store shuts down.
    fn write_group(&mut self, reqs: &mut Vec<AppendRequest>) -> Flow {
        match self.commit_group(reqs) {
            Ok(()) => Flow::Continue,
            Err(held) => self.wait_out_failure(held),
        }
    }

    /// Retries held batches every [`RETRY_INTERVAL`]; batches that arrive
    /// meanwhile join them. Nothing is answered until it is written.
    fn wait_out_failure(&mut self, held: Held) -> Flow {
        let began = Instant::now();
        let Held { mut reqs, error } = held;
        let mut cause = error.to_string();
        let mut label = cause_label(&error);
        let since_unix = unix_now();
        let count = |reqs: &[AppendRequest]| reqs.iter().map(|r| r.events.len()).sum::<usize>();
        let full = is_buffer_full(&error);
        let retry = if full {
            FULL_RETRY_INTERVAL
        } else {
            RETRY_INTERVAL
        };
        if !full {
            tracing::error!(error = %cause, held_events = count(&reqs), "cannot write to the WAL; holding the events unanswered and retrying every second");
        } else if self
            .full_reported
            .is_none_or(|at| at.elapsed() >= REMINDER_INTERVAL)
        {
            self.full_reported = Some(Instant::now());
            tracing::warn!(error = %cause, "the WAL is full; inputs wait (back-pressure) until it drains");
        }
        telemetry::wal_write_failed(label);
        telemetry::set_storage_unavailable(Some(label));
        let health = |cause: &str| Health::Unavailable {
            cause: cause.to_owned(),
            since_unix,
        };
        self.shared.set_health(health(&cause));
        let mut reminded = Instant::now();
        let mut next_try = Instant::now() + retry;
        loop {
            match self
                .rx
                .recv_timeout(next_try.saturating_duration_since(Instant::now()))
            {
                Ok(WriterMsg::Append(req)) => {
                    reqs.push(req);
                    continue;
                }
                Ok(WriterMsg::Flush(reply)) => {
                    let _ = reply.send(Err(format!("the WAL cannot write: {cause}")));
                    continue;
                }
                Ok(WriterMsg::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    tracing::warn!(
                        held_events = count(&reqs),
                        "shutting down while the WAL cannot write; the held events were not acknowledged, so senders that wait for acknowledgements will resend them"
                    );
                    for req in reqs {
                        let _ = req.reply.send(Err(SinkError::ShuttingDown));
                    }
                    self.shared.set_health(Health::Ready);
                    telemetry::set_storage_unavailable(None);
                    self.shutdown();
                    return Flow::Exit;
                }
                #[cfg(test)]
                Ok(WriterMsg::Crash) => {
                    self.send_indexer(IndexerMsg::Crash);
                    return Flow::Exit;
                }
                #[cfg(test)]
                Ok(WriterMsg::Truncate(reply)) => {
                    let _ = reply.send(());
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            next_try = Instant::now() + retry;
            if full {
                self.truncate();
            }
            match self.commit_group(&mut reqs) {
                Ok(()) => {
                    if !full {
                        tracing::info!(after = ?began.elapsed(), "the WAL can write again; the held events are stored");
                    }
                    telemetry::set_storage_unavailable(None);
                    self.shared.set_health(Health::Ready);
                    self.note_broken();
                    return Flow::Continue;
                }
                Err(again) => {
                    reqs = again.reqs;
                    let now_label = cause_label(&again.error);
                    if now_label != label {
                        label = now_label;
                        telemetry::set_storage_unavailable(Some(label));
                    }
                    cause = again.error.to_string();
                    self.shared.set_health(health(&cause));
                    if reminded.elapsed() >= REMINDER_INTERVAL {
                        reminded = Instant::now();
                        tracing::error!(error = %cause, for_secs = began.elapsed().as_secs(), held_events = count(&reqs), "the WAL still cannot write; the events stay held and inputs wait");
                    }
                }
            }
        }
    }

    /// Writes `reqs` as one group, applies the fsync policy, answers them and
    /// hands the written batches on. When a write fails, the batches not yet
    /// written come back unanswered.
    fn commit_group(&mut self, reqs: &mut Vec<AppendRequest>) -> Result<(), Held> {
        if reqs.is_empty() {
            return Ok(());
        }
        if let Some(err) = &self.wal.broken {
            for req in reqs.drain(..) {
                let _ = req.reply.send(Err(err.clone()));
            }
            return Ok(());
        }
        if let Some(cap) = self.shared.wal_block_at()
            && self.wal.total_bytes() >= cap
        {
            self.truncate();
            if self.wal.total_bytes() >= cap {
                let error = std::io::Error::new(ErrorKind::QuotaExceeded, BufferFull { cap });
                return Err(Held {
                    reqs: std::mem::take(reqs),
                    error,
                });
            }
        }
        let total: usize = reqs.iter().map(|r| r.events.len()).sum();
        let mut buf = Vec::with_capacity(total * 256 + 64);
        let mut written: Vec<Encoded> = Vec::with_capacity(reqs.len());
        let mut chunk: Vec<Encoded> = Vec::new();
        let mut chunk_start = 0usize;
        let mut rest = std::mem::take(reqs).into_iter();
        while let Some(req) = rest.next() {
            let chunk_len = (buf.len() - chunk_start) as u64;
            if let Some(cap) = self.shared.wal_block_at()
                && self.wal.total_bytes() + chunk_len >= cap
            {
                // Full: write what is encoded, hold this batch and the rest.
                if let Err(error) = self.wal.write_chunk(&buf[chunk_start..]) {
                    let held = self.unwind(chunk, std::iter::once(req).chain(rest));
                    self.finish(written);
                    return Err(Held { reqs: held, error });
                }
                written.append(&mut chunk);
                self.finish(written);
                let error = std::io::Error::new(ErrorKind::QuotaExceeded, BufferFull { cap });
                return Err(Held {
                    reqs: std::iter::once(req).chain(rest).collect(),
                    error,
                });
            }
            if self.wal.cur_len + chunk_len >= self.wal.segment_bytes
                && self.wal.cur_len + chunk_len > 0
            {
                if let Err(error) = self.wal.write_chunk(&buf[chunk_start..]) {
                    let held = self.unwind(chunk, std::iter::once(req).chain(rest));
                    self.finish(written);
                    return Err(Held { reqs: held, error });
                }
                written.append(&mut chunk);
                chunk_start = buf.len();
                self.wal.rotate(self.wal.next_seq);
            }
            let first_seq = self.wal.next_seq;
            if let Err(e) = encode_record(first_seq, &req.events, req.mark.as_ref(), &mut buf) {
                tracing::error!(error = %e, "cannot encode a batch for the WAL");
                let _ = req
                    .reply
                    .send(Err(unavailable(format!("cannot encode the batch: {e}"))));
                continue;
            }
            self.wal.next_seq += req.events.len() as u64;
            chunk.push(Encoded { req, first_seq });
        }
        if let Err(error) = self.wal.write_chunk(&buf[chunk_start..]) {
            let held = self.unwind(chunk, std::iter::empty());
            self.finish(written);
            return Err(Held { reqs: held, error });
        }
        written.append(&mut chunk);
        self.finish(written);
        Ok(())
    }

    /// Takes back the sequence numbers of a chunk that was not written and
    /// returns its batches, followed by `rest`, in their order.
    fn unwind(
        &mut self,
        chunk: Vec<Encoded>,
        rest: impl Iterator<Item = AppendRequest>,
    ) -> Vec<AppendRequest> {
        if let Some(first) = chunk.first() {
            self.wal.next_seq = first.first_seq;
        }
        chunk.into_iter().map(|e| e.req).chain(rest).collect()
    }

    /// Applies the fsync policy to written batches, then answers them.
    fn finish(&mut self, written: Vec<Encoded>) {
        if written.is_empty() {
            return;
        }
        if self.wal.fsync == FsyncPolicy::Always
            && let Err(e) = self.wal.sync()
        {
            self.wal.break_on_fsync(&e);
            self.note_broken();
            if let Some(err) = &self.wal.broken {
                for enc in written {
                    let _ = enc.req.reply.send(Err(err.clone()));
                }
            }
            return;
        }
        self.acknowledge(written);
        if let FsyncPolicy::Interval(d) = self.wal.fsync
            && self.wal.last_sync.elapsed() >= d
            && let Err(e) = self.wal.sync()
        {
            self.wal.break_on_fsync(&e);
            self.note_broken();
        }
    }

    /// Answers written batches and passes them to the indexer and live tail.
    fn acknowledge(&mut self, written: Vec<Encoded>) {
        let now = Instant::now();
        let last_seq = written
            .last()
            .map_or(0, |e| e.first_seq + e.req.events.len() as u64 - 1);
        // Readers catching up from disk may now read these batches. Published
        // before the sequence number moves on: whoever reads the appended
        // sequence number finds every event up to it in the published
        // segments (the tail backlog relies on it).
        self.shared
            .publish_wal_segments(&self.wal.published_segments());
        for enc in &written {
            if let Some(mark) = &enc.req.mark {
                self.shared.raise_mark(mark.clone());
            }
        }
        self.shared.note_appended(last_seq, now);
        if self.indexer.is_none() {
            // Without an index nothing but the durable readers holds the WAL.
            self.shared.note_committed(last_seq);
        }
        let bytes = self.wal.total_bytes();
        self.shared.wal_bytes.store(bytes, Ordering::Relaxed);
        telemetry::set_wal_bytes(bytes);
        let mut batches = Vec::with_capacity(written.len());
        let mut replies = Vec::with_capacity(written.len());
        for enc in written {
            let AppendRequest {
                events,
                reply,
                permit,
                mark: _,
            } = enc.req;
            drop(permit);
            count_by_input(&events);
            replies.push((reply, enc.first_seq + events.len() as u64 - 1));
            batches.push(Batch {
                first_seq: enc.first_seq,
                events: Arc::new(events),
            });
        }
        for b in &batches {
            // No subscribers is fine; lagging ones lose messages by design.
            let _ = self.live.send(b.clone());
        }
        // Answered after the broadcast, so an acknowledged batch is already
        // in every live subscriber's queue.
        for (reply, last) in replies {
            let _ = reply.send(Ok(last));
        }
        self.send_indexer(IndexerMsg::Batches(batches));
    }

    fn flush(&mut self, reply: Sender<Result<(), String>>) {
        if let Err(e) = self.wal.sync() {
            let _ = reply.send(Err(format!("WAL fsync failed: {e}")));
            return;
        }
        let Some(indexer) = &self.indexer else {
            let _ = reply.send(Ok(()));
            return;
        };
        if let Err(std::sync::mpsc::SendError(IndexerMsg::Flush(reply))) =
            indexer.send(IndexerMsg::Flush(reply))
        {
            let _ = reply.send(Err("the indexer has stopped".into()));
        }
    }

    fn shutdown(&mut self) {
        if let Err(e) = self.wal.sync() {
            tracing::error!(error = %e, "WAL fsync at shutdown failed");
        }
        if let Some(indexer) = &self.indexer {
            let _ = indexer.send(IndexerMsg::Shutdown);
        }
    }
}

/// Counts stored events per input, one metric update per run of equal inputs.
fn count_by_input(events: &[Event]) {
    let mut run_start = 0;
    for i in 1..=events.len() {
        if i == events.len() || events[i].input != events[run_start].input {
            telemetry::events_stored(&events[run_start].input, (i - run_start) as u64);
            run_start = i;
        }
    }
}
