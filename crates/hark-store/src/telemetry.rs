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

/// Records how long a search took.
pub(crate) fn query_duration(seconds: f64) {
    metrics::histogram!(QUERY_DURATION).record(seconds);
}
