//! The notification outbox: what was sent, what waits, what failed.

use axum::Json;
use axum::extract::{Query, State};

use crate::Shared;
use crate::api::{NotificationRecord, NotificationsParams};
use crate::error::ApiError;

/// Records returned when no `limit` is given.
const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` (the outbox keeps at most this many finished records).
const MAX_LIMIT: usize = 10_000;

/// `GET /api/v1/notifications?limit=N`: newest first.
pub(crate) async fn list(
    State(app): State<Shared>,
    Query(params): Query<NotificationsParams>,
) -> Result<Json<Vec<NotificationRecord>>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok(Json(
        app.notifier
            .as_ref()
            .map(|n| n.records(limit))
            .unwrap_or_default(),
    ))
}
