//! Flap detection the way Icinga and Nagios do it: of the last 20 results,
//! which ones changed the state compared with the result before, weighted
//! from 0.8 (oldest) to 1.2 (newest) so recent changes count more.
//!
//! The flap percentage is the weighted number of changes over the 20
//! possible ones. A monitor starts flapping when the percentage reaches the
//! start threshold (`[monitoring] flap_start`, 30 % by default) and stops
//! when it falls below the stop threshold (`flap_stop`, 25 %). The gap
//! between the two keeps a monitor near the threshold from toggling.
//!
//! Until 20 results have been seen the missing ones count as "no change", so
//! a new monitor cannot flap after a handful of results.

use serde::{Deserialize, Serialize};

/// How many results the detector looks back over.
pub const FLAP_WINDOW: u32 = 20;

const WINDOW_MASK: u32 = (1 << FLAP_WINDOW) - 1;
const OLDEST_WEIGHT: f64 = 0.8;
const NEWEST_WEIGHT: f64 = 1.2;

/// The flap state of one monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Flapping {
    /// One bit per recent result, the newest in bit 0: set when that result's
    /// state differed from the previous result's. Only the low 20 bits are used.
    pub changes: u32,
    /// The weighted change percentage after the newest result (0 to 100).
    pub percent: f64,
    /// Whether the monitor is flapping.
    pub flapping: bool,
}

/// What one result did to the flap state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlapTransition {
    /// Flapping neither started nor stopped.
    None,
    /// The percentage reached the start threshold.
    Started,
    /// The percentage fell below the stop threshold.
    Stopped,
}

impl Flapping {
    /// Takes one result into account: `changed` says whether its state
    /// differs from the previous result's. Flapping starts at `start` percent
    /// or more and stops below `stop` percent.
    pub fn record(&mut self, changed: bool, start: f64, stop: f64) -> FlapTransition {
        self.changes = ((self.changes << 1) | u32::from(changed)) & WINDOW_MASK;
        self.percent = change_percent(self.changes);
        if !self.flapping && self.percent >= start {
            self.flapping = true;
            FlapTransition::Started
        } else if self.flapping && self.percent < stop {
            self.flapping = false;
            FlapTransition::Stopped
        } else {
            FlapTransition::None
        }
    }
}

/// The weight of a change `age` results old (0 = the newest result).
fn weight(age: u32) -> f64 {
    let span = f64::from(FLAP_WINDOW - 1);
    NEWEST_WEIGHT - (NEWEST_WEIGHT - OLDEST_WEIGHT) * f64::from(age) / span
}

/// The weighted percentage of possible changes present in `changes`.
pub fn change_percent(changes: u32) -> f64 {
    // A fold from +0.0: `sum` of no floats is -0.0, which would show as
    // `-0.0` in the API for a monitor that never changed.
    let weighted = (0..FLAP_WINDOW)
        .filter(|age| changes & (1 << age) != 0)
        .map(weight)
        .fold(0.0, |acc, w| acc + w);
    100.0 * weighted / f64::from(FLAP_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn weights_run_from_oldest_to_newest() {
        assert!(close(weight(0), 1.2));
        assert!(close(weight(19), 0.8));
        let total: f64 = (0..FLAP_WINDOW).map(weight).sum();
        assert!(close(total, 20.0), "all weights sum to the window: {total}");
        assert!(close(change_percent(WINDOW_MASK), 100.0));
        assert!(close(change_percent(0), 0.0));
        assert!(
            change_percent(0).is_sign_positive(),
            "no changes is +0 %, not -0 %"
        );
        // One change as the newest result counts 1.2 of 20 = 6 %.
        assert!(close(change_percent(1), 6.0));
        // The same change 19 results ago counts 0.8 of 20 = 4 %.
        assert!(close(change_percent(1 << 19), 4.0));
    }

    #[test]
    fn starts_at_threshold_and_stops_below_the_lower_one() {
        let mut f = Flapping::default();
        // Changes at the 5 newest positions: 5*0.8 + 0.4/19*(15+16+17+18+19) ≈ 5.789 → 28.9 %.
        for _ in 0..5 {
            assert_eq!(f.record(true, 30.0, 25.0), FlapTransition::None);
        }
        assert!(close(f.percent, 100.0 * (4.0 + 0.4 * 85.0 / 19.0) / 20.0));
        assert!(!f.flapping);
        // The sixth change: ≈ 34.4 % ≥ 30 %.
        assert_eq!(f.record(true, 30.0, 25.0), FlapTransition::Started);
        assert!(f.flapping);
        // Steady results age the changes: after one steady result the six
        // changes sit at ages 1..=6: 6*1.2 - 0.4/19*21 = 6.758 → 33.8 %, still
        // flapping; each further steady result lowers it by 6 * 0.4/19.
        let mut steady = 0;
        loop {
            steady += 1;
            let t = f.record(false, 30.0, 25.0);
            if t == FlapTransition::Stopped {
                break;
            }
            assert_eq!(t, FlapTransition::None);
            assert!(steady < FLAP_WINDOW, "flapping never stopped");
        }
        // After k steady results ages k..=k+5 hold the changes; the sum is
        // 7.2 - 0.4/19*(6k+15), below 5 (25 %) first when 6k+15 > 104.5: k = 15.
        assert_eq!(steady, 15);
        assert!(f.percent < 25.0);
        assert!(!f.flapping);
    }

    #[test]
    fn only_the_window_counts() {
        let mut f = Flapping::default();
        for _ in 0..100 {
            f.record(true, 30.0, 25.0);
        }
        assert_eq!(f.changes, WINDOW_MASK);
        for _ in 0..FLAP_WINDOW {
            f.record(false, 30.0, 25.0);
        }
        assert_eq!(f.changes, 0);
        assert!(close(f.percent, 0.0));
    }
}
