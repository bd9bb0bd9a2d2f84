//! Human-friendly units in the configuration: durations (`100ms`, `30d`),
//! byte sizes (`64KiB`, `50GiB`, or a plain integer) and UTC offsets
//! (`+01:00`), each parsed once, at load.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A duration written like `100ms`, `10m`, `30d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim())
            .map(HumanDuration)
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid duration {s:?} ({e}); expected a number and a unit, like \"100ms\", \"30s\", \"10m\", \"24h\" or \"30d\""
                ))
            })
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Duration {
        d.0
    }
}

/// `deserialize_with` for a `Duration` field written like `"30s"`.
pub(crate) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    HumanDuration::deserialize(d).map(Duration::from)
}

/// `deserialize_with` for an optional `Duration` field (with `#[serde(default)]`).
pub(crate) fn duration_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    HumanDuration::deserialize(d).map(|h| Some(h.0))
}

/// A size in bytes written as an integer or like `64KiB`, `50GiB`, `1MB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size in bytes, like 65536, \"64KiB\" or \"50GiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.trim()
                    .parse::<bytesize::ByteSize>()
                    .map(|b| ByteSize(b.as_u64()))
                    .map_err(|_| {
                        E::custom(format!(
                            "invalid size {v:?}; expected a number and a unit, like \"64KiB\", \"512MiB\" or \"50GiB\""
                        ))
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// A fixed offset from UTC, for timestamps that carry none: `UTC`, `Z`,
/// `+01:00`, `-0530`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UtcOffset {
    seconds_east: i32,
}

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset { seconds_east: 0 };

    /// Seconds east of UTC (negative west of it).
    pub fn seconds_east(self) -> i32 {
        self.seconds_east
    }
}

impl std::str::FromStr for UtcOffset {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        parse_offset(s)
            .map(|seconds_east| UtcOffset { seconds_east })
            .ok_or(())
    }
}

impl<'de> Deserialize<'de> for UtcOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|()| {
            de::Error::custom(format!(
                "invalid timezone {s:?}; expected a UTC offset like \"+01:00\", \"-05:00\" or \"UTC\""
            ))
        })
    }
}

/// Parses a UTC offset (`UTC`, `Z`, `+01:00`, `-0530`) into seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}
