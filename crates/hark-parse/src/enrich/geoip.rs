//! [`GeoIp`]: country, city, location and autonomous system of an address,
//! from MaxMind databases (GeoIP2 / GeoLite2 City, Country and ASN) the
//! user supplies.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use maxminddb::{Reader, geoip2};

use super::EnrichError;

/// How many addresses the cache keeps by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// What the databases say about one address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoRecord {
    /// ISO 3166-1 alpha-2 code of the country (`GB`).
    pub country_iso_code: Option<String>,
    /// English name of the city.
    pub city_name: Option<String>,
    /// Latitude and longitude, in degrees.
    pub location: Option<(f64, f64)>,
    /// Autonomous system number.
    pub as_number: Option<u32>,
    /// Organisation that holds the autonomous system.
    pub as_organization: Option<String>,
}

impl GeoRecord {
    /// Whether the databases said nothing.
    pub fn is_empty(&self) -> bool {
        *self == GeoRecord::default()
    }
}

/// One opened database.
struct Database {
    path: PathBuf,
    reader: Reader<Vec<u8>>,
}

/// MaxMind lookups with a cache of recent addresses.
///
/// Private, loopback, link-local and other non-routable addresses are not
/// looked up. The cache holds up to its capacity of addresses (answers and
/// misses alike) and is emptied when full: cheap, and an address seen often
/// is back in it after one lookup.
pub struct GeoIp {
    /// A City or Country database.
    location: Option<Database>,
    /// An ASN (or ISP) database.
    asn: Option<Database>,
    cache: Mutex<HashMap<IpAddr, Arc<GeoRecord>>>,
    cache_capacity: usize,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("location", &self.location.as_ref().map(|d| &d.path))
            .field("asn", &self.asn.as_ref().map(|d| &d.path))
            .field("cache_capacity", &self.cache_capacity)
            .finish()
    }
}

/// What a database holds, from its metadata.
enum Kind {
    Location,
    Asn,
}

impl GeoIp {
    /// Opens the databases at `paths`: each is told apart by the type in its
    /// metadata (`GeoLite2-City`, `GeoIP2-Country`, `GeoLite2-ASN`,
    /// `GeoIP2-ISP`…); at most one location and one ASN database.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<GeoIp, EnrichError> {
        let mut location: Option<Database> = None;
        let mut asn: Option<Database> = None;
        for path in paths {
            let path = path.as_ref();
            let bytes = std::fs::read(path).map_err(|source| EnrichError::Read {
                path: path.to_owned(),
                source,
            })?;
            let reader = Reader::from_source(bytes).map_err(|e| EnrichError::Database {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            let database_type = reader.metadata().database_type.clone();
            let slot = match kind(&database_type) {
                Some(Kind::Location) => &mut location,
                Some(Kind::Asn) => &mut asn,
                None => {
                    return Err(EnrichError::UnsupportedDatabase {
                        path: path.to_owned(),
                        database_type,
                    });
                }
            };
            if let Some(first) = slot {
                return Err(EnrichError::DuplicateDatabase {
                    first: first.path.clone(),
                    second: path.to_owned(),
                });
            }
            *slot = Some(Database {
                path: path.to_owned(),
                reader,
            });
        }
        Ok(GeoIp {
            location,
            asn,
            cache: Mutex::new(HashMap::new()),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        })
    }

    /// Keeps up to `capacity` addresses in the cache (0 turns it off).
    pub fn with_cache_capacity(mut self, capacity: usize) -> GeoIp {
        self.cache_capacity = capacity;
        self
    }

    /// What the databases say about `ip`; `None` for an address that is not
    /// publicly routable or that no database knows.
    pub fn lookup(&self, ip: IpAddr) -> Option<Arc<GeoRecord>> {
        let ip = ip.to_canonical();
        if !is_public(ip) {
            return None;
        }
        if self.cache_capacity == 0 {
            let record = self.read(ip);
            return (!record.is_empty()).then(|| Arc::new(record));
        }
        let cached = self.cache().get(&ip).cloned();
        let record = match cached {
            Some(record) => record,
            None => {
                let record = Arc::new(self.read(ip));
                let mut cache = self.cache();
                if cache.len() >= self.cache_capacity {
                    cache.clear();
                }
                cache.insert(ip, Arc::clone(&record));
                record
            }
        };
        (!record.is_empty()).then_some(record)
    }

    pub(super) fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Arc<GeoRecord>>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads `ip` from the databases; a record that cannot be decoded reads
    /// as unknown.
    fn read(&self, ip: IpAddr) -> GeoRecord {
        let mut record = GeoRecord::default();
        if let Some(db) = &self.location
            && let Ok(found) = db.reader.lookup(ip)
            && let Ok(Some(city)) = found.decode::<geoip2::City>()
        {
            record.country_iso_code = city.country.iso_code.map(str::to_owned);
            record.city_name = city.city.names.english.map(str::to_owned);
            record.location = city.location.latitude.zip(city.location.longitude);
        }
        if let Some(db) = &self.asn
            && let Ok(found) = db.reader.lookup(ip)
            && let Ok(Some(asn)) = found.decode::<geoip2::Asn>()
        {
            record.as_number = asn.autonomous_system_number;
            record.as_organization = asn.autonomous_system_organization.map(str::to_owned);
        }
        record
    }
}

fn kind(database_type: &str) -> Option<Kind> {
    if database_type.contains("ASN") || database_type.contains("ISP") {
        Some(Kind::Asn)
    } else if ["City", "Country", "Enterprise"]
        .iter()
        .any(|k| database_type.contains(k))
    {
        Some(Kind::Location)
    } else {
        None
    }
}

/// Whether `ip` (canonical) can be on the public internet: not private,
/// shared (CGNAT), loopback, link-local, unique-local, multicast,
/// documentation, benchmarking or unspecified.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
                || a == 0)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "81.2.69.142",
            "8.8.8.8",
            "100.128.0.1",
            "2001:218::1",
            "2a00:1450::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
