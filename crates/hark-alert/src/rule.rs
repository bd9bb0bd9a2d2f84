//! Rules compiled for evaluation: a log rule's query as an event filter, a
//! monitor rule's names as globs, and how a group key is read from an event.

use globset::{Glob, GlobSet, GlobSetBuilder};
use hark_config::{AlertConfig, AlertRule, AlertSeverity, LogRule, MonitorRule};
use hark_event::{Event, FieldValue};
use hark_store::{EventFilter, Store};

use crate::AlertError;

/// A rule ready to run.
pub struct Rule {
    /// Its name, from `[alerts.NAME]`.
    pub name: String,
    /// Its configuration.
    pub config: AlertConfig,
    /// What it needs to evaluate events.
    pub kind: Compiled,
}

/// The evaluation side of a rule, one kind per `type`.
pub enum Compiled {
    /// A log rule and its compiled query.
    Log(LogRule, EventFilter),
    /// A monitor rule and its compiled name globs.
    Monitor(MonitorRule, GlobSet),
}

impl Rule {
    /// Compiles rule `name`; a bad query or glob is an error naming the rule and key.
    pub fn compile(name: &str, config: &AlertConfig, store: &Store) -> Result<Rule, AlertError> {
        let kind = match &config.rule {
            AlertRule::Log(log) => {
                let filter = store
                    .compile_filter(&log.query)
                    .map_err(|e| AlertError::Rule {
                        rule: name.to_owned(),
                        key: "query",
                        message: e.to_string(),
                    })?;
                Compiled::Log(log.clone(), filter)
            }
            AlertRule::Monitor(m) => {
                let mut set = GlobSetBuilder::new();
                for pattern in &m.monitors {
                    let glob = Glob::new(pattern).map_err(|e| AlertError::Rule {
                        rule: name.to_owned(),
                        key: "monitors",
                        message: e.to_string(),
                    })?;
                    set.add(glob);
                }
                let set = set.build().map_err(|e| AlertError::Rule {
                    rule: name.to_owned(),
                    key: "monitors",
                    message: e.to_string(),
                })?;
                Compiled::Monitor(m.clone(), set)
            }
        };
        Ok(Rule {
            name: name.to_owned(),
            config: config.clone(),
            kind,
        })
    }

    /// The severity of its alerts; for a monitor rule without one, that of `state`.
    pub fn severity(&self, state: Option<&str>) -> AlertSeverity {
        if let Some(s) = self.config.severity {
            return s;
        }
        match state {
            Some("CRIT" | "DOWN") => AlertSeverity::Critical,
            Some(_) => AlertSeverity::Warning,
            None => AlertSeverity::Warning,
        }
    }
}

/// The value of field `name` of an event as text: the header fields by
/// their names (`host`, `app`, `procid`, `msgid`, `severity`, `facility`,
/// `input`, `source`), else the first extra field of that name; empty when
/// the event has none.
pub fn field_text(event: &Event, name: &str) -> String {
    let header = match name {
        "host" => event.host.clone(),
        "app" => event.app.clone(),
        "procid" => event.procid.clone(),
        "msgid" => event.msgid.clone(),
        "severity" => event.severity.map(|s| s.name().to_owned()),
        "facility" => event.facility.map(|f| f.name().to_owned()),
        "input" => Some(event.input.clone()),
        "source" => event.source.clone(),
        _ => None,
    };
    if let Some(v) = header {
        return v;
    }
    event
        .field(name)
        .map(FieldValue::to_string)
        .unwrap_or_default()
}

/// The group key of `event` for the fields `group_by`.
pub fn group_key(event: &Event, group_by: &[String]) -> Vec<(String, String)> {
    group_by
        .iter()
        .map(|f| (f.clone(), field_text(event, f)))
        .collect()
}

/// The search that shows the events of `query` for one group: the query
/// (left out when it matches everything) and `field:"value"` for each
/// group field, all required.
pub fn group_search(query: &str, key: &[(String, String)]) -> String {
    let query = query.trim();
    let mut parts = Vec::with_capacity(key.len() + 1);
    if !query.is_empty() && query != "*" {
        parts.push(format!("({query})"));
    }
    for (field, value) in key {
        let value = value.replace('\\', "\\\\").replace('"', "\\\"");
        parts.push(format!("{field}:\"{value}\""));
    }
    if parts.is_empty() {
        "*".to_owned()
    } else {
        parts.join(" AND ")
    }
}
