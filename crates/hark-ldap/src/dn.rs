//! Comparing distinguished names and mapping groups to roles.
//!
//! Directories hand back DNs in their own spelling: Active Directory
//! writes `CN=NOC,OU=Groups,DC=example,DC=test`, a configuration may say
//! `cn=noc, ou=groups, dc=example, dc=test`. Both name the same group, so
//! DNs are compared after [`normalize`].

use std::collections::{BTreeMap, HashMap};

use hark_config::Role;

/// `dn` in a form where equal DNs are equal strings: lower case, no spaces
/// around the commas between RDNs or around `=` (escaped characters are
/// kept as they are).
pub fn normalize(dn: &str) -> String {
    let mut rdns = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' {
            rdns.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    rdns.push(current);
    rdns.iter()
        .map(|rdn| match split_unescaped(rdn, '=') {
            Some((attr, value)) => format!("{}={}", attr.trim(), trim_value(value)),
            None => rdn.trim().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

/// Splits at the first `sep` not preceded by a backslash.
fn split_unescaped(s: &str, sep: char) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == sep => return Some((&s[..i], &s[i + c.len_utf8()..])),
            _ => {}
        }
    }
    None
}

/// Trims the spaces around a value, keeping an escaped trailing space.
fn trim_value(value: &str) -> &str {
    let start = value.trim_start();
    let trimmed = start.trim_end();
    if trimmed.ends_with('\\') && trimmed.len() < start.len() {
        &start[..trimmed.len() + 1]
    } else {
        trimmed
    }
}

/// `auth.ldap.roles` keyed by normalised group DN.
#[derive(Debug, Clone, Default)]
pub struct RoleMap {
    by_group: HashMap<String, Role>,
}

impl RoleMap {
    /// The map of the configuration; two spellings of one DN keep the
    /// higher role.
    pub fn new(roles: &BTreeMap<String, Role>) -> RoleMap {
        let mut by_group: HashMap<String, Role> = HashMap::new();
        for (dn, role) in roles {
            let slot = by_group.entry(normalize(dn)).or_insert(*role);
            *slot = (*slot).max(*role);
        }
        RoleMap { by_group }
    }

    /// The highest role of the mapped groups among `groups`, and the group
    /// (as the directory spelled it) that gives it.
    pub fn highest<'a>(&self, groups: &'a [String]) -> Option<(Role, &'a str)> {
        groups
            .iter()
            .filter_map(|g| self.by_group.get(&normalize(g)).map(|r| (*r, g.as_str())))
            .max_by_key(|(role, _)| *role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_dn_normalise_alike() {
        let a = normalize("CN=NOC,OU=Groups,DC=example,DC=test");
        assert_eq!(a, "cn=noc,ou=groups,dc=example,dc=test");
        assert_eq!(normalize("cn=noc, ou=groups , dc = example,dc=test"), a);
        assert_ne!(normalize("cn=noc2,ou=groups,dc=example,dc=test"), a);
    }

    #[test]
    fn escaped_commas_stay_inside_their_rdn() {
        assert_eq!(
            normalize("CN=Smith\\, John, OU=People"),
            "cn=smith\\, john,ou=people"
        );
        assert_ne!(normalize("cn=a\\,ou=b,dc=x"), normalize("cn=a,ou=b,dc=x"));
        assert_eq!(normalize("cn=trailing\\ ,dc=x"), "cn=trailing\\ ,dc=x");
    }

    #[test]
    fn the_highest_mapped_role_wins() {
        let roles = BTreeMap::from([
            ("cn=noc,ou=groups,dc=x".to_owned(), Role::Operator),
            ("CN=Admins, OU=Groups, DC=x".to_owned(), Role::Admin),
        ]);
        let map = RoleMap::new(&roles);
        let groups = vec![
            "cn=other,ou=groups,dc=x".to_owned(),
            "CN=NOC,OU=Groups,DC=x".to_owned(),
            "cn=admins,ou=groups,dc=x".to_owned(),
        ];
        assert_eq!(
            map.highest(&groups),
            Some((Role::Admin, "cn=admins,ou=groups,dc=x"))
        );
        assert_eq!(
            map.highest(&groups[..2]),
            Some((Role::Operator, "CN=NOC,OU=Groups,DC=x"))
        );
        assert_eq!(map.highest(&groups[..1]), None);
    }
}
