//! Turning templates into responses, and the error pages.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Chrome;
use crate::identity::{Principal, Role};

/// HTML is never cached: it names the signed-in user and the current
/// asset version.
const NO_STORE: &str = "no-store";

/// The template rendered as an HTML answer with `status`.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE)),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The template rendered as a `200 OK` HTML answer.
pub(crate) fn ok(page: &impl Template) -> Response {
    html(StatusCode::OK, page)
}

/// An error page in the layout.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) chrome: Chrome,
    pub(crate) status: u16,
    pub(crate) title: String,
    pub(crate) message: String,
}

/// An error page with `status`.
pub(crate) fn error(chrome: Chrome, status: StatusCode, message: String) -> Response {
    let page = ErrorPage {
        chrome,
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        message,
    };
    html(status, &page)
}

/// The 403 page: the principal lacks `needed`.
pub(crate) fn forbidden(chrome: Chrome, needed: Role) -> Response {
    let message = match &chrome.principal {
        Some(p) => format!(
            "This page needs the {needed} role; {} {} is {}.",
            p.kind, p.name, p.role
        ),
        None => format!("This page needs the {needed} role."),
    };
    error(chrome, StatusCode::FORBIDDEN, message)
}

/// The 404 page for paths that are neither pages, files nor API routes;
/// under `/api/` the API's JSON error.
pub(crate) async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        return crate::error::ApiError::NotFound(format!("no route {path}")).into_response();
    }
    let message = format!("There is no page at {path}.");
    let principal = req.extensions().get::<Principal>().cloned();
    error(Chrome::new(principal, ""), StatusCode::NOT_FOUND, message)
}
