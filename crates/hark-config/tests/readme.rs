//! The monitoring example in the README is a configuration that loads.

use hark_config::{Config, MonitorType};

#[test]
fn readme_monitoring_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Monitoring\n")
        .nth(1)
        .expect("README has a Monitoring section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Monitoring section starts with a TOML example");
    let cfg = Config::from_toml_str("README.md", toml).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<MonitorType> = cfg.monitors.values().map(|m| m.kind()).collect();
    for kind in [
        MonitorType::Icmp,
        MonitorType::Tcp,
        MonitorType::Http,
        MonitorType::Dns,
        MonitorType::Snmp,
        MonitorType::Metrics,
    ] {
        assert!(
            kinds.contains(&kind),
            "the example has no {} monitor",
            kind.name()
        );
    }
    assert_eq!(cfg.monitors["db"].parent.as_deref(), Some("gateway"));
}
