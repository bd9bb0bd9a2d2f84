//! The WAL writer thread: group commit, fsync policy, rotation, truncation.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::{Duration, Instant};

use hark_event::Event;
use tokio::sync::{OwnedSemaphorePermit, broadcast, oneshot};

use super::record::encode_record;
use super::segment::{SegmentFile, segment_name};
use super::{Batch, Recovered};
use crate::fsutil::{io_err, sync_dir};
use crate::index::IndexerMsg;
use crate::state::Shared;
use crate::telemetry;
use crate::{FsyncPolicy, StoreError};

/// Most events written in one group before acknowledging.
const MAX_GROUP_EVENTS: usize = 16_384;
/// How often an idle writer looks for segments it may delete.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// A batch waiting to be written.
pub(crate) struct AppendRequest {
    /// The events.
    pub events: Vec<Event>,
    /// Answered with the last sequence number once durable under the policy.
    pub reply: oneshot::Sender<Result<u64, String>>,
    /// Queue capacity held until the batch is written.
    pub permit: Option<OwnedSemaphorePermit>,
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
    /// A write could not be undone or an fsync failed: refuse further appends.
    broken: bool,
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
            broken: false,
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
            tracing::error!(error = %e, "WAL fsync failed; refusing further appends");
            self.broken = true;
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
    fn write_chunk(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
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
                    self.broken = true;
                }
                Err(StoreError::Io {
                    context: "writing to the WAL".into(),
                    source: e,
                })
            }
        }
    }

    /// Deletes segments holding only events the index has committed.
    fn truncate(&mut self, committed: u64) {
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
    /// Where written batches go to be indexed.
    pub indexer: SyncSender<IndexerMsg>,
    /// Live-tail subscribers.
    pub live: broadcast::Sender<Arc<Vec<Event>>>,
    /// Shared counters.
    pub shared: Arc<Shared>,
    /// The indexer's queue is closed (reported once).
    pub indexer_gone: bool,
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
                    ctx.commit_group(&mut appends);
                    ctx.flush(reply);
                    next = ctx.rx.try_recv().ok();
                }
                WriterMsg::Shutdown => {
                    ctx.commit_group(&mut appends);
                    ctx.shutdown();
                    return;
                }
                #[cfg(test)]
                WriterMsg::Crash => {
                    let _ = ctx.indexer.send(IndexerMsg::Crash);
                    return;
                }
            }
        }
        ctx.commit_group(&mut appends);
        ctx.on_idle();
    }
}

/// A batch encoded into the group buffer.
struct Encoded {
    req: AppendRequest,
    first_seq: u64,
}

impl WriterCtx {
    fn on_idle(&mut self) {
        if let FsyncPolicy::Interval(d) = self.wal.fsync
            && self.wal.dirty
            && self.wal.last_sync.elapsed() >= d
            && let Err(e) = self.wal.sync()
        {
            tracing::error!(error = %e, "WAL fsync failed; refusing further appends");
            self.wal.broken = true;
        }
        self.truncate();
    }

    /// When nothing arrives and the index has committed everything, starts
    /// a new, empty segment so that the current one can be deleted: a quiet
    /// store keeps no WAL bytes it will never replay.
    fn retire_committed_segment(&mut self) {
        let all_committed = self.shared.committed_seq().saturating_add(1) >= self.wal.next_seq;
        if self.wal.cur_len == 0 || !all_committed || self.wal.broken {
            return;
        }
        self.wal.rotate(self.wal.next_seq);
        self.truncate();
    }

    fn truncate(&mut self) {
        self.wal.truncate(self.shared.committed_seq());
        let bytes = self.wal.total_bytes();
        self.shared.wal_bytes.store(bytes, Ordering::Relaxed);
        telemetry::set_wal_bytes(bytes);
    }

    /// Writes `reqs` as one group, applies the fsync policy, answers them and
    /// hands the written batches on.
    fn commit_group(&mut self, reqs: &mut Vec<AppendRequest>) {
        if reqs.is_empty() {
            return;
        }
        if self.wal.broken {
            for req in reqs.drain(..) {
                let _ = req.reply.send(Err("the WAL is not writable".into()));
            }
            return;
        }
        let total: usize = reqs.iter().map(|r| r.events.len()).sum();
        let mut buf = Vec::with_capacity(total * 256 + 64);
        let mut written: Vec<Encoded> = Vec::with_capacity(reqs.len());
        let mut chunk: Vec<Encoded> = Vec::new();
        let mut chunk_start = 0usize;
        let mut failure: Option<String> = None;
        let mut rest = reqs.drain(..);
        for req in rest.by_ref() {
            let chunk_len = (buf.len() - chunk_start) as u64;
            if self.wal.cur_len + chunk_len >= self.wal.segment_bytes
                && self.wal.cur_len + chunk_len > 0
            {
                match self.wal.write_chunk(&buf[chunk_start..]) {
                    Ok(()) => {
                        written.append(&mut chunk);
                        chunk_start = buf.len();
                        self.wal.rotate(self.wal.next_seq);
                    }
                    Err(e) => {
                        failure = Some(e.to_string());
                        let _ = req.reply.send(Err(e.to_string()));
                        break;
                    }
                }
            }
            let first_seq = self.wal.next_seq;
            if let Err(e) = encode_record(first_seq, &req.events, &mut buf) {
                tracing::error!(error = %e, "cannot encode a batch for the WAL");
                let _ = req.reply.send(Err(e.to_string()));
                continue;
            }
            self.wal.next_seq += req.events.len() as u64;
            chunk.push(Encoded { req, first_seq });
        }
        // Whatever was not reached (after a failure) is refused.
        for req in rest {
            let _ = req.reply.send(Err("the WAL write failed".into()));
        }
        if failure.is_none() {
            match self.wal.write_chunk(&buf[chunk_start..]) {
                Ok(()) => written.append(&mut chunk),
                Err(e) => failure = Some(e.to_string()),
            }
        }
        if let Some(reason) = &failure {
            tracing::error!(error = %reason, "WAL write failed");
            if let Some(first) = chunk.first() {
                self.wal.next_seq = first.first_seq;
            }
            for enc in chunk.drain(..) {
                let _ = enc.req.reply.send(Err(reason.clone()));
            }
        }
        if written.is_empty() {
            return;
        }
        if self.wal.fsync == FsyncPolicy::Always
            && let Err(e) = self.wal.sync()
        {
            tracing::error!(error = %e, "WAL fsync failed; refusing further appends");
            self.wal.broken = true;
            for enc in written {
                let _ = enc.req.reply.send(Err(format!("WAL fsync failed: {e}")));
            }
            return;
        }
        self.acknowledge(written);
        if let FsyncPolicy::Interval(d) = self.wal.fsync
            && self.wal.last_sync.elapsed() >= d
            && let Err(e) = self.wal.sync()
        {
            tracing::error!(error = %e, "WAL fsync failed; refusing further appends");
            self.wal.broken = true;
        }
    }

    /// Answers written batches and passes them to the indexer and live tail.
    fn acknowledge(&mut self, written: Vec<Encoded>) {
        let now = Instant::now();
        let last_seq = self.wal.next_seq - 1;
        self.shared.note_appended(last_seq, now);
        let bytes = self.wal.total_bytes();
        self.shared.wal_bytes.store(bytes, Ordering::Relaxed);
        telemetry::set_wal_bytes(bytes);
        let mut batches = Vec::with_capacity(written.len());
        for enc in written {
            let AppendRequest {
                events,
                reply,
                permit,
            } = enc.req;
            drop(permit);
            count_by_input(&events);
            let last = enc.first_seq + events.len() as u64 - 1;
            let _ = reply.send(Ok(last));
            batches.push(Batch {
                first_seq: enc.first_seq,
                events: Arc::new(events),
            });
        }
        for b in &batches {
            // No subscribers is fine; lagging ones lose messages by design.
            let _ = self.live.send(b.events.clone());
        }
        if self.indexer.send(IndexerMsg::Batches(batches)).is_err() && !self.indexer_gone {
            self.indexer_gone = true;
            tracing::error!("the indexer has stopped; events stay in the WAL until restart");
        }
    }

    fn flush(&mut self, reply: Sender<Result<(), String>>) {
        if let Err(e) = self.wal.sync() {
            let _ = reply.send(Err(format!("WAL fsync failed: {e}")));
            return;
        }
        if let Err(std::sync::mpsc::SendError(IndexerMsg::Flush(reply))) =
            self.indexer.send(IndexerMsg::Flush(reply))
        {
            let _ = reply.send(Err("the indexer has stopped".into()));
        }
    }

    fn shutdown(&mut self) {
        if let Err(e) = self.wal.sync() {
            tracing::error!(error = %e, "WAL fsync at shutdown failed");
        }
        let _ = self.indexer.send(IndexerMsg::Shutdown);
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
