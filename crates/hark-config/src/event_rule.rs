//! `[event_rules.NAME]`: the event console's rules, which turn matching
//! log lines and SNMP traps into problems with a state, a count and a
//! lifecycle (open, acknowledged, closed by a cancelling event, by expiry or
//! by hand).

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::table::{self, Located, Node, Spans};
use crate::units::{duration, duration_opt};

/// One event-console rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRuleConfig {
    /// The query whose events open (or count toward) a problem.
    #[serde(rename = "match")]
    pub matches: String,
    /// The query whose events close the open problem with the same key.
    #[serde(default)]
    pub cancel: Option<String>,
    /// Fields whose values identify a problem (default: `host`).
    #[serde(default = "default_key")]
    pub key: Vec<String>,
    /// The problem's state: fixed, or from the event's syslog severity.
    #[serde(default)]
    pub state: ProblemStateSource,
    /// Open only after this many matches within the window.
    #[serde(default)]
    pub count: Option<CountSpec>,
    /// Close an open problem that has seen no match for this long.
    #[serde(default, deserialize_with = "duration_opt")]
    pub expire: Option<Duration>,
    /// The `[notify.*]` channels told when a problem opens and closes.
    #[serde(default)]
    pub notify: Vec<String>,
}

fn default_key() -> Vec<String> {
    vec!["host".to_owned()]
}

/// `count = { n = 3, window = "1m" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountSpec {
    /// Matches needed.
    pub n: u64,
    /// Within this long.
    #[serde(deserialize_with = "duration")]
    pub window: Duration,
}

/// Where a problem's state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProblemStateSource {
    /// Always this state: `WARN`, `CRIT` or `UNKNOWN`.
    Fixed(ConsoleState),
    /// From the event's severity: emerg to err CRIT, warning WARN, else OK.
    #[default]
    Syslog,
}

/// A problem's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub enum ConsoleState {
    /// Informational only.
    #[serde(rename = "OK")]
    Ok,
    /// A warning.
    #[serde(rename = "WARN")]
    Warn,
    /// Critical.
    #[serde(rename = "CRIT")]
    Crit,
    /// Not known.
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

impl ConsoleState {
    /// `OK`, `WARN`, `CRIT` or `UNKNOWN`.
    pub fn name(self) -> &'static str {
        match self {
            ConsoleState::Ok => "OK",
            ConsoleState::Warn => "WARN",
            ConsoleState::Crit => "CRIT",
            ConsoleState::Unknown => "UNKNOWN",
        }
    }
}

impl<'de> Deserialize<'de> for ProblemStateSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "syslog" => Ok(ProblemStateSource::Syslog),
            "OK" => Ok(ProblemStateSource::Fixed(ConsoleState::Ok)),
            "WARN" => Ok(ProblemStateSource::Fixed(ConsoleState::Warn)),
            "CRIT" => Ok(ProblemStateSource::Fixed(ConsoleState::Crit)),
            "UNKNOWN" => Ok(ProblemStateSource::Fixed(ConsoleState::Unknown)),
            other => Err(de::Error::custom(format!(
                "invalid state {other:?}; expected \"syslog\" (from the event's severity) or one of \"OK\", \"WARN\", \"CRIT\", \"UNKNOWN\""
            ))),
        }
    }
}

impl EventRuleConfig {
    /// Reads `[event_rules.NAME]` from its node.
    pub(crate) fn from_node(name: &str, node: Node<'_>, spans: &Spans) -> Result<Self, Located> {
        let rule: EventRuleConfig = table::value(node)?;
        let at = |key: &str, message: &str| spans.error(&["event_rules", name, key], message);
        if rule.matches.trim().is_empty() {
            return Err(at(
                "match",
                "match needs a query, e.g. match = 'snmp.trap_name:linkDown'",
            ));
        }
        if rule.key.iter().any(|k| k.trim().is_empty()) {
            return Err(at(
                "key",
                "key names fields, e.g. key = [\"host\", \"snmp.ifIndex\"]",
            ));
        }
        if let Some(c) = &rule.count
            && (c.n == 0 || c.window.is_zero())
        {
            return Err(at(
                "count",
                "count needs n >= 1 and a window, e.g. count = { n = 3, window = \"1m\" }",
            ));
        }
        if rule.expire.is_some_and(|e| e < Duration::from_secs(1)) {
            return Err(at(
                "expire",
                "expire must be at least 1s, e.g. expire = \"24h\"",
            ));
        }
        Ok(rule)
    }
}
