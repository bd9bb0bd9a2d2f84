//! The login page and the pages whose content the search and tail modules build.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Chrome, render};
use crate::identity::Principal;

/// The query of `/login`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    /// Where to go after signing in.
    #[serde(default)]
    next: Option<String>,
    /// Why the last attempt failed: `invalid`, `throttled` or `unavailable`.
    #[serde(default)]
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    error: Option<&'static str>,
}

/// `next` if it is a path on this server, else `/search`: a login link
/// must not send anyone elsewhere.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/search".to_owned(),
    }
}

/// The message of a login error code.
fn error_message(code: &str) -> &'static str {
    match code {
        "throttled" => "too many attempts; wait a minute and try again",
        "unavailable" => "the user directory cannot be reached; try again later",
        _ => "invalid user name or password",
    }
}

/// `GET /login`: the form, or straight on for a signed-in principal.
pub(crate) async fn page(
    principal: Option<Extension<Principal>>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let next = safe_next(q.next.as_deref());
    if principal.is_some() {
        return Redirect::to(&next).into_response();
    }
    render::ok(&LoginPage {
        chrome: Chrome::new(None, ""),
        next,
        error: q.error.as_deref().map(error_message),
    })
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
}

#[derive(Template)]
#[template(path = "tail.html")]
struct TailPage {
    chrome: Chrome,
}

/// `GET /search`: the search module's mount point.
pub(crate) async fn search(Extension(p): Extension<Principal>) -> Response {
    render::ok(&SearchPage {
        chrome: Chrome::new(Some(p), "/search"),
    })
}

/// `GET /tail`: the live tail module's mount point.
pub(crate) async fn tail(Extension(p): Extension<Principal>) -> Response {
    render::ok(&TailPage {
        chrome: Chrome::new(Some(p), "/tail"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/monitors?x=1")), "/monitors?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/search");
        assert_eq!(safe_next(Some("https://evil.example/")), "/search");
        assert_eq!(safe_next(Some("/\\evil.example")), "/search");
        assert_eq!(safe_next(None), "/search");
    }
}
