//! Forwarders as monitor states: each enrolled forwarder is watched like a
//! host, `UP` while it reports and `DOWN` once it has been silent for
//! `down_after`. A change is handed to the caller, which writes it as a
//! monitor state-change event (`forwarder/NAME`), so alert rules of
//! `type = "monitor"` fire on it and searches show it.
//!
//! The last state of each forwarder is kept in
//! `DATA_DIR/uplink/liveness.json`: a center restart neither repeats a
//! change nor misses the recovery of a forwarder that was down before.
//! A revoked forwarder is no longer watched.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hark_auth::jsonfile::JsonFile;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::UplinkError;
use crate::enroll::UPLINK_DIR;
use crate::fleet::{Fleet, ForwarderView};

/// How often the statuses are looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);
/// The prefix of a forwarder's monitor name.
pub const MONITOR_PREFIX: &str = "forwarder/";

/// A watched forwarder's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Liveness {
    /// It reports.
    Up,
    /// It has been silent for `down_after`.
    Down,
}

/// A forwarder's state changed.
#[derive(Debug, Clone, PartialEq)]
pub struct LivenessChange {
    /// The forwarder.
    pub forwarder: String,
    /// Its monitor name, `forwarder/NAME`.
    pub monitor: String,
    /// The new state.
    pub state: Liveness,
    /// The state before; `None` for a forwarder seen for the first time.
    pub previous: Option<Liveness>,
    /// What explains it, for the event and the alert.
    pub output: String,
}

/// The last states, persisted.
pub struct Watch {
    states: JsonFile<BTreeMap<String, Liveness>>,
}

impl Watch {
    /// The states kept in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Watch, UplinkError> {
        let path = data_dir.join(UPLINK_DIR).join("liveness.json");
        Ok(Watch {
            states: JsonFile::open(path, "forwarder liveness")?,
        })
    }

    /// The changes since the last call, given the forwarders' `views`; the
    /// new states are written before they are returned. `down_after` goes
    /// into the explanations.
    pub fn changes(
        &self,
        views: &[ForwarderView],
        down_after: Duration,
    ) -> Result<Vec<LivenessChange>, UplinkError> {
        let unchanged = {
            let kept = self.states.current()?;
            next_states(&kept.value, views) == kept.value
        };
        if unchanged {
            return Ok(Vec::new());
        }
        self.states.update(|states| {
            let next = next_states(states, views);
            let changes = views
                .iter()
                .filter_map(|view| {
                    let state = *next.get(&view.name)?;
                    let previous = states.get(&view.name).copied();
                    (previous != Some(state)).then(|| LivenessChange {
                        forwarder: view.name.clone(),
                        monitor: format!("{MONITOR_PREFIX}{}", view.name),
                        state,
                        previous,
                        output: explain(view, state, down_after),
                    })
                })
                .collect();
            *states = next;
            Ok::<_, UplinkError>(changes)
        })
    }
}

/// The states after `views`: revoked and forgotten forwarders leave, `up`
/// and `down` are taken, `unknown` keeps what was.
fn next_states(
    kept: &BTreeMap<String, Liveness>,
    views: &[ForwarderView],
) -> BTreeMap<String, Liveness> {
    views
        .iter()
        .filter_map(|view| {
            let state = match view.status {
                "up" => Liveness::Up,
                "down" => Liveness::Down,
                "revoked" => return None,
                _ => *kept.get(&view.name)?,
            };
            Some((view.name.clone(), state))
        })
        .collect()
}

fn explain(view: &ForwarderView, state: Liveness, down_after: Duration) -> String {
    match (state, &view.last_seen) {
        (Liveness::Down, Some(at)) => format!(
            "no health report for over {}s; the last came at {at}",
            down_after.as_secs()
        ),
        (Liveness::Down, None) => format!(
            "no health report in the {}s since the center started",
            down_after.as_secs()
        ),
        (Liveness::Up, _) => match &view.health {
            Some(h) => format!(
                "reporting; {} events buffered, the oldest {:.0}s old",
                h.buffer_events, h.oldest_event_age_seconds
            ),
            None => "reporting".to_owned(),
        },
    }
}

/// Looks at the fleet every [`WATCH_INTERVAL`] until `shutdown` and hands
/// each change to `on_change`; also sets `hark_forwarder_up` per forwarder.
/// When the states cannot be written, no change is handed on (it will be
/// once they can) and the error is logged once until then.
pub async fn watch(
    fleet: Fleet,
    watch: Watch,
    on_change: impl Fn(LivenessChange) + Send + 'static,
    shutdown: CancellationToken,
) {
    let watch = Arc::new(watch);
    let mut failing = false;
    let mut tick = tokio::time::interval(WATCH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (fleet, watch) = (fleet.clone(), watch.clone());
        let looked = tokio::task::spawn_blocking(move || {
            let views = fleet.views();
            let changes = watch.changes(&views, fleet.down_after());
            (views, changes)
        })
        .await;
        let Ok((views, changes)) = looked else {
            continue;
        };
        for view in &views {
            let up = match view.status {
                "up" => 1.0,
                "down" => 0.0,
                _ => continue,
            };
            metrics::gauge!("hark_forwarder_up", "forwarder" => view.name.clone()).set(up);
        }
        match changes {
            Ok(changes) => {
                failing = false;
                for change in changes {
                    tracing::info!(forwarder = %change.forwarder, state = ?change.state, "{}", change.output);
                    on_change(change);
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::error!(error = %e, "cannot keep the forwarders' states; their changes wait");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, status: &'static str) -> ForwarderView {
        ForwarderView {
            name: name.to_owned(),
            group: "dmz".to_owned(),
            status,
            enrolled: "2026-12-05T00:00:00Z".to_owned(),
            revoked: None,
            last_seen: Some("2026-12-05T00:01:00Z".to_owned()),
            group_config: None,
            health: None,
        }
    }

    fn states(changes: &[LivenessChange]) -> Vec<(&str, Liveness, Option<Liveness>)> {
        changes
            .iter()
            .map(|c| (c.forwarder.as_str(), c.state, c.previous))
            .collect()
    }

    #[test]
    fn a_change_is_told_once_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let after = Duration::from_secs(60);
        let watch = Watch::open(dir.path()).unwrap();
        let first = watch
            .changes(&[view("a", "up"), view("b", "unknown")], after)
            .unwrap();
        assert_eq!(states(&first), [("a", Liveness::Up, None)]);
        assert_eq!(first[0].monitor, "forwarder/a");
        assert!(watch.changes(&[view("a", "up")], after).unwrap().is_empty());
        let down = watch.changes(&[view("a", "down")], after).unwrap();
        assert_eq!(states(&down), [("a", Liveness::Down, Some(Liveness::Up))]);
        assert!(down[0].output.contains("over 60s"), "{}", down[0].output);

        // After a restart the kept state stands while the status is unknown,
        // and the recovery is told.
        let watch = Watch::open(dir.path()).unwrap();
        assert!(
            watch
                .changes(&[view("a", "unknown")], after)
                .unwrap()
                .is_empty()
        );
        let up = watch.changes(&[view("a", "up")], after).unwrap();
        assert_eq!(states(&up), [("a", Liveness::Up, Some(Liveness::Down))]);
    }

    #[test]
    fn a_revoked_forwarder_is_no_longer_watched() {
        let dir = tempfile::tempdir().unwrap();
        let after = Duration::from_secs(60);
        let watch = Watch::open(dir.path()).unwrap();
        watch.changes(&[view("a", "down")], after).unwrap();
        assert!(
            watch
                .changes(&[view("a", "revoked")], after)
                .unwrap()
                .is_empty()
        );
        let kept = std::fs::read_to_string(dir.path().join("uplink/liveness.json")).unwrap();
        assert!(!kept.contains("\"a\""), "{kept}");
    }
}
