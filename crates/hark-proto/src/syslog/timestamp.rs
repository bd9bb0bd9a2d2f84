//! Syslog timestamps: RFC 3339 (leniently), the BSD `Mmm dd hh:mm:ss`
//! family, and the year a year-less BSD timestamp most likely belongs to.
//!
//! Civil dates are converted with plain integer arithmetic: this runs for
//! every message, and the conversions are exact for the whole range an
//! `i64` of nanoseconds covers (1677–2262).

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// A year-less timestamp may lie at most this far after the receive time…
const MAX_AHEAD_SECS: i64 = 31 * SECS_PER_DAY;
/// …and at most this far before it (about eleven months).
const MAX_BEHIND_SECS: i64 = 335 * SECS_PER_DAY;

/// A wall-clock time as a sender wrote it, before any zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    /// The year, when the sender wrote one.
    pub year: Option<i64>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year of a day counted from 1970-01-01.
fn year_of_day(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    yoe + era * 400 + i64::from(mp >= 10)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Civil {
    /// Nanoseconds since the epoch of this time in `year`, read in a zone
    /// `offset_secs` east of UTC; `None` for an impossible date or one out of range.
    fn nanos_in(&self, year: i64, offset_secs: i32) -> Option<i64> {
        if self.month == 0
            || self.day == 0
            || self.day > days_in_month(year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
        {
            return None;
        }
        if !(1600..=2400).contains(&year) {
            return None;
        }
        let secs = days_from_civil(year, self.month, self.day) * SECS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(offset_secs);
        secs.checked_mul(NANOS_PER_SEC)?
            .checked_add(i64::from(self.nanos))
    }

    /// Nanoseconds since the epoch, read in a zone `offset_secs` east of UTC.
    /// A missing year is chosen so the time lands nearest to `received_at`:
    /// the receive year, unless that puts it more than about a month ahead
    /// (then the year before) or more than about eleven months behind (then
    /// the year after).
    pub(crate) fn resolve(&self, offset_secs: i32, received_at: i64) -> Option<i64> {
        if let Some(year) = self.year {
            return self.nanos_in(year, offset_secs);
        }
        let local_secs = received_at.div_euclid(NANOS_PER_SEC) + i64::from(offset_secs);
        let year = year_of_day(local_secs.div_euclid(SECS_PER_DAY));
        let mut nearest: Option<(i64, i64)> = None;
        for candidate in [year, year - 1, year + 1] {
            let Some(t) = self.nanos_in(candidate, offset_secs) else {
                continue;
            };
            let ahead = t.saturating_sub(received_at) / NANOS_PER_SEC;
            if ahead > -MAX_BEHIND_SECS && ahead <= MAX_AHEAD_SECS {
                return Some(t);
            }
            // Only a 29 February can miss the window in all three years; take the closest.
            if nearest.is_none_or(|(d, _)| ahead.abs() < d) {
                nearest = Some((ahead.abs(), t));
            }
        }
        nearest.map(|(_, t)| t)
    }
}

/// `n` ASCII digits at the front of `b` as a number.
fn digits(b: &[u8], n: usize) -> Option<u32> {
    let d = b.get(..n)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// A fraction of a second after the dot: its nanoseconds and its length.
/// Digits past nanosecond precision are read and ignored.
fn fraction(b: &[u8]) -> Option<(u32, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10
            + b.get(i)
                .filter(|_| i < n)
                .map_or(0, |c| u32::from(c - b'0'));
    }
    Some((nanos, n))
}

/// An RFC 3339 / ISO 8601 timestamp at the front of `b`:
/// `YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm|±hhmm]`, with `t` and `z` accepted in
/// lower case and any number of fraction digits. Without an offset the time
/// is read in `default_offset` (seconds east of UTC). Returns the time in
/// nanoseconds and the number of bytes read.
pub(crate) fn parse_iso(b: &[u8], default_offset: i32) -> Option<(i64, usize)> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = i64::from(digits(b, 4)?);
    let mut civil = Civil {
        year: Some(year),
        month: digits(&b[5..], 2)?,
        day: digits(&b[8..], 2)?,
        hour: digits(&b[11..], 2)?,
        minute: digits(&b[14..], 2)?,
        second: digits(&b[17..], 2)?,
        nanos: 0,
    };
    let mut pos = 19;
    if b.get(pos) == Some(&b'.') {
        let (nanos, n) = fraction(&b[pos + 1..])?;
        civil.nanos = nanos;
        pos += 1 + n;
    }
    let offset = match b.get(pos) {
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hh = digits(&b[pos + 1..], 2)?;
            let colon = usize::from(b.get(pos + 3) == Some(&b':'));
            let mm = digits(&b[pos + 3 + colon..], 2)?;
            if hh > 23 || mm > 59 {
                return None;
            }
            pos += 5 + colon;
            let secs = (hh * 3600 + mm * 60) as i32;
            if sign == b'-' { -secs } else { secs }
        }
        _ => default_offset,
    };
    Some((civil.nanos_in(year, offset)?, pos))
}

fn month(b: &[u8]) -> Option<u32> {
    let m = [
        b.first()?.to_ascii_lowercase(),
        b.get(1)?.to_ascii_lowercase(),
        b.get(2)?.to_ascii_lowercase(),
    ];
    Some(match &m {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// `hh:mm:ss[.frac]` at the front of `b`, into `civil`; returns the bytes read.
fn clock(b: &[u8], civil: &mut Civil) -> Option<usize> {
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    civil.hour = digits(b, 2)?;
    civil.minute = digits(&b[3..], 2)?;
    civil.second = digits(&b[6..], 2)?;
    let mut pos = 8;
    if b.get(pos) == Some(&b'.')
        && let Some((nanos, n)) = fraction(&b[pos + 1..])
    {
        civil.nanos = nanos;
        pos += 1 + n;
    }
    Some(pos)
}

/// A BSD timestamp at the front of `b`: `Mmm dd hh:mm:ss` (day space- or
/// zero-padded or a single digit), optionally with a fraction of a second,
/// or `Mmm dd yyyy hh:mm:ss`. Returns the time and the bytes read.
pub(crate) fn parse_bsd(b: &[u8]) -> Option<(Civil, usize)> {
    let mut civil = Civil {
        year: None,
        month: month(b)?,
        day: 0,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    };
    let mut pos = 3;
    let spaces = b[pos..].iter().take_while(|&&c| c == b' ').count();
    if !(1..=2).contains(&spaces) {
        return None;
    }
    pos += spaces;
    let day_len = b[pos..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    civil.day = digits(&b[pos..], day_len)?;
    pos += day_len;
    if b.get(pos) != Some(&b' ') {
        return None;
    }
    pos += 1;
    if b.get(pos + 4) == Some(&b' ') {
        civil.year = Some(i64::from(digits(&b[pos..], 4)?));
        pos += 5;
    }
    pos += clock(&b[pos..], &mut civil)?;
    Some((civil, pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn ns(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn civil_arithmetic_matches_chrono() {
        for days in (-200_000i64..200_000).step_by(37) {
            let date = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days);
            use chrono::Datelike;
            assert_eq!(
                days_from_civil(i64::from(date.year()), date.month(), date.day()),
                days
            );
            assert_eq!(year_of_day(days), i64::from(date.year()));
        }
    }

    #[test]
    fn iso_timestamps_are_read_leniently() {
        let (t, n) = parse_iso(b"2003-10-11T22:14:15.003Z rest", 0).unwrap();
        assert_eq!((t, n), (ns("2003-10-11T22:14:15.003Z"), 24));
        let (t, _) = parse_iso(b"2003-08-24t05:14:15.000003-07:00", 0).unwrap();
        assert_eq!(t, ns("2003-08-24T05:14:15.000003-07:00"));
        let (t, n) = parse_iso(b"2003-09-29T22:09:01.000000000009z", 0).unwrap();
        assert_eq!((t, n), (ns("2003-09-29T22:09:01Z"), 33));
        let (t, _) = parse_iso(b"2026-11-22T04:51:46 localhost", 3600).unwrap();
        assert_eq!(t, ns("2026-11-22T04:51:46+01:00"));
        let (t, _) = parse_iso(b"2026-11-22T04:51:46+0130", 0).unwrap();
        assert_eq!(t, ns("2026-11-22T04:51:46+01:30"));
        for bad in [
            &b"2003-09-31T22:14:15Z"[..],
            b"2018-02-29T22:14:16+01:00",
            b"2003-09-29T22:99:16Z",
            b"2003-09-29T22:09:01.Z",
            b"2003-08-24T05:14:15.000003-24:00",
            b"2003-08-24T05:14:15.000003-07:61",
            b"2018-11-22",
        ] {
            assert!(
                parse_iso(bad, 0).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bsd_timestamps_in_their_variants() {
        let (c, n) = parse_bsd(b"Nov  2 04:50:32 host").unwrap();
        assert_eq!(
            (c.month, c.day, c.hour, c.minute, c.second, n),
            (11, 2, 4, 50, 32, 15)
        );
        let (c, n) = parse_bsd(b"Jan 5 10:01:00 x").unwrap();
        assert_eq!((c.day, n), (5, 14));
        let (c, n) = parse_bsd(b"Mar  1 18:46:11.123: %LINK").unwrap();
        assert_eq!((c.nanos, n), (123_000_000, 19));
        let (c, n) = parse_bsd(b"Jan 05 2024 12:00:00 asa").unwrap();
        assert_eq!((c.year, c.day, n), (Some(2024), 5, 20));
        assert!(parse_bsd(b"Foo  2 04:50:32").is_none());
        assert!(parse_bsd(b"Nov   2 04:50:32").is_none());
        assert!(parse_bsd(b"Nov 2 4:50:32").is_none());
    }

    fn bsd_in(s: &str, received: &str) -> String {
        let (c, _) = parse_bsd(s.as_bytes()).unwrap();
        let t = c.resolve(0, ns(received)).unwrap();
        Utc.timestamp_nanos(t).to_rfc3339()
    }

    #[test]
    fn missing_year_lands_nearest_to_the_receive_time() {
        assert_eq!(
            bsd_in("Jun 10 12:00:00", "2026-06-10T13:00:00Z"),
            "2026-06-10T12:00:00+00:00"
        );
        // December logs read in January belong to last year.
        assert_eq!(
            bsd_in("Dec 31 23:59:59", "2026-01-01T00:00:05Z"),
            "2025-12-31T23:59:59+00:00"
        );
        // A clock a little ahead stays in this year.
        assert_eq!(
            bsd_in("Jan  1 00:00:10", "2025-12-31T23:59:59Z"),
            "2026-01-01T00:00:10+00:00"
        );
        assert_eq!(
            bsd_in("Jan 20 00:00:00", "2026-01-01T00:00:00Z"),
            "2026-01-20T00:00:00+00:00"
        );
        assert_eq!(
            bsd_in("Mar  1 00:00:00", "2026-01-01T00:00:00Z"),
            "2025-03-01T00:00:00+00:00"
        );
        // 29 February goes to the nearest leap year.
        assert_eq!(
            bsd_in("Feb 29 12:00:00", "2025-01-10T00:00:00Z"),
            "2024-02-29T12:00:00+00:00"
        );
        assert_eq!(
            bsd_in("Feb 29 12:00:00", "2028-02-20T00:00:00Z"),
            "2028-02-29T12:00:00+00:00"
        );
    }

    #[test]
    fn offset_applies_to_bsd_times() {
        let (c, _) = parse_bsd(b"Jan  5 15:33:03").unwrap();
        let t = c.resolve(3600, ns("2020-01-20T00:00:00Z")).unwrap();
        assert_eq!(t, ns("2020-01-05T15:33:03+01:00"));
    }
}
