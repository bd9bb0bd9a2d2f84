//! A real center (HTTPS with client certificates, a real store) and real
//! forwarder clients on loopback: enrolment, exactly-once batches, refusals.

use std::sync::Arc;
use std::time::Duration;

use hark_config::{HttpUrl, UplinkConfig};
use hark_event::Event;
use hark_output::Destination;
use hark_store::{SearchRequest, Store, StoreConfig};
use hark_uplink::ca::CenterCa;
use hark_uplink::center::{BATCH_PATH, BUFFER_HEADER, Center};
use hark_uplink::client::{ClientSettings, UplinkClient, enroll};
use hark_uplink::enroll::{EnrollToken, Enrolment, UPLINK_DIR};
use tokio_util::sync::CancellationToken;

struct Fixture {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    store: Store,
    fleet: hark_uplink::fleet::Fleet,
    url: HttpUrl,
    shutdown: CancellationToken,
}

impl Fixture {
    async fn start() -> Fixture {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("center");
        let mut sc = StoreConfig::new(&data);
        sc.commit_interval = Duration::from_secs(3600);
        sc.index_memory = 20_000_000;
        sc.index_threads = 1;
        let store = Store::open(sc).unwrap();
        let cfg = UplinkConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..UplinkConfig::default()
        };
        let shutdown = CancellationToken::new();
        let fleet = hark_uplink::fleet::Fleet::open(&data).unwrap();
        let center = Center::start(&cfg, &data, store.clone(), fleet.clone(), shutdown.clone())
            .await
            .unwrap();
        let url =
            HttpUrl::parse(&format!("https://127.0.0.1:{}", center.local_addr.port())).unwrap();
        Fixture {
            _dir: dir,
            data,
            store,
            fleet,
            url,
            shutdown,
        }
    }

    fn token(&self, group: &str) -> EnrollToken {
        let ca = CenterCa::open(&self.data.join(UPLINK_DIR)).unwrap();
        Enrolment::open(&self.data)
            .unwrap()
            .create_token(&ca, group, Duration::from_secs(600))
            .unwrap()
    }

    /// Enrols `name` into a fresh identity directory and returns its client.
    async fn forwarder(&self, name: &str, buffer: &str) -> UplinkClient {
        let dir = self.data.parent().unwrap().join(name);
        enroll(&self.url, &self.token("dmz"), name, &dir)
            .await
            .unwrap();
        UplinkClient::new(&ClientSettings {
            center: self.url.clone(),
            identity_dir: dir,
            buffer_id: buffer.into(),
            zstd_level: 3,
            batch_events: 2_000,
        })
        .unwrap()
    }

    fn messages(&self, query: &str) -> Vec<String> {
        self.store.flush().unwrap();
        let mut req = SearchRequest::new(query);
        req.limit = 10_000;
        req.order = hark_store::Order::Asc;
        let res = self.store.search(&req).unwrap();
        res.hits.into_iter().map(|e| e.message).collect()
    }
}

fn events(from: u64, to: u64) -> Vec<Event> {
    (from..to)
        .map(|n| {
            let mut e = Event::new(1_767_225_600_000_000_000 + n as i64, "relp");
            e.timestamp = e.received_at;
            e.message = format!("msg {n}");
            e
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_sent_twice_are_stored_once_and_name_their_forwarder() {
    let f = Fixture::start().await;
    let mut edge = f.forwarder("edge1", "b1").await;
    let seqs: Vec<u64> = (1..=100).collect();
    edge.deliver_numbered(&events(0, 100), &seqs).await.unwrap();
    // The same batch again (a lost answer), and an overlapping one.
    edge.deliver_numbered(&events(0, 100), &seqs).await.unwrap();
    let seqs: Vec<u64> = (51..=150).collect();
    edge.deliver_numbered(&events(50, 150), &seqs)
        .await
        .unwrap();
    let got = f.messages("forwarder:edge1");
    let want: Vec<String> = (0..150).map(|n| format!("msg {n}")).collect();
    assert_eq!(got, want);
    // The event keeps its input and its received_at.
    f.store.flush().unwrap();
    let hit = &f
        .store
        .search(&SearchRequest::new("msg AND 7"))
        .unwrap()
        .hits[0];
    assert_eq!(hit.input, "relp");
    assert_eq!(hit.received_at, 1_767_225_600_000_000_007);
    // Another buffer of the same forwarder is another sequence space.
    let mut fresh = UplinkClient::new(&ClientSettings {
        center: f.url.clone(),
        identity_dir: f.data.parent().unwrap().join("edge1"),
        buffer_id: "b2".into(),
        zstd_level: 3,
        batch_events: 2_000,
    })
    .unwrap();
    fresh
        .deliver_numbered(&events(1000, 1001), &[1])
        .await
        .unwrap();
    assert_eq!(f.messages("forwarder:edge1").len(), 151);
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_used_twice_is_refused() {
    let f = Fixture::start().await;
    let token = f.token("dmz");
    let dir = f.data.parent().unwrap();
    enroll(&f.url, &token, "edge1", &dir.join("a"))
        .await
        .unwrap();
    let again = enroll(&f.url, &token, "edge2", &dir.join("b")).await;
    let err = again.expect_err("a used token");
    assert!(err.to_string().contains("already used"), "{err}");
    assert!(!dir.join("b").join("client.crt").exists());
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_center_does_not_reach_it() {
    let f = Fixture::start().await;
    let mut token = f.token("dmz");
    // A token pinning another CA: the center cannot prove itself.
    token.ca_sha256 = "ab".repeat(32);
    let err = enroll(&f.url, &token, "edge1", &f.data.parent().unwrap().join("x"))
        .await
        .expect_err("an unauthenticated center");
    assert!(err.to_string().contains("CA"), "{err}");
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_forwarder_is_refused() {
    let f = Fixture::start().await;
    let mut edge = f.forwarder("edge1", "b1").await;
    edge.deliver_numbered(&events(0, 10), &(1..=10).collect::<Vec<_>>())
        .await
        .unwrap();
    // Revoked by another process (the CLI) while the server runs.
    assert!(Enrolment::open(&f.data).unwrap().revoke("edge1").unwrap());
    let refused = edge
        .deliver_numbered(&events(10, 20), &(11..=20).collect::<Vec<_>>())
        .await
        .expect_err("revoked");
    assert!(refused.to_string().contains("revoked"), "{refused}");
    assert_eq!(f.messages("forwarder:edge1").len(), 10);
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused_on_the_batch_endpoint() {
    let f = Fixture::start().await;
    let ca = CenterCa::open(&f.data.join(UPLINK_DIR)).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap();
    let body = hark_uplink::wire::encode(1, &events(0, 5), 3).unwrap();
    let answer = http
        .post(format!("https://127.0.0.1:{}{BATCH_PATH}", f.url.port()))
        .header(BUFFER_HEADER, "b1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    assert!(f.messages("*").is_empty());
    f.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_make_a_forwarder_up_and_revocation_shows() {
    let f = Fixture::start().await;
    let edge = f.forwarder("edge1", "b1").await;
    let views = f.fleet.views();
    assert_eq!(views.len(), 1);
    assert_eq!(
        (views[0].name.as_str(), views[0].status),
        ("edge1", "unknown")
    );
    let report = hark_uplink::fleet::HealthReport {
        version: "0.1.0".into(),
        buffer_events: 42,
        dropped: 7,
        ..Default::default()
    };
    let answer = edge.health_sender().send(&report).await.unwrap();
    assert_eq!(answer.group_config_version, "");
    let views = f.fleet.views();
    assert_eq!(views[0].status, "up");
    assert_eq!(views[0].group, "dmz");
    assert_eq!(views[0].health.as_ref(), Some(&report));
    assert_eq!(views[0].group_config, None);
    assert!(edge.config_fetcher().fetch().await.unwrap().is_none());

    // A configuration for the group: the forwarder reads it, and the
    // answer to its next report names its version.
    let text = "[forward]\nbatch_events = 100\n";
    let stored = f.fleet.group_configs().put("dmz", text.into()).unwrap();
    let fetched = edge.config_fetcher().fetch().await.unwrap().unwrap();
    assert_eq!(fetched, stored);
    let answer = edge.health_sender().send(&report).await.unwrap();
    assert_eq!(answer.group_config_version, stored.version);
    assert_eq!(f.fleet.views()[0].group_config, Some(stored.version));
    f.fleet.enrolment().revoke("edge1").unwrap();
    assert_eq!(f.fleet.views()[0].status, "revoked");
    // A revoked forwarder's reports are refused too.
    assert!(edge.health_sender().send(&report).await.is_err());
    f.shutdown.cancel();
}
