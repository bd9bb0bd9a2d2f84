//! What one run of a check found: a status, a line of output and
//! performance data.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The verdict of one check run, before states, attempts and parents are
/// considered. Host checks map OK and WARN to UP, CRIT and UNKNOWN to DOWN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Everything as expected.
    Ok,
    /// A warning threshold was crossed.
    Warn,
    /// A critical threshold was crossed, or the target failed.
    Crit,
    /// The check could not decide (bad answer, internal error).
    Unknown,
}

impl Status {
    /// `OK`, `WARN`, `CRIT` or `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Crit => "CRIT",
            Status::Unknown => "UNKNOWN",
        }
    }

    /// The worse of two statuses (CRIT > UNKNOWN > WARN > OK, as monitoring
    /// plugins combine them).
    pub fn worst(self, other: Status) -> Status {
        fn rank(s: Status) -> u8 {
            match s {
                Status::Ok => 0,
                Status::Warn => 1,
                Status::Unknown => 2,
                Status::Crit => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One performance value, like the `label=value[UOM];warn;crit` of a
/// monitoring plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Perf {
    /// Name, like `time`, `rtt`, `loss`, `cert_days`.
    pub label: String,
    /// The value, in `unit`.
    pub value: f64,
    /// Unit: `s`, `%`, `B`, `c` (counter) or empty.
    pub unit: String,
    /// Warning threshold as written, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    /// Critical threshold as written, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<String>,
}

impl Perf {
    /// A value with a unit and no thresholds.
    pub fn new(label: &str, value: f64, unit: &str) -> Perf {
        Perf {
            label: label.to_owned(),
            value,
            unit: unit.to_owned(),
            warn: None,
            crit: None,
        }
    }

    /// A duration in seconds.
    pub fn seconds(label: &str, d: Duration) -> Perf {
        Perf::new(label, d.as_secs_f64(), "s")
    }
}

/// The result of one check run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The verdict.
    pub status: Status,
    /// One line a person reads, like `HTTP 200 OK in 12 ms, certificate valid for 87 days`.
    pub output: String,
    /// Performance data.
    pub perf: Vec<Perf>,
    /// How long the check took.
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

impl CheckOutcome {
    /// An outcome with no performance data.
    pub fn new(status: Status, output: impl Into<String>) -> CheckOutcome {
        CheckOutcome {
            status,
            output: output.into(),
            perf: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    /// The response time the history keeps: the `time` or `rtt` value
    /// when the check reported one, else the check's own duration.
    pub fn response_time(&self) -> Duration {
        self.perf
            .iter()
            .find(|p| p.unit == "s" && matches!(p.label.as_str(), "time" | "rtt" | "rta"))
            .and_then(|p| Duration::try_from_secs_f64(p.value).ok())
            .unwrap_or(self.duration)
    }
}

mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(Duration::try_from_secs_f64(secs).unwrap_or_default())
    }
}
