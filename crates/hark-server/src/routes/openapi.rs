//! The OpenAPI 3.1 document, made from the declared routes: each route's
//! operation (`openapi/operations/*.json`) under its path and method, with
//! its least role as `x-hark-role` and the 401 and 403 answers its role
//! implies, on top of `openapi/base.json` (info, security schemes, schemas
//! and shared responses). The `Flow` schema is the matrix crate's.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::endpoints::Endpoint;
use crate::identity::Role;

/// Everything but the paths.
const BASE: &str = include_str!("../openapi/base.json");

/// `GET /api/v1/openapi.json`.
pub(crate) async fn get(State(app): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.openapi.clone(),
    )
}

/// The document describing `endpoints`.
///
/// # Panics
/// When `base.json` or an operation is not a JSON object: both are compiled
/// in, and the tests parse every one.
pub(crate) fn document(endpoints: &[Endpoint]) -> Value {
    let mut doc: Value = serde_json::from_str(BASE).expect("openapi/base.json is JSON");
    let mut paths = Map::new();
    for e in endpoints {
        let mut op: Value = serde_json::from_str(e.operation)
            .unwrap_or_else(|err| panic!("the operation of {:?}: {err}", e.route));
        role_parts(&mut op, e.route.needs);
        let item = paths
            .entry(e.route.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[e.route.method.to_ascii_lowercase()] = op;
    }
    doc["paths"] = Value::Object(paths);
    doc["components"]["schemas"]["Flow"] =
        serde_json::from_str(hark_matrix::FLOW_SCHEMA).expect("the matrix's Flow schema is JSON");
    doc
}

/// What follows from a route's least role: `x-hark-role` and a 401 for
/// routes behind a token, a 403 for those a viewer may not call, and no
/// security requirement for public ones.
fn role_parts(op: &mut Value, needs: Option<Role>) {
    let Some(role) = needs else {
        op["security"] = json!([]);
        return;
    };
    op["x-hark-role"] = json!(role.name());
    op["responses"]["401"] = json!({ "$ref": "#/components/responses/Unauthorized" });
    if role > Role::Viewer {
        op["responses"]["403"] = json!({ "$ref": "#/components/responses/Forbidden" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{endpoints, routes};

    fn doc() -> Value {
        document(&endpoints())
    }

    #[test]
    fn is_openapi_3_1() {
        let d = doc();
        assert!(d["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(d["info"]["title"].is_string());
    }

    #[test]
    fn every_operation_is_named_after_its_file_once() {
        let mut ids: Vec<String> = Vec::new();
        for e in endpoints() {
            let op: Value = serde_json::from_str(e.operation).unwrap();
            assert!(op.is_object(), "{:?}", e.route);
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(!ids.contains(&id), "operationId {id} twice");
            // Roles follow from the declaration, not from the file.
            assert!(op.get("x-hark-role").is_none(), "{id} names its role");
            ids.push(id);
        }
    }

    #[test]
    fn describes_every_route_with_its_role_and_no_other() {
        let d = doc();
        let paths = d["paths"].as_object().unwrap();
        let routes = routes();
        for r in &routes {
            let op = &paths
                .get(r.path)
                .unwrap_or_else(|| panic!("{} missing", r.path))[r.method.to_ascii_lowercase()];
            assert!(op.is_object(), "{r:?} missing");
            assert!(op["responses"].is_object(), "{r:?} has no responses");
            assert_eq!(
                op["x-hark-role"].as_str(),
                r.needs.map(|role| role.name()),
                "{r:?}: x-hark-role"
            );
            if r.needs.is_some_and(|role| role > Role::Viewer) {
                assert!(op["responses"]["403"].is_object(), "{r:?} lacks its 403");
            }
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                assert!(
                    routes
                        .iter()
                        .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                    "{method} {path} documented but not routed"
                );
            }
        }
    }

    #[test]
    fn path_parameters_are_described() {
        for e in endpoints() {
            let op: Value = serde_json::from_str(e.operation).unwrap();
            let described: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let in_path: Vec<&str> = e
                .route
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(described, in_path, "{:?}", e.route);
        }
    }

    #[test]
    fn event_schema_names_every_event_json_field() {
        let ev = hark_event::Event::new(0, "http");
        let json = serde_json::to_value(hark_event::EventJson::from(&ev)).unwrap();
        let d = doc();
        let props = d["components"]["schemas"]["Event"]["properties"]
            .as_object()
            .unwrap();
        for key in json.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "Event schema lacks {key}");
        }
        assert_eq!(props.len(), json.as_object().unwrap().len());
    }

    #[test]
    fn flow_schema_is_the_matrix_crate_s() {
        let matrix: Value = serde_json::from_str(hark_matrix::FLOW_SCHEMA).unwrap();
        assert_eq!(doc()["components"]["schemas"]["Flow"], matrix);
    }

    #[test]
    fn every_reference_resolves() {
        let d = doc();
        let mut refs = Vec::new();
        collect_refs(&d, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(d.pointer(pointer).is_some(), "dangling {r}");
        }
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(s)) => out.push(s.clone()),
                        _ => collect_refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
