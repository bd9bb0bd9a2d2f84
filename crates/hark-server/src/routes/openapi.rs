//! The OpenAPI 3.1 document, maintained by hand in `openapi.json`.

use axum::http::header;
use axum::response::IntoResponse;

/// The document served at `/api/v1/openapi.json`.
pub(crate) const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// `GET /api/v1/openapi.json`.
pub(crate) async fn get() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ROUTES;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(OPENAPI_JSON).unwrap()
    }

    #[test]
    fn is_openapi_3_1() {
        let d = doc();
        assert!(d["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(d["info"]["title"].is_string());
    }

    #[test]
    fn describes_every_route_with_its_role_and_no_other() {
        let d = doc();
        let paths = d["paths"].as_object().unwrap();
        for r in ROUTES {
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
            if r.needs
                .is_some_and(|role| role > crate::identity::Role::Viewer)
            {
                assert!(op["responses"]["403"].is_object(), "{r:?} lacks its 403");
            }
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                if method == "parameters" {
                    continue;
                }
                assert!(
                    ROUTES
                        .iter()
                        .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method)),
                    "{method} {path} documented but not routed"
                );
            }
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
