//! Serde helpers that write nanosecond timestamps as RFC 3339 strings, the
//! form the HTTP API and the state files show people.

use hark_event::{format_rfc3339_nanos, parse_rfc3339_nanos};
use serde::{Deserialize, Deserializer, Serializer, de::Error};

/// `i64` nanoseconds as an RFC 3339 string.
pub mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339_nanos(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        parse_rfc3339_nanos(&text)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not an RFC 3339 timestamp")))
    }
}

/// `Option<i64>` nanoseconds as an RFC 3339 string or null.
pub mod rfc3339_opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&format_rfc3339_nanos(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_rfc3339_nanos(&text)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("{text:?} is not an RFC 3339 timestamp"))),
            None => Ok(None),
        }
    }
}
