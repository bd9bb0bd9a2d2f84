//! Who makes a request and what they may do: a [`Principal`] with a
//! [`Role`]. Tokens are the one kind of principal today; users signing in
//! are another, with the same roles.

use serde::{Deserialize, Serialize};

pub use hark_config::{Role, UnknownRole};

/// What kind of principal made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// A person who signed in.
    User,
    /// An API token.
    Token,
}

impl std::fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrincipalKind::User => "user",
            PrincipalKind::Token => "token",
        })
    }
}

/// Who made a request: what kind of principal, its identity, name and role.
/// The authentication middleware puts it into the request's extensions.
///
/// `(kind, id)` is what stays the same across requests and is unique:
/// a user's id is their user name; a token's is its id, since several
/// tokens (and a user) may share a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// A user or a token.
    pub kind: PrincipalKind,
    /// Unique within `kind`: the user name of a user, the id of a token.
    /// Not part of the JSON form (`GET /api/v1/me` shows kind, name and
    /// role); a deserialised principal has it empty.
    #[serde(skip)]
    pub id: String,
    /// The user's or token's name (an author of acknowledgements and downtimes).
    pub name: String,
    /// What it may do.
    pub role: Role,
}

impl Principal {
    /// Whether this principal may do what `needed` may.
    pub fn may(&self, needed: Role) -> bool {
        self.role.includes(needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_include_the_lesser() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert!(Role::Admin.includes(Role::Operator) && Role::Admin.includes(Role::Viewer));
        assert!(Role::Operator.includes(Role::Viewer) && !Role::Operator.includes(Role::Admin));
        assert!(!Role::Viewer.includes(Role::Operator));
        assert!(!Role::Operator.can_ingest() && Role::Admin.can_ingest());
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert_eq!(" Operator ".parse::<Role>(), Ok(Role::Operator));
        assert_eq!("root".parse::<Role>(), Err(UnknownRole("root".into())));
    }
}
