//! The event time of a FortiGate log: `date`+`time` in the zone `tz`, or
//! else `eventtime`.

use chrono::{FixedOffset, NaiveDate, NaiveTime};

/// UTC nanoseconds of `date` (`2023-05-09`) and `time` (`01:14:16`) in the
/// zone `tz` (`-0700`, `+0530`, `UTC`); `None` if any part does not read.
pub(super) fn from_date_time(date: &str, time: &str, tz: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
    let offset = offset(tz)?;
    let local = date.and_time(time).and_local_timezone(offset).single()?;
    local.timestamp_nanos_opt()
}

/// The offset written `+HHMM`, `-HHMM`, `+HH:MM`, or `UTC`/`GMT`/`Z`.
fn offset(tz: &str) -> Option<FixedOffset> {
    if matches!(tz, "UTC" | "GMT" | "Z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|&c| c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    if minutes >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// UTC nanoseconds of an `eventtime`, which FortiOS writes in seconds
/// (6.0), microseconds or nanoseconds (6.2 and later) since the epoch; the
/// unit is told by the size of the number.
pub(super) fn from_eventtime(eventtime: i64) -> Option<i64> {
    let scale = match eventtime {
        ..0 => return None,
        0..100_000_000_000 => 1_000_000_000,
        100_000_000_000..100_000_000_000_000 => 1_000_000,
        100_000_000_000_000..100_000_000_000_000_000 => 1_000,
        _ => 1,
    };
    eventtime.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-05-09T08:14:16Z.
    const AT: i64 = 1_683_620_056_000_000_000;

    #[test]
    fn date_time_and_zone() {
        assert_eq!(from_date_time("2023-05-09", "01:14:16", "-0700"), Some(AT));
        assert_eq!(from_date_time("2023-05-09", "10:14:16", "+0200"), Some(AT));
        assert_eq!(from_date_time("2023-05-09", "13:44:16", "+05:30"), Some(AT));
        assert_eq!(from_date_time("2023-05-09", "08:14:16", "UTC"), Some(AT));
    }

    #[test]
    fn bad_parts_give_nothing() {
        assert_eq!(from_date_time("2023-02-30", "01:14:16", "-0700"), None);
        assert_eq!(from_date_time("2023-05-09", "10:", "-0700"), None);
        assert_eq!(from_date_time("2023-05-09", "01:14:16", "0700"), None);
        assert_eq!(from_date_time("2023-05-09", "01:14:16", "+07"), None);
        assert_eq!(from_date_time("2023-05-09", "01:14:16", "+0790"), None);
        assert_eq!(from_date_time("2023-05-09", "01:14:16", "+ü700"), None);
    }

    #[test]
    fn eventtime_units() {
        assert_eq!(from_eventtime(1_683_620_056), Some(AT));
        assert_eq!(from_eventtime(1_683_620_056_000), Some(AT));
        assert_eq!(from_eventtime(1_683_620_056_000_000), Some(AT));
        assert_eq!(from_eventtime(1_683_620_056_000_000_000), Some(AT));
        assert_eq!(from_eventtime(-1), None);
    }
}
