//! Rules made through the API: kept in `alerts/rules.json` in the data
//! directory (one object per rule, with the keys of `[alerts.NAME]`) and
//! validated by the configuration's own loader, so a rule is accepted
//! through the API exactly when it would be accepted in the file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hark_config::{AlertConfig, Config};
use serde_json::Value;

use crate::AlertError;

/// The rules made through the API.
pub struct StoredRules {
    path: PathBuf,
    rules: BTreeMap<String, Value>,
}

impl StoredRules {
    /// Reads the rules kept in `dir`; none yet is an empty set.
    pub fn load(dir: &Path) -> Result<StoredRules, AlertError> {
        let path = dir.join("rules.json");
        let rules = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| AlertError::state(&path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(AlertError::state(&path, e)),
        };
        Ok(StoredRules { path, rules })
    }

    /// Every stored rule, parsed.
    pub fn configs(&self) -> Result<BTreeMap<String, AlertConfig>, AlertError> {
        self.rules
            .iter()
            .map(|(name, body)| Ok((name.clone(), parse(name, body)?)))
            .collect()
    }

    /// Whether rule `name` is stored.
    pub fn contains(&self, name: &str) -> bool {
        self.rules.contains_key(name)
    }

    /// Stores rule `name` (new or replaced) once `check` accepts its parsed form.
    pub fn put(
        &mut self,
        name: &str,
        body: Value,
        check: impl FnOnce(&AlertConfig) -> Result<(), AlertError>,
    ) -> Result<AlertConfig, AlertError> {
        let config = parse(name, &body)?;
        check(&config)?;
        let old = self.rules.insert(name.to_owned(), body);
        if let Err(e) = self.save() {
            match old {
                Some(old) => self.rules.insert(name.to_owned(), old),
                None => self.rules.remove(name),
            };
            return Err(e);
        }
        Ok(config)
    }

    /// Removes rule `name`; false when it is not stored.
    pub fn remove(&mut self, name: &str) -> Result<bool, AlertError> {
        let Some(old) = self.rules.remove(name) else {
            return Ok(false);
        };
        if let Err(e) = self.save() {
            self.rules.insert(name.to_owned(), old);
            return Err(e);
        }
        Ok(true)
    }

    fn save(&self) -> Result<(), AlertError> {
        let bytes =
            serde_json::to_vec_pretty(&self.rules).map_err(|e| AlertError::state(&self.path, e))?;
        let tmp = self.path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent() {
                fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| AlertError::state(&self.path, e))
    }
}

/// Parses rule `name` from its JSON object through the configuration loader.
pub fn parse(name: &str, body: &Value) -> Result<AlertConfig, AlertError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(AlertError::Invalid(format!(
            "rule name {name:?}: use letters, digits, `_` and `-`"
        )));
    }
    if !body.is_object() {
        return Err(AlertError::Invalid(
            "a rule is a JSON object with the keys of [alerts.NAME], e.g. {\"type\": \"log\", \"query\": \"app:sshd\", \"condition\": \"count > 20\"}".into(),
        ));
    }
    let table =
        toml::to_string(body).map_err(|e| AlertError::Invalid(format!("rule {name}: {e}")))?;
    let text = format!("[alerts.{name}]\n{table}");
    Config::alert_rule_from_toml(&format!("rule {name}"), &text, name)
        .map_err(|e| AlertError::Invalid(e.to_string()))
}
