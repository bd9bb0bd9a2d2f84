//! The API around a real store in a temporary directory: auth, ingest,
//! search, metrics and the SSE tail, through the router in-process.

mod kit;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use kit::Harness;
use serde_json::{Value, json};
use tower::ServiceExt;

const NDJSON: &str = concat!(
    r#"{"message":"disk full on /var","timestamp":"2023-11-14T22:13:20Z","host":"db1","app":"pg","severity":"err","disk":{"mount":"/var","free":0}}"#,
    "\n",
    r#"{"message":"checkpoint complete","timestamp":1700000060,"host":"db1","app":"pg","severity":6}"#,
    "\n",
    "this is not json\n",
    "\n",
    r#"{"message":"login ok","timestamp":1700000120000,"host":"web1","app":"sshd","tags":["a","b"]}"#,
    "\n",
    r#"{"host":"web1"}"#,
    "\n",
);

#[tokio::test]
async fn health_needs_no_token() {
    let h = Harness::new();
    let (status, body) = h.call(Method::GET, "/healthz", None, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn metrics_expose_store_gauges() {
    let h = Harness::new();
    let resp = h
        .app()
        .oneshot(h.request(Method::GET, "/metrics", None, Body::empty()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for name in [
        "hark_wal_bytes",
        "hark_index_lag_events",
        "hark_index_lag_seconds",
        "hark_index_splits",
        "hark_index_bytes",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[tokio::test]
async fn api_routes_need_a_token() {
    let h = Harness::new();
    for (method, path) in [
        (Method::GET, "/api/v1/search?q=*"),
        (Method::POST, "/api/v1/search"),
        (Method::POST, "/api/v1/ingest"),
        (Method::GET, "/api/v1/tail"),
        (Method::GET, "/api/v1/openapi.json"),
    ] {
        let (status, body) = h.call(method.clone(), path, None, Body::empty()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
        let (status, _) = h
            .call(method.clone(), path, Some("hark_wrong"), Body::empty())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

#[tokio::test]
async fn viewer_reads_but_cannot_ingest() {
    let h = Harness::new();
    let viewer = h.viewer.clone();
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(&viewer),
            Body::from(NDJSON),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"].is_string());
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/search?q=*",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, doc) = h
        .call(
            Method::GET,
            "/api/v1/openapi.json",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/v1/search"].is_object());
}

#[tokio::test]
async fn tokens_created_while_running_are_accepted() {
    let h = Harness::new();
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/search",
            Some("hark_later"),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // As `hark token create` would, from another process.
    let cli = hark_server::tokens::TokenStore::open(h.dir.path()).unwrap();
    let later = cli
        .create(hark_server::tokens::Role::Viewer, "later")
        .unwrap();
    let (status, _) = h
        .call(Method::GET, "/api/v1/search", Some(&later), Body::empty())
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn ingest_reports_per_line_and_search_finds_events() {
    let h = Harness::new();
    let admin = h.admin.clone();
    let (status, reply) = h
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(&admin),
            Body::from(NDJSON),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["accepted"], 3);
    assert_eq!(reply["rejected"], 2);
    assert_eq!(reply["errors"][0]["line"], 3);
    assert!(
        reply["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    assert_eq!(reply["errors"][1]["line"], 6);
    assert_eq!(reply["errors"][1]["error"], "missing \"message\"");

    h.store.flush().unwrap();
    let viewer = h.viewer.clone();
    let (status, res) = h
        .call(
            Method::GET,
            "/api/v1/search?q=host:db1&histogram=auto&top=app,severity",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["total"], 2);
    let hits = res["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2);
    // Newest first.
    assert_eq!(hits[0]["message"], "checkpoint complete");
    assert_eq!(hits[0]["timestamp"], "2023-11-14T22:14:20.000000000Z");
    assert_eq!(hits[0]["severity"], "info");
    assert_eq!(hits[1]["fields"]["disk.mount"], "/var");
    assert_eq!(hits[1]["fields"]["disk.free"], 0);
    assert_eq!(hits[1]["input"], "http");
    assert!(res["next"].is_null());
    assert!(res["took_ms"].is_u64());
    let buckets = res["histogram"].as_array().unwrap();
    let counted: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 2);
    assert_eq!(res["top"]["app"][0], json!({"value": "pg", "count": 2}));

    let (status, res) = h
        .call(
            Method::POST,
            "/api/v1/search",
            Some(&viewer),
            Body::from(json!({"query": "app:sshd", "top": ["host"], "limit": 10}).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["total"], 1);
    assert_eq!(res["hits"][0]["fields"]["tags"], r#"["a","b"]"#);
    assert_eq!(
        res["hits"][0]["timestamp"],
        "2023-11-14T22:15:20.000000000Z"
    );
    assert_eq!(res["top"]["host"][0]["value"], "web1");
    assert!(res.get("histogram").is_none());
}

#[tokio::test]
async fn paging_with_cursor() {
    let h = Harness::new();
    let admin = h.admin.clone();
    let body: String = (0..5)
        .map(|i| {
            format!(
                "{{\"message\":\"page event {i}\",\"timestamp\":{}}}\n",
                1_700_000_000 + i
            )
        })
        .collect();
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(&admin),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    h.store.flush().unwrap();
    let (_, first) = h
        .call(
            Method::GET,
            "/api/v1/search?q=page&limit=3",
            Some(&admin),
            Body::empty(),
        )
        .await;
    assert_eq!(first["total"], 5);
    assert_eq!(first["hits"].as_array().unwrap().len(), 3);
    let cursor = first["next"].as_str().expect("a next cursor").to_owned();
    let (status, second) = h
        .call(
            Method::POST,
            "/api/v1/search",
            Some(&admin),
            Body::from(json!({"q": "page", "limit": 3, "cursor": cursor}).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let messages: Vec<&str> = second["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, vec!["page event 1", "page event 0"]);
    assert!(second["next"].is_null());
}

#[tokio::test]
async fn bad_requests_are_400_not_500() {
    let h = Harness::new();
    let viewer = h.viewer.clone();
    let (status, body) = h
        .call(
            Method::GET,
            "/api/v1/search?q=app%3A(pg",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].is_string());
    assert!(body["position"].is_u64(), "{body}");

    for path in [
        "/api/v1/search?limit=10001",
        "/api/v1/search?limit=0",
        "/api/v1/search?since=soon",
        "/api/v1/search?from=yesterday",
        "/api/v1/search?histogram=sometimes",
        "/api/v1/search?cursor=not-a-cursor",
    ] {
        let (status, body) = h
            .call(Method::GET, path, Some(&viewer), Body::empty())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/search",
            Some(&viewer),
            Body::from("{\"q\":"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/tail?q=app%3A(pg",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversize_ingest_is_413() {
    let h = Harness::new();
    let admin = h.admin.clone();
    let line = format!("{{\"message\":\"{}\"}}\n", "x".repeat(1024 * 1024));
    let body = line.repeat(hark_server::INGEST_BODY_LIMIT / line.len() + 1);
    let (status, reply) = h
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(&admin),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert!(reply["error"].is_string());
}

#[tokio::test]
async fn sse_tail_streams_matching_events_ingested_after_subscribing() {
    let h = Harness::new();
    let viewer = h.viewer.clone();
    let admin = h.admin.clone();
    let resp = h
        .app()
        .oneshot(h.request(
            Method::GET,
            &format!("/api/v1/tail?q=app:tailed&access_token={viewer}"),
            None,
            Body::empty(),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");

    let body = concat!(
        r#"{"message":"not for the tail","app":"other"}"#,
        "\n",
        r#"{"message":"for the tail","app":"tailed","host":"h1"}"#,
        "\n",
    );
    let (status, reply) = h
        .call(
            Method::POST,
            "/api/v1/ingest",
            Some(&admin),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    let mut stream = resp.into_body();
    let mut text = String::new();
    let data = kit::with_deadline(async {
        loop {
            let frame = stream.frame().await.expect("stream open").expect("frame");
            if let Ok(bytes) = frame.into_data() {
                text.push_str(std::str::from_utf8(&bytes).unwrap());
            }
            if let Some(line) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                return line.to_owned();
            }
        }
    })
    .await;
    let ev: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(ev["message"], "for the tail");
    assert_eq!(ev["app"], "tailed");
    assert_eq!(ev["host"], "h1");
    assert!(!text.contains("not for the tail"));
}

#[tokio::test]
async fn monitor_routes_answer_with_roles_and_not_found() {
    let h = Harness::new();
    let (admin, viewer) = (h.admin.clone(), h.viewer.clone());
    let (status, list) = h
        .call(
            Method::GET,
            "/api/v1/monitors",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, serde_json::json!([]));
    let (status, body) = h
        .call(
            Method::GET,
            "/api/v1/monitors/nope",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("nope"), "{body}");
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/monitors/nope/ack",
            Some(&viewer),
            Body::from(r#"{"comment":"x"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let downtime = r#"{"monitors":["nope"],"schedule":{"type":"once","start":"2099-01-01T00:00:00Z","end":"2099-01-01T01:00:00Z"}}"#;
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/downtimes",
            Some(&viewer),
            Body::from(downtime),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/downtimes",
            Some(&admin),
            Body::from(downtime),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let all = downtime.replace(r#"["nope"]"#, r#"["*"]"#);
    let (status, created) = h
        .call(
            Method::POST,
            "/api/v1/downtimes",
            Some(&admin),
            Body::from(all),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_u64().expect("an id");
    let (status, list) = h
        .call(
            Method::GET,
            "/api/v1/downtimes",
            Some(&viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["author"], "admin", "{list}");
    let path = format!("/api/v1/downtimes/{id}");
    let (status, _) = h
        .call(Method::DELETE, &path, Some(&admin), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = h
        .call(Method::DELETE, &path, Some(&admin), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn silences_are_made_listed_and_removed_by_operators() {
    let h = Harness::new();
    let now = hark_event::now_nanos();
    let body = json!({
        "matchers": [{"name": "host", "value": "web*"}],
        "ends_at": now + 3_600_000_000_000i64,
        "comment": "patching"
    })
    .to_string();
    // A viewer may not; an empty matcher list is refused.
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/silences",
            Some(&h.viewer),
            Body::from(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let empty = json!({"matchers": [], "ends_at": now + 1}).to_string();
    let (status, err) = h
        .call(
            Method::POST,
            "/api/v1/silences",
            Some(&h.admin),
            Body::from(empty),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["error"].as_str().unwrap().contains("matcher"), "{err}");

    let (status, made) = h
        .call(
            Method::POST,
            "/api/v1/silences",
            Some(&h.admin),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["created_by"], "admin");
    assert_eq!(made["comment"], "patching");
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, list) = h
        .call(
            Method::GET,
            "/api/v1/silences",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([made]));

    let uri = format!("/api/v1/silences/{id}");
    let (status, _) = h
        .call(Method::DELETE, &uri, Some(&h.admin), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = h
        .call(Method::DELETE, &uri, Some(&h.admin), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = h
        .call(
            Method::GET,
            "/api/v1/silences",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(list, json!([]));
    // No rules, no alerts; acknowledging an unknown one is a 404.
    let (status, alerts) = h
        .call(
            Method::GET,
            "/api/v1/alerts",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!((status, alerts), (StatusCode::OK, json!([])));
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/alerts/nope/ack",
            Some(&h.admin),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
