//! The web UI: HTML pages rendered on the server with askama
//! (`ui/templates/`), made lively with htmx and a few ES modules
//! (`ui/static/js/`), which talk to the JSON API like any client.
//!
//! Page routes are not API endpoints: they are listed in [`pages`] with who
//! may see them, and are neither in the OpenAPI document nor in
//! [`crate::routes`]. A page that needs a signed-in principal answers a
//! visitor without one with a redirect to `/login?next=<path>`
//! ([`login_redirect`]); one that needs a higher role answers 403 with an
//! error page. See `docs/internals/ui.md`.

mod admin;
mod alerts;
pub(crate) mod assets;
mod chrome;
mod format;
mod login;
mod monitors;
mod ports;
mod render;
pub(crate) mod sources;
mod status;
mod svg;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{self, MethodRouter};

use crate::Shared;
use crate::auth::{Gate, bearer_token, session_cookie};
use crate::identity::{Principal, Role};

pub(crate) use chrome::Chrome;

/// Who may see a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in principal with at least this role.
    SignedIn(Role),
}

/// One page of the UI.
pub(crate) struct PageRoute {
    /// The path, with `{name}` for a path parameter.
    pub(crate) path: &'static str,
    /// Who may see it.
    pub(crate) access: Access,
    /// Its handler.
    pub(crate) handler: MethodRouter<Shared>,
}

fn page(path: &'static str, access: Access, handler: MethodRouter<Shared>) -> PageRoute {
    PageRoute {
        path,
        access,
        handler,
    }
}

const VIEWER: Access = Access::SignedIn(Role::Viewer);
const ADMIN: Access = Access::SignedIn(Role::Admin);

/// Every page of the UI.
pub(crate) fn pages() -> Vec<PageRoute> {
    vec![
        page(
            "/",
            VIEWER,
            routing::get(|| async { Redirect::to("/search") }),
        ),
        page("/login", Access::Public, routing::get(login::page)),
        page("/status", Access::Public, routing::get(status::page)),
        page("/search", VIEWER, routing::get(login::search)),
        page("/tail", VIEWER, routing::get(login::tail)),
        page("/sources", VIEWER, routing::get(sources::page)),
        page("/monitors", VIEWER, routing::get(monitors::list)),
        page("/monitors/{name}", VIEWER, routing::get(monitors::detail)),
        page("/alerts", VIEWER, routing::get(alerts::page)),
        page("/ports", VIEWER, routing::get(ports::page)),
        page("/account", VIEWER, routing::get(admin::account)),
        page("/admin", ADMIN, routing::get(admin::page)),
    ]
}

/// The paths and access of every page, for tests and documentation.
pub fn page_list() -> Vec<(&'static str, Access)> {
    pages().iter().map(|p| (p.path, p.access)).collect()
}

/// The pages, the static files and the HTML 404 page.
pub(crate) fn router(gate: Gate) -> Router<Shared> {
    let mut router = Router::new();
    for p in pages() {
        let handler = match p.access {
            Access::Public => p.handler,
            Access::SignedIn(role) => p
                .handler
                .route_layer(from_fn_with_state(role, require_access)),
        };
        router = router.route(p.path, handler);
    }
    router
        .route("/static/{version}/{*path}", routing::get(assets::serve))
        .fallback(render::not_found)
        .layer(from_fn_with_state(gate, identify))
}

/// Puts the principal of the request, if it has a valid bearer token or
/// session cookie, into the request's extensions; never refuses (pages
/// send visitors without one to the login page instead, see [`require_access`]).
/// The one place that decides who is signed in for the pages. Pages only
/// read, so no CSRF check is needed here; every change goes through the
/// API, which checks.
async fn identify(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    let principal = match bearer_token(req.headers()) {
        Some(secret) => gate.tokens.verify(secret).map(|info| info.principal()),
        None => match session_cookie(req.headers()) {
            Some(id) => gate.auth.session(&id).await.map(|(p, _)| p),
            None => None,
        },
    };
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

/// Lets through principals whose role includes `needed`; sends visitors
/// without one to the login page and answers others with the 403 page.
async fn require_access(State(needed): State<Role>, req: Request, next: Next) -> Response {
    match req.extensions().get::<Principal>().cloned() {
        Some(p) if p.may(needed) => next.run(req).await,
        Some(p) => render::forbidden(Chrome::new(Some(p), ""), needed),
        None => login_redirect(req.uri()),
    }
}

/// `303 See Other` to `/login?next=<path and query>`.
pub(crate) fn login_redirect(uri: &Uri) -> Response {
    let next = uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/search");
    let location = format!("/login?next={}", format::url_encode(next));
    Redirect::to(&location).into_response()
}

#[cfg(test)]
mod tests;
