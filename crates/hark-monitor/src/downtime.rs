//! Downtimes: planned maintenance during which monitors keep checking and
//! changing state, but their changes are flagged `in_downtime` so that
//! notifications skip them, and availability leaves the time out.
//!
//! A downtime is either one-off (`start`..`end`) or recurring: on some
//! weekdays (none listed = every day) at a local time of day (`"HH:MM"`) in
//! an IANA time zone (`"Europe/Berlin"`), for a duration. The local start
//! time is resolved in the zone on each day, so a window at 01:00 stays at
//! 01:00 local time across daylight-saving changes; the duration is elapsed
//! time. A start time that does not exist on a spring-forward day (02:30 in
//! Berlin) moves forward by the gap (03:30 local); one that exists twice on
//! the fall-back day takes the first.
//!
//! A downtime applies to the monitors it names, or to all with `"*"`.
//!
//! ```
//! use hark_monitor::downtime::{Downtimes, NewDowntime, Schedule};
//!
//! let mut all = Downtimes::default();
//! let id = all
//!     .add(
//!         NewDowntime {
//!             monitors: vec!["web".into()],
//!             schedule: Schedule::Once { start: 1_000, end: 2_000 },
//!             comment: "kernel update".into(),
//!             author: "ops".into(),
//!         },
//!         500,
//!     )
//!     .map(|d| d.id)
//!     .expect("a valid downtime");
//! assert!(all.active("web", 1_500));
//! assert!(!all.active("db", 1_500));
//! assert_eq!(all.windows("web", 0, 10_000), vec![(1_000, 2_000)]);
//! assert!(all.remove(id).is_some());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::serde_time::rfc3339;

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// The longest a recurring window may last.
pub const MAX_RECURRING_DURATION: Duration = Duration::from_secs(7 * 86_400);

/// A downtime's identifier, unique within a [`Downtimes`].
pub type DowntimeId = u64;

/// What a person asks for: the body of "add a downtime".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDowntime {
    /// Monitor names, or `"*"` for all.
    pub monitors: Vec<String>,
    /// When.
    pub schedule: Schedule,
    /// Why.
    #[serde(default)]
    pub comment: String,
    /// Who.
    #[serde(default)]
    pub author: String,
}

/// A scheduled downtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Downtime {
    /// Identifier.
    pub id: DowntimeId,
    /// Monitor names, or `"*"` for all.
    pub monitors: Vec<String>,
    /// When.
    pub schedule: Schedule,
    /// Why.
    pub comment: String,
    /// Who.
    pub author: String,
    /// When it was added.
    #[serde(with = "rfc3339")]
    pub created: i64,
}

/// When a downtime is in effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Schedule {
    /// From `start` until `end` (exclusive).
    Once {
        /// Start, nanoseconds since the epoch (RFC 3339 in JSON).
        #[serde(with = "rfc3339")]
        start: i64,
        /// End, nanoseconds since the epoch (RFC 3339 in JSON).
        #[serde(with = "rfc3339")]
        end: i64,
    },
    /// Every listed weekday at a local time.
    Recurring(Recurrence),
}

/// A window that repeats on weekdays at a local time of day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recurrence {
    /// The days it starts on (`"mon"` … `"sun"`); empty means every day.
    #[serde(default, with = "weekdays")]
    pub weekdays: Vec<Weekday>,
    /// Local start time, `"HH:MM"`.
    pub start: TimeOfDay,
    /// How long each window lasts, in seconds (at most 7 days).
    pub duration_secs: u64,
    /// IANA time zone the start time is in, like `"Europe/Berlin"` or `"UTC"`.
    #[serde(with = "zone")]
    pub time_zone: Tz,
}

/// A time of day, written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
}

impl TimeOfDay {
    fn naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(u32::from(self.hour), u32::from(self.minute), 0)
            .unwrap_or(NaiveTime::MIN)
    }
}

impl FromStr for TimeOfDay {
    type Err = DowntimeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DowntimeError::TimeOfDay(s.to_owned());
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let hour: u8 = h.parse().map_err(|_| bad())?;
        let minute: u8 = m.parse().map_err(|_| bad())?;
        if hour > 23 || minute > 59 || m.len() != 2 {
            return Err(bad());
        }
        Ok(TimeOfDay { hour, minute })
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

mod weekdays {
    use super::*;

    pub fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(days.iter().map(|d| match d {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| {
                s.parse::<Weekday>().map_err(|_| {
                    D::Error::custom(format!(
                        "{s:?} is not a weekday; use mon, tue, wed, thu, fri, sat or sun"
                    ))
                })
            })
            .collect()
    }
}

mod zone {
    use super::*;

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse::<Tz>()
            .map_err(|_| D::Error::custom(DowntimeError::TimeZone(name)))
    }
}

/// Why a downtime was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DowntimeError {
    /// No monitor named.
    #[error("a downtime needs at least one monitor name, or \"*\" for all")]
    NoMonitors,
    /// An empty monitor name.
    #[error("monitor names in a downtime must not be empty")]
    EmptyMonitorName,
    /// `end` not after `start`.
    #[error("a downtime must end after it starts")]
    EndNotAfterStart,
    /// A bad time of day.
    #[error("{0:?} is not a time of day; write HH:MM, like \"02:30\"")]
    TimeOfDay(String),
    /// An unknown time zone.
    #[error("{0:?} is not an IANA time zone; use a name like \"Europe/Berlin\" or \"UTC\"")]
    TimeZone(String),
    /// A zero or too long recurring duration.
    #[error("a recurring downtime lasts more than 0 seconds and at most 7 days")]
    Duration,
}

impl Downtime {
    /// Whether it names `monitor` (or `"*"`).
    pub fn applies_to(&self, monitor: &str) -> bool {
        self.monitors.iter().any(|m| m == "*" || m == monitor)
    }

    /// Whether it is in effect at `now`.
    pub fn active_at(&self, now: i64) -> bool {
        !self.schedule.windows(now, now.saturating_add(1)).is_empty()
    }
}

impl Schedule {
    /// The windows (start, end) that overlap `from..to`, unclipped, in order.
    pub fn windows(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        match self {
            Schedule::Once { start, end } => {
                if *start < to && *end > from {
                    vec![(*start, *end)]
                } else {
                    Vec::new()
                }
            }
            Schedule::Recurring(r) => r.windows(from, to),
        }
    }

    fn validate(&self) -> Result<(), DowntimeError> {
        match self {
            Schedule::Once { start, end } if end <= start => Err(DowntimeError::EndNotAfterStart),
            Schedule::Once { .. } => Ok(()),
            Schedule::Recurring(r) => {
                if r.duration_secs == 0 || r.duration_secs > MAX_RECURRING_DURATION.as_secs() {
                    Err(DowntimeError::Duration)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The latest moment it can be in effect (`i64::MAX` when recurring).
    fn last_end(&self) -> i64 {
        match self {
            Schedule::Once { end, .. } => *end,
            Schedule::Recurring(_) => i64::MAX,
        }
    }
}

impl Recurrence {
    fn duration_nanos(&self) -> i64 {
        i64::try_from(self.duration_secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(NANOS_PER_SEC)
    }

    /// The windows overlapping `from..to`.
    pub fn windows(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        let duration = self.duration_nanos();
        let first = self.local_date(from.saturating_sub(duration)).pred_opt();
        let last = self.local_date(to).succ_opt();
        let (Some(mut day), Some(last)) = (first, last) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while day <= last {
            if self.weekdays.is_empty() || self.weekdays.contains(&day.weekday()) {
                let start = self.resolve(day.and_time(self.start.naive()));
                let end = start.saturating_add(duration);
                if start < to && end > from {
                    out.push((start, end));
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        out
    }

    fn local_date(&self, t: i64) -> NaiveDate {
        DateTime::<Utc>::from_timestamp_nanos(t)
            .with_timezone(&self.time_zone)
            .date_naive()
    }

    /// The instant a local date and time means in the zone, in nanoseconds.
    fn resolve(&self, local: NaiveDateTime) -> i64 {
        let tz = self.time_zone;
        let utc = match tz.from_local_datetime(&local).earliest() {
            Some(t) => t.naive_utc(),
            // In a gap (spring forward): use the offset in effect before it,
            // which lands the same distance past the gap.
            None => {
                let before = tz
                    .offset_from_utc_datetime(&(local - TimeDelta::hours(12)))
                    .fix()
                    .local_minus_utc();
                local - TimeDelta::seconds(i64::from(before))
            }
        };
        utc.and_utc().timestamp_nanos_opt().unwrap_or(i64::MAX)
    }
}

/// All downtimes, with add, list, remove and the questions the monitors ask.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Downtimes {
    /// The id the next downtime gets.
    next_id: DowntimeId,
    /// By id.
    downtimes: BTreeMap<DowntimeId, Downtime>,
}

impl Downtimes {
    /// Checks and adds a downtime, returning it with its id.
    pub fn add(&mut self, new: NewDowntime, now: i64) -> Result<&Downtime, DowntimeError> {
        if new.monitors.is_empty() {
            return Err(DowntimeError::NoMonitors);
        }
        if new.monitors.iter().any(|m| m.is_empty()) {
            return Err(DowntimeError::EmptyMonitorName);
        }
        new.schedule.validate()?;
        let next = self
            .downtimes
            .keys()
            .next_back()
            .map_or(1, |last| last + 1)
            .max(self.next_id)
            .max(1);
        self.next_id = next + 1;
        let downtime = Downtime {
            id: next,
            monitors: new.monitors,
            schedule: new.schedule,
            comment: new.comment,
            author: new.author,
            created: now,
        };
        Ok(self.downtimes.entry(next).or_insert(downtime))
    }

    /// Removes a downtime.
    pub fn remove(&mut self, id: DowntimeId) -> Option<Downtime> {
        self.downtimes.remove(&id)
    }

    /// One downtime.
    pub fn get(&self, id: DowntimeId) -> Option<&Downtime> {
        self.downtimes.get(&id)
    }

    /// All downtimes, by id.
    pub fn list(&self) -> impl Iterator<Item = &Downtime> {
        self.downtimes.values()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.downtimes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.downtimes.is_empty()
    }

    /// Whether `monitor` is in a downtime at `now`.
    pub fn active(&self, monitor: &str, now: i64) -> bool {
        self.active_for(monitor, now).next().is_some()
    }

    /// The downtimes `monitor` is in at `now`.
    pub fn active_for<'a>(
        &'a self,
        monitor: &'a str,
        now: i64,
    ) -> impl Iterator<Item = &'a Downtime> + 'a {
        self.downtimes
            .values()
            .filter(move |d| d.applies_to(monitor) && d.active_at(now))
    }

    /// The times `monitor` is in a downtime within `from..to`: sorted,
    /// merged where they overlap or touch, and clipped to the range.
    pub fn windows(&self, monitor: &str, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut all: Vec<(i64, i64)> = self
            .downtimes
            .values()
            .filter(|d| d.applies_to(monitor))
            .flat_map(|d| d.schedule.windows(from, to))
            .map(|(s, e)| (s.max(from), e.min(to)))
            .filter(|(s, e)| s < e)
            .collect();
        merge_windows(&mut all);
        all
    }

    /// Removes one-off downtimes that ended before `before` (keep them as long
    /// as the state history goes back, 91 days). Returns how many went.
    pub fn prune(&mut self, before: i64) -> usize {
        let n = self.downtimes.len();
        self.downtimes
            .retain(|_, d| d.schedule.last_end() >= before);
        n - self.downtimes.len()
    }
}

/// Sorts windows and merges those that overlap or touch.
pub fn merge_windows(windows: &mut Vec<(i64, i64)>) {
    windows.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(windows.len());
    for &(s, e) in windows.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *windows = merged;
}

#[cfg(test)]
mod tests;
