//! Whether a port is privileged on this host and whether this process may
//! bind it anyway.

/// Bit of CAP_NET_BIND_SERVICE in the capability sets.
const CAP_NET_BIND_SERVICE: u32 = 10;

/// What this process may bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Privilege {
    /// Lowest port anyone may bind (`net.ipv4.ip_unprivileged_port_start`, 1024 by default).
    pub(super) unprivileged_from: u16,
    /// Effective user id, when known.
    pub(super) euid: Option<u32>,
    /// CAP_NET_BIND_SERVICE is in the effective set (root has it unless dropped).
    pub(super) can_bind_privileged: bool,
}

impl Privilege {
    /// This process's, read from /proc; unreadable values count as the
    /// kernel defaults and no capability.
    pub(super) fn current() -> Privilege {
        let start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1024);
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Privilege::from_status(start, &status)
    }

    /// From a `/proc/PID/status` text.
    pub(super) fn from_status(unprivileged_from: u16, status: &str) -> Privilege {
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        let euid = field("Uid:")
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok());
        let cap_eff = field("CapEff:").and_then(|v| u64::from_str_radix(v, 16).ok());
        Privilege {
            unprivileged_from,
            euid,
            can_bind_privileged: cap_eff.is_some_and(|c| c & (1 << CAP_NET_BIND_SERVICE) != 0),
        }
    }

    /// Says whether `port` needs privileges and whether this process has them.
    pub(super) fn describe(&self, port: u16) -> String {
        if port >= self.unprivileged_from {
            return "unprivileged port".to_owned();
        }
        let who = match self.euid {
            Some(0) => "euid 0".to_owned(),
            Some(uid) => format!("euid {uid}"),
            None => "euid unknown".to_owned(),
        };
        let has = if self.can_bind_privileged {
            "this process has it"
        } else {
            "this process lacks it"
        };
        format!(
            "privileged port (below {}): needs root or CAP_NET_BIND_SERVICE; {has} ({who})",
            self.unprivileged_from
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "Name:\tx\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n";
    const USER: &str = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n";
    const USER_WITH_CAP: &str = "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000400\n";

    #[test]
    fn reads_euid_and_capability() {
        let root = Privilege::from_status(1024, ROOT);
        assert_eq!(root.euid, Some(0));
        assert!(root.can_bind_privileged);
        let user = Privilege::from_status(1024, USER);
        assert_eq!(user.euid, Some(1000));
        assert!(!user.can_bind_privileged);
        assert!(Privilege::from_status(1024, USER_WITH_CAP).can_bind_privileged);
    }

    #[test]
    fn describes_privileged_ports() {
        let user = Privilege::from_status(1024, USER);
        assert_eq!(user.describe(10514), "unprivileged port");
        let d = user.describe(514);
        assert!(d.contains("needs root or CAP_NET_BIND_SERVICE"), "{d}");
        assert!(d.contains("lacks it (euid 1000)"), "{d}");
        let root = Privilege::from_status(1024, ROOT);
        assert!(root.describe(514).contains("has it (euid 0)"));
        // A lowered start makes low ports free for all.
        assert_eq!(
            Privilege::from_status(80, USER).describe(514),
            "unprivileged port"
        );
    }
}
