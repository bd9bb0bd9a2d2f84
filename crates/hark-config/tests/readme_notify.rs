//! The notification example in the README is a configuration that loads.

use hark_config::{ChannelType, Config};

#[test]
fn readme_notification_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Notifications\n")
        .nth(1)
        .expect("README has a Notifications section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Notifications section starts with a TOML example");
    let cfg = Config::from_toml_str("README.md", toml).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<ChannelType> = cfg.notify.values().map(|c| c.kind()).collect();
    for kind in ChannelType::ALL {
        assert!(
            kinds.contains(kind),
            "the example has no {} channel",
            kind.name()
        );
    }
}
