//! Monitors, their history, acknowledgements and downtimes.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use hark_event::parse_rfc3339_nanos;
use hark_monitor::CheckOutcome;
use hark_monitor::downtime::{Downtime, NewDowntime};
use hark_monitor::persist::StoreError;
use hark_monitor::service::{HistoryView, MonitorView, ServiceError};

use super::Peer;
use crate::Shared;
use crate::api::{AckRequest, HistoryParams};
use crate::audit;
use crate::error::ApiError;
use crate::identity::Principal;
use crate::params::parse_duration;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NoSuchMonitor(_) => ApiError::NotFound(e.to_string()),
            ServiceError::Store(StoreError::UnknownMonitor(_)) => ApiError::NotFound(e.to_string()),
            ServiceError::Store(StoreError::Ack(_)) => ApiError::Conflict(e.to_string()),
            ServiceError::Store(StoreError::Downtime(_)) => ApiError::bad_request(e.to_string()),
            ServiceError::Store(_) | ServiceError::Context(_) => ApiError::Internal(e.to_string()),
        }
    }
}

/// `GET /api/v1/monitors`: every monitor with its state.
pub(crate) async fn list(State(app): State<Shared>) -> Json<Vec<MonitorView>> {
    Json(app.monitoring.list())
}

/// `GET /api/v1/monitors/{name}`.
pub(crate) async fn get(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> Result<Json<MonitorView>, ApiError> {
    app.monitoring
        .get(&name)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no monitor named `{name}`")))
}

/// `GET /api/v1/monitors/{name}/history?since=24h` (or `from`/`to`).
pub(crate) async fn history(
    State(app): State<Shared>,
    Path(name): Path<String>,
    Query(range): Query<HistoryParams>,
) -> Result<Json<HistoryView>, ApiError> {
    let now = hark_event::now_nanos();
    let time = |param: &str, v: &str| {
        parse_rfc3339_nanos(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "{param}: {v:?} is not an RFC 3339 time like 2026-11-22T08:00:00Z"
            ))
        })
    };
    let to = range
        .to
        .as_deref()
        .map(|v| time("to", v))
        .transpose()?
        .unwrap_or(now);
    let from = match (&range.from, &range.since) {
        (Some(f), _) => time("from", f)?,
        (None, Some(s)) => {
            let d = parse_duration(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "since: {s:?} is not a duration like 15m, 24h or 7d"
                ))
            })?;
            now.saturating_sub(d)
        }
        (None, None) => now.saturating_sub(86_400 * 1_000_000_000),
    };
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    app.monitoring
        .history(&name, from, to)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no monitor named `{name}`")))
}

/// `POST /api/v1/monitors/{name}/check`: runs the check now; the state is not changed.
pub(crate) async fn check(
    State(app): State<Shared>,
    Path(name): Path<String>,
) -> Result<Json<CheckOutcome>, ApiError> {
    Ok(Json(app.monitoring.check_now(&name).await?))
}

/// `POST /api/v1/monitors/{name}/ack`: acknowledges the current problem.
pub(crate) async fn ack(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(body): Json<AckRequest>,
) -> Result<Json<MonitorView>, ApiError> {
    let author = body.author.unwrap_or_else(|| who.name.clone());
    let result = app
        .monitoring
        .acknowledge(&name, &author, &body.comment, body.sticky)
        .await
        .map_err(ApiError::from);
    audit::record(&app, &who, peer, "monitor.ack", &name, &result).await;
    Ok(Json(result?))
}

/// `DELETE /api/v1/monitors/{name}/ack`.
pub(crate) async fn unack(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = match app.monitoring.remove_acknowledgement(&name).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::NotFound(format!(
            "monitor `{name}` has no acknowledgement"
        ))),
        Err(e) => Err(e.into()),
    };
    audit::record(&app, &who, peer, "monitor.unack", &name, &result).await;
    result
}

/// `GET /api/v1/downtimes`.
pub(crate) async fn downtimes(State(app): State<Shared>) -> Json<Vec<Downtime>> {
    Json(app.monitoring.downtimes())
}

/// `POST /api/v1/downtimes`: a one-off or recurring downtime.
pub(crate) async fn add_downtime(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Json(mut request): Json<NewDowntime>,
) -> Result<(StatusCode, Json<Downtime>), ApiError> {
    if request.author.is_empty() {
        request.author = who.name.clone();
    }
    let added = app
        .monitoring
        .add_downtime(request)
        .await
        .map_err(ApiError::from);
    let target = added.as_ref().map(|d| d.id.to_string()).unwrap_or_default();
    audit::record(&app, &who, peer, "downtime.add", &target, &added).await;
    Ok((StatusCode::CREATED, Json(added?)))
}

/// `DELETE /api/v1/downtimes/{id}`.
pub(crate) async fn remove_downtime(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    let result = if app.monitoring.remove_downtime(id).await {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no downtime with id {id}")))
    };
    audit::record(
        &app,
        &who,
        peer,
        "downtime.remove",
        &id.to_string(),
        &result,
    )
    .await;
    result
}
