//! The outputs example in the README is a configuration that loads.

use hark_config::{Config, OutputType};

#[test]
fn readme_outputs_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Outputs\n")
        .nth(1)
        .expect("README has an Outputs section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Outputs section starts with a TOML example");
    let cfg = Config::from_toml_str("README.md", toml).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<OutputType> = cfg.outputs.values().map(|o| o.kind()).collect();
    for kind in OutputType::ALL {
        assert!(
            kinds.contains(kind),
            "the example has no {} output",
            kind.name()
        );
    }
}
