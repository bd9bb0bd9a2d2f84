//! Signing in and out, and the signed-in user's own account.

use axum::extract::{Extension, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use hark_auth::LoginError;
use hark_auth::login::PasswordChangeError;
use serde::Deserialize;

use super::Peer;
use crate::Shared;
use crate::api::{LoginRequest, LoginResponse, PasswordChange};
use crate::audit::{self, Actor, Outcome};
use crate::auth::{SessionId, session_clear_cookie, session_cookie, session_set_cookie};
use crate::error::ApiError;
use crate::identity::{Principal, PrincipalKind};

/// Where a form login goes when it names no (acceptable) `next`.
const DEFAULT_NEXT: &str = "/search";
/// The sign-in page.
const LOGIN_PAGE: &str = "/login";

/// Counts failed logins, API and form alike, by `reason`.
pub const LOGIN_FAILURES: &str = "hark_login_failures_total";

/// Why a login failed, as the `reason` label of [`LOGIN_FAILURES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureReason {
    /// Unknown user, wrong password, or a directory user without a role.
    BadCredentials,
    /// Refused by the login throttle before the password was checked.
    Throttled,
    /// The directory could not answer.
    DirectoryUnavailable,
    /// The session could not be stored or the user file not read.
    Internal,
    /// The body was not a readable form or JSON login.
    Malformed,
    /// A browser post from another origin, refused before anything was checked.
    CrossOrigin,
}

impl FailureReason {
    fn of(e: &LoginError) -> FailureReason {
        match e {
            LoginError::Invalid => FailureReason::BadCredentials,
            LoginError::Throttled { .. } => FailureReason::Throttled,
            LoginError::DirectoryUnavailable => FailureReason::DirectoryUnavailable,
            LoginError::Internal(_) => FailureReason::Internal,
        }
    }

    fn label(self) -> &'static str {
        match self {
            FailureReason::BadCredentials => "bad_credentials",
            FailureReason::Throttled => "throttled",
            FailureReason::DirectoryUnavailable => "directory_unavailable",
            FailureReason::Internal => "internal",
            FailureReason::Malformed => "malformed",
            FailureReason::CrossOrigin => "cross_origin",
        }
    }

    /// Adds one to [`LOGIN_FAILURES`] for this reason.
    fn count(self) {
        static DESCRIBE: std::sync::Once = std::sync::Once::new();
        DESCRIBE.call_once(|| {
            metrics::describe_counter!(LOGIN_FAILURES, "Failed logins (API and form) by reason");
        });
        metrics::counter!(LOGIN_FAILURES, "reason" => self.label()).increment(1);
    }
}

/// A form login.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Whether the request body is a form (`application/x-www-form-urlencoded`).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// `next` when it is a path on this server (`/…`, not `//…` nor `/\\…`).
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n
        }
        _ => DEFAULT_NEXT,
    }
}

fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `POST /api/v1/login`: JSON `{username, password}` → the user and a
/// session cookie; a form post → a redirect to `next` with the cookie, or
/// back to the sign-in page with `?error=`.
pub(crate) async fn login(
    State(app): State<Shared>,
    Peer(peer): Peer,
    req: Request,
) -> Result<Response, ApiError> {
    if crate::csrf::cross_origin(req.method(), req.headers()) {
        FailureReason::CrossOrigin.count();
        return Err(ApiError::Forbidden(crate::csrf::REFUSAL.to_owned()));
    }
    let form = is_form(req.headers());
    let previous = session_cookie(req.headers());
    let (username, password, next) = if form {
        let Form(f) = Form::<LoginForm>::from_request(req, &())
            .await
            .map_err(|e| {
                FailureReason::Malformed.count();
                ApiError::bad_request(e.body_text())
            })?;
        (f.username, f.password, f.next)
    } else {
        let Json(j) = Json::<LoginRequest>::from_request(req, &())
            .await
            .map_err(|e| {
                FailureReason::Malformed.count();
                ApiError::bad_request(e.body_text())
            })?;
        (j.username, j.password, None)
    };
    let addr = peer.map(|p| p.ip());
    let outcome = app.auth.login(&username, &password, addr).await;
    let actor = Actor::user(&username, addr);
    let logged_in = match outcome {
        Ok(ok) => ok,
        Err(e) => {
            FailureReason::of(&e).count();
            if matches!(e, LoginError::Invalid | LoginError::Throttled { .. }) {
                audit::record_by(&app, &actor, "login", &username, Outcome::Failure).await;
            }
            if form {
                let code = match e {
                    LoginError::Invalid => "invalid",
                    LoginError::Throttled { .. } => "throttled",
                    LoginError::DirectoryUnavailable | LoginError::Internal(_) => "unavailable",
                };
                return Ok(see_other(&format!("{LOGIN_PAGE}?error={code}")));
            }
            return Err(match e {
                LoginError::Invalid => ApiError::LoginFailed,
                LoginError::Throttled { retry_after } => ApiError::TooManyAttempts { retry_after },
                LoginError::DirectoryUnavailable => ApiError::DirectoryUnavailable,
                LoginError::Internal(m) => ApiError::Internal(m),
            });
        }
    };
    // A new id at every login; the session the browser had ends.
    if let Some(old) = previous {
        app.auth.sessions().end(&old);
    }
    audit::record_by(&app, &actor, "login", &username, Outcome::Success).await;
    let cookie = session_set_cookie(
        &logged_in.session_id,
        app.auth.sessions().max_age(),
        app.tls,
    );
    let mut resp = if form {
        see_other(local_path(next.as_deref()))
    } else {
        Json(LoginResponse {
            name: logged_in.principal.name,
            role: logged_in.principal.role,
        })
        .into_response()
    };
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /api/v1/logout`: ends the session of the cookie on the server and
/// removes the cookie; a form post is sent to the sign-in page, others get 204.
pub(crate) async fn logout(
    State(app): State<Shared>,
    Peer(peer): Peer,
    headers: HeaderMap,
    method: axum::http::Method,
) -> Result<Response, ApiError> {
    if let Some(id) = session_cookie(&headers) {
        if crate::csrf::cross_origin(&method, &headers) {
            return Err(ApiError::Forbidden(crate::csrf::REFUSAL.to_owned()));
        }
        if let Some((principal, _)) = app.auth.session(&id).await {
            app.auth.sessions().end(&id);
            let actor = Actor::of(&principal, peer.map(|p| p.ip()));
            audit::record_by(&app, &actor, "logout", &principal.name, Outcome::Success).await;
        }
    }
    let mut resp = if is_form(&headers) {
        see_other(LOGIN_PAGE)
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_clear_cookie(app.tls));
    Ok(resp)
}

/// `GET /api/v1/me`: who the caller is.
pub(crate) async fn me(Extension(who): Extension<Principal>) -> Json<Principal> {
    Json(who)
}

/// `POST /api/v1/me/password`: a signed-in local user changes their
/// password; their other sessions end.
pub(crate) async fn change_password(
    State(app): State<Shared>,
    Peer(peer): Peer,
    Extension(who): Extension<Principal>,
    session: Option<Extension<SessionId>>,
    Json(change): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if who.kind != PrincipalKind::User {
        return Err(ApiError::bad_request(
            "only a signed-in user has a password; a token has none",
        ));
    }
    let keep = session.as_ref().map(|s| s.0.0.as_str());
    let result = app
        .auth
        .change_password(&who.name, &change.current, &change.new, keep)
        .await;
    let actor = Actor::of(&who, peer.map(|p| p.ip()));
    let outcome = if result.is_ok() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    audit::record_by(&app, &actor, "user.password", &who.name, outcome).await;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(PasswordChangeError::WrongCurrent) => Err(ApiError::Forbidden(
            "the current password is wrong".to_owned(),
        )),
        Err(e @ PasswordChangeError::NotLocal) => Err(ApiError::bad_request(e.to_string())),
        Err(PasswordChangeError::User(e)) => Err(super::users::user_error(e)),
        Err(PasswordChangeError::Internal(m)) => Err(ApiError::Internal(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_or_the_default() {
        assert_eq!(local_path(Some("/monitors?x=1")), "/monitors?x=1");
        assert_eq!(local_path(None), DEFAULT_NEXT);
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "search",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), DEFAULT_NEXT, "{bad:?}");
        }
    }
}
