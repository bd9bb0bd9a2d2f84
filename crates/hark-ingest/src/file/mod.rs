//! File inputs: local log files followed as they grow, across rotation and
//! restarts.
//!
//! One blocking thread per input (the follower) reads the files; an async
//! task (the committer) records how far each file was read once the sink
//! says its events are durable. See `docs/internals/files.md`.
//!
//! The follower's rules:
//! - Every `rescan_interval` the globs are matched again. A file is known
//!   by device and inode ([`checkpoint::FileKey`]), not by path: a file
//!   renamed to another matching path is followed on, without reading it
//!   again.
//! - Where reading starts in a file seen for the first time: the saved
//!   position when the checkpoint has the file's device, inode **and** the
//!   fingerprint of its first bytes; else the end when this is the input's
//!   very first start and `start_at = "end"`; else the beginning.
//! - Rotation by rename: a file that no path matches any more stays open,
//!   is read to its end, and is closed once no byte arrived for
//!   `rotate_wait` (or, still written to, six times that after it left);
//!   its last line is then taken even without a newline. The new file at
//!   the path is read from its beginning.
//! - Truncation (copytruncate): a file shorter than the position reached
//!   was truncated; what was held is handed out and reading starts again at
//!   byte 0 of the same file.
//! - A last line without newline is taken once it stayed unchanged for
//!   `partial_line_timeout`; a pending multi-line event once no line came
//!   for `multiline.timeout`.
//! - Positions: each batch carries, per file, the offset just past its last
//!   event; the committer saves it only after the batch is durable. At
//!   shutdown the batch being gathered, the held partial line and the
//!   pending multi-line event are not sent: their position is not saved
//!   either, so the next start reads them again, once.

mod checkpoint;
mod commit;
mod discover;
mod lines;
mod multiline;
mod record;
mod tail;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hark_config::{FileInput, StartAt};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use checkpoint::CheckpointError;
pub use discover::GlobError;

use crate::InputContext;
use crate::batch::{Batch, MAX_BATCH, Submitted};
use crate::telemetry;
use checkpoint::{Checkpoints, FileKey, Fingerprint, Mark};
use commit::{Commit, commit};
use discover::Globs;
use lines::Newline;
use record::{Record, Stamp};
use tail::{Settings, Tail, read_full_at};

/// How long the follower waits when no file had anything new.
const READ_INTERVAL: Duration = Duration::from_millis(250);

/// The most bytes read from one file before the others get their turn.
const ROUND_BUDGET: usize = 1024 * 1024;

/// Bytes asked for in one read.
const READ_CHUNK: usize = 64 * 1024;

/// How many appended batches may wait for durability at once.
const IN_FLIGHT: usize = 16;

/// A file input that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum FileInputError {
    /// A glob does not compile.
    #[error(transparent)]
    Glob(#[from] GlobError),
    /// The checkpoint cannot be read or its directory made.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Starts following the files of `cfg`; positions are kept under
/// `data_dir/files`.
pub(crate) fn spawn(
    cfg: &FileInput,
    ctx: InputContext,
    data_dir: &Path,
) -> Result<JoinHandle<()>, FileInputError> {
    let paths: Vec<&str> = cfg.paths.iter().map(|p| p.as_str()).collect();
    let exclude: Vec<&str> = cfg.exclude.iter().map(|p| p.as_str()).collect();
    let globs = Globs::new(&paths, &exclude)?;
    let (checkpoints, first_start) = Checkpoints::open(&data_dir.join("files"), &ctx.name)?;
    let saved: HashMap<FileKey, Mark> = checkpoints
        .keys()
        .into_iter()
        .filter_map(|k| checkpoints.get(&k).cloned().map(|m| (k, m)))
        .collect();
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let committer = tokio::spawn(commit(rx, checkpoints, ctx.name.clone()));
    let encoding = cfg.encoding.get();
    let settings = Settings {
        encoding,
        newline: Newline::of(encoding),
        max_line: usize::try_from(cfg.max_line_bytes.0).unwrap_or(usize::MAX),
        multiline: cfg
            .multiline
            .as_ref()
            .map(|m| ((*m.start).clone(), m.timeout)),
        partial_line_timeout: cfg.partial_line_timeout.0,
        rotate_wait: cfg.rotate_wait.0,
        rescan_interval: cfg.rescan_interval.0,
        start_at: if first_start {
            cfg.start_at
        } else {
            StartAt::Beginning
        },
    };
    let stamp = Stamp {
        input: ctx.name.clone(),
        host: hostname(),
        app: cfg.app.clone(),
    };
    let follower = Follower {
        settings,
        globs,
        stamp,
        ctx,
        tails: HashMap::new(),
        saved,
        scanned: false,
        commits: tx,
        batch: Batch::new(),
        marks: HashMap::new(),
        forgets: Vec::new(),
        log: PathLog::default(),
        buf: vec![0; READ_CHUNK],
    };
    let handle = Handle::current();
    let reader = tokio::task::spawn_blocking(move || follower.run(&handle));
    Ok(tokio::spawn(async move {
        if let Err(e) = reader.await {
            tracing::error!("file input follower failed: {e}");
        }
        if let Err(e) = committer.await {
            tracing::error!("file input committer failed: {e}");
        }
    }))
}

/// This machine's name, for the events' `host`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Warnings about one path at most once a minute.
#[derive(Default)]
struct PathLog {
    last: HashMap<PathBuf, Instant>,
}

impl PathLog {
    fn allow(&mut self, path: &Path, now: Instant) -> bool {
        if self.last.len() > 10_000 {
            self.last
                .retain(|_, t| now.saturating_duration_since(*t) < Duration::from_secs(60));
        }
        match self.last.get(path) {
            Some(t) if now.saturating_duration_since(*t) < Duration::from_secs(60) => false,
            _ => {
                self.last.insert(path.to_owned(), now);
                true
            }
        }
    }
}

/// The blocking reader of one file input.
struct Follower {
    settings: Settings,
    globs: Globs,
    stamp: Stamp,
    ctx: InputContext,
    tails: HashMap<FileKey, Tail>,
    /// The saved positions not used yet: after the first scan, only those
    /// of files that were found but could not be opened.
    saved: HashMap<FileKey, Mark>,
    /// The first scan is done (the rest of the saved positions are forgotten).
    scanned: bool,
    commits: mpsc::Sender<Commit>,
    /// Events gathered and not yet appended.
    batch: Batch,
    /// Per file, the position just past its last event in `batch`.
    marks: HashMap<FileKey, Mark>,
    /// Files to forget once `batch` is sent.
    forgets: Vec<FileKey>,
    log: PathLog,
    buf: Vec<u8>,
}

/// The follower cannot go on: shutdown, or the sink refused events.
struct Stop;

impl Follower {
    fn run(mut self, rt: &Handle) {
        let mut next_scan = Instant::now();
        while !self.ctx.shutdown.is_cancelled() {
            let now = Instant::now();
            if now >= next_scan {
                if self.rescan(now).is_err() {
                    break;
                }
                next_scan = now + self.settings.rescan_interval;
            }
            let read = match self.read_round(rt) {
                Ok(n) => n,
                Err(Stop) => break,
            };
            if self.idle_work(rt, Instant::now()).is_err() || self.submit(rt).is_err() {
                break;
            }
            if read == 0 {
                let shutdown = self.ctx.shutdown.clone();
                rt.block_on(async {
                    tokio::select! {
                        _ = tokio::time::sleep(READ_INTERVAL) => {}
                        _ = shutdown.cancelled() => {}
                    }
                });
            }
        }
        telemetry::files_watched(&self.ctx.name, 0);
        // What was gathered but not appended is dropped with its positions:
        // the next start reads it again.
    }

    /// Matches the globs again: opens new files, follows renamed ones,
    /// notices files no path matches any more.
    fn rescan(&mut self, now: Instant) -> Result<(), Stop> {
        let (found, errors) = self.globs.scan();
        for e in errors {
            telemetry::file_error(&self.ctx.name, "scan");
            if self.log.allow(&e.path, now) {
                tracing::warn!(input = %self.ctx.name, path = %e.path.display(), "cannot read: {}", e.error);
            }
        }
        let mut present = std::collections::HashSet::new();
        for f in found {
            let key = FileKey::of(&f.meta);
            present.insert(key);
            if let Some(t) = self.tails.get_mut(&key) {
                if t.path != f.path {
                    telemetry::file_rotation(&self.ctx.name);
                    t.path = f.path;
                }
                t.orphaned_at = None;
                continue;
            }
            let file = match std::fs::File::open(&f.path) {
                Ok(file) => file,
                Err(e) => {
                    telemetry::file_error(&self.ctx.name, "open");
                    if self.log.allow(&f.path, now) {
                        tracing::warn!(input = %self.ctx.name, path = %f.path.display(), "cannot open: {e}");
                    }
                    continue;
                }
            };
            // The path may have been replaced between the scan and the open.
            let Ok(meta) = file.metadata() else { continue };
            let key = FileKey::of(&meta);
            if self.tails.contains_key(&key) {
                continue;
            }
            present.insert(key);
            let pos = self.start_position(key, &file, meta.len());
            tracing::debug!(input = %self.ctx.name, path = %f.path.display(), pos, "following");
            self.tails
                .insert(key, Tail::open(f.path, file, pos, &self.settings, now));
            if pos > 0 {
                let mark = self.tails[&key].mark(key, pos);
                self.send(Commit::Marks(vec![mark]))?;
            }
        }
        if !self.scanned {
            // Files saved but gone: their remaining lines cannot be read.
            let gone: Vec<FileKey> = self
                .saved
                .keys()
                .filter(|k| !present.contains(*k))
                .copied()
                .collect();
            for key in gone {
                self.saved.remove(&key);
                self.send(Commit::Forget(key))?;
            }
            self.scanned = true;
        }
        for (key, t) in &mut self.tails {
            if !present.contains(key) && t.orphaned_at.is_none() {
                telemetry::file_rotation(&self.ctx.name);
                t.orphaned_at = Some(now);
            }
        }
        self.settings.start_at = StartAt::Beginning;
        telemetry::files_watched(&self.ctx.name, self.tails.len());
        Ok(())
    }

    /// Where reading starts in a file seen for the first time.
    fn start_position(&mut self, key: FileKey, file: &std::fs::File, size: u64) -> u64 {
        if let Some(mark) = self.saved.remove(&key) {
            let mut head = vec![0; usize::try_from(mark.fingerprint.len).unwrap_or(0)];
            let same = read_full_at(file, &mut head, 0).is_ok_and(|n| n == head.len())
                && Fingerprint::of(&head) == mark.fingerprint;
            return match (same, mark.offset <= size) {
                (true, true) => mark.offset,
                // The same file, shorter than where reading stopped: truncated.
                (true, false) => {
                    telemetry::file_truncation(&self.ctx.name);
                    0
                }
                // Another file that got the inode of a deleted one.
                (false, _) => 0,
            };
        }
        match self.settings.start_at {
            StartAt::End => size,
            StartAt::Beginning => 0,
        }
    }

    /// Reads what every file has new, up to a budget per file.
    fn read_round(&mut self, rt: &Handle) -> Result<usize, Stop> {
        let keys: Vec<FileKey> = self.tails.keys().copied().collect();
        let mut total = 0;
        let mut records = Vec::new();
        for key in keys {
            let mut budget = ROUND_BUDGET;
            while budget > 0 && !self.ctx.shutdown.is_cancelled() {
                let Some(t) = self.tails.get_mut(&key) else {
                    break;
                };
                let now = Instant::now();
                let n = match t.read(&mut self.buf, &self.settings, now, &mut records) {
                    Ok(n) => n,
                    Err(e) => {
                        telemetry::file_error(&self.ctx.name, "read");
                        if self.log.allow(&t.path, now) {
                            tracing::warn!(input = %self.ctx.name, path = %t.path.display(), "cannot read: {e}");
                        }
                        t.at_eof = true;
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                budget = budget.saturating_sub(n);
                total += n;
                telemetry::file_bytes(&self.ctx.name, n as u64);
                self.gather(key, &mut records);
                if self.batch.len() >= MAX_BATCH {
                    self.submit(rt)?;
                }
            }
        }
        Ok(total)
    }

    /// Turns `records` of file `key` into events of the batch.
    fn gather(&mut self, key: FileKey, records: &mut Vec<Record>) {
        let Some(t) = self.tails.get(&key) else {
            records.clear();
            return;
        };
        if records.is_empty() {
            return;
        }
        telemetry::file_lines(&self.ctx.name, records.len() as u64);
        let path = t.path.display().to_string();
        let mut end = 0;
        for r in records.drain(..) {
            end = r.end;
            let ev = self.stamp.event(r, &path);
            self.batch.push_event(&self.ctx, ev);
        }
        self.marks.insert(key, t.mark(key, end));
    }

    /// Timeouts, truncation and closing files that left the paths.
    fn idle_work(&mut self, rt: &Handle, now: Instant) -> Result<(), Stop> {
        let keys: Vec<FileKey> = self.tails.keys().copied().collect();
        let mut records = Vec::new();
        for key in keys {
            let Some(t) = self.tails.get_mut(&key) else {
                continue;
            };
            t.timeouts(&self.settings, now, &mut records);
            self.gather(key, &mut records);
            let Some(t) = self.tails.get_mut(&key) else {
                continue;
            };
            let size = t.file.metadata().map(|m| m.len()).unwrap_or(t.pos);
            if size < t.pos {
                telemetry::file_truncation(&self.ctx.name);
                tracing::info!(input = %self.ctx.name, path = %t.path.display(), "truncated; reading it again from the start");
                t.finish(&self.settings, now, &mut records);
                self.gather(key, &mut records);
                self.submit(rt)?;
                let Some(t) = self.tails.get_mut(&key) else {
                    continue;
                };
                let path = std::mem::take(&mut t.path);
                let file = t.file.try_clone().map_err(|_| Stop);
                let Ok(file) = file else { continue };
                *t = Tail::open(path, file, 0, &self.settings, now);
                let mark = t.mark(key, 0);
                self.send(Commit::Marks(vec![mark]))?;
                continue;
            }
            if t.may_close(&self.settings, now) {
                t.finish(&self.settings, now, &mut records);
                self.gather(key, &mut records);
                if let Some(t) = self.tails.remove(&key) {
                    tracing::debug!(input = %self.ctx.name, path = %t.path.display(), "closed: no path matches it any more");
                }
                self.forgets.push(key);
                telemetry::files_watched(&self.ctx.name, self.tails.len());
            }
        }
        Ok(())
    }

    /// Appends the gathered events and hands their positions to the committer.
    fn submit(&mut self, rt: &Handle) -> Result<(), Stop> {
        let marks: Vec<Mark> = self.marks.drain().map(|(_, m)| m).collect();
        match rt.block_on(self.batch.submit(&self.ctx)) {
            Submitted::Empty if marks.is_empty() => {}
            Submitted::Empty => self.send(Commit::Marks(marks))?,
            Submitted::Receipt(pending) => self.send(Commit::Appended { pending, marks })?,
            Submitted::Refused(_) => return Err(Stop),
        }
        for key in std::mem::take(&mut self.forgets) {
            self.send(Commit::Forget(key))?;
        }
        Ok(())
    }

    fn send(&self, c: Commit) -> Result<(), Stop> {
        self.commits.blocking_send(c).map_err(|_| Stop)
    }
}
