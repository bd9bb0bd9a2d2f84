//! Authentication and role checks, as axum middleware.
//!
//! [`authenticate`] finds who makes a request and puts the [`Principal`]
//! into its extensions: an `Authorization: Bearer` token (or, on streaming
//! routes, `?access_token=`), else the `hark_session` cookie of a signed-in
//! user. A request with the cookie and an unsafe method must come from the
//! same origin (see `csrf.rs`); token requests need not, as browsers do not
//! send tokens by themselves. [`require_role`], layered inside it with the
//! role a route declares (see `endpoints.rs`), checks that the principal may.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use hark_auth::Authenticator;
use serde::Deserialize;

use crate::error::ApiError;
use crate::identity::{Principal, Role};
use crate::tokens::TokenStore;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hark_session";

/// What [`authenticate`] checks requests against.
#[derive(Clone)]
pub(crate) struct Gate {
    /// API tokens.
    pub(crate) tokens: Arc<TokenStore>,
    /// Sessions and users.
    pub(crate) auth: Arc<Authenticator>,
    /// Whether `?access_token=` is taken (streaming routes: browsers'
    /// EventSource and WebSocket cannot set headers).
    pub(crate) query_token: bool,
}

/// The session id of a request authenticated by its cookie, in the
/// request's extensions beside the [`Principal`].
#[derive(Debug, Clone)]
pub(crate) struct SessionId(pub(crate) String);

/// Rejects requests without a valid token or session (401), and
/// cross-origin requests that change something with a session cookie (403).
pub(crate) async fn authenticate(
    State(gate): State<Gate>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let from_query = if gate.query_token {
        query_token(&req)
    } else {
        None
    };
    if let Some(secret) = bearer_token(req.headers()).or(from_query.as_deref()) {
        let principal = gate
            .tokens
            .verify(secret)
            .map(|info| info.principal())
            .ok_or(ApiError::Unauthorized)?;
        req.extensions_mut().insert(principal);
        return Ok(next.run(req).await);
    }
    let id = session_cookie(req.headers()).ok_or(ApiError::Unauthorized)?;
    let (principal, _) = gate.auth.session(&id).await.ok_or(ApiError::Unauthorized)?;
    if crate::csrf::cross_origin(req.method(), req.headers()) {
        return Err(ApiError::Forbidden(crate::csrf::REFUSAL.to_owned()));
    }
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(SessionId(id));
    Ok(next.run(req).await)
}

/// Lets through principals whose role includes `needed` (403 otherwise);
/// must run inside [`authenticate`].
pub(crate) async fn require_role(
    State(needed): State<Role>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match req.extensions().get::<Principal>() {
        Some(p) if p.may(needed) => Ok(next.run(req).await),
        Some(p) => Err(ApiError::Forbidden(format!(
            "this route needs the {needed} role (or a higher one); {} `{}` is {} {}",
            p.kind,
            p.name,
            article(p.role),
            p.role
        ))),
        None => Err(ApiError::Unauthorized),
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Operator => "an",
        Role::Viewer => "a",
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of the `hark_session` cookie, if the request has one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// `Set-Cookie` for a new session: HttpOnly, SameSite=Strict, Path=/,
/// Max-Age the session's longest life, and Secure over HTTPS.
pub(crate) fn session_set_cookie(id: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let cookie = format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    // The id is base64url: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that removes the session cookie.
pub(crate) fn session_clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "hark_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static("hark_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
    }
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: Option<String>,
}

fn query_token(req: &Request) -> Option<String> {
    Query::<AccessToken>::try_from_uri(req.uri())
        .ok()
        .and_then(|q| q.0.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{HeaderValue, Method, StatusCode};
    use axum::middleware::from_fn_with_state;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    struct Fixture {
        app: Router,
        admin: String,
        operator: String,
        viewer: String,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Arc::new(TokenStore::open(dir.path()).unwrap());
        let gate = Gate {
            tokens: tokens.clone(),
            auth: Arc::new(
                Authenticator::open(dir.path(), &hark_config::AuthConfig::default(), None).unwrap(),
            ),
            query_token: false,
        };
        let admin = tokens.create(Role::Admin, "ops").unwrap();
        let operator = tokens.create(Role::Operator, "oncall").unwrap();
        let viewer = tokens.create(Role::Viewer, "dash").unwrap();
        let header_only = Router::new()
            .route("/read", get(|| async { "read" }))
            .route(
                "/write",
                post(|| async { "written" })
                    .route_layer(from_fn_with_state(Role::Admin, require_role)),
            )
            .route(
                "/act",
                post(|| async { "acted" })
                    .route_layer(from_fn_with_state(Role::Operator, require_role)),
            )
            .route_layer(from_fn_with_state(gate.clone(), authenticate));
        let with_query = Router::new()
            .route("/tail", get(|| async { "tail" }))
            .route_layer(from_fn_with_state(
                Gate {
                    query_token: true,
                    ..gate
                },
                authenticate,
            ));
        Fixture {
            app: header_only.merge(with_query),
            admin,
            operator,
            viewer,
            _dir: dir,
        }
    }

    async fn status(app: &Router, method: Method, uri: &str, token: Option<&str>) -> StatusCode {
        answer(app, method, uri, token).await.0
    }

    /// The status and the error message of a request.
    async fn answer(
        app: &Router,
        method: Method,
        uri: &str,
        token: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let error = serde_json::from_slice::<crate::api::ErrorBody>(&body)
            .map(|e| e.error)
            .unwrap_or_default();
        (status, error)
    }

    #[tokio::test]
    async fn missing_or_unknown_token_is_401() {
        let f = fixture();
        assert_eq!(
            status(&f.app, Method::GET, "/read", None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&f.app, Method::GET, "/read", Some("hark_nope")).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&f.app, Method::POST, "/write", None).await,
            StatusCode::UNAUTHORIZED
        );
        let resp = f
            .app
            .clone()
            .oneshot(Request::get("/read").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(json["error"].is_string());
    }

    #[tokio::test]
    async fn viewer_reads_but_cannot_write() {
        let f = fixture();
        assert_eq!(
            status(&f.app, Method::GET, "/read", Some(&f.viewer)).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&f.app, Method::POST, "/write", Some(&f.viewer)).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(&f.app, Method::POST, "/write", Some(&f.admin)).await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn each_role_boundary_is_403_with_the_role_needed() {
        let f = fixture();
        // viewer < operator
        let (status, error) = answer(&f.app, Method::POST, "/act", Some(&f.viewer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            error,
            "this route needs the operator role (or a higher one); token `dash` is a viewer"
        );
        assert_eq!(
            status_of(&f, Method::POST, "/act", &f.operator).await,
            StatusCode::OK
        );
        // operator < admin
        let (status, error) = answer(&f.app, Method::POST, "/write", Some(&f.operator)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            error,
            "this route needs the admin role (or a higher one); token `oncall` is an operator"
        );
        assert_eq!(
            status_of(&f, Method::POST, "/write", &f.admin).await,
            StatusCode::OK
        );
        // Higher roles include the lower ones.
        for token in [&f.viewer, &f.operator, &f.admin] {
            assert_eq!(
                status_of(&f, Method::GET, "/read", token).await,
                StatusCode::OK
            );
        }
        assert_eq!(
            status_of(&f, Method::POST, "/act", &f.admin).await,
            StatusCode::OK
        );
    }

    async fn status_of(f: &Fixture, method: Method, uri: &str, token: &str) -> StatusCode {
        status(&f.app, method, uri, Some(token)).await
    }

    #[tokio::test]
    async fn query_token_only_where_allowed() {
        let f = fixture();
        let tail = format!("/tail?q=x&access_token={}", f.viewer);
        assert_eq!(
            status(&f.app, Method::GET, &tail, None).await,
            StatusCode::OK
        );
        let read = format!("/read?access_token={}", f.viewer);
        assert_eq!(
            status(&f.app, Method::GET, &read, None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&f.app, Method::GET, "/tail?access_token=hark_bad", None).await,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn bearer_header_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&h), None);
    }
}
