//! The per-monitor layout of earlier versions, read once and folded into a
//! snapshot: `<stem>.state.json`, `<stem>.intervals.json`,
//! `<stem>.series.json` per monitor (each `{"name": …, "data": …}`, the stem
//! from [`super::file_stem`]) and `downtimes.json`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::files::{file_stem, load_json};
use super::log::Snapshot;
use crate::downtime::Downtimes;
use crate::history::{IntervalsPart, SeriesPart};
use crate::state::MonitorState;

/// The downtimes file of the per-monitor layout.
pub(super) const DOWNTIMES_FILE: &str = "downtimes.json";

/// The parts a monitor had a file for.
pub(super) const KINDS: [&str; 3] = ["state", "intervals", "series"];

/// A monitor's file, with its name to detect collisions of stems.
#[derive(Deserialize)]
struct Named<T> {
    name: String,
    data: T,
}

/// Reads the files of the per-monitor layout into a snapshot. Damaged files
/// are set aside; a file whose stem is not that of the name it records is
/// skipped.
pub(super) fn read(dir: &Path, files: &[PathBuf]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    for path in files {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if file_name == DOWNTIMES_FILE {
            snapshot.downtimes =
                load_json::<Downtimes>(&dir.join(DOWNTIMES_FILE)).unwrap_or_default();
            continue;
        }
        let Some((stem, kind)) = file_name
            .strip_suffix(".json")
            .and_then(|s| s.rsplit_once('.'))
        else {
            continue;
        };
        match kind {
            "state" => {
                if let Some((name, state)) = load_named::<MonitorState>(path, stem) {
                    snapshot.monitors.entry(name).or_default().state = Some(state);
                }
            }
            "intervals" => {
                if let Some((name, part)) = load_named::<IntervalsPart>(path, stem) {
                    snapshot.monitors.entry(name).or_default().intervals = Some(part);
                }
            }
            "series" => {
                if let Some((name, part)) = load_named::<SeriesPart>(path, stem) {
                    snapshot.monitors.entry(name).or_default().series = Some(part);
                }
            }
            _ => {}
        }
    }
    snapshot
}

/// A monitor's file and the name it records, if its stem is that name's.
fn load_named<T: DeserializeOwned>(path: &Path, stem: &str) -> Option<(String, T)> {
    let file = load_json::<Named<T>>(path)?;
    if file_stem(&file.name) == stem {
        Some((file.name, file.data))
    } else {
        tracing::warn!(
            path = %path.display(), file_monitor = %file.name,
            "monitor state file belongs to another monitor; not loaded"
        );
        None
    }
}
