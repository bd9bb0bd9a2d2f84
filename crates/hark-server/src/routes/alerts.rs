//! Alerts and silences: `GET /api/v1/alerts`, `POST /api/v1/alerts/{id}/ack`,
//! `GET`/`POST /api/v1/silences`, `DELETE /api/v1/silences/{id}`, and the
//! event console's `GET /api/v1/problems`, `POST /api/v1/problems/{id}/ack|close`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use hark_alert::AlertError;

use super::Peer;
use crate::Shared;
use crate::api::{Alert, NewRule, NewSilence, Principal, Problem, RuleView, Silence};
use crate::audit;
use crate::error::ApiError;

/// `GET /api/v1/alerts`: firing alerts, newest first, then recently resolved ones.
pub(crate) async fn list(State(app): State<Shared>) -> Json<Vec<Alert>> {
    Json(app.alerting.alerts())
}

/// `POST /api/v1/alerts/{id}/ack`: no reminders for it any more.
pub(crate) async fn ack(
    State(app): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    if !app.alerting.acknowledge(&id, &who.name).map_err(internal)? {
        return Err(ApiError::NotFound(format!("no firing alert with id {id}")));
    }
    app.alerting
        .alerts()
        .into_iter()
        .find(|a| a.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no firing alert with id {id}")))
}

/// `GET /api/v1/silences`.
pub(crate) async fn silences(State(app): State<Shared>) -> Json<Vec<Silence>> {
    Json(app.alerting.silences())
}

/// `POST /api/v1/silences`.
pub(crate) async fn add_silence(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Json(request): Json<NewSilence>,
) -> Result<(StatusCode, Json<Silence>), ApiError> {
    let result = match app.alerting.add_silence(request, &who.name) {
        Ok(silence) => Ok((StatusCode::CREATED, Json(silence))),
        Err(AlertError::Invalid(message)) => Err(ApiError::bad_request(message)),
        Err(e) => Err(internal(e)),
    };
    let target = result
        .as_ref()
        .map(|(_, s)| s.id.clone())
        .unwrap_or_default();
    audit::record(&app, &who, peer, "silence.add", &target, &result).await;
    result
}

/// `DELETE /api/v1/silences/{id}`.
pub(crate) async fn remove_silence(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = match app.alerting.remove_silence(&id) {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::NotFound(format!("no silence with id {id}"))),
        Err(e) => Err(internal(e)),
    };
    audit::record(&app, &who, peer, "silence.remove", &id, &result).await;
    result
}

/// `GET /api/v1/rules`: the rules of the configuration file and those made through the API.
pub(crate) async fn rules(State(app): State<Shared>) -> Json<Vec<RuleView>> {
    Json(app.alerting.rules())
}

/// `POST /api/v1/rules`: a new rule, `{"name", "rule"}`.
pub(crate) async fn add_rule(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Json(request): Json<NewRule>,
) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    let name = request.name.clone();
    let result = if app.alerting.rules().iter().any(|r| r.name == request.name) {
        Err(ApiError::Conflict(format!(
            "rule `{}` exists; PUT /api/v1/rules/{} replaces it",
            request.name, request.name
        )))
    } else {
        app.alerting
            .put_rule(&request.name, request.rule)
            .map_err(rule_error)
    };
    audit::record(&app, &who, peer, "rule.add", &name, &result).await;
    Ok((StatusCode::CREATED, Json(result?)))
}

/// `PUT /api/v1/rules/{name}`: creates or replaces a rule made through the API.
pub(crate) async fn put_rule(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Json(rule): Json<serde_json::Value>,
) -> Result<Json<RuleView>, ApiError> {
    let result = app
        .alerting
        .put_rule(&name, rule)
        .map(Json)
        .map_err(rule_error);
    audit::record(&app, &who, peer, "rule.change", &name, &result).await;
    result
}

/// `DELETE /api/v1/rules/{name}`.
pub(crate) async fn remove_rule(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let result = match app.alerting.remove_rule(&name) {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::NotFound(format!(
            "no rule `{name}` made through the API"
        ))),
        Err(e) => Err(rule_error(e)),
    };
    audit::record(&app, &who, peer, "rule.remove", &name, &result).await;
    result
}

fn rule_error(e: AlertError) -> ApiError {
    match e {
        AlertError::Conflict(m) => ApiError::Conflict(m),
        e @ (AlertError::Invalid(_)
        | AlertError::Rule { .. }
        | AlertError::UnknownChannel { .. }) => ApiError::bad_request(e.to_string()),
        e => internal(e),
    }
}

fn internal(e: AlertError) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// `GET /api/v1/problems`: the event console's open problems, newest
/// first, then closed ones.
pub(crate) async fn problems(State(app): State<Shared>) -> Json<Vec<Problem>> {
    Json(app.alerting.problems())
}

/// `POST /api/v1/problems/{id}/ack`.
pub(crate) async fn ack_problem(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Problem>, ApiError> {
    let result = match app.alerting.acknowledge_problem(&id, &who.name) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::NotFound(format!("no open problem with id {id}"))),
        Err(e) => Err(internal(e)),
    };
    audit::record(&app, &who, peer, "problem.ack", &id, &result).await;
    result?;
    app.alerting
        .problems()
        .into_iter()
        .find(|p| p.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no open problem with id {id}")))
}

/// `POST /api/v1/problems/{id}/close`.
pub(crate) async fn close_problem(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Problem>, ApiError> {
    let result = app
        .alerting
        .close_problem(&id, &who.name)
        .map_err(internal)
        .and_then(|p| {
            p.map(Json)
                .ok_or_else(|| ApiError::NotFound(format!("no open problem with id {id}")))
        });
    audit::record(&app, &who, peer, "problem.close", &id, &result).await;
    result
}
