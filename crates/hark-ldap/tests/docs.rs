//! The `[auth.ldap]` examples of the README and of docs/internals/ldap.md
//! are configurations that load.

use hark_config::{Config, LdapSecurity, Role};

/// The ```toml blocks of `text`.
fn toml_blocks(text: &str) -> Vec<&str> {
    text.split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("\n```").next())
        .collect()
}

#[test]
fn readme_example_loads() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## LDAP and Active Directory\n")
        .nth(1)
        .expect("README has an LDAP section");
    let blocks = toml_blocks(section);
    let cfg = Config::from_toml_str("README.md", blocks[0]).unwrap_or_else(|e| panic!("{e}"));
    let ldap = cfg.auth.ldap.expect("[auth.ldap]");
    assert_eq!(ldap.security, LdapSecurity::Ldaps);
    assert_eq!(ldap.default_role, Some(Role::Viewer));
    assert_eq!(ldap.roles.len(), 2);
}

#[test]
fn internals_examples_load() {
    let doc = include_str!("../../../docs/internals/ldap.md");
    let blocks = toml_blocks(doc);
    assert_eq!(
        blocks.len(),
        2,
        "the OpenLDAP and Active Directory examples"
    );
    for block in blocks {
        let cfg = Config::from_toml_str("ldap.md", block).unwrap_or_else(|e| panic!("{e}"));
        let ldap = cfg.auth.ldap.expect("[auth.ldap]");
        assert!(ldap.bind_dn.is_some() && !ldap.roles.is_empty());
    }
}
