//! The parsing example in the README is a configuration that loads, and
//! its user parser compiles.

use hark_config::{Config, ParserPattern};

#[test]
fn readme_parsing_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Parsing\n")
        .nth(1)
        .expect("README has a Parsing section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the Parsing section has a TOML example");
    let cfg = Config::from_toml_str("README.md", toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.inputs["firewalls"].parsers, ["fortigate"]);
    let shop = &cfg.parsers["shop_access"];
    assert!(matches!(shop.pattern, ParserPattern::Grok(_)));
    assert!(shop.build("shop_access").is_ok());
    assert_eq!(cfg.enrich.geoip.len(), 2);
    assert!(cfg.enrich.reverse_dns);
    assert_eq!(cfg.enrich.networks["10.0.0.0/8"], "internal");
}
