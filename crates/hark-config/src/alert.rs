//! `[alerts.NAME]`: rules that turn events and monitor states into alerts.
//!
//! Every rule has a `type` and the common keys of [`AlertKeys`] (`notify`,
//! `severity`, `repeat`); the other keys are those of the type's struct:
//! [`LogRule`] for `type = "log"`, [`MonitorRule`] for `type = "monitor"`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::table::{self, Located, Node, Spans, fields_of, first_key, split_off, take_type};
use crate::units::{duration, duration_opt};

/// One alert rule. It serializes to the keys it is written with, so a
/// rule read from the configuration can be shown and sent back through the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertConfig {
    /// The `[notify.*]` channels told when it fires and resolves.
    pub notify: Vec<String>,
    /// How serious its alerts are; a monitor rule without one takes the
    /// monitor's state (CRIT and DOWN critical, else warning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<AlertSeverity>,
    /// A reminder while it keeps firing, this often; none by default.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "human_duration_opt"
    )]
    pub repeat: Option<Duration>,
    /// What it watches.
    #[serde(flatten)]
    pub rule: AlertRule,
}

/// What a rule watches, one struct per `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AlertRule {
    /// Events that match a query, counted in a sliding window per group.
    Log(LogRule),
    /// Hard state changes of monitors.
    Monitor(MonitorRule),
}

fn human_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
}

fn human_duration_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => human_duration(d, s),
        None => s.serialize_none(),
    }
}

impl AlertRule {
    /// The `type` it is written with.
    pub fn type_name(&self) -> &'static str {
        match self {
            AlertRule::Log(_) => "log",
            AlertRule::Monitor(_) => "monitor",
        }
    }
}

/// The keys every rule takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertKeys {
    #[serde(default)]
    notify: Vec<String>,
    #[serde(default)]
    severity: Option<AlertSeverity>,
    #[serde(default, deserialize_with = "duration_opt")]
    repeat: Option<Duration>,
}

/// `type = "log"`: events matching `query`, per `group_by` values, within `window`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogRule {
    /// The search query that selects the events (search syntax).
    pub query: String,
    /// Fields whose values make one alert each (`host`, `app`, any field).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// The sliding window the condition is counted over.
    #[serde(
        default = "default_window",
        deserialize_with = "duration",
        serialize_with = "human_duration"
    )]
    pub window: Duration,
    /// When the rule fires: `count > N`, `count < N`, `distinct(FIELD) > N`.
    pub condition: Condition,
}

fn default_window() -> Duration {
    Duration::from_secs(300)
}

/// `type = "monitor"`: hard state changes of the named monitors.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorRule {
    /// Monitor names or globs (`*`, `?`, `[a-z]`).
    #[serde(default = "default_monitors")]
    pub monitors: Vec<String>,
    /// Hard states that fire; the change back to OK or UP resolves.
    #[serde(default = "default_states")]
    pub states: Vec<ProblemState>,
}

fn default_monitors() -> Vec<String> {
    vec!["*".to_owned()]
}

fn default_states() -> Vec<ProblemState> {
    vec![ProblemState::Warn, ProblemState::Crit, ProblemState::Down]
}

/// A monitor state a rule can fire on (UNREACHABLE never notifies: the
/// failing parent does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum ProblemState {
    /// A warning threshold crossed.
    #[serde(rename = "WARN")]
    Warn,
    /// A critical threshold crossed or the target failed.
    #[serde(rename = "CRIT")]
    Crit,
    /// The check could not decide.
    #[serde(rename = "UNKNOWN")]
    Unknown,
    /// A host that does not answer.
    #[serde(rename = "DOWN")]
    Down,
}

impl ProblemState {
    /// The state's name as monitors write it: `WARN`, `CRIT`, `UNKNOWN`, `DOWN`.
    pub fn name(self) -> &'static str {
        match self {
            ProblemState::Warn => "WARN",
            ProblemState::Crit => "CRIT",
            ProblemState::Unknown => "UNKNOWN",
            ProblemState::Down => "DOWN",
        }
    }
}

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// Wake someone up.
    Critical,
    /// Look at it today.
    Warning,
    /// For the record.
    Info,
}

impl AlertSeverity {
    /// `critical`, `warning` or `info`.
    pub fn name(self) -> &'static str {
        match self {
            AlertSeverity::Critical => "critical",
            AlertSeverity::Warning => "warning",
            AlertSeverity::Info => "info",
        }
    }
}

/// A log rule's condition over its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// What is counted.
    pub measure: Measure,
    /// How it is compared.
    pub op: Comparison,
    /// With what.
    pub threshold: u64,
}

/// What a condition counts in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Matching events.
    Count,
    /// Distinct values of a field among the matching events.
    Distinct(String),
}

/// A comparison of a measure with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`
    Above,
    /// `>=`
    AtLeast,
    /// `<`
    Below,
    /// `<=`
    AtMost,
}

impl Comparison {
    /// Whether `value` compared with `threshold` holds.
    pub fn holds(self, value: u64, threshold: u64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
            Comparison::Below => value < threshold,
            Comparison::AtMost => value <= threshold,
        }
    }

    /// Whether it holds for small values (`<`, `<=`): the rule watches for silence.
    pub fn is_upper_bound(self) -> bool {
        matches!(self, Comparison::Below | Comparison::AtMost)
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.measure {
            Measure::Count => write!(f, "count")?,
            Measure::Distinct(field) => write!(f, "distinct({field})")?,
        }
        write!(f, " {} {}", self.op.symbol(), self.threshold)
    }
}

const CONDITION_FORM: &str =
    "expected `count > N`, `count < N` or `distinct(FIELD) > N` (also >= and <=)";

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid condition {s:?}; {CONDITION_FORM}");
        let s = s.trim();
        let (measure, rest) = if let Some(rest) = s.strip_prefix("count") {
            (Measure::Count, rest)
        } else if let Some(rest) = s.strip_prefix("distinct(") {
            let (field, rest) = rest.split_once(')').ok_or_else(bad)?;
            let field = field.trim();
            if field.is_empty() {
                return Err(bad());
            }
            (Measure::Distinct(field.to_owned()), rest)
        } else {
            return Err(bad());
        };
        let rest = rest.trim_start();
        let (op, number) = [
            (">=", Comparison::AtLeast),
            ("<=", Comparison::AtMost),
            (">", Comparison::Above),
            ("<", Comparison::Below),
        ]
        .into_iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|n| (op, n)))
        .ok_or_else(bad)?;
        let threshold = number.trim().parse::<u64>().map_err(|_| bad())?;
        if matches!(op, Comparison::Below) && threshold == 0 {
            return Err(format!(
                "condition {s:?} can never hold (a count is never below 0); use `count < 1`"
            ));
        }
        Ok(Condition {
            measure,
            op,
            threshold,
        })
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

const TYPES: &[&str] = &["log", "monitor"];

impl AlertConfig {
    /// Reads `[alerts.NAME]` from its node.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let mut t = table::table(node, &format!("alerts.{name}"))?;
        let (ty, _) = take_type(&mut t, "alert rule", TYPES)?;
        let common = split_off(&mut t, fields_of::<AlertKeys>());
        let own_keys = if ty == "log" {
            fields_of::<LogRule>()
        } else {
            fields_of::<MonitorRule>()
        };
        let own = split_off(&mut t, own_keys);
        if let Some((key, span)) = first_key(t.get_ref()) {
            let mut allowed = vec!["type"];
            allowed.extend(fields_of::<AlertKeys>());
            allowed.extend(own_keys);
            return Err(Located::new(
                span,
                format!(
                    "`{key}` does not apply to a {ty} alert rule; its keys are {}",
                    table::list(&allowed)
                ),
            ));
        }
        let keys: AlertKeys = table::value(table::node(common))?;
        let own = table::node(own);
        let rule = if ty == "log" {
            AlertRule::Log(table::value(own)?)
        } else {
            AlertRule::Monitor(table::value(own)?)
        };
        let at = |key: &str, message: String| spans.error(&["alerts", name, key], message);
        match &rule {
            AlertRule::Log(log) if log.window < Duration::from_secs(1) => {
                return Err(at(
                    "window",
                    "window must be at least 1s, e.g. window = \"5m\"".into(),
                ));
            }
            AlertRule::Log(log) if log.group_by.iter().any(|f| f.trim().is_empty()) => {
                return Err(at(
                    "group_by",
                    "group_by names fields, e.g. group_by = [\"host\"]".into(),
                ));
            }
            AlertRule::Monitor(m) if m.monitors.is_empty() || m.states.is_empty() => {
                return Err(at(
                    if m.monitors.is_empty() {
                        "monitors"
                    } else {
                        "states"
                    },
                    "a monitor rule needs at least one monitor (a name or a glob like \"*\") \
                     and one state of WARN, CRIT, UNKNOWN, DOWN"
                        .into(),
                ));
            }
            _ => {}
        }
        if keys.repeat.is_some_and(|r| r < Duration::from_secs(1)) {
            return Err(at(
                "repeat",
                "repeat must be at least 1s, e.g. repeat = \"4h\"".into(),
            ));
        }
        Ok(AlertConfig {
            notify: keys.notify,
            severity: keys.severity,
            repeat: keys.repeat,
            rule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_print() {
        for (text, shown) in [
            ("count > 20", "count > 20"),
            ("count<1", "count < 1"),
            ("distinct(user.name) >= 3", "distinct(user.name) >= 3"),
            (" count <= 5 ", "count <= 5"),
        ] {
            let c: Condition = text.parse().unwrap();
            assert_eq!(c.to_string(), shown);
        }
        for bad in [
            "",
            "count",
            "count = 3",
            "sum > 2",
            "distinct() > 1",
            "count > -1",
            "count < 0",
        ] {
            assert!(bad.parse::<Condition>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn comparisons_hold() {
        assert!(Comparison::Above.holds(21, 20));
        assert!(!Comparison::Above.holds(20, 20));
        assert!(Comparison::Below.holds(0, 1));
        assert!(!Comparison::Below.holds(1, 1));
        assert!(Comparison::AtLeast.holds(3, 3) && Comparison::AtMost.holds(3, 3));
    }
}
