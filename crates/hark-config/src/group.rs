//! The configuration a center keeps for a group of forwarders: the part of
//! a forwarder's file a group may set, namely `[inputs.*]` tables and the
//! buffer settings of `[forward]`. Forwarders merge it over their own file.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::de::DeTable;

use crate::input::AnyInput;
use crate::table::{self, Located, Spans};
use crate::{ByteSize, Config, ConfigError, FileInput, ForwardConfig, InputConfig, Overflow};

/// `[forward]` in a group's document: only the buffer settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBuffer {
    /// Overrides `forward.buffer_max`.
    #[serde(default)]
    pub buffer_max: Option<ByteSize>,
    /// Overrides `forward.overflow`.
    #[serde(default)]
    pub overflow: Option<Overflow>,
    /// Overrides `forward.batch_events`.
    #[serde(default)]
    pub batch_events: Option<usize>,
}

impl GroupBuffer {
    /// `forward` with these settings over its own.
    pub fn apply(&self, forward: &ForwardConfig) -> ForwardConfig {
        let mut merged = forward.clone();
        if let Some(max) = self.buffer_max {
            merged.buffer_max = max;
        }
        if let Some(overflow) = self.overflow {
            merged.overflow = overflow;
        }
        if let Some(n) = self.batch_events {
            merged.batch_events = n;
        }
        merged
    }
}

/// A group's configuration, as a forwarder of the group applies it.
#[derive(Debug, Clone, Default)]
pub struct GroupConfig {
    /// Listeners, by name.
    pub inputs: BTreeMap<String, InputConfig>,
    /// File inputs, by name.
    pub file_inputs: BTreeMap<String, FileInput>,
    /// Buffer settings that override the forwarder's own.
    pub buffer: GroupBuffer,
}

impl GroupConfig {
    /// Parses and validates a group's TOML document; `file` names it in
    /// errors, which give the line and column like those of `hark.toml`.
    ///
    /// Inputs may name the built-in parsers only: a forwarder's own
    /// `[parsers.*]` are not known to the center.
    pub fn from_toml_str(file: &str, text: &str) -> Result<GroupConfig, ConfigError> {
        Self::from_text(text).map_err(|e| e.at(file, text))
    }

    fn from_text(text: &str) -> Result<GroupConfig, Located> {
        let root = DeTable::parse(text).map_err(table::parse_error)?;
        let spans = Spans::record(root.get_ref());
        let mut group = GroupConfig::default();
        for (key, node) in root.into_inner() {
            match key.get_ref().as_ref() {
                "inputs" => {
                    for (name, node) in table::table(node, "inputs")?.into_inner() {
                        let name = name.get_ref().to_string();
                        match AnyInput::from_node(&name, node, &spans)? {
                            AnyInput::Listener(input) => {
                                group.inputs.insert(name, input);
                            }
                            AnyInput::File(input) => {
                                group.file_inputs.insert(name, input);
                            }
                        }
                    }
                }
                "forward" => group.buffer = table::value(node)?,
                other => {
                    return Err(Located::new(
                        key.span(),
                        format!(
                            "unknown field `{other}`: a group's configuration holds only \
                             `inputs` and `forward` (buffer_max, overflow, batch_events)"
                        ),
                    ));
                }
            }
        }
        group.check().map_err(|(path, message)| {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            spans.error(&path, message)
        })?;
        Ok(group)
    }

    /// The ranges of the buffer settings, and the checks of `hark.toml`
    /// that concern inputs alone (port clashes, parser names).
    fn check(&self) -> Result<(), (Vec<String>, String)> {
        if let Some(max) = self.buffer.buffer_max
            && max.0 < 16 * 1024 * 1024
        {
            return Err((
                vec!["forward".into(), "buffer_max".into()],
                "forward.buffer_max must be at least 16MiB".into(),
            ));
        }
        if let Some(n) = self.buffer.batch_events
            && !(1..=100_000).contains(&n)
        {
            return Err((
                vec!["forward".into(), "batch_events".into()],
                "forward.batch_events must be between 1 and 100000".into(),
            ));
        }
        let alone = Config {
            inputs: self.inputs.clone(),
            file_inputs: self.file_inputs.clone(),
            ..Config::default()
        };
        alone
            .validate()
            .map_err(|(path, message)| (path.into_iter().map(str::to_owned).collect(), message))
    }

    /// `local` with this group's settings over it: the group's inputs are
    /// added, replacing local inputs of the same name, and its buffer
    /// settings override `[forward]`. Fails when the result would not be a
    /// valid configuration (a group input on a local input's port).
    pub fn merge_over(&self, local: &Config) -> Result<Config, String> {
        let mut merged = local.clone();
        for (name, input) in &self.inputs {
            merged.file_inputs.remove(name);
            merged.inputs.insert(name.clone(), input.clone());
        }
        for (name, input) in &self.file_inputs {
            merged.inputs.remove(name);
            merged.file_inputs.insert(name.clone(), input.clone());
        }
        if let Some(forward) = &local.forward {
            merged.forward = Some(self.buffer.apply(forward));
        }
        merged.validate().map_err(|(_, message)| message)?;
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = r#"
data_dir = "/var/lib/hark-forward"
[forward]
name = "edge1"
center = "https://center.example:8515"
buffer_max = "1GiB"
[inputs.syslog]
type = "syslog"
transport = "udp"
listen = "0.0.0.0:10514"
[inputs.app]
type = "file"
paths = ["/var/log/app.log"]
"#;

    fn local() -> Config {
        Config::from_toml_str("hark.toml", LOCAL).unwrap()
    }

    #[test]
    fn a_group_adds_and_replaces_inputs_and_overrides_the_buffer() {
        let group = GroupConfig::from_toml_str(
            "web.toml",
            r#"
[inputs.syslog]
type = "syslog"
transport = "udp"
listen = "0.0.0.0:20514"
[inputs.tcp]
type = "syslog"
transport = "tcp"
listen = "0.0.0.0:10601"
[forward]
buffer_max = "64MiB"
overflow = "drop_oldest"
"#,
        )
        .unwrap();
        let merged = group.merge_over(&local()).unwrap();
        assert_eq!(merged.inputs.keys().collect::<Vec<_>>(), ["syslog", "tcp"]);
        assert_eq!(merged.inputs["syslog"].listen.port(), 20514);
        assert!(merged.file_inputs.contains_key("app"));
        let forward = merged.forward.unwrap();
        assert_eq!(forward.buffer_max, ByteSize(64 * 1024 * 1024));
        assert_eq!(forward.overflow, Overflow::DropOldest);
        assert_eq!(forward.batch_events, 2_000);
        assert_eq!(forward.name, "edge1");
    }

    #[test]
    fn a_group_input_replaces_a_local_input_of_another_kind() {
        let group = GroupConfig::from_toml_str(
            "web.toml",
            "[inputs.app]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10602\"\n",
        )
        .unwrap();
        let merged = group.merge_over(&local()).unwrap();
        assert!(merged.file_inputs.is_empty());
        assert_eq!(merged.inputs["app"].listen.port(), 10602);
    }

    #[test]
    fn errors_name_the_line() {
        let err = |text: &str| match GroupConfig::from_toml_str("web.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        };
        let e = err("[inputs.tcp]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"nowhere\"\n");
        assert!(e.starts_with("web.toml:4:"), "{e}");
        let e = err("[forward]\nbuffer_max = \"1MiB\"\n");
        assert!(e.starts_with("web.toml:2:"), "{e}");
        assert!(e.contains("at least 16MiB"), "{e}");
        let e = err("[forward]\nname = \"other\"\n");
        assert!(e.starts_with("web.toml:2:"), "{e}");
        let e = err("data_dir = \"/tmp\"\n");
        assert!(e.contains("holds only `inputs` and `forward`"), "{e}");
        let e = err(concat!(
            "[inputs.a]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10601\"\n",
            "[inputs.b]\ntype = \"syslog\"\ntransport = \"tcp\"\nlisten = \"0.0.0.0:10601\"\n",
        ));
        assert!(e.starts_with("web.toml:8:"), "{e}");
    }

    #[test]
    fn a_group_input_on_a_local_port_is_refused_at_merge() {
        let group = GroupConfig::from_toml_str(
            "web.toml",
            "[inputs.other]\ntype = \"syslog\"\ntransport = \"udp\"\nlisten = \"0.0.0.0:10514\"\n",
        )
        .unwrap();
        let e = group.merge_over(&local()).unwrap_err();
        assert!(e.contains("10514"), "{e}");
    }
}
