//! Forwarder health: what each forwarder reports every
//! [`REPORT_INTERVAL`], and the center's view of its forwarders (enrolled,
//! revoked, up or down) served at `GET /api/v1/forwarders`.
//!
//! A forwarder is `up` while its last report is younger than `down_after`
//! (`[uplink] down_after`, [`DOWN_AFTER`] by default); `down` after that.
//! Reports are kept in memory only: before its first report since the
//! center started a forwarder is `unknown`, and `down` once the center has
//! run for `down_after` without hearing from it. [`crate::liveness`] turns
//! these statuses into monitor states.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::UplinkError;
use crate::enroll::Enrolment;
use crate::groups::GroupConfigs;

/// How often a forwarder reports.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(10);
/// A forwarder silent this long is shown as down, unless `[uplink] down_after` says otherwise.
pub const DOWN_AFTER: Duration = Duration::from_secs(60);

/// One input of a forwarder in a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputHealth {
    /// Events received since the forwarder started.
    pub events: u64,
    /// Events per second over the last report interval.
    pub rate: f64,
    /// Events or datagrams lost on this input since the forwarder started
    /// (a full UDP receive buffer while the buffer blocks, oversize or
    /// malformed frames).
    #[serde(default)]
    pub drops: u64,
}

/// What a forwarder reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    /// Its version of Hark.
    pub version: String,
    /// SHA-256 (first 16 hex digits) of its configuration file.
    pub config_version: String,
    /// Version of its group's central configuration it runs; empty when none.
    #[serde(default)]
    pub group_config_version: String,
    /// Seconds since it started.
    pub uptime_seconds: u64,
    /// Events in its buffer not yet stored by the center.
    pub buffer_events: u64,
    /// Bytes of its buffer on disk.
    pub buffer_bytes: u64,
    /// The buffer's cap in bytes (`buffer_max`).
    #[serde(default)]
    pub buffer_max: u64,
    /// What happens when the buffer is full: `block` or `drop_oldest`.
    #[serde(default)]
    pub overflow: String,
    /// Age in seconds of the oldest event not yet stored by the center (0 when none).
    pub oldest_event_age_seconds: f64,
    /// Per input: events, rate and drops.
    pub inputs: BTreeMap<String, InputHealth>,
    /// Events dropped because the buffer was full (`overflow = "drop_oldest"`), since it started.
    pub dropped: u64,
    /// Events the center has stored since it started.
    pub delivered: u64,
    /// The last error sending to the center, if any.
    pub last_error: Option<String>,
}

/// What the center answers a health report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthAnswer {
    /// Version of the forwarder's group configuration on the center; empty when none.
    #[serde(default)]
    pub group_config_version: String,
}

/// A forwarder as the center shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwarderView {
    /// Its name.
    pub name: String,
    /// Its group.
    pub group: String,
    /// `up`, `down`, `unknown` or `revoked`.
    pub status: &'static str,
    /// When it enrolled (RFC 3339).
    pub enrolled: String,
    /// When it was revoked (RFC 3339).
    pub revoked: Option<String>,
    /// When its last report came (RFC 3339).
    pub last_seen: Option<String>,
    /// Version of its group's central configuration on the center; `None` when the group has none.
    pub group_config: Option<String>,
    /// Its last report.
    pub health: Option<HealthReport>,
}

/// The center's forwarders: the registry and their last reports.
#[derive(Clone)]
pub struct Fleet {
    enrolment: Arc<Enrolment>,
    group_configs: GroupConfigs,
    reports: Arc<Mutex<HashMap<String, (HealthReport, i64)>>>,
    /// Seconds of silence after which a forwarder is down.
    down_after: i64,
    /// When the center started (Unix seconds).
    started: i64,
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

impl Fleet {
    /// The forwarders of the center whose data directory is `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Fleet, UplinkError> {
        Ok(Fleet {
            enrolment: Arc::new(Enrolment::open(data_dir)?),
            group_configs: GroupConfigs::new(data_dir),
            reports: Arc::default(),
            down_after: DOWN_AFTER.as_secs() as i64,
            started: chrono::Utc::now().timestamp(),
        })
    }

    /// The same fleet, with forwarders silent for `down_after` shown as down.
    pub fn with_down_after(mut self, down_after: Duration) -> Fleet {
        self.down_after = down_after.as_secs() as i64;
        self
    }

    /// Seconds of silence after which a forwarder is down.
    pub fn down_after(&self) -> Duration {
        Duration::from_secs(self.down_after.max(0) as u64)
    }

    /// The registry.
    pub fn enrolment(&self) -> &Enrolment {
        &self.enrolment
    }

    /// The groups' central configurations.
    pub fn group_configs(&self) -> &GroupConfigs {
        &self.group_configs
    }

    /// Keeps the report of forwarder `name`, received now.
    pub fn record(&self, name: &str, report: HealthReport) {
        metrics::counter!("hark_forward_dropped_total", "forwarder" => name.to_owned())
            .absolute(report.dropped);
        metrics::gauge!("hark_forward_buffer_events", "forwarder" => name.to_owned())
            .set(report.buffer_events as f64);
        metrics::gauge!("hark_forward_oldest_event_age_seconds", "forwarder" => name.to_owned())
            .set(report.oldest_event_age_seconds);
        let now = chrono::Utc::now().timestamp();
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), (report, now));
    }

    /// Every enrolled forwarder with its status, by name.
    pub fn views(&self) -> Vec<ForwarderView> {
        let now = chrono::Utc::now().timestamp();
        let reports = self
            .reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut versions: HashMap<String, Option<String>> = HashMap::new();
        self.enrolment
            .forwarders()
            .into_iter()
            .map(|(name, f)| {
                let report = reports.get(&name);
                let status = match (f.revoked, report) {
                    (Some(_), _) => "revoked",
                    (None, None) if now - self.started > self.down_after => "down",
                    (None, None) => "unknown",
                    (None, Some((_, at))) if now - at > self.down_after => "down",
                    (None, Some(_)) => "up",
                };
                let group_config = versions
                    .entry(f.group.clone())
                    .or_insert_with(|| {
                        self.group_configs
                            .get(&f.group)
                            .ok()
                            .flatten()
                            .map(|d| d.version)
                    })
                    .clone();
                ForwarderView {
                    status,
                    group_config,
                    group: f.group,
                    enrolled: rfc3339(f.enrolled),
                    revoked: f.revoked.map(rfc3339),
                    last_seen: report.map(|(_, at)| rfc3339(*at)),
                    health: report.map(|(r, _)| r.clone()),
                    name,
                }
            })
            .collect()
    }
}
