//! Enrichment: fields derived from an event's addresses, after parsing.
//!
//! For `source.ip` and `destination.ip` (text addresses, as the parsers
//! write them), an [`Enricher`] adds:
//!
//! | field | from | type |
//! |---|---|---|
//! | `<side>.network.name` | [`Networks`], the most specific range | text |
//! | `<side>.geo.country_iso_code` | [`GeoIp`], City or Country database | text |
//! | `<side>.geo.city_name` | City database | text |
//! | `<side>.geo.location.lat`, `<side>.geo.location.lon` | City or Country database | float |
//! | `<side>.as.number` | ASN database | number |
//! | `<side>.as.organization.name` | ASN database | text |
//!
//! where `<side>` is `source` or `destination`. A field the event already
//! has is not written again, so enriching twice changes nothing. GeoIP
//! skips private and other non-routable addresses; network names apply to
//! any address. Enrichment is pure apart from its cache: no I/O after the
//! databases are opened.

mod geoip;
mod networks;

use std::net::IpAddr;
use std::path::PathBuf;

use hark_event::{Event, FieldValue};

pub use geoip::{DEFAULT_CACHE_CAPACITY, GeoIp, GeoRecord};
pub use networks::Networks;

/// Why enrichment could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// A network range is not a CIDR block or an address.
    #[error("network {network:?}: {reason}")]
    Network {
        /// The range as written.
        network: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A database file could not be read.
    #[error("GeoIP database {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error reading it.
        source: std::io::Error,
    },
    /// A file is not a MaxMind database.
    #[error("GeoIP database {}: not a MaxMind database: {reason}", path.display())]
    Database {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        reason: String,
    },
    /// A MaxMind database of a type enrichment does not read.
    #[error(
        "GeoIP database {}: type {database_type} is not supported; use a City, Country or ASN database",
        path.display()
    )]
    UnsupportedDatabase {
        /// The file.
        path: PathBuf,
        /// The type in its metadata.
        database_type: String,
    },
    /// Two databases of the same kind (two location or two ASN databases).
    #[error(
        "GeoIP databases {} and {} hold the same kind of data; give one of each kind",
        first.display(),
        second.display()
    )]
    DuplicateDatabase {
        /// The first one given.
        first: PathBuf,
        /// The second one given.
        second: PathBuf,
    },
}

/// The field names of one side of a connection.
struct Side {
    ip: &'static str,
    network_name: &'static str,
    country_iso_code: &'static str,
    city_name: &'static str,
    lat: &'static str,
    lon: &'static str,
    as_number: &'static str,
    as_organization: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        ip: "source.ip",
        network_name: "source.network.name",
        country_iso_code: "source.geo.country_iso_code",
        city_name: "source.geo.city_name",
        lat: "source.geo.location.lat",
        lon: "source.geo.location.lon",
        as_number: "source.as.number",
        as_organization: "source.as.organization.name",
    },
    Side {
        ip: "destination.ip",
        network_name: "destination.network.name",
        country_iso_code: "destination.geo.country_iso_code",
        city_name: "destination.geo.city_name",
        lat: "destination.geo.location.lat",
        lon: "destination.geo.location.lon",
        as_number: "destination.as.number",
        as_organization: "destination.as.organization.name",
    },
];

/// Network names and GeoIP, applied together.
#[derive(Debug, Default)]
pub struct Enricher {
    networks: Networks,
    geoip: Option<GeoIp>,
}

impl Enricher {
    /// Enriches with `networks` and, when given, `geoip`.
    pub fn new(networks: Networks, geoip: Option<GeoIp>) -> Enricher {
        Enricher { networks, geoip }
    }

    /// Whether enriching would add nothing to any event.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.geoip.is_none()
    }

    /// Adds the fields of the table above to `event`.
    pub fn enrich(&self, event: &mut Event) {
        if self.is_empty() {
            return;
        }
        for side in &SIDES {
            let Some(ip) = address(event, side.ip) else {
                continue;
            };
            if let Some(name) = self.networks.name(ip) {
                put(event, side.network_name, || FieldValue::from(name));
            }
            let Some(record) = self.geoip.as_ref().and_then(|g| g.lookup(ip)) else {
                continue;
            };
            if let Some(code) = &record.country_iso_code {
                put(event, side.country_iso_code, || code.as_str().into());
            }
            if let Some(city) = &record.city_name {
                put(event, side.city_name, || city.as_str().into());
            }
            if let Some((lat, lon)) = record.location {
                put(event, side.lat, || FieldValue::Float(lat));
                put(event, side.lon, || FieldValue::Float(lon));
            }
            if let Some(number) = record.as_number {
                put(event, side.as_number, || FieldValue::Int(i64::from(number)));
            }
            if let Some(org) = &record.as_organization {
                put(event, side.as_organization, || org.as_str().into());
            }
        }
    }
}

/// The address in field `name`, if it holds one.
fn address(event: &Event, name: &str) -> Option<IpAddr> {
    match event.field(name)? {
        FieldValue::Str(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Adds `name` unless the event has it already.
fn put(event: &mut Event, name: &str, value: impl FnOnce() -> FieldValue) {
    if event.field(name).is_none() {
        event.fields.push((name.to_owned(), value()));
    }
}

#[cfg(test)]
mod tests;
