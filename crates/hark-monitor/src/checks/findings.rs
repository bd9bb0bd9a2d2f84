//! Collects what a check found and turns it into one line of output.

use std::time::Duration;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::format;

/// Problems (with their status), notes and performance data of one run.
///
/// The output lists the problems, worst first, then the notes, all joined
/// with `; `: `body does not contain "ready"; HTTP 200 OK in 3.10 ms`.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    status: Option<Status>,
    problems: Vec<(Status, String)>,
    notes: Vec<String>,
    perf: Vec<Perf>,
}

impl Findings {
    pub(crate) fn new() -> Findings {
        Findings::default()
    }

    /// Something wrong, raising the status to at least `status`.
    pub(crate) fn problem(&mut self, status: Status, message: impl Into<String>) {
        self.raise(status);
        self.problems.push((status, message.into()));
    }

    /// Something worth saying that is not a problem.
    pub(crate) fn note(&mut self, message: impl Into<String>) {
        self.notes.push(message.into());
    }

    /// Adds performance data.
    pub(crate) fn perf(&mut self, perf: Perf) {
        self.perf.push(perf);
    }

    /// Raises the status without a message of its own.
    pub(crate) fn raise(&mut self, status: Status) {
        self.status = Some(self.status.unwrap_or(Status::Ok).worst(status));
    }

    /// The status so far.
    pub(crate) fn status(&self) -> Status {
        self.status.unwrap_or(Status::Ok)
    }

    /// Judges a measured time against optional warn/crit limits: a problem
    /// like `response time 1.20 s (crit at 1s)` when one is reached, and the
    /// perf value `label` with the limits.
    pub(crate) fn time_limits(
        &mut self,
        label: &str,
        what: &str,
        t: Duration,
        warn: Option<Duration>,
        crit: Option<Duration>,
    ) {
        if let Some(c) = crit
            && t >= c
        {
            self.problem(
                Status::Crit,
                format!(
                    "{what} {} (crit at {})",
                    format::elapsed(t),
                    format::limit(c)
                ),
            );
        } else if let Some(w) = warn
            && t >= w
        {
            self.problem(
                Status::Warn,
                format!(
                    "{what} {} (warn at {})",
                    format::elapsed(t),
                    format::limit(w)
                ),
            );
        }
        let mut p = Perf::seconds(label, t);
        p.warn = warn.map(|w| format::number(w.as_secs_f64()));
        p.crit = crit.map(|c| format::number(c.as_secs_f64()));
        self.perf.push(p);
    }

    /// The outcome (its `duration` is filled by the caller).
    pub(crate) fn finish(mut self) -> CheckOutcome {
        fn rank(s: Status) -> u8 {
            match s {
                Status::Crit => 0,
                Status::Unknown => 1,
                Status::Warn => 2,
                Status::Ok => 3,
            }
        }
        self.problems.sort_by_key(|(s, _)| rank(*s));
        let mut parts: Vec<String> = self.problems.into_iter().map(|(_, m)| m).collect();
        parts.extend(self.notes);
        CheckOutcome {
            status: self.status.unwrap_or(Status::Ok),
            output: parts.join("; "),
            perf: self.perf,
            duration: Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_problem_first_then_notes() {
        let mut f = Findings::new();
        f.note("HTTP 200 OK in 1 ms");
        f.problem(Status::Warn, "slow");
        f.problem(Status::Crit, "broken");
        let o = f.finish();
        assert_eq!(o.status, Status::Crit);
        assert_eq!(o.output, "broken; slow; HTTP 200 OK in 1 ms");
    }

    #[test]
    fn time_limits_pick_the_reached_one() {
        let mut f = Findings::new();
        f.time_limits(
            "time",
            "response time",
            Duration::from_millis(300),
            Some(Duration::from_millis(200)),
            Some(Duration::from_millis(500)),
        );
        let o = f.finish();
        assert_eq!(o.status, Status::Warn);
        assert_eq!(o.output, "response time 300 ms (warn at 200ms)");
        assert_eq!(o.perf[0].warn.as_deref(), Some("0.2"));
        assert_eq!(o.perf[0].crit.as_deref(), Some("0.5"));
        let mut f = Findings::new();
        f.time_limits("time", "t", Duration::from_millis(1), None, None);
        assert_eq!(f.finish().status, Status::Ok);
    }
}
