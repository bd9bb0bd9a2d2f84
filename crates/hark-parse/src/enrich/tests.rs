//! Expected values come from MaxMind's source data of the test databases
//! (`source-data/GeoIP2-City-Test.json`, `source-data/GeoLite2-ASN-Test.json`).

use std::path::PathBuf;

use hark_event::{Event, FieldValue};

use super::*;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/maxmind")
        .join(name)
}

fn geoip() -> GeoIp {
    GeoIp::open(&[
        testdata("GeoIP2-City-Test.mmdb"),
        testdata("GeoLite2-ASN-Test.mmdb"),
    ])
    .unwrap()
}

fn event(fields: &[(&str, &str)]) -> Event {
    let mut ev = Event::new(0, "in");
    for (k, v) in fields {
        ev.push_field(*k, *v);
    }
    ev
}

use crate::testing::s;

#[test]
fn city_and_asn_fields_for_both_sides() {
    let enricher = Enricher::new(Networks::default(), Some(geoip()));
    let mut ev = event(&[
        ("source.ip", "81.2.69.142"),
        ("destination.ip", "89.160.20.128"),
    ]);
    enricher.enrich(&mut ev);
    assert_eq!(
        ev.fields,
        vec![
            ("source.ip".into(), s("81.2.69.142")),
            ("destination.ip".into(), s("89.160.20.128")),
            ("source.geo.country_iso_code".into(), s("GB")),
            ("source.geo.city_name".into(), s("London")),
            ("source.geo.location.lat".into(), FieldValue::Float(51.5142)),
            ("source.geo.location.lon".into(), FieldValue::Float(-0.0931)),
            ("destination.geo.country_iso_code".into(), s("SE")),
            ("destination.geo.city_name".into(), s("Linköping")),
            (
                "destination.geo.location.lat".into(),
                FieldValue::Float(58.4167)
            ),
            (
                "destination.geo.location.lon".into(),
                FieldValue::Float(15.6167)
            ),
            ("destination.as.number".into(), FieldValue::Int(29518)),
            ("destination.as.organization.name".into(), s("Bredband2 AB")),
        ]
    );
}

#[test]
fn lookups_match_the_source_data() {
    let geo = geoip();
    let look = |ip: &str| geo.lookup(ip.parse().unwrap()).map(|r| (*r).clone());

    let boxford = look("2.125.160.216").unwrap();
    assert_eq!(boxford.country_iso_code.as_deref(), Some("GB"));
    assert_eq!(boxford.city_name.as_deref(), Some("Boxford"));
    assert_eq!(boxford.location, Some((51.75, -1.25)));

    // A country-level entry: no city.
    let japan = look("2001:218::1").unwrap();
    assert_eq!(japan.country_iso_code.as_deref(), Some("JP"));
    assert_eq!(japan.city_name, None);
    assert_eq!(japan.location, Some((35.68536, 139.75309)));

    // Only in the ASN database.
    let google = look("1.0.0.1").unwrap();
    assert_eq!(google.as_number, Some(15169));
    assert_eq!(google.as_organization.as_deref(), Some("Google Inc."));
    assert_eq!(google.country_iso_code, None);

    // A number without an organisation, and a city.
    let milton = look("216.160.83.56").unwrap();
    assert_eq!(milton.city_name.as_deref(), Some("Milton"));
    assert_eq!(milton.country_iso_code.as_deref(), Some("US"));
    assert_eq!(milton.as_number, Some(209));
    assert_eq!(milton.as_organization, None);

    // IPv4-mapped IPv6 is read as the IPv4 address.
    assert_eq!(
        look("::ffff:81.2.69.142").unwrap().city_name.as_deref(),
        Some("London")
    );

    // Unknown to both databases, and private.
    assert_eq!(look("8.8.4.4"), None);
    assert_eq!(look("10.0.0.1"), None);
    assert_eq!(look("192.168.1.1"), None);
}

#[test]
fn the_cache_answers_like_the_databases_and_stays_bounded() {
    let geo = geoip().with_cache_capacity(2);
    let uncached = geoip().with_cache_capacity(0);
    let ips = [
        "81.2.69.142",
        "89.160.20.128",
        "2.125.160.216",
        "8.8.4.4",
        "1.0.0.1",
    ];
    for _ in 0..3 {
        for ip in ips {
            let ip = ip.parse().unwrap();
            assert_eq!(geo.lookup(ip), uncached.lookup(ip), "{ip}");
            assert!(geo.cache().len() <= 2);
        }
    }
}

#[test]
fn networks_name_both_sides_and_geoip_skips_private_addresses() {
    let networks = Networks::new([("10.0.0.0/8", "internal"), ("10.9.0.0/16", "servers")]).unwrap();
    let enricher = Enricher::new(networks, Some(geoip()));
    let mut ev = event(&[("source.ip", "10.9.1.2"), ("destination.ip", "81.2.69.142")]);
    enricher.enrich(&mut ev);
    assert_eq!(ev.field("source.network.name"), Some(&s("servers")));
    assert_eq!(ev.field("destination.network.name"), None);
    assert_eq!(ev.field("source.geo.country_iso_code"), None);
    assert_eq!(ev.field("destination.geo.city_name"), Some(&s("London")));
}

#[test]
fn enriching_twice_adds_nothing_and_existing_fields_stay() {
    let enricher = Enricher::new(
        Networks::new([("81.2.69.0/24", "partner")]).unwrap(),
        Some(geoip()),
    );
    let mut ev = event(&[
        ("source.ip", "81.2.69.142"),
        ("source.geo.city_name", "Londinium"),
    ]);
    enricher.enrich(&mut ev);
    let once = ev.fields.clone();
    enricher.enrich(&mut ev);
    assert_eq!(ev.fields, once);
    assert_eq!(ev.field("source.geo.city_name"), Some(&s("Londinium")));
    assert_eq!(ev.field("source.network.name"), Some(&s("partner")));
    assert_eq!(ev.field("source.geo.country_iso_code"), Some(&s("GB")));
}

#[test]
fn events_without_addresses_are_untouched() {
    let enricher = Enricher::new(
        Networks::new([("0.0.0.0/0", "any")]).unwrap(),
        Some(geoip()),
    );
    for fields in [
        vec![],
        vec![("source.ip", "not an address")],
        vec![("destination.ip", "")],
    ] {
        let mut ev = event(&fields);
        let before = ev.clone();
        enricher.enrich(&mut ev);
        assert_eq!(ev, before);
    }
    let mut ev = Event::new(0, "in");
    ev.push_field("source.ip", 42i64);
    enricher.enrich(&mut ev);
    assert_eq!(ev.fields.len(), 1);
    assert!(Enricher::default().is_empty());
}

#[test]
fn opening_errors_name_the_file() {
    let missing = testdata("nope.mmdb");
    let e = GeoIp::open(&[&missing]).unwrap_err();
    assert!(
        matches!(&e, EnrichError::Read { path, .. } if *path == missing),
        "{e:?}"
    );
    assert!(e.to_string().contains("nope.mmdb"), "{e}");

    let not_a_db = testdata("SOURCES.md");
    let e = GeoIp::open(&[&not_a_db]).unwrap_err();
    assert!(
        matches!(&e, EnrichError::Database { path, .. } if *path == not_a_db),
        "{e:?}"
    );
    assert!(e.to_string().contains("SOURCES.md"), "{e}");

    let city = testdata("GeoIP2-City-Test.mmdb");
    let e = GeoIp::open(&[&city, &city]).unwrap_err();
    assert!(matches!(e, EnrichError::DuplicateDatabase { .. }), "{e:?}");
}
