//! Joining lines into multi-line events, without I/O or clock.
//!
//! Rules (Filebeat's `negate: true, match: after`, Vector's `halt_before`):
//! - a line matching `start` begins a new event; the event before it is
//!   complete;
//! - any other line continues the pending event, joined with `\n`; with no
//!   pending event (the file begins with a continuation) it begins one;
//! - a pending event that received no line for `timeout` is complete (the
//!   caller passes the time, so tests decide it);
//! - a joined event longer than the limit keeps its first bytes and is
//!   flagged `truncated`; the lines after the limit are dropped.

use std::time::{Duration, Instant};

use super::record::Record;

/// Joins the records of one file into multi-line events.
#[derive(Debug)]
pub(crate) struct Joiner {
    start: regex::Regex,
    timeout: Duration,
    /// Longest joined message, in bytes.
    max: usize,
    /// The event being gathered and when its last line came.
    pending: Option<(Record, Instant)>,
}

impl Joiner {
    /// A joiner starting events at lines that match `start`.
    pub fn new(start: regex::Regex, timeout: Duration, max: usize) -> Joiner {
        Joiner {
            start,
            timeout,
            max,
            pending: None,
        }
    }

    /// Takes the next line (received at `now`); returns the event it completed, if any.
    pub fn push(&mut self, line: Record, now: Instant) -> Option<Record> {
        if self.start.is_match(&line.text) {
            return self.pending.replace((line, now)).map(|(r, _)| r);
        }
        match &mut self.pending {
            Some((event, at)) => {
                *at = now;
                event.end = line.end;
                event.truncated |= line.truncated;
                if event.text.len() + 1 + line.text.len() > self.max {
                    event.truncated = true;
                    let room = self.max.saturating_sub(event.text.len() + 1);
                    if room > 0 {
                        event.text.push('\n');
                        event.text.push_str(floor_char(&line.text, room));
                    }
                } else {
                    event.text.push('\n');
                    event.text.push_str(&line.text);
                }
                match (&mut event.raw, line.raw) {
                    (Some(raw), Some(more)) => {
                        raw.push(b'\n');
                        raw.extend_from_slice(&more);
                    }
                    (raw @ None, Some(more)) => *raw = Some(more),
                    (_, None) => {}
                }
                None
            }
            None => {
                self.pending = Some((line, now));
                None
            }
        }
    }

    /// The pending event, when no line came for the timeout by `now`.
    pub fn due(&mut self, now: Instant) -> Option<Record> {
        match &self.pending {
            Some((_, at)) if now.saturating_duration_since(*at) >= self.timeout => {
                self.pending.take().map(|(r, _)| r)
            }
            _ => None,
        }
    }

    /// The pending event, complete or not (the file ends here).
    pub fn take(&mut self) -> Option<Record> {
        self.pending.take().map(|(r, _)| r)
    }

    /// The file offset of the pending event's first line.
    #[cfg(test)]
    pub fn pending_at(&self) -> Option<u64> {
        self.pending.as_ref().map(|(r, _)| r.offset)
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn floor_char(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: u64, text: &str) -> Record {
        Record {
            offset,
            end: offset + text.len() as u64 + 1,
            text: text.to_owned(),
            raw: None,
            truncated: false,
        }
    }

    fn joiner() -> Joiner {
        Joiner::new(
            regex::Regex::new(r"^\d{4}-").unwrap(),
            Duration::from_secs(1),
            4096,
        )
    }

    #[test]
    fn a_java_stack_trace_becomes_one_event() {
        let t0 = Instant::now();
        let mut j = joiner();
        let lines = [
            "2026-12-05 10:00:00 ERROR request failed",
            "java.lang.IllegalStateException: boom",
            "\tat com.example.Service.run(Service.java:42)",
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
            "2026-12-05 10:00:01 INFO next",
        ];
        let mut out = Vec::new();
        let mut at = 0;
        for l in lines {
            out.extend(j.push(rec(at, l), t0));
            at += l.len() as u64 + 1;
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, lines[..4].join("\n"));
        assert_eq!(out[0].offset, 0);
        let fifth = at - lines[4].len() as u64 - 1;
        assert_eq!(out[0].end, fifth);
        assert_eq!(j.pending_at(), Some(fifth));
    }

    #[test]
    fn a_pending_event_is_complete_after_the_timeout() {
        let t0 = Instant::now();
        let mut j = joiner();
        assert!(j.push(rec(0, "2026-12-05 start"), t0).is_none());
        assert!(
            j.push(rec(17, "  more"), t0 + Duration::from_millis(800))
                .is_none()
        );
        // The timeout counts from the last line.
        assert!(j.due(t0 + Duration::from_millis(1500)).is_none());
        assert!(j.due(t0 + Duration::from_millis(1799)).is_none());
        let done = j.due(t0 + Duration::from_millis(1800)).expect("due");
        assert_eq!(done.text, "2026-12-05 start\n  more");
        assert!(j.take().is_none());
    }

    #[test]
    fn a_leading_continuation_begins_an_event_and_the_limit_truncates() {
        let mut j = Joiner::new(regex::Regex::new("^S").unwrap(), Duration::from_secs(1), 10);
        let t0 = Instant::now();
        assert!(j.push(rec(0, "cont"), t0).is_none());
        assert!(j.push(rec(5, "é-long-line"), t0).is_none());
        let e = j.take().expect("pending");
        assert!(e.truncated);
        assert!(e.text.len() <= 10, "{:?}", e.text);
        assert!(e.text.starts_with("cont\n"));
    }
}
