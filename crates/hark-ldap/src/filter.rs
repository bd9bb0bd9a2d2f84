//! Filling the configured filter templates with escaped values.

use ldap3::ldap_escape;

/// `template` with `{username}` and `{dn}` replaced by the escaped values
/// (RFC 4515: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`,
/// `\5c`, `\00`), so a login name cannot add terms to the filter.
pub fn fill(template: &str, username: &str, dn: Option<&str>) -> String {
    let filled = template.replace("{username}", &ldap_escape(username));
    match dn {
        Some(dn) => filled.replace("{dn}", &ldap_escape(dn)),
        None => filled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(fill("(uid={username})", "alice", None), "(uid=alice)");
        assert_eq!(
            fill("(uid={username})", "*)(uid=*", None),
            "(uid=\\2a\\29\\28uid=\\2a)"
        );
        assert_eq!(
            fill(
                "(&(objectClass=groupOfNames)(member={dn}))",
                "x",
                Some("cn=a\\2c(b),dc=x")
            ),
            "(&(objectClass=groupOfNames)(member=cn=a\\5c2c\\28b\\29,dc=x))"
        );
    }
}
