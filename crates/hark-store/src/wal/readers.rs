//! Durable readers of the WAL: named cursors that keep segments alive.
//!
//! Each reader has a name and a committed position (the sequence number of
//! the last event it has dealt with), persisted in `readers/<name>.json`
//! below the data directory. The index is a reader too, named `index`; its
//! position is what the index has committed (kept in the index itself).
//!
//! The rule the WAL writer follows: a segment is deleted only when every
//! attached reader's committed position has passed it. When the WAL would
//! keep more than `max_retained` bytes for a reader that lags behind, the
//! reader is reported (log and metrics) and, under [`LaggingReader::Detach`],
//! detached: it no longer holds segments, and reading from it fails with
//! [`StoreError::ReaderDetached`] until it is removed and registered again.
//! A reader is never moved on silently. The index is never detached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::segment::SegmentFile;
use crate::StoreError;
use crate::fsutil::{io_err, write_atomic};
use crate::telemetry;

/// The name under which the index follows the WAL.
pub const INDEX_READER: &str = "index";

/// What happens to a reader that lags so far behind that the WAL would
/// exceed its retention cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LaggingReader {
    /// Keep the WAL for it (the cap is exceeded) and report it.
    #[default]
    Keep,
    /// Detach it so the WAL can shrink, and report it.
    Detach,
    /// Move it past the oldest segments so the WAL can shrink: the events it
    /// had not read yet in them are dropped, logged and counted
    /// (`hark_wal_reader_dropped_events_total`, [`crate::Store::wal_reader_dropped`]).
    DropOldest,
}

/// The persisted state of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// Sequence number of the last event the reader has dealt with.
    committed: u64,
    /// Whether the reader was detached for lagging too far behind.
    #[serde(default)]
    detached: bool,
    /// Events `(from, to]` its handle had read when they were dropped from
    /// under it ([`LaggingReader::DropOldest`]), not yet confirmed by a
    /// commit: if the store closes first they are lost, and counted as
    /// dropped when it opens again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unconfirmed: Option<(u64, u64)>,
}

impl Cursor {
    fn at(committed: u64) -> Cursor {
        Cursor {
            committed,
            detached: false,
            unconfirmed: None,
        }
    }
}

/// A reader as the registry holds it.
#[derive(Debug)]
struct Entry {
    cursor: Cursor,
    /// A [`crate::WalReader`] handle for it is open.
    open: bool,
    /// Whether it is over the cap now (reported once per crossing).
    over_cap: bool,
    /// Sequence number of the last event its open handle has read.
    read: u64,
    /// Events dropped from under it since the store opened ([`LaggingReader::DropOldest`]).
    dropped: u64,
}

/// The registered readers (the index aside).
pub(crate) struct Readers {
    dir: PathBuf,
    /// The cap and what happens to a reader beyond it; changeable at run time.
    cap: Mutex<(Option<u64>, LaggingReader)>,
    entries: Mutex<BTreeMap<String, Entry>>,
}

impl Readers {
    /// Loads the readers persisted in `dir`.
    pub fn open(
        dir: &Path,
        max_retained: Option<u64>,
        policy: LaggingReader,
    ) -> Result<Readers, StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let mut entries = BTreeMap::new();
        let ctx = || format!("listing {}", dir.display());
        for entry in std::fs::read_dir(dir).map_err(io_err(ctx()))? {
            let path = entry.map_err(io_err(ctx()))?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if check_name(name).is_err() {
                continue;
            }
            let bytes =
                std::fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
            let mut cursor: Cursor = serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Reader(format!("{}: {e}", path.display())))?;
            let mut dropped = 0;
            if let Some((from, to)) = cursor.unconfirmed.take() {
                // Read but never confirmed before the store closed: gone.
                dropped = to.saturating_sub(from);
                write_cursor(&path, &cursor)?;
                telemetry::wal_reader_dropped(name, dropped);
                tracing::warn!(reader = %name, dropped_events = dropped, "events dropped from under a lagging WAL reader were read but never confirmed before the store closed; counted as dropped");
            }
            entries.insert(
                name.to_owned(),
                Entry {
                    cursor,
                    open: false,
                    over_cap: false,
                    read: cursor.committed,
                    dropped,
                },
            );
        }
        Ok(Readers {
            dir: dir.to_path_buf(),
            cap: Mutex::new((max_retained, policy)),
            entries: Mutex::new(entries),
        })
    }

    /// Sets the cap and what happens to a reader beyond it, from the next
    /// truncation on.
    pub fn set_cap(&self, max_retained: Option<u64>, policy: LaggingReader) {
        *self.cap.lock().unwrap_or_else(|e| e.into_inner()) = (max_retained, policy);
    }

    /// The cap and what happens to a reader beyond it.
    pub fn cap(&self) -> (Option<u64>, LaggingReader) {
        *self.cap.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Highest position any reader has committed (sequence numbers must not
    /// be handed out again below it).
    pub fn highest_committed(&self) -> u64 {
        self.entries()
            .values()
            .map(|e| e.cursor.committed)
            .max()
            .unwrap_or(0)
    }

    /// Opens the reader `name`, registering it at `appended` (it reads what
    /// is appended from now on) when it is new. Returns its committed position.
    pub fn attach(&self, name: &str, appended: u64) -> Result<u64, StoreError> {
        check_name(name)?;
        let mut entries = self.entries();
        if let Some(e) = entries.get_mut(name) {
            if e.open {
                return Err(StoreError::Reader(format!(
                    "WAL reader `{name}` is already open"
                )));
            }
            if e.cursor.detached {
                return Err(StoreError::ReaderDetached {
                    reader: name.to_owned(),
                    position: e.cursor.committed,
                });
            }
            e.open = true;
            e.read = e.cursor.committed;
            return Ok(e.cursor.committed);
        }
        let cursor = Cursor::at(appended);
        self.persist(name, &cursor)?;
        entries.insert(
            name.to_owned(),
            Entry {
                cursor,
                open: true,
                over_cap: false,
                read: appended,
                dropped: 0,
            },
        );
        tracing::info!(
            reader = name,
            position = appended,
            "registered a WAL reader"
        );
        Ok(appended)
    }

    /// Marks the handle of `name` closed (the registration stays).
    pub fn release(&self, name: &str) {
        if let Some(e) = self.entries().get_mut(name) {
            e.open = false;
        }
    }

    /// Records that `name` has dealt with every event up to `seq`.
    pub fn commit(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        let mut entries = self.entries();
        let Some(e) = entries.get_mut(name) else {
            return Err(StoreError::Reader(format!(
                "WAL reader `{name}` is not registered"
            )));
        };
        if e.cursor.detached {
            return Err(StoreError::ReaderDetached {
                reader: name.to_owned(),
                position: e.cursor.committed,
            });
        }
        let unconfirmed = e
            .cursor
            .unconfirmed
            .map(|(from, to)| (from.max(seq), to))
            .filter(|(from, to)| from < to);
        if seq <= e.cursor.committed && unconfirmed == e.cursor.unconfirmed {
            return Ok(());
        }
        let cursor = Cursor {
            committed: seq.max(e.cursor.committed),
            detached: false,
            unconfirmed,
        };
        self.persist(name, &cursor)?;
        e.cursor = cursor;
        Ok(())
    }

    /// The names of the registered readers.
    pub fn names(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    /// Records that the open handle of `name` has read up to `seq`.
    pub fn note_read(&self, name: &str, seq: u64) {
        if let Some(e) = self.entries().get_mut(name) {
            e.read = e.read.max(seq);
        }
    }

    /// Events dropped from under `name` since the store opened.
    pub fn dropped(&self, name: &str) -> u64 {
        self.entries().get(name).map_or(0, |e| e.dropped)
    }

    /// The committed position of `name`, and whether it is detached.
    pub fn position(&self, name: &str) -> Option<(u64, bool)> {
        self.entries()
            .get(name)
            .map(|e| (e.cursor.committed, e.cursor.detached))
    }

    /// Unregisters `name`: it holds no segment any more.
    pub fn remove(&self, name: &str) -> Result<bool, StoreError> {
        check_name(name)?;
        let mut entries = self.entries();
        let Some(e) = entries.get(name) else {
            return Ok(false);
        };
        if e.open {
            return Err(StoreError::Reader(format!(
                "WAL reader `{name}` is open; drop it first"
            )));
        }
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("removing {}", path.display()))(e)),
        }
        entries.remove(name);
        telemetry::forget_wal_reader(name);
        tracing::info!(reader = name, "removed a WAL reader");
        Ok(true)
    }

    /// The position below which the WAL may be truncated, given the index's
    /// committed position and the segments on disk: the lowest position of
    /// the attached readers, after readers beyond the cap are dealt with.
    /// Also sets the lag gauges.
    pub fn truncate_point(
        &self,
        index_committed: u64,
        appended: u64,
        segments: &[SegmentFile],
    ) -> u64 {
        telemetry::set_wal_reader_lag(INDEX_READER, appended.saturating_sub(index_committed));
        let (max_retained, policy) = self.cap();
        let mut entries = self.entries();
        let cap_seq = max_retained.map(|cap| position_within_cap(segments, cap));
        let mut point = index_committed;
        for (name, e) in entries.iter_mut() {
            if e.cursor.detached {
                continue;
            }
            telemetry::set_wal_reader_lag(name, appended.saturating_sub(e.cursor.committed));
            let over = cap_seq.is_some_and(|c| e.cursor.committed < c);
            if let (true, LaggingReader::DropOldest, Some(cap_seq)) = (over, policy, cap_seq) {
                // What its handle has read of the dropped events is still
                // delivered, but only a commit confirms it. Unconfirmed
                // ranges are contiguous: each ends where the cursor was
                // moved to, and the next one starts there.
                let (from, to) = e
                    .cursor
                    .unconfirmed
                    .unwrap_or((e.cursor.committed, e.cursor.committed));
                let to = to.max(e.read.min(cap_seq));
                let cursor = Cursor {
                    committed: cap_seq,
                    detached: false,
                    unconfirmed: (from < to).then_some((from, to)),
                };
                if let Err(err) = self.persist(name, &cursor) {
                    tracing::error!(reader = %name, error = %err, "could not move a lagging WAL reader on; keeping its WAL");
                } else {
                    // Events its handle has read already are still delivered.
                    let dropped = cap_seq.saturating_sub(e.cursor.committed.max(e.read));
                    e.cursor = cursor;
                    e.dropped += dropped;
                    telemetry::wal_reader_dropped(name, dropped);
                    tracing::warn!(reader = %name, dropped_events = dropped, position = cap_seq, "WAL reader lags beyond wal_max_retained; dropped the oldest events it had not read");
                    point = point.min(cap_seq);
                    continue;
                }
            }
            if over && !e.over_cap {
                let lag = appended.saturating_sub(e.cursor.committed);
                match policy {
                    LaggingReader::Detach => {
                        let cursor = Cursor {
                            committed: e.cursor.committed,
                            detached: true,
                            unconfirmed: None,
                        };
                        if let Err(err) = self.persist(name, &cursor) {
                            tracing::error!(reader = %name, error = %err, "could not record that a WAL reader is detached; keeping its WAL");
                        } else {
                            e.cursor = cursor;
                            telemetry::wal_reader_detached(name);
                            tracing::warn!(reader = %name, position = cursor.committed, lag_events = lag, "WAL reader lags beyond wal_max_retained; detached it, it no longer holds WAL segments");
                            continue;
                        }
                    }
                    LaggingReader::Keep | LaggingReader::DropOldest => {
                        tracing::warn!(reader = %name, position = e.cursor.committed, lag_events = lag, "WAL reader lags beyond wal_max_retained; keeping the WAL for it");
                    }
                }
            }
            if e.over_cap != over {
                telemetry::set_wal_reader_over_cap(name, over);
                e.over_cap = over;
            }
            point = point.min(e.cursor.committed);
        }
        point
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn persist(&self, name: &str, cursor: &Cursor) -> Result<(), StoreError> {
        write_cursor(&self.path(name), cursor)
    }
}

/// Writes `cursor` to `path` (temporary file, fsync, rename).
fn write_cursor(path: &Path, cursor: &Cursor) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(cursor)
        .map_err(|e| StoreError::Reader(format!("encoding {}: {e}", path.display())))?;
    write_atomic(path, &bytes).map_err(io_err(format!("writing {}", path.display())))
}

/// The committed position a reader needs so that the WAL fits in `cap`
/// bytes: whole segments go oldest first, and the newest one always stays.
fn position_within_cap(segments: &[SegmentFile], cap: u64) -> u64 {
    let mut total: u64 = segments.iter().map(|s| s.valid_len).sum();
    let mut needed = 0;
    for pair in segments.windows(2) {
        if total <= cap {
            break;
        }
        total = total.saturating_sub(pair[0].valid_len);
        // Deleting pair[0] needs every reader past the last event in it.
        needed = pair[1].first_seq.saturating_sub(1);
    }
    needed
}

/// Reader names: 1 to 64 letters, digits, `-` or `_`; `index` is taken.
fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(StoreError::Reader(format!(
            "invalid WAL reader name `{name}`: use 1 to 64 letters, digits, `-` or `_`"
        )));
    }
    if name == INDEX_READER {
        return Err(StoreError::Reader(format!(
            "the WAL reader name `{INDEX_READER}` belongs to the index"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(first_seq: u64, valid_len: u64) -> SegmentFile {
        SegmentFile {
            first_seq,
            path: PathBuf::from(format!("{first_seq}.wal")),
            valid_len,
        }
    }

    #[test]
    fn the_cap_deletes_whole_segments_oldest_first() {
        let segs = [seg(1, 100), seg(11, 100), seg(21, 100)];
        assert_eq!(position_within_cap(&segs, 300), 0);
        assert_eq!(position_within_cap(&segs, 250), 10);
        assert_eq!(position_within_cap(&segs, 150), 20);
        // The newest segment stays even when it alone exceeds the cap.
        assert_eq!(position_within_cap(&segs, 10), 20);
    }

    /// Records the last value set or counted for each metric, by "name{label=value}".
    #[derive(Default, Clone)]
    struct Capture(std::sync::Arc<Mutex<BTreeMap<String, f64>>>);

    struct Cell(Capture, String);

    impl metrics::CounterFn for Cell {
        fn increment(&self, n: u64) {
            *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() += n as f64;
        }
        fn absolute(&self, n: u64) {
            self.0.0.lock().unwrap().insert(self.1.clone(), n as f64);
        }
    }

    impl metrics::GaugeFn for Cell {
        fn increment(&self, v: f64) {
            *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() += v;
        }
        fn decrement(&self, v: f64) {
            *self.0.0.lock().unwrap().entry(self.1.clone()).or_default() -= v;
        }
        fn set(&self, v: f64) {
            self.0.0.lock().unwrap().insert(self.1.clone(), v);
        }
    }

    impl Capture {
        fn cell(&self, key: &metrics::Key) -> std::sync::Arc<Cell> {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let name = format!("{}{{{}}}", key.name(), labels.join(","));
            std::sync::Arc::new(Cell(self.clone(), name))
        }
        fn get(&self, name: &str) -> Option<f64> {
            self.0.lock().unwrap().get(name).copied()
        }
    }

    impl metrics::Recorder for Capture {
        fn describe_counter(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_gauge(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn register_counter(
            &self,
            key: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
            metrics::Counter::from_arc(self.cell(key))
        }
        fn register_gauge(&self, key: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::from_arc(self.cell(key))
        }
        fn register_histogram(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }

    /// Runs `f` with its log lines (WARN and up) and metrics captured.
    fn observed<R>(f: impl FnOnce() -> R) -> (R, String, Capture) {
        let capture = Capture::default();
        let (r, text) =
            crate::wal::tests::warnings_of(|| metrics::with_local_recorder(&capture, f));
        (r, text, capture)
    }

    #[test]
    fn a_reader_beyond_the_cap_is_logged_reported_and_detached() {
        let dir = tempfile::tempdir().unwrap();
        let segs = [seg(1, 100), seg(11, 100), seg(21, 100)];
        let readers = Readers::open(dir.path(), Some(150), LaggingReader::Detach).unwrap();
        assert_eq!(readers.attach("slow", 0).unwrap(), 0);
        assert_eq!(readers.attach("fast", 0).unwrap(), 0);
        readers.commit("fast", 25).unwrap();
        let (point, log, metrics) = observed(|| readers.truncate_point(30, 30, &segs));
        // "slow" is detached and holds nothing; "fast" (past 20) holds from 26 on.
        assert_eq!(point, 25);
        assert_eq!(readers.position("slow"), Some((0, true)));
        assert_eq!(readers.position("fast"), Some((25, false)));
        assert!(log.contains("detached it"), "{log}");
        assert!(log.contains("slow"), "{log}");
        assert!(!log.contains("fast"), "{log}");
        assert_eq!(
            metrics.get("hark_wal_readers_detached_total{reader=slow}"),
            Some(1.0)
        );
        assert_eq!(
            metrics.get("hark_wal_reader_detached{reader=slow}"),
            Some(1.0)
        );
        assert_eq!(
            metrics.get("hark_wal_reader_lag_events{reader=fast}"),
            Some(5.0)
        );
        assert_eq!(
            metrics.get("hark_wal_reader_lag_events{reader=index}"),
            Some(0.0)
        );
        // Detached is persisted: committing fails, and so does opening again.
        assert!(matches!(
            readers.commit("slow", 5),
            Err(StoreError::ReaderDetached { .. })
        ));
        let reopened = Readers::open(dir.path(), Some(150), LaggingReader::Detach).unwrap();
        assert_eq!(reopened.position("slow"), Some((0, true)));
        assert_eq!(reopened.position("fast"), Some((25, false)));
    }

    #[test]
    fn under_keep_a_reader_beyond_the_cap_is_logged_once_and_holds_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let segs = [seg(1, 100), seg(11, 100), seg(21, 100)];
        let readers = Readers::open(dir.path(), Some(150), LaggingReader::Keep).unwrap();
        readers.attach("slow", 0).unwrap();
        let (point, log, metrics) = observed(|| readers.truncate_point(30, 30, &segs));
        assert_eq!(point, 0);
        assert!(log.contains("keeping the WAL for it"), "{log}");
        assert_eq!(
            metrics.get("hark_wal_reader_over_cap{reader=slow}"),
            Some(1.0)
        );
        let (point, log, _) = observed(|| readers.truncate_point(30, 30, &segs));
        assert_eq!(point, 0);
        assert!(log.is_empty(), "reported again: {log}");
        assert_eq!(readers.position("slow"), Some((0, false)));
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("alerts").is_ok());
        assert!(check_name("out-1_b").is_ok());
        for bad in ["", "index", "a/b", "..", "x y", &"a".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
