//! Query semantics, paging, totals, histogram, top values and the live filter.

use std::collections::BTreeSet;

use hark_event::{Event, Facility, FieldValue, Severity};

use super::*;
use crate::{HistogramInterval, QueryError};

/// A small, varied set of events; event `i` has `fields.n = i`.
fn corpus() -> Vec<Event> {
    let rows: &[(&str, &str, Severity, &str)] = &[
        ("web1", "nginx", Severity::Info, "GET /index.html 200"),
        (
            "web2",
            "nginx",
            Severity::Warning,
            "GET /missing 404 not found",
        ),
        (
            "db1",
            "postgres",
            Severity::Err,
            "connection refused by peer",
        ),
        ("db1", "postgres", Severity::Crit, "disk full on /var"),
        (
            "web1",
            "sshd",
            Severity::Notice,
            "Failed password for root from 10.0.0.5",
        ),
        (
            "mail",
            "postfix",
            Severity::Debug,
            "connection established to relay",
        ),
        ("Web3", "nginx", Severity::Info, "GET /health 200"),
        (
            "db2",
            "postgres",
            Severity::Info,
            "checkpoint complete: refused nothing",
        ),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (host, app, sev, msg))| {
            let mut e = Event::new(BASE + i as i64 * 60 * SEC, "syslog_udp");
            e.host = Some((*host).into());
            e.app = Some((*app).into());
            e.severity = Some(*sev);
            e.facility = Some(if *app == "postfix" {
                Facility::Mail
            } else {
                Facility::Daemon
            });
            e.message = (*msg).into();
            e.source = Some(format!("10.1.0.{i}:514"));
            e.push_field("n", FieldValue::Int(i as i64));
            match i {
                0 => {
                    e.push_field("user", "alice");
                    e.push_field("status", FieldValue::Int(200));
                    e.push_field("source.ip", "10.0.0.5");
                    e.push_field("destination.ip", "192.168.1.10");
                    e.push_field("network.bytes", FieldValue::Int(1500));
                }
                1 => {
                    e.push_field("@version", "1");
                    e.push_field("kube-pod", "api-7f9");
                    e.push_field("source.ip", "2001:db8::1");
                    e.push_field("destination.port", FieldValue::Int(443));
                }
                2 => {
                    e.push_field("user", "bob");
                    e.push_field("source.ip", "10.200.3.4");
                    e.push_field("network.bytes", FieldValue::Int(2_000_000_000));
                    e.push_field("tls.established", FieldValue::Bool(true));
                }
                3 => e.push_field("source.ip", "not-an-ip"),
                4 => e.push_field("sd.origin.ip", "10.0.0.5"),
                5 => e.truncated = true,
                7 => e.parse_error = Some("no header".into()),
                _ => {}
            }
            e
        })
        .collect()
}

/// The cases: query text and the `n` values it must match.
const CASES: &[(&str, &[u64])] = &[
    ("", &[0, 1, 2, 3, 4, 5, 6, 7]),
    ("*", &[0, 1, 2, 3, 4, 5, 6, 7]),
    ("connection", &[2, 5]),
    ("connection refused", &[2]),
    ("refused connection", &[2]),
    ("\"connection refused\"", &[2]),
    ("\"refused connection\"", &[]),
    ("CONNECTION", &[2, 5]),
    ("message:refused", &[2, 7]),
    ("host:web1", &[0, 4]),
    ("host:web*", &[0, 1, 4]),
    ("host:*3", &[6]),
    ("host:web1 OR host:db1", &[0, 2, 3, 4]),
    ("app:postgres AND NOT severity:crit", &[2, 7]),
    ("NOT app:nginx", &[2, 3, 4, 5, 7]),
    ("-app:nginx -app:postgres", &[4, 5]),
    ("(host:web1 OR host:web2) AND GET", &[0, 1]),
    ("severity_code:[0 TO 3]", &[2, 3]),
    ("severity_code:{2 TO 4]", &[1, 2]),
    ("severity:error", &[2]),
    ("severity:warn OR severity:crit", &[1, 3]),
    ("facility:mail", &[5]),
    ("user:alice", &[0]),
    ("user:ali*", &[0]),
    ("user:*", &[0, 2]),
    ("status:200", &[0]),
    ("status:[100 TO 299]", &[0]),
    ("sd.origin.ip:10.0.0.5", &[4]),
    ("fields.sd.origin.ip:10.0.0.5", &[4]),
    ("n:3", &[3]),
    ("@version:1", &[1]),
    ("kube-pod:api-*", &[1]),
    ("kube-pod:\"api-7f9\"", &[1]),
    ("truncated:true", &[5]),
    ("parse_error:true", &[7]),
    ("truncated:false", &[0, 1, 2, 3, 4, 6, 7]),
    ("parse_error:false AND app:postgres", &[2, 3]),
    ("NOT truncated:false", &[5]),
    ("message:fail*", &[4]),
    ("fail*", &[4]),
    ("input:syslog_udp AND source:\"10.1.0.3:514\"", &[3]),
    (
        "timestamp:[2026-01-01T00:02:00Z TO 2026-01-01T00:04:00Z}",
        &[2, 3],
    ),
    ("source.ip:10.0.0.0/8", &[0, 2]),
    ("source.ip:\"2001:db8::/32\"", &[1]),
    ("source.ip:\"2001:db8:0:0::1\"", &[1]),
    ("source.ip:10.0.0.5", &[0]),
    ("source.ip:[10.0.0.1 TO 10.0.0.255]", &[0]),
    ("source.ip:[10.100.0.0 TO 10.255.255.255]", &[2]),
    ("source.ip:not-an-ip", &[3]),
    ("source.ip:10.0.*", &[0]),
    ("source.ip:*", &[0, 1, 2, 3]),
    ("NOT source.ip:10.0.0.0/8", &[1, 3, 4, 5, 6, 7]),
    (
        "destination.ip:192.168.0.0/16 AND source.ip:10.0.0.0/8",
        &[0],
    ),
    ("observer.ip:10.1.0.4/30", &[4, 5, 6, 7]),
    ("observer.ip:10.1.0.3", &[3]),
    ("network.bytes:>1000000", &[2]),
    ("network.bytes:[1000 TO 2000]", &[0]),
    ("destination.port:443", &[1]),
    ("tls.established:true", &[2]),
    ("procid:*", &[]),
    ("nosuchword", &[]),
];

async fn corpus_store(dir: &std::path::Path) -> Store {
    let mut cfg = config(dir);
    // Several splits, so that every case also crosses split boundaries.
    cfg.split_max_events = 3;
    let store = Store::open(cfg).unwrap();
    append(&store, corpus()).await;
    store.flush().unwrap();
    store
}

fn ns_of(res: &SearchResponse) -> BTreeSet<u64> {
    res.hits.iter().map(n_of).collect()
}

#[tokio::test]
async fn query_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    assert!(store.inner.shared.catalog.len() >= 3);
    for (query, expected) in CASES {
        let res = search(&store, query);
        let want: BTreeSet<u64> = expected.iter().copied().collect();
        assert_eq!(ns_of(&res), want, "query {query:?}");
        assert_eq!(res.total, want.len() as u64, "total of {query:?}");
    }
}

#[tokio::test]
async fn live_filter_matches_like_search() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    let events = corpus();
    for (query, expected) in CASES {
        let filter = store.compile_filter(query).unwrap();
        let got: Vec<u64> = filter
            .matching(&events)
            .into_iter()
            .map(|i| i as u64)
            .collect();
        assert_eq!(got, expected.to_vec(), "filter {query:?}");
        assert_eq!(ns_of(&search(&store, query)), got.iter().copied().collect());
    }
    assert!(store.compile_filter("host:(").is_err());
}

#[tokio::test]
async fn filters_skip_batches_without_their_required_terms_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    let events = corpus();
    // One batch per event: most batches lack a query's terms.
    let batches: Vec<_> = events
        .iter()
        .map(|e| store.index_batch(std::slice::from_ref(e)).unwrap())
        .collect();
    for (query, expected) in CASES {
        let filter = store.compile_filter(query).unwrap();
        let got: Vec<u64> = batches
            .iter()
            .enumerate()
            .filter(|(_, b)| !filter.matching_in(b).is_empty())
            .map(|(i, _)| i as u64)
            .collect();
        assert_eq!(got, expected.to_vec(), "filter {query:?}");
    }
    for (query, required) in [
        ("app:sshd AND \"failed password\"", 3),
        ("app:sshd", 1),
        ("app:sshd OR app:cron", 0),
        ("app:sshd AND NOT host:db1", 1),
        ("*", 0),
        ("host:web*", 0),
    ] {
        let filter = store.compile_filter(query).unwrap();
        assert_eq!(filter.required_terms(), required, "{query:?}");
    }
}

#[tokio::test]
async fn time_range_and_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    let mut req = SearchRequest::new("");
    req.from = Some(BASE + 2 * 60 * SEC);
    req.to = Some(BASE + 5 * 60 * SEC);
    let res = store.search(&req).unwrap();
    assert_eq!(res.hits.iter().map(n_of).collect::<Vec<_>>(), vec![4, 3, 2]);
    assert_eq!(res.total, 3);
    assert!(res.next.is_none());
    req.query = "connection".into();
    assert_eq!(store.search(&req).unwrap().total, 1);
    // An empty or inverted range matches nothing.
    req.to = req.from;
    assert_eq!(store.search(&req).unwrap().total, 0);
    // Limit is clamped to at least one hit.
    let mut req = SearchRequest::new("");
    req.limit = 0;
    let res = store.search(&req).unwrap();
    assert_eq!(res.hits.len(), 1);
    assert_eq!(n_of(&res.hits[0]), 7);
    assert_eq!(res.total, 8);
    assert!(res.next.is_some());
}

#[tokio::test]
async fn paging_with_equal_timestamps_across_splits() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 7;
    let store = Store::open(cfg).unwrap();
    // Five events share each timestamp; batches do not line up with splits.
    let events: Vec<Event> = (0..53)
        .map(|n| numbered(n, BASE + (n / 5) as i64 * SEC))
        .collect();
    for chunk in events.chunks(4) {
        append(&store, chunk.to_vec()).await;
    }
    store.flush().unwrap();
    assert!(store.inner.shared.catalog.len() >= 7);
    for page in [1, 3, 5, 6, 53, 100] {
        let got = all_ns(&store, "", page);
        assert_exactly_once(&got, 0..53);
        // Within equal timestamps the later-appended event comes first.
        let expected: Vec<u64> = (0..53).rev().collect();
        assert_eq!(got, expected, "page size {page}");
    }
    let hosts = all_ns(&store, "host:host1", 2);
    assert_exactly_once(&hosts, (0..53).filter(|n| n % 3 == 1));
    // Every page reports the same exact total.
    let mut req = SearchRequest::new("host:host1");
    req.limit = 4;
    let first = store.search(&req).unwrap();
    req.cursor = first.next.clone();
    let second = store.search(&req).unwrap();
    assert_eq!(first.total, 18);
    assert_eq!(second.total, 18);
    req.cursor = Some("garbage".into());
    assert!(matches!(store.search(&req), Err(QueryError::BadRequest(_))));
}

#[tokio::test]
async fn histogram_counts_every_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 10;
    let store = Store::open(cfg).unwrap();
    // Event n at n * 25 s: minute m holds events with 60m <= 25n < 60(m+1).
    let events: Vec<Event> = (0..40)
        .map(|n| numbered(n, BASE + n as i64 * 25 * SEC))
        .collect();
    append(&store, events).await;
    store.flush().unwrap();

    let mut req = SearchRequest::new("");
    req.from = Some(BASE + 30 * SEC);
    req.to = Some(BASE + 10 * 60 * SEC);
    req.histogram = Some(HistogramInterval::Fixed(60 * SEC));
    let res = store.search(&req).unwrap();
    let buckets = res.histogram.unwrap();
    assert_eq!(buckets.len(), 10);
    for (m, b) in buckets.iter().enumerate() {
        assert_eq!(b.start, BASE + m as i64 * 60 * SEC);
        let lo = (BASE + 30 * SEC).max(b.start);
        let want = (0..40i64)
            .map(|n| BASE + n * 25 * SEC)
            .filter(|t| *t >= lo && *t < b.start + 60 * SEC && *t < BASE + 600 * SEC)
            .count() as u64;
        assert_eq!(b.count, want, "minute {m}");
    }
    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), res.total);

    // Auto over the whole store starts at the oldest event and counts everything.
    let mut req = SearchRequest::new("host:host0");
    req.to = Some(BASE + 3600 * SEC);
    req.histogram = Some(HistogramInterval::Auto);
    let res = store.search(&req).unwrap();
    let buckets = res.histogram.unwrap();
    assert_eq!(buckets[0].start, BASE);
    assert_eq!(buckets[1].start - buckets[0].start, 60 * SEC);
    assert_eq!(buckets.len(), 60);
    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 14);
    assert_eq!(res.total, 14);
}

#[tokio::test]
async fn top_values_per_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    let mut req = SearchRequest::new("");
    req.top = vec![
        "app".into(),
        "user".into(),
        "severity_code".into(),
        "n".into(),
    ];
    req.top_size = 2;
    let res = store.search(&req).unwrap();
    let app = &res.top["app"];
    assert_eq!(app.len(), 2);
    assert_eq!((app[0].value.as_str(), app[0].count), ("nginx", 3));
    assert_eq!((app[1].value.as_str(), app[1].count), ("postgres", 3));
    let users: BTreeSet<(String, u64)> = res.top["user"]
        .iter()
        .map(|t| (t.value.clone(), t.count))
        .collect();
    assert_eq!(
        users,
        [("alice".to_string(), 1), ("bob".to_string(), 1)].into()
    );
    assert_eq!(res.top["severity_code"][0].value, "6");
    assert_eq!(res.top["severity_code"][0].count, 3);
    assert_eq!(res.top["n"].len(), 2);

    // Top values follow the query.
    req.query = "app:postgres".into();
    req.top = vec!["host".into()];
    let res = store.search(&req).unwrap();
    assert_eq!(res.top["host"][0].value, "db1");
    assert_eq!(res.top["host"][0].count, 2);
    assert_eq!(res.top["host"][1].value, "db2");

    req.top = vec!["message".into()];
    assert!(matches!(store.search(&req), Err(QueryError::BadRequest(_))));
}

#[tokio::test]
async fn bad_queries_report_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = corpus_store(dir.path()).await;
    let cases: &[(&str, usize)] = &[
        ("host:(web1", 5),
        ("connection AND \"refused", 15),
        ("severity_code:abc", 0),
        ("app:nginx severity_code:[a TO 3]", 10),
        ("timestamp:yesterday", 0),
        ("[1 TO 2]", 0),
        ("host:web1 AND", 10),
    ];
    for (query, at) in cases {
        match store.search(&SearchRequest::new(*query)) {
            Err(QueryError::Syntax { message, position }) => {
                assert!(!message.is_empty());
                let pos =
                    position.unwrap_or_else(|| panic!("no position for {query:?}: {message}"));
                assert!(pos <= query.len());
                assert_eq!(pos, *at, "{query:?}: {message}");
            }
            other => panic!("{query:?}: expected a syntax error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn newest_hits_are_found_anywhere_in_a_large_segment() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    // Timestamps are a permutation of 0..3000 s, so the newest events sit
    // throughout the segment rather than at its end.
    let ts_of = |n: u64| BASE + ((n * 7919) % 3000) as i64 * SEC;
    append(&store, (0..3000).map(|n| numbered(n, ts_of(n))).collect()).await;
    store.flush().unwrap();
    let mut expected: Vec<u64> = (0..3000).collect();
    expected.sort_by_key(|&n| std::cmp::Reverse(ts_of(n)));
    let mut req = SearchRequest::new("");
    req.limit = 3;
    let mut got = Vec::new();
    for _ in 0..5 {
        let res = store.search(&req).unwrap();
        assert_eq!(res.total, 3000);
        got.extend(res.hits.iter().map(n_of));
        req.cursor = res.next;
    }
    assert_eq!(got, expected[..15].to_vec());
    req.query = "host:host2".into();
    req.cursor = None;
    req.limit = 2;
    let res = store.search(&req).unwrap();
    let want: Vec<u64> = expected
        .iter()
        .copied()
        .filter(|n| n % 3 == 2)
        .take(2)
        .collect();
    assert_eq!(res.hits.iter().map(n_of).collect::<Vec<_>>(), want);
    assert_eq!(res.total, 1000);
}

/// Every `n` matching `query` in `order`, across pages of `page` hits.
fn pages_in_order(store: &Store, query: &str, page: usize, order: crate::Order) -> Vec<u64> {
    let mut req = SearchRequest::new(query);
    req.limit = page;
    req.order = order;
    let mut out = Vec::new();
    loop {
        let res = store.search(&req).unwrap();
        out.extend(res.hits.iter().map(n_of));
        match res.next {
            Some(c) => req.cursor = Some(c),
            None => return out,
        }
    }
}

#[tokio::test]
async fn ascending_order_pages_oldest_first_across_splits() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.split_max_events = 7;
    let store = Store::open(cfg).unwrap();
    // Five events share each timestamp, and appends are not in time order.
    let ts_of = |n: u64| BASE + ((n / 5) * 7 % 11) as i64 * SEC;
    let events: Vec<Event> = (0..53).map(|n| numbered(n, ts_of(n))).collect();
    for chunk in events.chunks(4) {
        append(&store, chunk.to_vec()).await;
    }
    store.flush().unwrap();
    let mut oldest_first: Vec<u64> = (0..53).collect();
    // Ties by sequence number, which follows `n` here.
    oldest_first.sort_by_key(|&n| (ts_of(n), n));
    let newest_first: Vec<u64> = oldest_first.iter().rev().copied().collect();
    for page in [1, 3, 5, 6, 53, 100] {
        assert_eq!(
            pages_in_order(&store, "", page, crate::Order::Asc),
            oldest_first,
            "page size {page}"
        );
        assert_eq!(
            pages_in_order(&store, "", page, crate::Order::Desc),
            newest_first,
            "page size {page}"
        );
    }
    let want: Vec<u64> = oldest_first
        .iter()
        .copied()
        .filter(|n| n % 3 == 1)
        .collect();
    assert_eq!(
        pages_in_order(&store, "host:host1", 2, crate::Order::Asc),
        want
    );
    // "Events after this one": from a hit's time, oldest first.
    let mut req = SearchRequest::new("");
    req.order = crate::Order::Asc;
    req.from = Some(ts_of(20));
    req.limit = 6;
    let res = store.search(&req).unwrap();
    let after: Vec<u64> = oldest_first
        .iter()
        .copied()
        .filter(|&n| ts_of(n) >= ts_of(20))
        .collect();
    assert_eq!(res.hits.iter().map(n_of).collect::<Vec<_>>(), after[..6]);
    assert_eq!(res.total, after.len() as u64);
}

#[tokio::test]
async fn oldest_hits_are_found_anywhere_in_a_large_segment() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(config(dir.path())).unwrap();
    let ts_of = |n: u64| BASE + ((n * 7919) % 3000) as i64 * SEC;
    append(&store, (0..3000).map(|n| numbered(n, ts_of(n))).collect()).await;
    store.flush().unwrap();
    let mut expected: Vec<u64> = (0..3000).collect();
    expected.sort_by_key(|&n| ts_of(n));
    let got = pages_in_order(&store, "", 250, crate::Order::Asc);
    assert_eq!(got, expected);
}
