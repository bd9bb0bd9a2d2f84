//! API tokens through the API: each caller lists, creates and revokes its
//! own (an admin: everyone's).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;

use super::Peer;
use crate::Shared;
use crate::api::{CreatedToken, NewToken};
use crate::audit;
use crate::error::ApiError;
use crate::identity::{Principal, Role};
use crate::tokens::{TokenError, TokenInfo};

fn token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::BadName(_) => ApiError::bad_request(e.to_string()),
        TokenError::Io { .. } | TokenError::Parse { .. } => ApiError::Internal(e.to_string()),
    }
}

/// Whether `who` may see and revoke `token`.
fn may_manage(who: &Principal, token: &TokenInfo) -> bool {
    who.role == Role::Admin || token.owner.as_deref() == Some(who.name.as_str())
}

/// `GET /api/v1/tokens`: the caller's tokens (an admin's: all).
pub(crate) async fn list(
    State(app): State<Shared>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    let all = app.tokens.list().map_err(token_error)?;
    Ok(Json(
        all.into_iter().filter(|t| may_manage(&who, t)).collect(),
    ))
}

/// `POST /api/v1/tokens`: a token of the caller, with at most the caller's role.
pub(crate) async fn create(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Json(new): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let role = new.role.unwrap_or(who.role);
    let created = if who.role.includes(role) {
        app.tokens
            .create_for(role, &new.name, Some(&who.name))
            .map_err(token_error)
    } else {
        Err(ApiError::Forbidden(format!(
            "a token may have at most your own role ({}), not {role}",
            who.role
        )))
    };
    let target = created
        .as_ref()
        .map(|(_, info)| info.id.clone())
        .unwrap_or_else(|_| new.name.clone());
    audit::record(&app, &who, peer, "token.create", &target, &created).await;
    let (secret, info) = created?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: info.id,
            secret,
            name: info.name,
            role: info.role,
        }),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: one of the caller's tokens (an admin: any).
pub(crate) async fn revoke(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::NotFound(format!("no token with id `{id}`"));
    let tokens = app.tokens.list().map_err(token_error)?;
    let revoked = match tokens.iter().find(|t| t.id == id) {
        // Another's token is not found, rather than forbidden: its id says nothing.
        Some(t) if may_manage(&who, t) => match app.tokens.revoke_id(&id) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(not_found()),
            Err(e) => Err(token_error(e)),
        },
        _ => Err(not_found()),
    };
    audit::record(&app, &who, peer, "token.revoke", &id, &revoked).await;
    revoked.map(|()| StatusCode::NO_CONTENT)
}
