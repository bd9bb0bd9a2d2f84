//! Every route of the API, declared once: method, path, least role,
//! handler and OpenAPI operation. The router ([`crate::router`]), the route
//! list ([`routes`]) and the OpenAPI document (`routes/openapi.rs`) are all
//! made from [`endpoints`], so none of them can name a route the others lack.
//!
//! Adding a route is one line in [`endpoints`] plus its handler and its
//! operation (`openapi/operations/<operationId>.json`, without
//! `x-hark-role`, 401 or 403: those follow from the declared role). See
//! `docs/internals/api.md`.

use axum::handler::Handler;
use axum::routing::{self, MethodRouter};

use crate::identity::Role;
use crate::routes::{
    alerts, export, fields, forwarders, health, ingest, monitors, notifications, openapi, outputs,
    ports, saved_searches, search, session, sources, tail, tokens, users,
};
use crate::{INGEST_BODY_LIMIT, SEARCH_BODY_LIMIT, Shared};

/// One route of the API and the least role that may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path, with `{name}` for a path parameter.
    pub path: &'static str,
    /// The least role needed; `None` for the public routes, which need no token.
    pub needs: Option<Role>,
}

/// No token or session needed.
const PUBLIC: Option<Role> = None;
/// Any valid token.
const VIEWER: Option<Role> = Some(Role::Viewer);
/// An operator's or an admin's token.
const OPERATOR: Option<Role> = Some(Role::Operator);
/// An admin's token.
const ADMIN: Option<Role> = Some(Role::Admin);

/// The OpenAPI operation of a route, by its `operationId`.
macro_rules! operation {
    ($id:literal) => {
        include_str!(concat!("openapi/operations/", $id, ".json"))
    };
}

/// Every route the API serves.
pub(crate) fn endpoints() -> Vec<Endpoint> {
    vec![
        get("/healthz", PUBLIC, health::healthz, operation!("healthz")),
        get("/metrics", PUBLIC, health::metrics, operation!("metrics")),
        get(
            "/api/v1/search",
            VIEWER,
            search::get,
            operation!("searchGet"),
        )
        .body_limit(SEARCH_BODY_LIMIT),
        post(
            "/api/v1/search",
            VIEWER,
            search::post,
            operation!("searchPost"),
        )
        .body_limit(SEARCH_BODY_LIMIT),
        post("/api/v1/ingest", ADMIN, ingest::post, operation!("ingest"))
            .body_limit(INGEST_BODY_LIMIT),
        get("/api/v1/tail", VIEWER, tail::get, operation!("tail")).streaming(),
        get("/api/v1/export", VIEWER, export::get, operation!("export")).streaming(),
        get(
            "/api/v1/fields",
            VIEWER,
            fields::get,
            operation!("listFields"),
        ),
        get(
            "/api/v1/sources",
            VIEWER,
            sources::get,
            operation!("listSources"),
        ),
        get(
            "/api/v1/saved-searches",
            VIEWER,
            saved_searches::list,
            operation!("listSavedSearches"),
        ),
        post(
            "/api/v1/saved-searches",
            VIEWER,
            saved_searches::add,
            operation!("addSavedSearch"),
        ),
        delete(
            "/api/v1/saved-searches/{id}",
            VIEWER,
            saved_searches::remove,
            operation!("removeSavedSearch"),
        ),
        get(
            "/api/v1/openapi.json",
            VIEWER,
            openapi::get,
            operation!("openapi"),
        ),
        get("/api/v1/ports", VIEWER, ports::get, operation!("ports")),
        get(
            "/api/v1/outputs",
            VIEWER,
            outputs::list,
            operation!("listOutputs"),
        ),
        post(
            "/api/v1/outputs/{name}/reattach",
            ADMIN,
            outputs::reattach,
            operation!("reattachOutput"),
        ),
        get(
            "/api/v1/forwarders",
            VIEWER,
            forwarders::list,
            operation!("forwarders"),
        ),
        get(
            "/api/v1/forwarders/groups/{group}/config",
            ADMIN,
            forwarders::group_config,
            operation!("getGroupConfig"),
        ),
        put(
            "/api/v1/forwarders/groups/{group}/config",
            ADMIN,
            forwarders::put_group_config,
            operation!("putGroupConfig"),
        ),
        get(
            "/api/v1/ports/rules",
            VIEWER,
            ports::rules,
            operation!("portsRules"),
        ),
        post(
            "/api/v1/ports/check",
            ADMIN,
            ports::check,
            operation!("portsCheck"),
        ),
        get(
            "/api/v1/monitors",
            VIEWER,
            monitors::list,
            operation!("listMonitors"),
        ),
        get(
            "/api/v1/monitors/{name}",
            VIEWER,
            monitors::get,
            operation!("getMonitor"),
        ),
        get(
            "/api/v1/monitors/{name}/history",
            VIEWER,
            monitors::history,
            operation!("monitorHistory"),
        ),
        post(
            "/api/v1/monitors/{name}/check",
            OPERATOR,
            monitors::check,
            operation!("checkMonitor"),
        ),
        post(
            "/api/v1/monitors/{name}/ack",
            OPERATOR,
            monitors::ack,
            operation!("acknowledge"),
        ),
        delete(
            "/api/v1/monitors/{name}/ack",
            OPERATOR,
            monitors::unack,
            operation!("removeAcknowledgement"),
        ),
        get(
            "/api/v1/downtimes",
            VIEWER,
            monitors::downtimes,
            operation!("listDowntimes"),
        ),
        post(
            "/api/v1/downtimes",
            OPERATOR,
            monitors::add_downtime,
            operation!("addDowntime"),
        ),
        delete(
            "/api/v1/downtimes/{id}",
            OPERATOR,
            monitors::remove_downtime,
            operation!("removeDowntime"),
        ),
        get(
            "/api/v1/notifications",
            VIEWER,
            notifications::list,
            operation!("listNotifications"),
        ),
        get(
            "/api/v1/alerts",
            VIEWER,
            alerts::list,
            operation!("listAlerts"),
        ),
        post(
            "/api/v1/alerts/{id}/ack",
            OPERATOR,
            alerts::ack,
            operation!("ackAlert"),
        ),
        get(
            "/api/v1/silences",
            VIEWER,
            alerts::silences,
            operation!("listSilences"),
        ),
        post(
            "/api/v1/silences",
            OPERATOR,
            alerts::add_silence,
            operation!("addSilence"),
        ),
        delete(
            "/api/v1/silences/{id}",
            OPERATOR,
            alerts::remove_silence,
            operation!("removeSilence"),
        ),
        get(
            "/api/v1/rules",
            VIEWER,
            alerts::rules,
            operation!("listRules"),
        ),
        post(
            "/api/v1/rules",
            OPERATOR,
            alerts::add_rule,
            operation!("addRule"),
        ),
        put(
            "/api/v1/rules/{name}",
            OPERATOR,
            alerts::put_rule,
            operation!("putRule"),
        ),
        delete(
            "/api/v1/rules/{name}",
            OPERATOR,
            alerts::remove_rule,
            operation!("removeRule"),
        ),
        get(
            "/api/v1/problems",
            VIEWER,
            alerts::problems,
            operation!("listProblems"),
        ),
        post(
            "/api/v1/problems/{id}/ack",
            OPERATOR,
            alerts::ack_problem,
            operation!("ackProblem"),
        ),
        post(
            "/api/v1/problems/{id}/close",
            OPERATOR,
            alerts::close_problem,
            operation!("closeProblem"),
        ),
        post("/api/v1/login", PUBLIC, session::login, operation!("login")),
        post(
            "/api/v1/logout",
            PUBLIC,
            session::logout,
            operation!("logout"),
        ),
        get("/api/v1/me", VIEWER, session::me, operation!("me")),
        post(
            "/api/v1/me/password",
            VIEWER,
            session::change_password,
            operation!("changePassword"),
        ),
        post(
            "/api/v1/auth/ldap/test",
            ADMIN,
            users::ldap_test,
            operation!("testLdap"),
        ),
        get("/api/v1/users", ADMIN, users::list, operation!("listUsers")),
        post("/api/v1/users", ADMIN, users::add, operation!("addUser")),
        put(
            "/api/v1/users/{name}",
            ADMIN,
            users::change,
            operation!("changeUser"),
        ),
        delete(
            "/api/v1/users/{name}",
            ADMIN,
            users::remove,
            operation!("removeUser"),
        ),
        get(
            "/api/v1/tokens",
            VIEWER,
            tokens::list,
            operation!("listTokens"),
        ),
        post(
            "/api/v1/tokens",
            VIEWER,
            tokens::create,
            operation!("createToken"),
        ),
        delete(
            "/api/v1/tokens/{id}",
            VIEWER,
            tokens::revoke,
            operation!("revokeToken"),
        ),
    ]
}

/// Every route the API serves, with its least role.
pub fn routes() -> Vec<Route> {
    endpoints().iter().map(|e| e.route).collect()
}

/// How a route is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Answered within [`crate::REQUEST_TIMEOUT`], compressed when the client accepts it.
    Bounded,
    /// A stream that lasts as long as the client: no timeout, no compression,
    /// and the token may come as `?access_token=` (browsers' EventSource and
    /// WebSocket cannot set headers).
    Streaming,
}

/// A route, its handler and its documentation.
pub(crate) struct Endpoint {
    /// Method, path and least role.
    pub(crate) route: Route,
    /// The handler, for this route's method only.
    pub(crate) handler: MethodRouter<Shared>,
    /// The OpenAPI operation object, as JSON text.
    pub(crate) operation: &'static str,
    /// Bounded or streaming.
    pub(crate) delivery: Delivery,
    /// The largest body accepted, when not axum's default.
    pub(crate) body_limit: Option<usize>,
}

impl Endpoint {
    fn new(
        method: &'static str,
        path: &'static str,
        needs: Option<Role>,
        handler: MethodRouter<Shared>,
        operation: &'static str,
    ) -> Endpoint {
        Endpoint {
            route: Route {
                method,
                path,
                needs,
            },
            handler,
            operation,
            delivery: Delivery::Bounded,
            body_limit: None,
        }
    }

    /// Accepts bodies of up to `limit` bytes (413 beyond).
    fn body_limit(self, limit: usize) -> Endpoint {
        Endpoint {
            body_limit: Some(limit),
            ..self
        }
    }

    /// Serves a stream (see [`Delivery::Streaming`]).
    fn streaming(self) -> Endpoint {
        Endpoint {
            delivery: Delivery::Streaming,
            ..self
        }
    }
}

/// A `GET` route.
fn get<H: Handler<T, Shared>, T: 'static>(
    path: &'static str,
    needs: Option<Role>,
    handler: H,
    operation: &'static str,
) -> Endpoint {
    Endpoint::new("GET", path, needs, routing::get(handler), operation)
}

/// A `POST` route.
fn post<H: Handler<T, Shared>, T: 'static>(
    path: &'static str,
    needs: Option<Role>,
    handler: H,
    operation: &'static str,
) -> Endpoint {
    Endpoint::new("POST", path, needs, routing::post(handler), operation)
}

/// A `DELETE` route.
fn delete<H: Handler<T, Shared>, T: 'static>(
    path: &'static str,
    needs: Option<Role>,
    handler: H,
    operation: &'static str,
) -> Endpoint {
    Endpoint::new("DELETE", path, needs, routing::delete(handler), operation)
}

/// A `PUT` route.
fn put<H: Handler<T, Shared>, T: 'static>(
    path: &'static str,
    needs: Option<Role>,
    handler: H,
    operation: &'static str,
) -> Endpoint {
    Endpoint::new("PUT", path, needs, routing::put(handler), operation)
}
