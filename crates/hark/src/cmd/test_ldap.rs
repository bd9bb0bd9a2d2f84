//! `hark auth test-ldap USER`: the steps of an LDAP login (connection, TLS,
//! service bind, the user's entry, groups, role and, with a password, the
//! user's bind), each printed with the directory's answer.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

/// Arguments of `hark auth test-ldap`.
#[derive(Args)]
pub struct TestLdapArgs {
    /// The login name to look up.
    user: String,
    /// Configuration file (TOML) with an [auth.ldap] section.
    #[arg(long, short = 'c', env = "HARK_CONFIG")]
    config: Option<PathBuf>,
    /// Read the user's password from the first line of stdin and also try
    /// the user's bind (the password is never printed).
    #[arg(long)]
    password_stdin: bool,
}

/// Runs the test and prints its report.
pub fn run(args: TestLdapArgs) -> anyhow::Result<()> {
    let cfg = super::config::load(args.config.as_deref())?;
    let Some(ldap) = cfg.auth.ldap.as_ref() else {
        bail!("the configuration has no [auth.ldap] section; give one with --config");
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let directory = hark_ldap::LdapDirectory::new(ldap)?;
    println!("testing {} against {}", args.user, directory.url());
    let report = rt.block_on(directory.test(&args.user, password.as_deref()));
    print!("{report}");
    if let Some(failed) = report.steps.iter().find(|s| !s.ok) {
        bail!("the {} step failed", failed.name);
    }
    if password.is_none() {
        println!("(the password was not tried: pass it with --password-stdin)");
    }
    Ok(())
}
