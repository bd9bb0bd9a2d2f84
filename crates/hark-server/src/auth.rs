//! Bearer-token authentication and role checks, as axum middleware.
//!
//! [`require_token`] puts the caller's [`Principal`] into the request
//! extensions; [`require_role`], layered inside it with the role a route
//! declares (see `endpoints.rs`), checks that the principal may.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;

use crate::error::ApiError;
use crate::identity::{Principal, Role};
use crate::tokens::TokenStore;

/// Rejects requests without a valid `Authorization: Bearer` token.
pub(crate) async fn require_token(
    State(tokens): State<Arc<TokenStore>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = authenticate(&tokens, bearer_token(req.headers()))?;
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

/// Like [`require_token`], but also takes `?access_token=`, for browsers'
/// EventSource and WebSocket, which cannot set headers.
pub(crate) async fn require_token_or_query(
    State(tokens): State<Arc<TokenStore>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let from_query = query_token(&req);
    let secret = bearer_token(req.headers()).or(from_query.as_deref());
    let principal = authenticate(&tokens, secret)?;
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

/// Lets through principals whose role includes `needed` (403 otherwise);
/// must run inside [`require_token`] or [`require_token_or_query`].
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

fn authenticate(tokens: &TokenStore, secret: Option<&str>) -> Result<Principal, ApiError> {
    let secret = secret.ok_or(ApiError::Unauthorized)?;
    tokens
        .verify(secret)
        .map(|info| info.principal())
        .ok_or(ApiError::Unauthorized)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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
            .route_layer(from_fn_with_state(tokens.clone(), require_token));
        let with_query = Router::new()
            .route("/tail", get(|| async { "tail" }))
            .route_layer(from_fn_with_state(tokens, require_token_or_query));
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
