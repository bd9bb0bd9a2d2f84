//! The directory as Hark's web UI uses it: log a user in, and check later
//! that the user still exists and still has a role.

use std::collections::HashSet;
use std::time::Duration;

use hark_config::{LdapConfig, LdapSecurity, Role};
use ldap3::SearchEntry;

use crate::connection::{Connection, Endpoint, INVALID_CREDENTIALS, describe, values};
use crate::dn::{self, RoleMap};
use crate::tls::{Trust, client_config};
use crate::{LdapError, filter};

/// How long each step (connect, TLS, bind, search) may take before the
/// operation fails with [`LdapError::Timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attributes read from a user entry: groups, the Active Directory account
/// flags, and a few names for the connection test's report.
pub(crate) const USER_ATTRIBUTES: [&str; 8] = [
    "memberOf",
    "userAccountControl",
    "uid",
    "sAMAccountName",
    "userPrincipalName",
    "cn",
    "displayName",
    "mail",
];

/// Levels of groups followed above the user's own groups: a group that is
/// a member of a group that is a member … up to this many times.
pub const MAX_NESTING: usize = 5;

/// Groups whose enclosing groups one search asks for (an OR of filters).
const GROUPS_PER_SEARCH: usize = 50;

/// Active Directory's "in chain" matching rule (LDAP_MATCHING_RULE_IN_CHAIN),
/// with which the directory itself follows nesting.
const AD_IN_CHAIN: &str = "1.2.840.113556.1.4.1941";

/// Active Directory's `userAccountControl` flag of a disabled account.
const ACCOUNT_DISABLE: u32 = 0x2;

/// A user the directory vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The login name, as given.
    pub username: String,
    /// The user's entry.
    pub dn: String,
    /// The DNs of the user's groups, as the directory spells them.
    pub groups: Vec<String>,
    /// The role the groups give (the highest), else `auth.ldap.default_role`.
    pub role: Option<Role>,
}

/// The service account's password; never printed.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// The account that searches the directory.
#[derive(Debug, Clone)]
struct ServiceAccount {
    dn: String,
    password: Secret,
}

/// An LDAP directory or Active Directory configured by `[auth.ldap]`.
///
/// Every operation opens its own connection and closes it at the end:
/// logins are rare, and a connection never carries an earlier bind's
/// identity into the next login.
pub struct LdapDirectory {
    pub(crate) url: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) trust: Option<Trust>,
    service: Option<ServiceAccount>,
    pub(crate) user_base: String,
    pub(crate) user_filter: String,
    pub(crate) group_base: Option<String>,
    group_filter: String,
    roles: RoleMap,
    pub(crate) default_role: Option<Role>,
}

impl std::fmt::Debug for LdapDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapDirectory")
            .field("url", &self.url)
            .field("service", &self.service)
            .field("user_base", &self.user_base)
            .finish_non_exhaustive()
    }
}

impl LdapDirectory {
    /// The directory of `config`: reads the service account's password
    /// file and the CA file now, so a mistake shows at start, not at the
    /// first login. Warns once when the connection is in clear text.
    pub fn new(config: &LdapConfig) -> Result<LdapDirectory, LdapError> {
        let service = match (&config.bind_dn, &config.bind_password_file) {
            (Some(dn), Some(path)) => Some(ServiceAccount {
                dn: dn.clone(),
                password: read_password(path)?,
            }),
            _ => None,
        };
        let (tls, trust) = match config.security {
            LdapSecurity::Plain => {
                tracing::warn!(
                    url = %config.url,
                    "auth.ldap has starttls = false: user passwords cross the network in clear \
                     text; use ldaps:// or StartTLS"
                );
                (None, None)
            }
            LdapSecurity::Ldaps | LdapSecurity::StartTls => {
                let (tls, trust) = client_config(config.tls_ca.as_deref())?;
                (Some(tls), Some(trust))
            }
        };
        let address = if config.host.contains(':') {
            format!("[{}]:{}", config.host, config.port)
        } else {
            format!("{}:{}", config.host, config.port)
        };
        Ok(LdapDirectory {
            url: config.url.clone(),
            endpoint: Endpoint {
                address,
                host: config.host.clone(),
                port: config.port,
                security: config.security,
                tls,
                timeout: DEFAULT_TIMEOUT,
            },
            trust,
            service,
            user_base: config.user_base.clone(),
            user_filter: config.user_filter.clone(),
            group_base: config.group_base.clone(),
            group_filter: config.group_filter.clone(),
            roles: RoleMap::new(&config.roles),
            default_role: config.default_role,
        })
    }

    /// The same directory with another limit on each step
    /// ([`DEFAULT_TIMEOUT`] otherwise).
    pub fn with_timeout(mut self, timeout: Duration) -> LdapDirectory {
        self.endpoint.timeout = timeout;
        self
    }

    /// `auth.ldap.url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Search-then-bind: finds the user's entry as the service account (or
    /// anonymously), binds as that entry with `password`, then reads the
    /// groups and maps them to a role, afresh at every login.
    ///
    /// An unknown user and a wrong password give the same
    /// [`LdapError::InvalidCredentials`]; an empty password is refused
    /// before anything is sent (to LDAP it would be an unauthenticated
    /// bind, which some servers accept). A user with the right password but
    /// no role gets [`LdapError::NoRole`].
    pub async fn login(&self, username: &str, password: &str) -> Result<DirectoryUser, LdapError> {
        if username.is_empty() || password.is_empty() {
            return Err(LdapError::InvalidCredentials);
        }
        let mut conn = self.endpoint.open().await?;
        let result = self.login_on(&mut conn, username, password).await;
        conn.close().await;
        result
    }

    async fn login_on(
        &self,
        conn: &mut Connection,
        username: &str,
        password: &str,
    ) -> Result<DirectoryUser, LdapError> {
        self.service_bind(conn).await?;
        let entry = self
            .find_user(conn, username)
            .await?
            .ok_or(LdapError::InvalidCredentials)?;
        let bound = conn.bind(&entry.dn, password).await?;
        match bound.rc {
            0 => {}
            INVALID_CREDENTIALS => return Err(LdapError::InvalidCredentials),
            _ => {
                return Err(LdapError::Protocol {
                    operation: format!("bind as {}", entry.dn),
                    message: describe(&bound),
                });
            }
        }
        if is_disabled(&entry) {
            return Err(LdapError::InvalidCredentials);
        }
        // Groups are searched as the service account, like the user; without
        // one, the user's own bind reads at least what anonymous could.
        if self.group_base.is_some() {
            self.service_bind(conn).await?;
        }
        let user = self.user_with_role(conn, username, entry).await?;
        match user.role {
            Some(_) => Ok(user),
            None => Err(LdapError::NoRole {
                username: username.to_owned(),
            }),
        }
    }

    /// Checks, as the service account and without the user's password,
    /// that `username` still exists, is not disabled (Active Directory's
    /// `userAccountControl`), and still has a role: `Some` with the
    /// current groups and role, else `None`. Errors mean the directory
    /// could not say.
    pub async fn revalidate(&self, username: &str) -> Result<Option<DirectoryUser>, LdapError> {
        if username.is_empty() {
            return Ok(None);
        }
        let mut conn = self.endpoint.open().await?;
        let result = self.revalidate_on(&mut conn, username).await;
        conn.close().await;
        result
    }

    async fn revalidate_on(
        &self,
        conn: &mut Connection,
        username: &str,
    ) -> Result<Option<DirectoryUser>, LdapError> {
        self.service_bind(conn).await?;
        let Some(entry) = self.find_user(conn, username).await? else {
            return Ok(None);
        };
        if is_disabled(&entry) {
            return Ok(None);
        }
        let user = self.user_with_role(conn, username, entry).await?;
        Ok(user.role.is_some().then_some(user))
    }

    /// Binds as the service account; nothing when searches are anonymous.
    pub(crate) async fn service_bind(&self, conn: &mut Connection) -> Result<(), LdapError> {
        let Some(service) = &self.service else {
            return Ok(());
        };
        let result = conn.bind(&service.dn, &service.password.0).await?;
        if result.rc == 0 {
            Ok(())
        } else {
            Err(LdapError::ServiceBind {
                bind_dn: service.dn.clone(),
                message: describe(&result),
            })
        }
    }

    /// The service account's DN, when there is one.
    pub(crate) fn service_dn(&self) -> Option<&str> {
        self.service.as_ref().map(|s| s.dn.as_str())
    }

    /// The one entry `user_filter` finds for `username`; `None` when there
    /// is none, [`LdapError::Ambiguous`] when there are several.
    pub(crate) async fn find_user(
        &self,
        conn: &mut Connection,
        username: &str,
    ) -> Result<Option<SearchEntry>, LdapError> {
        let filter = self.user_search_filter(username);
        let mut found = conn
            .search(&self.user_base, &filter, &USER_ATTRIBUTES, 2)
            .await?;
        if found.entries.len() > 1 || found.truncated {
            return Err(LdapError::Ambiguous {
                filter,
                base: self.user_base.clone(),
                entries: found.entries.len().max(2),
            });
        }
        Ok(found.entries.pop())
    }

    /// `user_filter` for `username`, escaped.
    pub(crate) fn user_search_filter(&self, username: &str) -> String {
        filter::fill(&self.user_filter, username, None)
    }

    /// The user's groups and the role they give.
    pub(crate) async fn user_with_role(
        &self,
        conn: &mut Connection,
        username: &str,
        entry: SearchEntry,
    ) -> Result<DirectoryUser, LdapError> {
        let groups = self.groups(conn, username, &entry).await?;
        let role = self.role(&groups);
        Ok(DirectoryUser {
            username: username.to_owned(),
            dn: entry.dn,
            groups,
            role,
        })
    }

    /// The DNs of the groups of the user of `entry`: found by
    /// `group_filter` under `group_base` (with the groups those groups are
    /// members of, see [`LdapDirectory::enclosing_groups`]), or read from
    /// `memberOf`.
    pub(crate) async fn groups(
        &self,
        conn: &mut Connection,
        username: &str,
        entry: &SearchEntry,
    ) -> Result<Vec<String>, LdapError> {
        let Some(base) = &self.group_base else {
            return Ok(values(entry, "memberOf").to_vec());
        };
        let filter = filter::fill(&self.group_filter, username, Some(&entry.dn));
        let direct = self.search_groups(conn, base, &filter).await?;
        if !self.group_filter.contains("{dn}") || self.group_filter.contains(AD_IN_CHAIN) {
            // Nesting is followed by DN; a filter without `{dn}` cannot
            // name a group, and AD's in-chain rule has followed it already.
            return Ok(direct);
        }
        self.enclosing_groups(conn, base, username, direct).await
    }

    /// `groups` and, breadth-first, every group found by `group_filter`
    /// with `{dn}` a group already found: a group that is a member of a
    /// mapped group gives its role too. At most [`MAX_NESTING`] levels
    /// above the user's own groups; each group once, so cycles end.
    async fn enclosing_groups(
        &self,
        conn: &mut Connection,
        base: &str,
        username: &str,
        groups: Vec<String>,
    ) -> Result<Vec<String>, LdapError> {
        let mut seen: HashSet<String> = groups.iter().map(|g| dn::normalize(g)).collect();
        let mut level = groups.clone();
        let mut all = groups;
        for _ in 0..MAX_NESTING {
            let mut next = Vec::new();
            for chunk in level.chunks(GROUPS_PER_SEARCH) {
                let terms: String = chunk
                    .iter()
                    .map(|g| filter::fill(&self.group_filter, username, Some(g)))
                    .collect();
                let filter = format!("(|{terms})");
                for group in self.search_groups(conn, base, &filter).await? {
                    if seen.insert(dn::normalize(&group)) {
                        next.push(group);
                    }
                }
            }
            if next.is_empty() {
                return Ok(all);
            }
            all.extend(next.iter().cloned());
            level = next;
        }
        if !level.is_empty() {
            tracing::warn!(
                user = username,
                "groups nest deeper than {MAX_NESTING} levels; the groups above are not followed"
            );
        }
        Ok(all)
    }

    /// The DNs `filter` finds under `base`, warning when the directory's
    /// size limit cut the answer.
    async fn search_groups(
        &self,
        conn: &mut Connection,
        base: &str,
        filter: &str,
    ) -> Result<Vec<String>, LdapError> {
        let found = conn.search_all(base, filter, &["1.1"]).await?;
        if found.truncated {
            tracing::warn!(
                %filter, %base,
                "the directory's size limit cut the group search short, even paged; roles may be missing"
            );
        }
        Ok(found.entries.into_iter().map(|e| e.dn).collect())
    }

    /// The highest role of `groups`, else the default role.
    pub(crate) fn role(&self, groups: &[String]) -> Option<Role> {
        self.roles
            .highest(groups)
            .map(|(role, _)| role)
            .or(self.default_role)
    }

    /// The group that gives the role, for the connection test's report.
    pub(crate) fn role_source<'a>(&self, groups: &'a [String]) -> Option<&'a str> {
        self.roles.highest(groups).map(|(_, group)| group)
    }
}

/// Whether Active Directory marks the account of `entry` as disabled.
pub(crate) fn is_disabled(entry: &SearchEntry) -> bool {
    values(entry, "userAccountControl")
        .first()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|flags| flags & ACCOUNT_DISABLE != 0)
}

/// The service account's password: the first line of `path`.
fn read_password(path: &std::path::Path) -> Result<Secret, LdapError> {
    let text = std::fs::read_to_string(path).map_err(|e| LdapError::File {
        key: "bind_password_file",
        path: path.to_owned(),
        reason: format!(
            "cannot be read ({e}); write the service account's password into it (readable by \
             the user Hark runs as, e.g. chmod 600)"
        ),
    })?;
    let password = text.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        return Err(LdapError::File {
            key: "bind_password_file",
            path: path.to_owned(),
            reason: "is empty; its first line must be the service account's password (an \
                     empty password is an unauthenticated bind)"
                .into(),
        });
    }
    Ok(Secret(password))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn entry(flags: Option<&str>) -> SearchEntry {
        let mut attrs = HashMap::new();
        if let Some(f) = flags {
            attrs.insert("userAccountControl".to_owned(), vec![f.to_owned()]);
        }
        SearchEntry {
            dn: "cn=x".into(),
            attrs,
            bin_attrs: HashMap::new(),
        }
    }

    #[test]
    fn disabled_accounts_are_recognised() {
        assert!(!is_disabled(&entry(None)));
        assert!(!is_disabled(&entry(Some("512"))));
        assert!(is_disabled(&entry(Some("514"))));
        assert!(is_disabled(&entry(Some("66050"))));
        assert!(!is_disabled(&entry(Some("not a number"))));
    }

    #[test]
    fn the_password_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(read_password(&path).unwrap().0, "s3cret");
        assert_eq!(format!("{:?}", read_password(&path).unwrap()), "[hidden]");
        std::fs::write(&path, "\n").unwrap();
        let e = read_password(&path).unwrap_err().to_string();
        assert!(
            e.contains("bind_password_file") && e.contains("is empty"),
            "{e}"
        );
        let e = read_password(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot be read") && e.contains("missing"), "{e}");
    }
}
