//! The outputs: `GET /api/v1/outputs` (their status) and
//! `POST /api/v1/outputs/{name}/reattach` (start a detached one again).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use hark_output::{OutputStatus, ReattachError};

use super::Peer;
use crate::Shared;
use crate::api::Principal;
use crate::audit;
use crate::error::ApiError;

/// `GET /api/v1/outputs`: every configured output's status, by name.
pub(crate) async fn list(State(app): State<Shared>) -> Json<BTreeMap<String, OutputStatus>> {
    Json(app.outputs.statuses().snapshot())
}

/// `POST /api/v1/outputs/{name}/reattach`: a detached output starts again
/// from the newest event; its status after.
pub(crate) async fn reattach(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<OutputStatus>, ApiError> {
    let result = match app.outputs.reattach(&name).await {
        Ok(()) => app
            .outputs
            .statuses()
            .snapshot()
            .remove(&name)
            .ok_or_else(|| ApiError::Internal(format!("output `{name}` has no status"))),
        Err(e @ ReattachError::Unknown(_)) => Err(ApiError::NotFound(e.to_string())),
        Err(e @ ReattachError::NotDetached(_)) => Err(ApiError::Conflict(e.to_string())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    };
    audit::record(&app, &who, peer, "output.reattach", &name, &result).await;
    result.map(Json)
}
