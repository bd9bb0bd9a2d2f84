//! The reverse resolver against a real DNS server (dnsmasq) that has one
//! PTR record and is authoritative for the rest of its reverse zone.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hark_ingest::rdns::{ReverseDns, ReverseDnsConfig};
use hark_testkit::peers::dnsmasq;
use hark_testkit::wait::until_async;

const GW: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
const NAMELESS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 8));

fn records() -> Vec<&'static str> {
    vec![
        "--host-record=gw.example.test,192.0.2.7",
        "--local=/2.0.192.in-addr.arpa/",
        "--local-ttl=600",
    ]
}

#[tokio::test]
async fn a_name_is_known_after_one_background_lookup() {
    let dns = dnsmasq(&records());
    let rdns = ReverseDns::new(ReverseDnsConfig::with_servers(vec![SocketAddr::from((
        [127, 0, 0, 1],
        dns.port(),
    ))]));
    // The first calls cannot know; they schedule one lookup between them.
    for _ in 0..50 {
        assert_eq!(rdns.cached(GW), None);
    }
    until_async("the name of 192.0.2.7", || rdns.cached(GW).is_some()).await;
    assert_eq!(rdns.cached(GW).as_deref(), Some("gw.example.test"));
    let stats = rdns.stats();
    assert_eq!((stats.lookups, stats.failures, stats.entries), (1, 0, 1));

    // No PTR record: remembered as nameless, not asked again.
    assert_eq!(rdns.cached(NAMELESS), None);
    until_async("the lookup of 192.0.2.8", || rdns.stats().pending == 0).await;
    for _ in 0..50 {
        assert_eq!(rdns.cached(NAMELESS), None);
    }
    let stats = rdns.stats();
    assert_eq!((stats.lookups, stats.failures, stats.entries), (2, 0, 2));
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_a_failure_remembered_as_no_name() {
    // A UDP port nothing listens on.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ReverseDnsConfig::with_servers(vec![SocketAddr::from(([127, 0, 0, 1], port))]);
    config.timeout = Duration::from_millis(500);
    let rdns = ReverseDns::new(config);
    assert_eq!(rdns.cached(GW), None);
    until_async("the failed lookup", || rdns.stats().pending == 0).await;
    assert_eq!(rdns.cached(GW), None);
    let stats = rdns.stats();
    assert_eq!((stats.lookups, stats.failures), (1, 1));
}

#[tokio::test]
async fn the_cache_holds_at_most_max_entries() {
    let dns = dnsmasq(&records());
    let mut config =
        ReverseDnsConfig::with_servers(vec![SocketAddr::from(([127, 0, 0, 1], dns.port()))]);
    config.max_entries = 3;
    let rdns = ReverseDns::new(config);
    for n in 1..=6u8 {
        let ip = IpAddr::from([192, 0, 2, 100 + n]);
        assert_eq!(rdns.cached(ip), None);
        until_async(format!("the lookup of {ip}"), || rdns.stats().pending == 0).await;
    }
    until_async("the last answer", || rdns.stats().pending == 0).await;
    let stats = rdns.stats();
    assert_eq!((stats.lookups, stats.failures, stats.entries), (6, 0, 3));
    // The newest answers stayed.
    assert_eq!(rdns.cached(IpAddr::from([192, 0, 2, 106])), None);
    assert_eq!(
        rdns.stats().pending,
        0,
        "a remembered address is not asked again"
    );
    // The oldest went, and is asked again.
    assert_eq!(rdns.cached(IpAddr::from([192, 0, 2, 101])), None);
    assert_eq!(rdns.stats().pending, 1);
}
