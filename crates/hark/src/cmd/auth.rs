//! `hark auth`: sign-in matters.

use clap::Subcommand;

/// The subcommands of `hark auth`.
#[derive(Subcommand)]
pub enum AuthCommand {
    /// Walk through an LDAP login of USER step by step and print what the
    /// directory answered; exits with 1 when a step fails.
    TestLdap(super::test_ldap::TestLdapArgs),
}

/// Runs a `hark auth` subcommand.
pub fn run(command: AuthCommand) -> anyhow::Result<()> {
    match command {
        AuthCommand::TestLdap(args) => super::test_ldap::run(args),
    }
}
