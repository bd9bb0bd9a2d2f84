//! The file-input example in the README is a configuration that loads.

use hark_config::{Config, StartAt};

#[test]
fn readme_file_input_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n### File inputs\n")
        .nth(1)
        .expect("README has a File inputs section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the File inputs section has a TOML example");
    let cfg = Config::from_toml_str("README.md", toml).unwrap_or_else(|e| panic!("{e}"));
    let files = &cfg.file_inputs["files"];
    assert_eq!(files.paths.len(), 2);
    assert_eq!(files.start_at, StartAt::Beginning);
    assert!(files.multiline.is_some());
    assert_eq!(files.app.as_deref(), Some("nginx"));
    assert!(cfg.inputs.is_empty());
}
