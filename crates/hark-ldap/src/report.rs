//! `hark auth test-ldap USER`: the steps of a login, one at a time, each
//! with what the directory answered, stopping at the first failure.

use std::fmt;

use hark_config::LdapSecurity;

use crate::connection::{INVALID_CREDENTIALS, describe, values};
use crate::directory::{LdapDirectory, USER_ATTRIBUTES, is_disabled};

/// One step of the connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportStep {
    /// What was tried: `connect`, `tls`, `service bind`, `user search`,
    /// `groups`, `role`, `user bind`.
    pub name: &'static str,
    /// Whether it worked.
    pub ok: bool,
    /// What was found, or the server's message.
    pub detail: String,
}

/// The steps of [`LdapDirectory::test`], in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdapReport {
    /// The steps run; the last one failed when the test did.
    pub steps: Vec<ReportStep>,
}

impl LdapReport {
    /// Whether every step worked.
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.steps.push(ReportStep {
            name,
            ok: true,
            detail: detail.into(),
        });
    }

    fn fail(&mut self, name: &'static str, detail: impl Into<String>) {
        self.steps.push(ReportStep {
            name,
            ok: false,
            detail: detail.into(),
        });
    }
}

impl fmt::Display for LdapReport {
    /// One line per step: `ok` or `FAIL`, the step, the detail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            let mark = if step.ok { "ok" } else { "FAIL" };
            writeln!(f, "{mark:<4}  {:<12}  {}", step.name, step.detail)?;
        }
        Ok(())
    }
}

impl LdapDirectory {
    /// Walks through a login of `username` step by step: the connection
    /// and its TLS, the service bind, the user's entry, its groups, the
    /// role, and, given `password`, the user's bind. Never fails: a failed
    /// step is the report's last. The password appears nowhere in it.
    pub async fn test(&self, username: &str, password: Option<&str>) -> LdapReport {
        let mut report = LdapReport::default();
        self.run_test(&mut report, username, password).await;
        report
    }

    async fn run_test(&self, report: &mut LdapReport, username: &str, password: Option<&str>) {
        let endpoint = &self.endpoint;
        let tcp = match endpoint.tcp().await {
            Ok(tcp) => tcp,
            Err(e) => return report.fail("connect", e.to_string()),
        };
        report.pass("connect", format!("TCP connection to {}", endpoint.address));
        let mut conn = match endpoint.session(tcp).await {
            Ok(conn) => conn,
            Err(e) => return report.fail("tls", e.to_string()),
        };
        let trust = self
            .trust
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        match endpoint.security {
            LdapSecurity::Ldaps => report.pass("tls", format!("LDAPS, {trust}")),
            LdapSecurity::StartTls => report.pass("tls", format!("StartTLS, {trust}")),
            LdapSecurity::Plain => report.pass(
                "tls",
                "none (starttls = false): passwords cross the network in clear text",
            ),
        }
        match self.service_bind(&mut conn).await {
            Ok(()) => match self.service_dn() {
                Some(dn) => report.pass("service bind", format!("bound as {dn}")),
                None => report.pass("service bind", "none: searching anonymously (no bind_dn)"),
            },
            Err(e) => return report.fail("service bind", e.to_string()),
        }
        let filter = self.user_search_filter(username);
        let entry = match self.find_user(&mut conn, username).await {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                return report.fail(
                    "user search",
                    format!("no entry under {} matches {filter}", self.user_base),
                );
            }
            Err(e) => return report.fail("user search", e.to_string()),
        };
        let mut about = vec![entry.dn.clone()];
        for attr in USER_ATTRIBUTES.iter().filter(|a| **a != "memberOf") {
            let v = values(&entry, attr);
            if !v.is_empty() {
                about.push(format!("{attr}: {}", v.join(", ")));
            }
        }
        if is_disabled(&entry) {
            return report.fail(
                "user search",
                format!("{} (the account is disabled)", about.join("; ")),
            );
        }
        report.pass(
            "user search",
            format!("{filter} found {}", about.join("; ")),
        );
        let groups = match self.groups(&mut conn, username, &entry).await {
            Ok(groups) => groups,
            Err(e) => return report.fail("groups", e.to_string()),
        };
        let source = match &self.group_base {
            Some(base) => format!("searched under {base}"),
            None => "from memberOf".to_owned(),
        };
        if groups.is_empty() {
            report.pass("groups", format!("none ({source})"));
        } else {
            report.pass("groups", format!("{} ({source})", groups.join(" | ")));
        }
        match (self.role(&groups), self.role_source(&groups)) {
            (Some(role), Some(group)) => report.pass("role", format!("{role} (from {group})")),
            (Some(role), None) => report.pass(
                "role",
                format!("{role} (default_role: in no group of auth.ldap.roles)"),
            ),
            (None, _) => {
                return report.fail(
                    "role",
                    "none: in no group of auth.ldap.roles and default_role = \"none\"; a login \
                     would be refused",
                );
            }
        }
        let Some(password) = password else {
            conn.close().await;
            return;
        };
        if password.is_empty() {
            return report.fail("user bind", "empty password: refused without a bind");
        }
        match conn.bind(&entry.dn, password).await {
            Ok(r) if r.rc == 0 => {
                report.pass("user bind", format!("password accepted for {}", entry.dn))
            }
            Ok(r) if r.rc == INVALID_CREDENTIALS => {
                report.fail("user bind", format!("wrong password ({})", describe(&r)));
            }
            Ok(r) => report.fail("user bind", describe(&r)),
            Err(e) => report.fail("user bind", e.to_string()),
        }
        conn.close().await;
    }
}
