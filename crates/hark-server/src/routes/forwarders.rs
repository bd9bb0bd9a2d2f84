//! The forwarders that send to this server through the uplink, and the
//! central configuration of their groups.

use axum::Json;
use axum::extract::{Extension, Path, State};
use hark_uplink::fleet::{Fleet, ForwarderView};
use hark_uplink::groups::{GroupConfigError, GroupDocument};

use super::Peer;
use crate::Shared;
use crate::api::Principal;
use crate::audit;
use crate::error::ApiError;

/// `GET /api/v1/forwarders`: every enrolled forwarder, its status (`up`,
/// `down` after `[uplink] down_after` without a report, `unknown`,
/// `revoked`) and its last health report; empty when the uplink is off.
pub(crate) async fn list(State(app): State<Shared>) -> Json<Vec<ForwarderView>> {
    let views = match &app.forwarders {
        Some(fleet) => {
            let fleet = fleet.clone();
            tokio::task::spawn_blocking(move || fleet.views())
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    Json(views)
}

fn fleet(app: &Shared) -> Result<Fleet, ApiError> {
    app.forwarders.clone().ok_or_else(|| {
        ApiError::NotFound("the uplink is off: this server has no forwarders".into())
    })
}

fn group_error(e: GroupConfigError) -> ApiError {
    match e {
        GroupConfigError::BadName(_) | GroupConfigError::Invalid(_) => {
            ApiError::bad_request(e.to_string())
        }
        GroupConfigError::Uplink(e) => ApiError::Internal(e.to_string()),
    }
}

/// `GET /api/v1/forwarders/groups/{group}/config`: the group's central
/// configuration (TOML text) and its version.
pub(crate) async fn group_config(
    State(app): State<Shared>,
    Path(group): Path<String>,
) -> Result<Json<GroupDocument>, ApiError> {
    let fleet = fleet(&app)?;
    let wanted = group.clone();
    let found = tokio::task::spawn_blocking(move || fleet.group_configs().get(&wanted))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(group_error)?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("group `{group}` has no central configuration")))
}

/// `PUT /api/v1/forwarders/groups/{group}/config`: validates the TOML body
/// and makes it the group's configuration; its forwarders apply it at
/// their next poll.
pub(crate) async fn put_group_config(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(group): Path<String>,
    text: String,
) -> Result<Json<GroupDocument>, ApiError> {
    let result = match fleet(&app) {
        Ok(fleet) => {
            let name = group.clone();
            tokio::task::spawn_blocking(move || fleet.group_configs().put(&name, text))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))
                .and_then(|r| r.map_err(group_error))
        }
        Err(e) => Err(e),
    };
    audit::record(&app, &who, peer, "forwarder_group.config", &group, &result).await;
    result.map(Json)
}
