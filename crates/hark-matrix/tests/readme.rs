//! The README's port table is `hark ports --format markdown` of the default
//! configuration, between the markers below; this test fails when it is stale.

use hark_config::Config;
use hark_matrix::{Format, matrix, render};

const BEGIN: &str = "<!-- ports:begin -->";
const END: &str = "<!-- ports:end -->";

#[test]
fn readme_port_table_is_current() {
    let expected = render(&matrix(&Config::default()), Format::Markdown);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let help = format!(
        "README.md must hold the output of `hark ports --format markdown` between \
         {BEGIN} and {END}:\n\n{BEGIN}\n{expected}{END}\n"
    );
    let readme =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}\n{help}"));
    let Some(start) = readme.find(BEGIN) else {
        panic!("no {BEGIN} in README.md\n{help}");
    };
    let after = &readme[start + BEGIN.len()..];
    let Some(end) = after.find(END) else {
        panic!("no {END} after {BEGIN} in README.md\n{help}");
    };
    let found = &after[..end];
    assert_eq!(
        found.trim(),
        expected.trim(),
        "the README's port table is stale\n{help}"
    );
}
