//! What a monitor did over the last 91 days, kept small enough for thousands
//! of monitors checked many times a minute: not every result, but
//!
//! * **state intervals**: one entry per stretch of the same state and
//!   downtime flag (start, end or open, state, `in_downtime`), pruned when
//!   they ended more than 91 days ago (the status page draws 90 daily
//!   bars from them) and capped at [`MAX_INTERVALS`] (a monitor flapping
//!   every 10 s would otherwise keep 270 000 a month);
//! * **a downsampled response-time series**: count, min, avg and max per
//!   bucket, in three resolutions: 1 minute for 6 hours, 5 minutes for
//!   24 hours and 1 hour for 31 days (1 392 buckets of 24 bytes at most,
//!   about 33 KB per monitor).
//!
//! ```
//! use std::time::Duration;
//! use hark_monitor::history::History;
//! use hark_monitor::state::State;
//!
//! const MIN: i64 = 60_000_000_000;
//! let mut h = History::default();
//! h.record(0, State::Up, false, Duration::from_millis(12));
//! h.record(10 * MIN, State::Down, false, Duration::from_millis(900));
//! h.record(20 * MIN, State::Up, false, Duration::from_millis(15));
//! // Half of the last 20 minutes were DOWN.
//! assert_eq!(h.availability(20 * MIN, Duration::from_secs(1200), &[]), Some(50.0));
//! // The DOWN time was in a downtime: left out, the rest was all UP.
//! assert_eq!(h.availability(20 * MIN, Duration::from_secs(1200), &[(10 * MIN, 20 * MIN)]), Some(100.0));
//! assert_eq!(h.intervals(0, 30 * MIN).len(), 3);
//! assert_eq!(h.series(0, 30 * MIN).step_secs, 60);
//! ```
//!
//! Time the server was not running counts as the state before the gap.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::downtime::merge_windows;
use crate::serde_time::{rfc3339, rfc3339_opt};
use crate::state::State;

const NANOS_PER_MIN: i64 = 60_000_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;
const DAY: i64 = 86_400 * NANOS_PER_SEC;

/// How far back state intervals (and the one-off downtimes that explain
/// them) go: 90 whole days and the current one. The response-time series
/// keeps 31 days.
pub const RETENTION: Duration = Duration::from_secs(91 * 86_400);
/// The most state intervals one monitor keeps; the oldest go first.
pub const MAX_INTERVALS: usize = 20_000;

/// The resolutions of the response-time series: (bucket length, time kept),
/// in minutes, finest first.
const TIERS: [(u32, u32); 3] = [(1, 6 * 60), (5, 24 * 60), (60, 31 * 24 * 60)];

/// A stretch of time in one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// When the state began.
    #[serde(with = "rfc3339")]
    pub start: i64,
    /// When it ended; `None` while it lasts.
    #[serde(with = "rfc3339_opt")]
    pub end: Option<i64>,
    /// The state.
    pub state: State,
    /// The monitor was in a downtime.
    pub in_downtime: bool,
}

/// Response times of one bucket of the series, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The bucket's start.
    #[serde(with = "rfc3339")]
    pub start: i64,
    /// Results in the bucket.
    pub count: u32,
    /// Shortest response time.
    pub min: f64,
    /// Mean response time.
    pub avg: f64,
    /// Longest response time.
    pub max: f64,
}

/// A response-time series at one resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Bucket length in seconds (60, 300 or 3600).
    pub step_secs: u64,
    /// Buckets that hold results, oldest first.
    pub points: Vec<Point>,
}

/// Availability percentages; `None` where nothing was observed outside
/// downtimes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// The last 24 hours.
    pub last_24h: Option<f64>,
    /// The last 7 days.
    pub last_7d: Option<f64>,
    /// The last 30 days.
    pub last_30d: Option<f64>,
}

/// Response times of the results in one time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    /// Start, in minutes since the epoch.
    minute: u32,
    count: u32,
    min_us: u32,
    max_us: u32,
    sum_us: u64,
}

impl Bucket {
    fn new(minute: u32, us: u32) -> Bucket {
        Bucket {
            minute,
            count: 1,
            min_us: us,
            max_us: us,
            sum_us: u64::from(us),
        }
    }

    fn add(&mut self, us: u32) {
        self.count = self.count.saturating_add(1);
        self.min_us = self.min_us.min(us);
        self.max_us = self.max_us.max(us);
        self.sum_us = self.sum_us.saturating_add(u64::from(us));
    }

    fn start(&self) -> i64 {
        i64::from(self.minute) * NANOS_PER_MIN
    }

    fn point(&self) -> Point {
        let secs = |us: f64| us / 1e6;
        Point {
            start: self.start(),
            count: self.count,
            min: secs(f64::from(self.min_us)),
            avg: secs(self.sum_us as f64 / f64::from(self.count.max(1))),
            max: secs(f64::from(self.max_us)),
        }
    }
}

/// The state intervals and response-time series of one monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "HistoryFile", try_from = "HistoryFile")]
pub struct History {
    /// Oldest first; only the last may be open.
    intervals: VecDeque<Interval>,
    /// One series per entry of `TIERS`, oldest bucket first.
    tiers: [VecDeque<Bucket>; 3],
    /// The latest `record` time.
    last_record: Option<i64>,
}

impl History {
    /// Takes one result into account: the monitor's state after it (as
    /// [`crate::state::MonitorState::state`]), whether it is in a downtime,
    /// and the response time ([`crate::CheckOutcome::response_time`]).
    /// Returns whether a new state interval began.
    pub fn record(
        &mut self,
        now: i64,
        state: State,
        in_downtime: bool,
        response_time: Duration,
    ) -> bool {
        let new_interval = self.record_state(now, state, in_downtime);
        let us = u32::try_from(response_time.as_micros()).unwrap_or(u32::MAX);
        let minute = u32::try_from(now.div_euclid(NANOS_PER_MIN).max(0)).unwrap_or(u32::MAX);
        for (series, &(step, keep)) in self.tiers.iter_mut().zip(TIERS.iter()) {
            add_to_series(series, minute - minute % step, keep, us);
        }
        self.last_record = Some(self.last_record.map_or(now, |t| t.max(now)));
        new_interval
    }

    fn record_state(&mut self, now: i64, state: State, in_downtime: bool) -> bool {
        match self.intervals.back_mut() {
            Some(open) if open.state == state && open.in_downtime == in_downtime => return false,
            Some(open) => {
                let at = now.max(open.start);
                open.end = Some(at);
                self.intervals.push_back(Interval {
                    start: at,
                    end: None,
                    state,
                    in_downtime,
                });
            }
            None => self.intervals.push_back(Interval {
                start: now,
                end: None,
                state,
                in_downtime,
            }),
        }
        let oldest = now.saturating_sub(duration_nanos(RETENTION));
        while let Some(first) = self.intervals.front()
            && (first.end.is_some_and(|e| e < oldest) || self.intervals.len() > MAX_INTERVALS)
        {
            self.intervals.pop_front();
        }
        true
    }

    /// The state intervals overlapping `from..to`, oldest first, unclipped
    /// (the first may start before `from`; the last may be open).
    pub fn intervals(&self, from: i64, to: i64) -> Vec<Interval> {
        self.intervals
            .iter()
            .filter(|i| i.start < to && i.end.is_none_or(|e| e > from))
            .cloned()
            .collect()
    }

    /// The response-time series over `from..to`, in the finest resolution
    /// that still covers `from` (1 minute for the last 6 hours, 5 minutes
    /// for the last 24 hours, else 1 hour).
    pub fn series(&self, from: i64, to: i64) -> Series {
        let latest = self.last_record.unwrap_or(from);
        let tier = TIERS
            .iter()
            .position(|&(_, keep)| from >= latest.saturating_sub(i64::from(keep) * NANOS_PER_MIN))
            .unwrap_or(TIERS.len() - 1);
        let step = i64::from(TIERS[tier].0) * NANOS_PER_MIN;
        Series {
            step_secs: u64::from(TIERS[tier].0) * 60,
            points: self.tiers[tier]
                .iter()
                .filter(|b| b.start() < to && b.start().saturating_add(step) > from)
                .map(Bucket::point)
                .collect(),
        }
    }

    /// The percentage of the `window` before `now` spent in OK, UP or WARN,
    /// out of the time with a known state (not PENDING, not before the first
    /// result) outside downtimes: both the `downtimes` windows given (from
    /// [`crate::downtime::Downtimes::windows`]) and intervals recorded as in
    /// a downtime are left out. `None` when no time is left.
    pub fn availability(
        &self,
        now: i64,
        window: Duration,
        downtimes: &[(i64, i64)],
    ) -> Option<f64> {
        let from = now.saturating_sub(duration_nanos(window));
        let mut excluded = downtimes.to_vec();
        merge_windows(&mut excluded);
        let (mut available, mut total) = (0i128, 0i128);
        for i in &self.intervals {
            if i.state == State::Pending || i.in_downtime {
                continue;
            }
            let (s, e) = (i.start.max(from), i.end.unwrap_or(now).min(now));
            if e <= s {
                continue;
            }
            let counted = i128::from(e - s) - overlap(s, e, &excluded);
            total += counted;
            if i.state.is_available() {
                available += counted;
            }
        }
        (total > 0).then(|| 100.0 * available as f64 / total as f64)
    }

    /// Availability over the last 24 hours, 7 days and 30 days.
    pub fn availability_summary(&self, now: i64, downtimes: &[(i64, i64)]) -> Availability {
        let days = |n: u64| Duration::from_secs(n * 86_400);
        Availability {
            last_24h: self.availability(now, days(1), downtimes),
            last_7d: self.availability(now, days(7), downtimes),
            last_30d: self.availability(now, days(30), downtimes),
        }
    }

    /// The start of the window [`History::availability_summary`] looks at:
    /// ask for downtime windows from here.
    pub fn availability_from(now: i64) -> i64 {
        now.saturating_sub(30 * DAY)
    }

    /// When the latest result was recorded.
    pub fn last_record(&self) -> Option<i64> {
        self.last_record
    }
}

fn duration_nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// How much of `s..e` the sorted, merged `windows` cover.
fn overlap(s: i64, e: i64, windows: &[(i64, i64)]) -> i128 {
    windows
        .iter()
        .map(|&(ws, we)| i128::from((we.min(e) - ws.max(s)).max(0)))
        .sum()
}

fn add_to_series(series: &mut VecDeque<Bucket>, slot: u32, keep: u32, us: u32) {
    match series.back_mut() {
        Some(b) if b.minute == slot => b.add(us),
        Some(b) if b.minute > slot => {
            // A result older than the newest bucket (a slow check finishing
            // late): put it where it belongs.
            let at = series.partition_point(|b| b.minute < slot);
            match series.get_mut(at) {
                Some(b) if b.minute == slot => b.add(us),
                _ => series.insert(at, Bucket::new(slot, us)),
            }
        }
        _ => series.push_back(Bucket::new(slot, us)),
    }
    let newest = series.back().map_or(slot, |b| b.minute);
    while series
        .front()
        .is_some_and(|b| b.minute.saturating_add(keep) <= newest)
    {
        series.pop_front();
    }
}

/// The compact form of [`History`] in files: the state intervals part and
/// the series part, which the store writes to separate files at different
/// rates.
#[derive(Serialize, Deserialize)]
struct HistoryFile {
    #[serde(flatten)]
    intervals: IntervalsPart,
    #[serde(flatten)]
    series: SeriesPart,
}

/// The state intervals as `[start, end, state, in_downtime]` tuples.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct IntervalsPart {
    #[serde(default)]
    intervals: Vec<(i64, Option<i64>, State, bool)>,
}

/// The response-time series, one column set per resolution, with the bucket
/// minutes delta-encoded.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SeriesPart {
    #[serde(default)]
    last_record: Option<i64>,
    #[serde(default)]
    series: Vec<SeriesColumns>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SeriesColumns {
    step_minutes: u32,
    minute_deltas: Vec<u32>,
    count: Vec<u32>,
    min_us: Vec<u32>,
    max_us: Vec<u32>,
    sum_us: Vec<u64>,
}

impl History {
    /// The state intervals in their file form.
    pub(crate) fn intervals_part(&self) -> IntervalsPart {
        IntervalsPart {
            intervals: self
                .intervals
                .iter()
                .map(|i| (i.start, i.end, i.state, i.in_downtime))
                .collect(),
        }
    }

    /// The series in their file form.
    pub(crate) fn series_part(&self) -> SeriesPart {
        let series = self
            .tiers
            .iter()
            .zip(TIERS.iter())
            .map(|(buckets, &(step, _))| {
                let mut previous = 0;
                SeriesColumns {
                    step_minutes: step,
                    minute_deltas: buckets
                        .iter()
                        .map(|b| {
                            let d = b.minute - previous;
                            previous = b.minute;
                            d
                        })
                        .collect(),
                    count: buckets.iter().map(|b| b.count).collect(),
                    min_us: buckets.iter().map(|b| b.min_us).collect(),
                    max_us: buckets.iter().map(|b| b.max_us).collect(),
                    sum_us: buckets.iter().map(|b| b.sum_us).collect(),
                }
            })
            .collect();
        SeriesPart {
            last_record: self.last_record,
            series,
        }
    }

    /// Replaces the state intervals with those of a file, checking them.
    pub(crate) fn set_intervals_part(&mut self, part: IntervalsPart) -> Result<(), String> {
        let mut intervals = VecDeque::with_capacity(part.intervals.len());
        let mut previous_end = i64::MIN;
        for (start, end, state, in_downtime) in part.intervals {
            if start < previous_end || end.is_some_and(|e| e < start) {
                return Err("state intervals out of order".into());
            }
            previous_end = end.unwrap_or(i64::MAX);
            intervals.push_back(Interval {
                start,
                end,
                state,
                in_downtime,
            });
        }
        self.intervals = intervals;
        Ok(())
    }

    /// Replaces the series with those of a file, checking them. A
    /// resolution this version does not keep is dropped.
    pub(crate) fn set_series_part(&mut self, part: SeriesPart) -> Result<(), String> {
        let mut tiers: [VecDeque<Bucket>; 3] = Default::default();
        for s in part.series {
            let n = s.minute_deltas.len();
            if [
                s.count.len(),
                s.min_us.len(),
                s.max_us.len(),
                s.sum_us.len(),
            ] != [n; 4]
            {
                return Err(format!(
                    "series of {} minutes: columns of different lengths",
                    s.step_minutes
                ));
            }
            let Some(tier) = TIERS.iter().position(|&(step, _)| step == s.step_minutes) else {
                continue;
            };
            let mut minute = 0u32;
            for i in 0..n {
                if i > 0 && s.minute_deltas[i] == 0 {
                    return Err("series buckets out of order".into());
                }
                minute = minute
                    .checked_add(s.minute_deltas[i])
                    .ok_or("series minutes overflow")?;
                tiers[tier].push_back(Bucket {
                    minute,
                    count: s.count[i],
                    min_us: s.min_us[i],
                    max_us: s.max_us[i],
                    sum_us: s.sum_us[i],
                });
            }
        }
        self.tiers = tiers;
        self.last_record = part.last_record;
        Ok(())
    }
}

impl From<History> for HistoryFile {
    fn from(h: History) -> HistoryFile {
        HistoryFile {
            intervals: h.intervals_part(),
            series: h.series_part(),
        }
    }
}

impl TryFrom<HistoryFile> for History {
    type Error = String;

    fn try_from(f: HistoryFile) -> Result<History, String> {
        let mut h = History::default();
        h.set_intervals_part(f.intervals)?;
        h.set_series_part(f.series)?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests;
