//! Liveness and Prometheus metrics; neither needs a token.

use std::sync::Once;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hark_store::StoreStats;

use crate::Shared;
use crate::api::Health;

/// `GET /healthz`.
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// `GET /metrics`: the Prometheus text format, with the store gauges fresh.
pub(crate) async fn metrics(State(app): State<Shared>) -> Response {
    let store = app.store.clone();
    // stats() may walk the index directory.
    match tokio::task::spawn_blocking(move || store.stats()).await {
        Ok(stats) => record_store_gauges(&stats),
        Err(e) => tracing::warn!(error = %e, "could not read store statistics"),
    }
    app.metrics.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

fn record_store_gauges(s: &StoreStats) {
    static DESCRIBE: Once = Once::new();
    DESCRIBE.call_once(|| {
        metrics::describe_gauge!(
            "hark_wal_bytes",
            metrics::Unit::Bytes,
            "Bytes in write-ahead log segments"
        );
        metrics::describe_gauge!(
            "hark_index_lag_events",
            "Events in the write-ahead log not yet committed to the index"
        );
        metrics::describe_gauge!(
            "hark_index_lag_seconds",
            metrics::Unit::Seconds,
            "Age of the oldest event not yet committed to the index"
        );
        metrics::describe_gauge!("hark_index_splits", "Index splits on disk");
        metrics::describe_gauge!(
            "hark_index_bytes",
            metrics::Unit::Bytes,
            "Bytes of index on disk"
        );
    });
    metrics::gauge!("hark_wal_bytes").set(s.wal_bytes as f64);
    metrics::gauge!("hark_index_lag_events")
        .set(s.appended_seq.saturating_sub(s.indexed_seq) as f64);
    metrics::gauge!("hark_index_lag_seconds").set(s.index_lag_seconds);
    metrics::gauge!("hark_index_splits").set(s.splits as f64);
    metrics::gauge!("hark_index_bytes").set(s.index_bytes as f64);
}
