//! Timestamps as nanoseconds since the Unix epoch, and their RFC 3339 form.

use chrono::{DateTime, SecondsFormat, Utc};

/// The current time in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// Formats nanoseconds since the epoch as RFC 3339 UTC with nanoseconds (`2026-11-22T05:00:00.123456789Z`).
pub fn format_rfc3339_nanos(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses an RFC 3339 timestamp (any offset) into nanoseconds since the epoch.
pub fn parse_rfc3339_nanos(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .and_then(|d| d.with_timezone(&Utc).timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let n = 1_763_790_000_123_456_789;
        let s = format_rfc3339_nanos(n);
        assert_eq!(s, "2025-11-22T05:40:00.123456789Z");
        assert_eq!(parse_rfc3339_nanos(&s), Some(n));
        assert_eq!(
            parse_rfc3339_nanos("2025-11-22T06:40:00.123456789+01:00"),
            Some(n)
        );
        assert_eq!(parse_rfc3339_nanos("yesterday"), None);
    }
}
