//! The store's metrics: names in one place, set through the `metrics` facade.

/// Events written to the WAL, by input.
pub(crate) const EVENTS_STORED: &str = "hark_events_stored_total";
/// Bytes of WAL segments on disk.
pub(crate) const WAL_BYTES: &str = "hark_wal_bytes";
/// Events in the WAL not yet committed to the index.
pub(crate) const INDEX_LAG_EVENTS: &str = "hark_index_lag_events";
/// Age of the oldest event not yet committed to the index.
pub(crate) const INDEX_LAG_SECONDS: &str = "hark_index_lag_seconds";
/// Number of splits.
pub(crate) const INDEX_SPLITS: &str = "hark_index_splits";
/// Bytes of index on disk.
pub(crate) const INDEX_BYTES: &str = "hark_index_bytes";
/// Sealed splits whose segments are still to be compacted into one.
pub(crate) const SPLITS_AWAITING_COMPACTION: &str = "hark_index_splits_awaiting_compaction";
/// Compactions of a sealed split's segments into one.
pub(crate) const COMPACTIONS: &str = "hark_index_compactions_total";
/// Time taken by searches.
pub(crate) const QUERY_DURATION: &str = "hark_query_duration_seconds";

/// Counts `n` events from `input` as stored.
pub(crate) fn events_stored(input: &str, n: u64) {
    metrics::counter!(EVENTS_STORED, "input" => input.to_owned()).increment(n);
}

/// Sets the WAL size gauge.
pub(crate) fn set_wal_bytes(bytes: u64) {
    metrics::gauge!(WAL_BYTES).set(bytes as f64);
}

/// Sets the index lag gauge, in events.
pub(crate) fn set_index_lag_events(events: u64) {
    metrics::gauge!(INDEX_LAG_EVENTS).set(events as f64);
}

/// Sets the index lag gauge, in seconds.
pub(crate) fn set_index_lag_seconds(seconds: f64) {
    metrics::gauge!(INDEX_LAG_SECONDS).set(seconds);
}

/// Sets the split count and index size gauges.
pub(crate) fn set_index_size(splits: usize, bytes: u64) {
    metrics::gauge!(INDEX_SPLITS).set(splits as f64);
    metrics::gauge!(INDEX_BYTES).set(bytes as f64);
}

/// Sets the number of sealed splits awaiting compaction.
pub(crate) fn set_splits_awaiting_compaction(n: usize) {
    metrics::gauge!(SPLITS_AWAITING_COMPACTION).set(n as f64);
}

/// Makes the compaction metrics visible before the first compaction.
pub(crate) fn register_compaction_metrics() {
    metrics::counter!(COMPACTIONS).increment(0);
    metrics::gauge!(SPLITS_AWAITING_COMPACTION).set(0.0);
}

/// Counts a compaction.
pub(crate) fn compacted() {
    metrics::counter!(COMPACTIONS).increment(1);
}

/// Records how long a search took.
pub(crate) fn query_duration(seconds: f64) {
    metrics::histogram!(QUERY_DURATION).record(seconds);
}

/// WAL writes that failed, by cause (`disk_full`, `quota_exceeded`, `read_only`, `io_error`).
pub(crate) const WAL_WRITE_FAILURES: &str = "hark_wal_write_failures_total";
/// 1 while the WAL cannot write, labelled with the cause; 0 once it can again.
pub(crate) const STORAGE_UNAVAILABLE: &str = "hark_storage_unavailable";
/// When storage became unavailable (Unix seconds); 0 while it is available.
pub(crate) const STORAGE_UNAVAILABLE_SINCE: &str = "hark_storage_unavailable_since_seconds";

/// Counts a failed WAL write.
pub(crate) fn wal_write_failed(cause: &'static str) {
    metrics::counter!(WAL_WRITE_FAILURES, "cause" => cause).increment(1);
}

/// Sets the storage-unavailable gauges: `Some(cause)` while the WAL cannot
/// write, `None` once it can.
pub(crate) fn set_storage_unavailable(cause: Option<&'static str>) {
    static CURRENT: std::sync::Mutex<Option<&'static str>> = std::sync::Mutex::new(None);
    let mut current = match CURRENT.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let previous = current.take();
    if let Some(old) = previous {
        metrics::gauge!(STORAGE_UNAVAILABLE, "cause" => old).set(0.0);
    }
    match cause {
        Some(c) => {
            metrics::gauge!(STORAGE_UNAVAILABLE, "cause" => c).set(1.0);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64().floor());
            if previous.is_none() {
                metrics::gauge!(STORAGE_UNAVAILABLE_SINCE).set(now);
            }
            *current = Some(c);
        }
        None => metrics::gauge!(STORAGE_UNAVAILABLE_SINCE).set(0.0),
    }
}

/// Indexing failures (each is retried from the WAL).
pub(crate) const INDEX_FAILURES: &str = "hark_index_failures_total";

/// Counts an indexing failure.
pub(crate) fn index_failed() {
    metrics::counter!(INDEX_FAILURES).increment(1);
}

/// Events appended to the WAL that a reader has not committed yet, by reader.
pub(crate) const WAL_READER_LAG: &str = "hark_wal_reader_lag_events";
/// 1 while a reader lags beyond `wal_max_retained` and is kept, by reader.
pub(crate) const WAL_READER_OVER_CAP: &str = "hark_wal_reader_over_cap";
/// 1 once a reader has been detached for lagging too far behind, by reader.
pub(crate) const WAL_READER_DETACHED: &str = "hark_wal_reader_detached";
/// Readers detached for lagging too far behind, by reader.
pub(crate) const WAL_READERS_DETACHED: &str = "hark_wal_readers_detached_total";
/// Sets a WAL reader's lag, in events.
pub(crate) fn set_wal_reader_lag(reader: &str, events: u64) {
    metrics::gauge!(WAL_READER_LAG, "reader" => reader.to_owned()).set(events as f64);
}

/// Sets whether a WAL reader lags beyond the retention cap.
pub(crate) fn set_wal_reader_over_cap(reader: &str, over: bool) {
    metrics::gauge!(WAL_READER_OVER_CAP, "reader" => reader.to_owned()).set(if over {
        1.0
    } else {
        0.0
    });
}

/// Reports that a WAL reader was detached.
pub(crate) fn wal_reader_detached(reader: &str) {
    metrics::counter!(WAL_READERS_DETACHED, "reader" => reader.to_owned()).increment(1);
    metrics::gauge!(WAL_READER_DETACHED, "reader" => reader.to_owned()).set(1.0);
    set_wal_reader_over_cap(reader, false);
}

/// Clears the gauges of a removed WAL reader.
pub(crate) fn forget_wal_reader(reader: &str) {
    set_wal_reader_lag(reader, 0);
    set_wal_reader_over_cap(reader, false);
    metrics::gauge!(WAL_READER_DETACHED, "reader" => reader.to_owned()).set(0.0);
}

/// Events a live-tail subscriber missed because it fell behind, by subscriber.
pub(crate) const TAIL_DROPPED: &str = "hark_tail_dropped_events_total";

/// Counts events a live-tail subscriber missed.
pub(crate) fn tail_dropped(subscriber: &str, events: u64) {
    metrics::counter!(TAIL_DROPPED, "subscriber" => subscriber.to_owned()).increment(events);
}

/// Counts events dropped from under a lagging WAL reader.
pub(crate) fn wal_reader_dropped(reader: &str, events: u64) {
    metrics::counter!("hark_wal_reader_dropped_events_total", "reader" => reader.to_owned())
        .increment(events);
}
