//! `GET /api/v1/fields`: the field names of the events in a time range.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use crate::Shared;
use crate::error::ApiError;
use crate::params::RangeParams;

/// `GET /api/v1/fields?since=24h`: sorted field names (fixed and extra).
pub(crate) async fn get(
    State(app): State<Shared>,
    query: Result<Query<RangeParams>, QueryRejection>,
) -> Result<Json<Vec<String>>, ApiError> {
    let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (from, to) = p
        .resolve(hark_event::now_nanos())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let store = app.store.clone();
    let names = tokio::task::spawn_blocking(move || store.field_names(Some(from), to)).await??;
    Ok(Json(names))
}
