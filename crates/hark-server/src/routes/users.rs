//! Local users (admin): list, add, change, remove.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use hark_auth::users::{UserError, UserInfo};

use super::Peer;
use crate::Shared;
use crate::api::{LdapTestReport, LdapTestRequest, NewUser, UserChange, UserView};
use crate::audit;
use crate::error::ApiError;
use crate::identity::Principal;

/// A user store error as an answer.
pub(crate) fn user_error(e: UserError) -> ApiError {
    match e {
        UserError::BadName(_) | UserError::Password(_) => ApiError::bad_request(e.to_string()),
        UserError::Exists(_) => ApiError::Conflict(e.to_string()),
        UserError::NotFound(_) => ApiError::NotFound(e.to_string()),
        UserError::File(_) => ApiError::Internal(e.to_string()),
    }
}

fn view(u: UserInfo) -> UserView {
    UserView {
        name: u.name,
        role: u.role,
        created_at: u.created_at,
    }
}

/// `GET /api/v1/users`.
pub(crate) async fn list(State(app): State<Shared>) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = app.auth.users().list().map_err(user_error)?;
    Ok(Json(users.into_iter().map(view).collect()))
}

/// `POST /api/v1/users`.
pub(crate) async fn add(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let users = app.auth.users().clone();
    let name = new.name.clone();
    let added = tokio::task::spawn_blocking(move || users.add(&new.name, new.role, &new.password))
        .await?
        .map_err(user_error);
    audit::record(&app, &who, peer, "user.add", &name, &added).await;
    Ok((StatusCode::CREATED, Json(view(added?))))
}

/// `PUT /api/v1/users/{name}`: a new role, a new password, or both; the
/// user's sessions end.
pub(crate) async fn change(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(change): Json<UserChange>,
) -> Result<Json<UserView>, ApiError> {
    if change.role.is_none() && change.password.is_none() {
        return Err(ApiError::bad_request("give a role, a password, or both"));
    }
    let users = app.auth.users().clone();
    let target = name.clone();
    let changed = tokio::task::spawn_blocking(move || {
        let mut info = users
            .get(&target)?
            .ok_or(UserError::NotFound(target.clone()))?;
        if let Some(password) = &change.password {
            info = users.set_password(&target, password)?;
        }
        if let Some(role) = change.role {
            info = users.set_role(&target, role)?;
        }
        Ok(info)
    })
    .await?
    .map_err(user_error);
    if changed.is_ok() {
        app.auth.sessions().end_all_of(&name);
    }
    audit::record(&app, &who, peer, "user.change", &name, &changed).await;
    Ok(Json(view(changed?)))
}

/// `DELETE /api/v1/users/{name}`: the user and their sessions.
pub(crate) async fn remove(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let removed = match app.auth.users().remove(&name) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::NotFound(format!("no user named `{name}`"))),
        Err(e) => Err(user_error(e)),
    };
    if removed.is_ok() {
        app.auth.sessions().end_all_of(&name);
    }
    audit::record(&app, &who, peer, "user.remove", &name, &removed).await;
    removed.map(|()| StatusCode::NO_CONTENT)
}

/// `POST /api/v1/auth/ldap/test`: the steps of a sign-in through the
/// configured directory, as `hark auth test-ldap` shows them.
pub(crate) async fn ldap_test(
    State(app): State<Shared>,
    Json(req): Json<LdapTestRequest>,
) -> Result<Json<LdapTestReport>, ApiError> {
    let directory = app.auth.directory().ok_or_else(|| {
        ApiError::NotFound(
            "no directory is configured: add [auth.ldap] to the configuration".into(),
        )
    })?;
    let steps = directory
        .test(
            &req.username,
            req.password.as_deref().filter(|p| !p.is_empty()),
        )
        .await;
    Ok(Json(LdapTestReport {
        ok: steps.iter().all(|s| s.ok),
        steps,
    }))
}
