//! The search page's routes around a real store: ascending order, the
//! tail's backlog and lag notice, export, field names, sources and saved
//! searches.

mod kit;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use hark_event::{Event, FieldValue};
use http_body_util::BodyExt;
use kit::Harness;
use serde_json::{Value, json};
use tower::ServiceExt;

/// 2027-01-15T08:00:00Z in ns.
const BASE: i64 = 1_800_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

/// Event `n` from `host`, `n` seconds after [`BASE`].
fn event(n: i64, host: &str) -> Event {
    let mut ev = Event::new(BASE + n * SEC, "syslog_udp");
    ev.timestamp = BASE + n * SEC;
    ev.host = Some(host.into());
    ev.app = Some("app".into());
    ev.message = format!("event {n}");
    ev.push_field("n", FieldValue::Int(n));
    ev
}

async fn store_events(h: &Harness, events: Vec<Event>) {
    for chunk in events.chunks(5_000) {
        h.store
            .append(chunk.to_vec())
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
    }
    h.store.flush().unwrap();
}

/// The response to a GET, with its body as bytes.
async fn get_raw(h: &Harness, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = h
        .app()
        .oneshot(h.request(Method::GET, uri, Some(&h.viewer), Body::empty()))
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn ns_of(hits: &Value) -> Vec<i64> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["fields"]["n"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_pages_oldest_first_with_order_asc() {
    let h = Harness::new();
    store_events(&h, (0..10).map(|n| event(n, "h")).collect()).await;
    let mut got = Vec::new();
    let mut uri = "/api/v1/search?order=asc&limit=3".to_owned();
    loop {
        let (status, body) = h
            .call(Method::GET, &uri, Some(&h.viewer), Body::empty())
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        got.extend(ns_of(&body["hits"]));
        match body["next"].as_str() {
            Some(c) => uri = format!("/api/v1/search?order=asc&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/search",
            Some(&h.viewer),
            Body::from(r#"{"order":"asc","limit":2,"from":"2027-01-15T08:00:04Z"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ns_of(&body["hits"]), vec![4, 5]);
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/search?order=sideways",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Reads SSE `data:` lines from `body` until `count` more have come.
async fn data_lines(body: &mut Body, count: usize) -> Vec<Value> {
    let mut text = String::new();
    kit::with_deadline(async {
        loop {
            let lines: Vec<Value> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if lines.len() >= count {
                return lines;
            }
            let frame = body.frame().await.expect("stream open").expect("frame");
            if let Ok(bytes) = frame.into_data() {
                text.push_str(std::str::from_utf8(&bytes).unwrap());
            }
        }
    })
    .await
}

#[tokio::test]
async fn tail_sends_the_backlog_then_live_events() {
    let h = Harness::new();
    store_events(
        &h,
        (0..20)
            .map(|n| event(n, if n % 2 == 0 { "even" } else { "odd" }))
            .collect(),
    )
    .await;
    // Not yet searchable: the backlog reads it from the WAL.
    h.store
        .append(vec![event(20, "even")])
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let resp = h
        .app()
        .oneshot(h.request(
            Method::GET,
            &format!(
                "/api/v1/tail?q=host:even&backlog=4&access_token={}",
                h.viewer
            ),
            None,
            Body::empty(),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let backlog = data_lines(&mut body, 4).await;
    let ns: Vec<i64> = backlog
        .iter()
        .map(|e| e["fields"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, vec![14, 16, 18, 20]);
    store_events(&h, vec![event(21, "odd"), event(22, "even")]).await;
    let live = data_lines(&mut body, 1).await;
    assert_eq!(live[0]["fields"]["n"], 22);

    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/tail?backlog=5001",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_lagging_sse_client_gets_a_lagged_data_message() {
    let h = Harness::new();
    let resp = h
        .app()
        .oneshot(h.request(
            Method::GET,
            &format!("/api/v1/tail?access_token={}", h.viewer),
            None,
            Body::empty(),
        ))
        .await
        .unwrap();
    let mut body = resp.into_body();
    // More batches than the live queue keeps, while the client reads nothing;
    // each is in the queue once acknowledged.
    for n in 0..1_100 {
        h.store
            .append(vec![event(n, "h")])
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
    }
    let first = data_lines(&mut body, 1).await;
    let lagged = first[0]["lagged"].as_u64().expect("a lagged notice first");
    assert!(lagged > 0);
}

/// Parses RFC 4180 CSV (CRLF record ends, quoted fields with doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty() && !quoted,
        "CSV does not end with CRLF"
    );
    rows
}

#[tokio::test]
async fn export_streams_the_whole_result_in_both_formats() {
    let h = Harness::new();
    let tricky = "a, \"quoted\"\nsecond line\r\nthird";
    let mut events: Vec<Event> = (0..25_000).map(|n| event(n, "h")).collect();
    events[123].message = tricky.into();
    events[124].push_field("user", FieldValue::Str("x,y".into()));
    store_events(&h, events).await;

    let (status, headers, bytes) = get_raw(&h, "/api/v1/export?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"hark-") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = parse_csv(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(
        rows[0],
        [
            "timestamp",
            "host",
            "app",
            "severity",
            "input",
            "source",
            "message",
            "fields"
        ]
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut tricky_found = false;
    for row in &rows[1..] {
        assert_eq!(row.len(), 8, "{row:?}");
        let fields: Value = serde_json::from_str(&row[7]).unwrap();
        let n = fields["n"].as_i64().unwrap();
        assert!(seen.insert(n), "{n} twice");
        if n == 123 {
            assert_eq!(&row[6], tricky);
            tricky_found = true;
        }
        if n == 124 {
            assert_eq!(fields["user"], "x,y");
        }
    }
    assert!(tricky_found);
    assert_eq!(seen.len(), 25_000);

    let (status, headers, bytes) = get_raw(&h, "/api/v1/export?format=ndjson&q=*").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .ends_with(".ndjson\"")
    );
    let lines: Vec<Value> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 25_000);
    // Newest first by default.
    assert_eq!(lines[0]["fields"]["n"], 24_999);
    assert_eq!(lines[24_999 - 123]["message"], tricky);

    let (status, _, _) = get_raw(&h, "/api/v1/export?format=xml").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get_raw(&h, "/api/v1/export?q=%22open").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fields_and_sources_describe_the_range() {
    let h = Harness::new();
    let now = hark_event::now_nanos();
    let mut events = Vec::new();
    for (i, host) in ["fw1", "fw1", "web \"2\"", "db"].iter().enumerate() {
        let mut ev = event(0, host);
        ev.timestamp = now - (10 - i as i64) * 60 * SEC;
        ev.input = if i == 1 {
            "relp".into()
        } else {
            "syslog_udp".into()
        };
        events.push(ev);
    }
    events[3].push_field("disk.mount", FieldValue::Str("/var".into()));
    store_events(&h, events).await;

    let (status, names) = h
        .call(
            Method::GET,
            "/api/v1/fields?since=1h",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{names}");
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    for want in ["host", "message", "n", "disk.mount"] {
        assert!(names.contains(&want.to_owned()), "{want} in {names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    let (status, body) = h
        .call(
            Method::GET,
            "/api/v1/sources?since=1h",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["truncated"], false);
    let hosts: Vec<&str> = body["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["db", "web \"2\"", "fw1"]);
    let fw1 = &body["hosts"][2];
    assert_eq!(fw1["count"], 2);
    assert_eq!(fw1["inputs"].as_array().unwrap().len(), 2);
    assert_eq!(fw1["per_minute"]["bucket_secs"], 60);
    let counts: Vec<u64> = serde_json::from_value(fw1["per_minute"]["counts"].clone()).unwrap();
    assert_eq!(counts.iter().sum::<u64>(), 2);
    // An hour of one-minute buckets aligned to whole minutes.
    assert!((60..=61).contains(&counts.len()), "{}", counts.len());

    let (status, body) = h
        .call(
            Method::GET,
            "/api/v1/sources?since=1m",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["hosts"], json!([]));
}

#[tokio::test]
async fn saved_searches_belong_to_their_principal() {
    let h = Harness::new();
    let (status, list) = h
        .call(
            Method::GET,
            "/api/v1/saved-searches",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    let (status, saved) = h
        .call(
            Method::POST,
            "/api/v1/saved-searches",
            Some(&h.viewer),
            Body::from(r#"{"name":"errors","q":"severity:err","since":"24h"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["name"], "errors");
    assert_eq!(saved["since"], "24h");
    let id = saved["id"].as_str().unwrap().to_owned();

    let (_, list) = h
        .call(
            Method::GET,
            "/api/v1/saved-searches",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(list, json!([saved]));
    assert!(h.dir.path().join("data/ui/saved-searches.json").exists());
    // Another principal sees none of them and cannot delete them.
    let (_, list) = h
        .call(
            Method::GET,
            "/api/v1/saved-searches",
            Some(&h.admin),
            Body::empty(),
        )
        .await;
    assert_eq!(list, json!([]));
    let path = format!("/api/v1/saved-searches/{id}");
    let (status, _) = h
        .call(Method::DELETE, &path, Some(&h.admin), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/saved-searches",
            Some(&h.viewer),
            Body::from(r#"{"name":"  ","q":"x"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = h
        .call(Method::DELETE, &path, Some(&h.viewer), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = h
        .call(
            Method::GET,
            "/api/v1/saved-searches",
            Some(&h.viewer),
            Body::empty(),
        )
        .await;
    assert_eq!(list, json!([]));
    let (status, _) = h
        .call(Method::DELETE, &path, Some(&h.viewer), Body::empty())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A server on `h`'s store and tokens where the local user `name` exists,
/// and a session cookie of theirs.
fn with_user(h: &Harness, name: &str, role: hark_server::tokens::Role) -> (axum::Router, String) {
    let state = h.state();
    state
        .auth
        .users()
        .add(name, role, "a long password")
        .unwrap();
    let origin = hark_auth::sessions::SessionOrigin::Local {
        generation: state.auth.users().lookup(name).unwrap().generation,
    };
    let (session, _) = state.auth.sessions().create(name, role, origin).unwrap();
    (
        hark_server::router(state),
        format!("hark_session={session}"),
    )
}

/// One request to `app` with `credential` (a cookie, or a bearer token when
/// it starts with `hark_`); the status and the JSON body.
async fn call_as(
    app: &axum::Router,
    method: Method,
    uri: &str,
    credential: &str,
    body: &str,
) -> (StatusCode, Value) {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    let req = if credential.starts_with("hark_session=") {
        req.header(header::COOKIE, credential)
    } else {
        req.header(header::AUTHORIZATION, format!("Bearer {credential}"))
    };
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The names of a list of saved searches.
fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_user_and_a_token_of_the_same_name_keep_their_own_saved_searches() {
    let h = Harness::new();
    // The harness's viewer token is named "viewer"; so is this user.
    let (app, cookie) = with_user(&h, "viewer", hark_server::tokens::Role::Viewer);
    let me = call_as(&app, Method::GET, "/api/v1/me", &cookie, "")
        .await
        .1;
    assert_eq!(
        (me["kind"].as_str(), me["name"].as_str()),
        (Some("user"), Some("viewer"))
    );
    let me = call_as(&app, Method::GET, "/api/v1/me", &h.viewer, "")
        .await
        .1;
    assert_eq!(
        (me["kind"].as_str(), me["name"].as_str()),
        (Some("token"), Some("viewer"))
    );

    let path = "/api/v1/saved-searches";
    let (status, mine) = call_as(
        &app,
        Method::POST,
        path,
        &cookie,
        r#"{"name":"mine","q":"a"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let (status, _) = call_as(
        &app,
        Method::POST,
        path,
        &h.viewer,
        r#"{"name":"the token's","q":"b"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, list) = call_as(&app, Method::GET, path, &cookie, "").await;
    assert_eq!(names(&list), ["mine"]);
    let (_, list) = call_as(&app, Method::GET, path, &h.viewer, "").await;
    assert_eq!(names(&list), ["the token's"]);
    // The token cannot delete the user's.
    let one = format!("{path}/{}", mine["id"].as_str().unwrap());
    let (status, _) = call_as(&app, Method::DELETE, &one, &h.viewer, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call_as(&app, Method::DELETE, &one, &cookie, "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn saved_searches_kept_by_name_are_migrated_to_each_principal_of_that_name() {
    let h = Harness::new();
    let file = h.dir.path().join("data/ui/saved-searches.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let old = json!({
        "viewer": [{"id": "00000000000000aa", "name": "shared", "q": "x",
                    "created": "2026-01-02T03:04:05Z"}],
        "nobody": [{"id": "00000000000000bb", "name": "orphan", "q": "y",
                    "created": "2026-01-02T03:04:05Z"}],
    });
    std::fs::write(&file, old.to_string()).unwrap();
    let (app, cookie) = with_user(&h, "viewer", hark_server::tokens::Role::Viewer);

    let path = "/api/v1/saved-searches";
    // The user and the token of that name each see what they saw before.
    let (status, list) = call_as(&app, Method::GET, path, &cookie, "").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), ["shared"]);
    let (_, list) = call_as(&app, Method::GET, path, &h.viewer, "").await;
    assert_eq!(names(&list), ["shared"]);
    let (_, list) = call_as(&app, Method::GET, path, &h.admin, "").await;
    assert_eq!(list, json!([]));
    // The file is in the new form, and from now on the two are apart.
    let text = std::fs::read_to_string(&file).unwrap();
    let now: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(now["version"], 2, "{text}");
    assert_eq!(names(&now["users"]["viewer"]), ["shared"]);
    assert_eq!(names(&now["users"]["nobody"]), ["orphan"]);
    assert_eq!(now["tokens"].as_object().unwrap().len(), 1, "{text}");
    let (status, _) = call_as(
        &app,
        Method::DELETE,
        &format!("{path}/00000000000000aa"),
        &h.viewer,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = call_as(&app, Method::GET, path, &h.viewer, "").await;
    assert_eq!(list, json!([]));
    let (_, list) = call_as(&app, Method::GET, path, &cookie, "").await;
    assert_eq!(names(&list), ["shared"]);
}

#[tokio::test]
async fn sources_that_are_addresses_get_their_reverse_dns_name() {
    let dns = hark_testkit::peers::dnsmasq(&[
        "--host-record=gw.example.test,192.0.2.7",
        "--local=/2.0.192.in-addr.arpa/",
        "--local-ttl=600",
    ]);
    let h = Harness::new();
    let now = hark_event::now_nanos();
    let mut events = Vec::new();
    for (i, host) in ["192.0.2.7", "192.0.2.8", "db1"].iter().enumerate() {
        let mut ev = event(0, host);
        ev.timestamp = now - (10 - i as i64) * 60 * SEC;
        events.push(ev);
    }
    store_events(&h, events).await;
    let rdns =
        hark_ingest::rdns::ReverseDns::new(hark_ingest::rdns::ReverseDnsConfig::with_servers(
            vec![std::net::SocketAddr::from(([127, 0, 0, 1], dns.port()))],
        ));
    let app = hark_server::router(hark_server::ServerState {
        reverse_dns: rdns.clone(),
        ..h.state()
    });

    let (status, first) =
        call_as(&app, Method::GET, "/api/v1/sources?since=1h", &h.viewer, "").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // The names are looked up in the background; the listing never waits.
    kit::with_deadline(async {
        while rdns.stats().pending > 0 || rdns.stats().lookups < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let (_, sources) = call_as(&app, Method::GET, "/api/v1/sources?since=1h", &h.viewer, "").await;
    let names: Vec<(&str, Option<&str>)> = sources["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["host"].as_str().unwrap(), s["name"].as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("db1", None),
            ("192.0.2.8", None),
            ("192.0.2.7", Some("gw.example.test"))
        ],
        "{sources}"
    );
    // Only addresses are looked up, each once.
    assert_eq!(rdns.stats().lookups, 2);

    let req = axum::http::Request::builder()
        .uri("/sources?since=1h")
        .header(header::AUTHORIZATION, format!("Bearer {}", h.viewer))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        page.contains(r#"<span class="muted" data-testid="source-name">gw.example.test</span>"#),
        "{page}"
    );
    assert_eq!(
        page.matches(r#"data-testid="source-name""#).count(),
        1,
        "{page}"
    );
}
