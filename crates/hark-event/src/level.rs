//! Syslog severities and facilities (RFC 5424 section 6.2.1).

use serde::{Deserialize, Serialize};

/// Syslog severity, 0 (most severe) to 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Severity {
    /// System is unusable.
    Emerg = 0,
    /// Action must be taken immediately.
    Alert = 1,
    /// Critical conditions.
    Crit = 2,
    /// Error conditions.
    Err = 3,
    /// Warning conditions.
    Warning = 4,
    /// Normal but significant condition.
    Notice = 5,
    /// Informational messages.
    Info = 6,
    /// Debug-level messages.
    Debug = 7,
}

const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

impl Severity {
    /// All severities by code.
    pub const ALL: [Severity; 8] = [
        Severity::Emerg,
        Severity::Alert,
        Severity::Crit,
        Severity::Err,
        Severity::Warning,
        Severity::Notice,
        Severity::Info,
        Severity::Debug,
    ];

    /// The severity with this code (0–7).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// The canonical lower-case name (`emerg` … `debug`).
    pub fn name(self) -> &'static str {
        SEVERITY_NAMES[self as usize]
    }

    /// Parses a name or a common alias (`error`, `warn`, `critical`, `emergency`, `panic`, `information`)
    /// or a numeric code, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        let l = s.trim().to_ascii_lowercase();
        if let Ok(n) = l.parse::<u8>() {
            return Self::from_code(n);
        }
        let code = match l.as_str() {
            "emerg" | "emergency" | "panic" => 0,
            "alert" => 1,
            "crit" | "critical" | "fatal" => 2,
            "err" | "error" => 3,
            "warning" | "warn" => 4,
            "notice" => 5,
            "info" | "information" | "informational" => 6,
            "debug" | "trace" => 7,
            _ => return None,
        };
        Self::from_code(code)
    }
}

/// Syslog facility, 0 to 23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Facility {
    Kern = 0,
    User = 1,
    Mail = 2,
    Daemon = 3,
    Auth = 4,
    Syslog = 5,
    Lpr = 6,
    News = 7,
    Uucp = 8,
    Cron = 9,
    Authpriv = 10,
    Ftp = 11,
    Ntp = 12,
    Security = 13,
    Console = 14,
    SolarisCron = 15,
    Local0 = 16,
    Local1 = 17,
    Local2 = 18,
    Local3 = 19,
    Local4 = 20,
    Local5 = 21,
    Local6 = 22,
    Local7 = 23,
}

const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

impl Facility {
    /// All facilities by code.
    pub const ALL: [Facility; 24] = [
        Facility::Kern,
        Facility::User,
        Facility::Mail,
        Facility::Daemon,
        Facility::Auth,
        Facility::Syslog,
        Facility::Lpr,
        Facility::News,
        Facility::Uucp,
        Facility::Cron,
        Facility::Authpriv,
        Facility::Ftp,
        Facility::Ntp,
        Facility::Security,
        Facility::Console,
        Facility::SolarisCron,
        Facility::Local0,
        Facility::Local1,
        Facility::Local2,
        Facility::Local3,
        Facility::Local4,
        Facility::Local5,
        Facility::Local6,
        Facility::Local7,
    ];

    /// The facility with this code (0–23).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }

    /// The canonical lower-case name.
    pub fn name(self) -> &'static str {
        FACILITY_NAMES[self as usize]
    }

    /// Parses a facility name or code.
    pub fn parse(s: &str) -> Option<Self> {
        let l = s.trim().to_ascii_lowercase();
        if let Ok(n) = l.parse::<u8>() {
            return Self::from_code(n);
        }
        FACILITY_NAMES
            .iter()
            .position(|n| *n == l)
            .and_then(|i| Self::from_code(i as u8))
    }
}

/// Splits a syslog PRI value (0–191) into facility and severity.
pub fn split_pri(pri: u8) -> Option<(Facility, Severity)> {
    Some((Facility::from_code(pri / 8)?, Severity::from_code(pri % 8)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.name()), Some(s));
        }
        for f in Facility::ALL {
            assert_eq!(Facility::parse(f.name()), Some(f));
        }
        assert_eq!(Severity::parse("WARN"), Some(Severity::Warning));
        assert_eq!(Severity::parse("9"), None);
        assert_eq!(split_pri(165), Some((Facility::Local4, Severity::Notice)));
        assert_eq!(split_pri(192), None);
    }
}
