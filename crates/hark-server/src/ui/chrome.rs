//! What every page's layout shows: the navigation, who is signed in, and
//! where the static files are.

use crate::identity::{Principal, Role};

/// One entry of the navigation.
pub(crate) struct NavItem {
    /// Its path.
    pub(crate) href: &'static str,
    /// Its label.
    pub(crate) label: &'static str,
    /// It is the current section.
    pub(crate) current: bool,
}

/// The sections of the navigation, in order, and the least role that sees each.
const NAV: &[(&str, &str, Role)] = &[
    ("/search", "Search", Role::Viewer),
    ("/tail", "Tail", Role::Viewer),
    ("/sources", "Sources", Role::Viewer),
    ("/monitors", "Monitors", Role::Viewer),
    ("/alerts", "Alerts", Role::Viewer),
    ("/ports", "Ports", Role::Viewer),
    ("/admin", "Admin", Role::Admin),
    ("/status", "Status", Role::Viewer),
];

/// The layout's data.
pub(crate) struct Chrome {
    /// Who is signed in, if anyone.
    pub(crate) principal: Option<Principal>,
    /// The navigation entry of this page (its path), or empty.
    pub(crate) section: &'static str,
    /// `/static/<version>`.
    pub(crate) assets: &'static str,
}

impl Chrome {
    /// The layout for `principal` on the page of nav entry `section`.
    pub(crate) fn new(principal: Option<Principal>, section: &'static str) -> Chrome {
        Chrome {
            principal,
            section,
            assets: super::assets::base(),
        }
    }

    /// The navigation entries the principal may use.
    pub(crate) fn nav(&self) -> Vec<NavItem> {
        let Some(p) = &self.principal else {
            return vec![NavItem {
                href: "/status",
                label: "Status",
                current: self.section == "/status",
            }];
        };
        NAV.iter()
            .filter(|(_, _, role)| p.may(*role))
            .map(|&(href, label, _)| NavItem {
                href,
                label,
                current: href == self.section,
            })
            .collect()
    }

    /// The signed-in principal's name, or empty.
    pub(crate) fn user(&self) -> &str {
        self.principal.as_ref().map_or("", |p| p.name.as_str())
    }

    /// The signed-in principal's role, or empty.
    pub(crate) fn role(&self) -> &'static str {
        self.principal.as_ref().map_or("", |p| p.role.name())
    }

    /// Whether the principal may act on monitors, alerts and problems.
    pub(crate) fn can_act(&self) -> bool {
        self.may(Role::Operator)
    }

    /// Whether the principal is an admin.
    pub(crate) fn is_admin(&self) -> bool {
        self.may(Role::Admin)
    }

    fn may(&self, role: Role) -> bool {
        self.principal.as_ref().is_some_and(|p| p.may(role))
    }
}
