//! Silences: matchers on a rule and its group values, for a time, that keep
//! alerts from notifying (the alerts still fire and are listed).

use globset::Glob;
use serde::{Deserialize, Serialize};

/// One condition of a silence: `name` is `rule` or a group field (`host`,
/// `monitor`, …); `value` is matched exactly or as a glob (`web*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    /// `rule` or the name of a group field.
    pub name: String,
    /// The value, or a glob.
    pub value: String,
}

impl Matcher {
    fn matches(&self, value: &str) -> bool {
        if self.value == value {
            return true;
        }
        Glob::new(&self.value)
            .map(|g| g.compile_matcher().is_match(value))
            .unwrap_or(false)
    }
}

/// A silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Its identifier.
    pub id: String,
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// From when (ns since the epoch).
    pub starts_at: i64,
    /// Until when (ns since the epoch).
    pub ends_at: i64,
    /// Why.
    pub comment: String,
    /// Who made it.
    pub created_by: String,
}

impl Silence {
    /// Whether it silences an alert of `rule` with group key `group` at `at`.
    pub fn covers(&self, rule: &str, group: &[(String, String)], at: i64) -> bool {
        if at < self.starts_at || at >= self.ends_at {
            return false;
        }
        self.matchers.iter().all(|m| {
            if m.name == "rule" {
                return m.matches(rule);
            }
            group
                .iter()
                .any(|(name, value)| *name == m.name && m.matches(value))
        })
    }

    /// Checks a silence made through the API: at least one matcher, valid
    /// globs, an end after its start.
    pub fn validate(&self) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err("a silence needs at least one matcher, e.g. {\"name\":\"rule\",\"value\":\"ssh_bruteforce\"}".into());
        }
        for m in &self.matchers {
            if m.name.trim().is_empty() {
                return Err(
                    "a matcher needs a name: `rule` or a group field such as `host`".into(),
                );
            }
            Glob::new(&m.value).map_err(|e| format!("matcher {}: {e}", m.name))?;
        }
        if self.ends_at <= self.starts_at {
            return Err("a silence must end after it starts".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(matchers: &[(&str, &str)]) -> Silence {
        Silence {
            id: "s1".into(),
            matchers: matchers
                .iter()
                .map(|(n, v)| Matcher {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            starts_at: 100,
            ends_at: 200,
            comment: String::new(),
            created_by: "admin".into(),
        }
    }

    #[test]
    fn matchers_all_apply_within_the_time() {
        let group = vec![("host".to_owned(), "web1".to_owned())];
        let s = silence(&[("rule", "ssh"), ("host", "web*")]);
        assert!(s.covers("ssh", &group, 150));
        assert!(!s.covers("ssh", &group, 99));
        assert!(!s.covers("ssh", &group, 200));
        assert!(!s.covers("other", &group, 150));
        let db = vec![("host".to_owned(), "db1".to_owned())];
        assert!(!s.covers("ssh", &db, 150));
        assert!(!silence(&[("app", "x")]).covers("ssh", &group, 150));
    }

    #[test]
    fn api_silences_are_checked() {
        assert!(silence(&[]).validate().is_err());
        assert!(silence(&[("host", "[")]).validate().is_err());
        assert!(silence(&[("host", "web1")]).validate().is_ok());
    }
}
