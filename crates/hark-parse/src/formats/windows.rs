//! Windows events: the Snare format (`MSWinEventLog<TAB>…`, as the Snare
//! agent and NXLog's `to_syslog_snare()` send it) and events that arrive
//! with Beats' `winlog.*` fields already set (Winlogbeat, NXLog's JSON read
//! by the `json` parser).
//!
//! Snare columns, separated by a tab (or by rsyslog's `#011` escape of it,
//! or by the one character a Snare agent was configured to use instead):
//!
//! | # | column | field |
//! |---|---|---|
//! | 1 | `MSWinEventLog` | — |
//! | 2 | criticality | `winlog.snare.criticality` |
//! | 3 | log name | `winlog.channel` |
//! | 4 | Snare counter | `winlog.snare.counter` |
//! | 5 | submit time | `winlog.snare.submit_time` (no zone: the event time is left to the syslog header) |
//! | 6 | event id | `event.code`, `winlog.event_id` (number) |
//! | 7 | source name | `winlog.provider_name` |
//! | 8 | user name | `winlog.user.name`, `winlog.user.domain` |
//! | 9 | SID type | `winlog.user.type` |
//! | 10 | event log type | `event.outcome` (`Success Audit`/`Failure Audit`), `winlog.keywords` or `winlog.level` |
//! | 11 | computer name | `host.hostname` |
//! | 12 | category | `winlog.task` |
//! | 13 | data string | — (empty) |
//! | 14 | expanded string | the message; see below |
//! | 15 | event log counter | `winlog.record_id` |
//!
//! From the expanded string of 4624, 4625, 4634, 4647, 4648, 4672, 4720 and
//! 4740 the account (`user.name`, `user.domain`, or `user.target.*` for the
//! account an administrator acted on), `winlog.logon.type` and the source
//! address and port are read; `event.action`, `event.category` and
//! `event.type` follow the event id.
//!
//! An event with a `winlog.event_id` field gets the same ECS fields from
//! `winlog.event_data.*`; its `winlog.*` fields are left as they are.

use hark_event::FieldValue;

use crate::{Body, Failure, Format, Out, ecs};

/// Windows events from Snare or Beats.
pub struct Windows;

impl Format for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.message.starts_with("MSWinEventLog") || field(body.fields, "winlog.event_id").is_some()
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        match body.message.strip_prefix("MSWinEventLog") {
            Some(rest) => snare(rest, body.message.len() - rest.len(), out),
            None => {
                beats(body.fields, out);
                Ok(())
            }
        }
    }
}

/// The value of the existing field `name`.
fn field<'f>(fields: &'f [(String, FieldValue)], name: &str) -> Option<&'f FieldValue> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The existing field `name` as text.
fn field_text(fields: &[(String, FieldValue)], name: &str) -> Option<String> {
    match field(fields, name)? {
        FieldValue::Str(s) => Some(s.clone()),
        FieldValue::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads the Snare columns after `MSWinEventLog` (`at` is where they start).
fn snare(rest: &str, at: usize, out: &mut Out<'_>) -> Result<(), Failure> {
    let delimiter = if rest.starts_with("#011") {
        "#011"
    } else {
        match rest.chars().next() {
            Some(c) if !c.is_alphanumeric() && c != ' ' => &rest[..c.len_utf8()],
            _ => return Err(Failure::new(at, "a delimiter after MSWinEventLog")),
        }
    };
    out.put(ecs::EVENT_DATASET, "windows.snare");
    let mut columns = rest[delimiter.len()..].split(delimiter);
    let mut next = || columns.next().map(str::trim);
    let (Some(criticality), Some(channel), Some(counter), Some(time), Some(id)) =
        (next(), next(), next(), next(), next())
    else {
        return Err(Failure::new(at + rest.len(), "the event id column"));
    };
    out.put_str("winlog.snare.criticality", criticality);
    out.put(ecs::WINLOG_CHANNEL, channel);
    put_number(out, "winlog.snare.counter", counter);
    out.put_str("winlog.snare.submit_time", time);
    out.put(ecs::EVENT_CODE, id);
    put_number(out, ecs::WINLOG_EVENT_ID, id);
    let Some(provider) = next() else {
        return Err(Failure::new(at + rest.len(), "the source name column"));
    };
    out.put_str("winlog.provider_name", provider);
    let (user, sid_type, log_type, computer, category) = (next(), next(), next(), next(), next());
    if let Some(user) = user.filter(|u| *u != "N/A" && !u.is_empty()) {
        match user.split_once('\\') {
            Some((domain, name)) => {
                out.put_str("winlog.user.domain", domain);
                out.put_str("winlog.user.name", name);
            }
            None => out.put_str("winlog.user.name", user),
        }
    }
    if let Some(t) = sid_type.filter(|t| *t != "N/A" && !t.is_empty()) {
        out.put_str("winlog.user.type", t);
    }
    let outcome = match log_type.unwrap_or_default() {
        "Success Audit" => {
            out.put_str("winlog.keywords", "Audit Success");
            Some("success")
        }
        "Failure Audit" => {
            out.put_str("winlog.keywords", "Audit Failure");
            Some("failure")
        }
        "" | "N/A" => None,
        level => {
            out.put_str("winlog.level", level.to_ascii_lowercase());
            None
        }
    };
    if let Some(c) = computer.filter(|c| *c != "N/A" && !c.is_empty()) {
        out.put(ecs::HOST_HOSTNAME, c);
    }
    if let Some(c) = category.filter(|c| *c != "N/A" && !c.is_empty()) {
        out.put_str("winlog.task", c);
    }
    let _data = next();
    let text = next().unwrap_or_default();
    if let Some(record) = next() {
        put_number(out, "winlog.record_id", record);
    }
    let event = Security::of(id);
    event.classify(outcome, out);
    event.read_text(text, out);
    Ok(())
}

/// A number when it is one, text otherwise.
fn put_number(out: &mut Out<'_>, name: &str, value: &str) {
    match value.parse::<i64>() {
        Ok(n) => out.put_int(name, n),
        Err(_) if !value.is_empty() => out.put_str(name, value),
        Err(_) => {}
    }
}

/// The security events whose text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    Logon,
    LogonFailed,
    Logoff,
    ExplicitLogon,
    SpecialLogon,
    UserCreated,
    LockedOut,
    Other,
}

impl Security {
    fn of(id: &str) -> Security {
        match id {
            "4624" => Security::Logon,
            "4625" => Security::LogonFailed,
            "4634" | "4647" => Security::Logoff,
            "4648" => Security::ExplicitLogon,
            "4672" => Security::SpecialLogon,
            "4720" => Security::UserCreated,
            "4740" => Security::LockedOut,
            _ => Security::Other,
        }
    }

    /// `event.action`, `event.outcome`, category and type (names as Winlogbeat's security module).
    fn classify(self, outcome: Option<&str>, out: &mut Out<'_>) {
        let (action, category, types): (&str, &str, &[&str]) = match self {
            Security::Logon => ("logged-in", "authentication", &["start"]),
            Security::LogonFailed => ("logon-failed", "authentication", &["start"]),
            Security::Logoff => ("logged-out", "authentication", &["end"]),
            Security::ExplicitLogon => ("logged-in-explicit", "authentication", &["start"]),
            Security::SpecialLogon => ("logged-in-special", "iam", &["admin"]),
            Security::UserCreated => ("added-user-account", "iam", &["user", "creation"]),
            Security::LockedOut => ("locked-out-user-account", "iam", &["user", "change"]),
            Security::Other => {
                if let Some(outcome) = outcome {
                    out.put(ecs::EVENT_OUTCOME, outcome);
                }
                return;
            }
        };
        out.put(ecs::EVENT_ACTION, action);
        if let Some(outcome) = outcome {
            out.put(ecs::EVENT_OUTCOME, outcome);
        }
        out.put(ecs::EVENT_CATEGORY, category);
        for t in types {
            out.put(ecs::EVENT_TYPE, t);
        }
    }

    /// The account, logon type and source address from the flattened text.
    fn read_text(self, text: &str, out: &mut Out<'_>) {
        let (section, target) = match self {
            Security::Logon => ("New Logon:", false),
            Security::LogonFailed => ("Account For Which Logon Failed:", false),
            Security::Logoff | Security::SpecialLogon | Security::ExplicitLogon => {
                ("Subject:", false)
            }
            Security::UserCreated => ("New Account:", true),
            Security::LockedOut => ("Account That Was Locked Out:", true),
            Security::Other => return,
        };
        if target && let Some(subject) = after(text, "Subject:") {
            account(subject, ecs::USER_NAME, ecs::USER_DOMAIN, out);
        }
        if let Some(part) = after(text, section) {
            if target {
                account(part, ecs::USER_TARGET_NAME, "user.target.domain", out);
            } else {
                account(part, ecs::USER_NAME, ecs::USER_DOMAIN, out);
            }
        }
        if let Some(t) = label(text, "Logon Type:") {
            out.put(ecs::WINLOG_LOGON_TYPE, t);
        }
        if let Some(ip) = label(text, "Source Network Address:")
            && ip.parse::<std::net::IpAddr>().is_ok()
        {
            out.put(ecs::SOURCE_IP, ip);
            out.put(ecs::RELATED_IP, ip);
        }
        if let Some(port) = label(text, "Source Port:")
            && port != "0"
            && port.bytes().all(|b| b.is_ascii_digit())
        {
            out.put(ecs::SOURCE_PORT, port);
        }
    }
}

/// `Account Name:` and `Account Domain:` in `part`, `-` meaning none.
fn account(part: &str, name_field: &str, domain_field: &str, out: &mut Out<'_>) {
    if let Some(name) = label(part, "Account Name:").filter(|n| *n != "-") {
        out.put(name_field, name);
    }
    if let Some(domain) = label(part, "Account Domain:").filter(|d| *d != "-") {
        out.put(domain_field, domain);
    }
}

/// The text after the first `heading`.
fn after<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    text.find(heading).map(|i| &text[i + heading.len()..])
}

/// The value after `name` in Snare's flattened text: it runs to the next
/// run of two spaces (values such as `NT AUTHORITY` hold single ones). An
/// empty value is followed by the next label (`Account Domain:     Logon
/// ID:`), which is not taken for it.
fn label<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let rest = after(text, name)?.trim_start_matches([' ', '\t']);
    let end = rest.find("  ").unwrap_or(rest.len());
    let end = rest[..end].find('\t').unwrap_or(end);
    let value = rest[..end].trim();
    (!value.is_empty() && !value.ends_with(':')).then_some(value)
}

/// ECS fields from the `winlog.*` fields Beats already set.
fn beats(fields: &[(String, FieldValue)], out: &mut Out<'_>) {
    let text = |name| field_text(fields, name);
    let Some(id) = text("winlog.event_id") else {
        return;
    };
    if field(fields, ecs::EVENT_CODE).is_none() {
        out.put(ecs::EVENT_CODE, &id);
    }
    let outcome = match text("winlog.keywords").as_deref() {
        Some(k) if k.contains("Audit Success") => Some("success"),
        Some(k) if k.contains("Audit Failure") => Some("failure"),
        _ => None,
    };
    if field(fields, ecs::EVENT_ACTION).is_none() {
        Security::of(&id).classify(outcome, out);
    }
    let event = Security::of(&id);
    let target = matches!(event, Security::UserCreated | Security::LockedOut);
    let (name_field, domain_field) = if target {
        (ecs::USER_TARGET_NAME, "user.target.domain")
    } else {
        (ecs::USER_NAME, ecs::USER_DOMAIN)
    };
    if let Some(name) = text("winlog.event_data.TargetUserName").filter(|n| n != "-") {
        out.put(name_field, &name);
    }
    if let Some(domain) = text("winlog.event_data.TargetDomainName").filter(|d| d != "-") {
        out.put(domain_field, &domain);
    }
    if target && let Some(name) = text("winlog.event_data.SubjectUserName").filter(|n| n != "-") {
        out.put(ecs::USER_NAME, &name);
    }
    if field(fields, ecs::WINLOG_LOGON_TYPE).is_none()
        && let Some(t) = text("winlog.event_data.LogonType")
    {
        out.put(ecs::WINLOG_LOGON_TYPE, &t);
    }
    if let Some(ip) = text("winlog.event_data.IpAddress")
        && ip.parse::<std::net::IpAddr>().is_ok()
    {
        out.put(ecs::SOURCE_IP, &ip);
        out.put(ecs::RELATED_IP, &ip);
    }
    if let Some(port) = text("winlog.event_data.IpPort").filter(|p| p != "0" && p != "-") {
        out.put(ecs::SOURCE_PORT, &port);
    }
    if field(fields, ecs::HOST_HOSTNAME).is_none()
        && let Some(host) = text("winlog.computer_name")
    {
        out.put(ecs::HOST_HOSTNAME, &host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        message: &str,
        existing: &[(String, FieldValue)],
    ) -> (Vec<(String, FieldValue)>, Result<(), Failure>) {
        let mut fields = Vec::new();
        let mut out = Out::new(&mut fields);
        let body = Body {
            message,
            app: None,
            fields: existing,
        };
        let r = Windows.parse(&body, &mut out);
        (fields, r)
    }

    fn get(f: &[(String, FieldValue)], name: &str) -> Option<String> {
        field_text(f, name)
    }

    #[test]
    fn failed_logon_in_rsyslog_escaped_form() {
        let msg = "MSWinEventLog#0111#011Security#01161452#011Mon Jan 15 14:25:03 2024#0114625#011Microsoft-Windows-Security-Auditing#011N/A#011N/A#011Failure Audit#011DC01#011Logon#011#011An account failed to log on.    Subject:   Security ID:  S-1-0-0   Account Name:  -    Logon Type:   3    Account For Which Logon Failed:   Security ID:  S-1-0-0   Account Name:  jsmith   Account Domain:  CORP    Network Information:   Workstation Name: WS1   Source Network Address: 203.0.113.5   Source Port:  50123 #01177";
        let (f, r) = parse(msg, &[]);
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "event.outcome").as_deref(), Some("failure"));
        assert_eq!(get(&f, "event.action").as_deref(), Some("logon-failed"));
        assert_eq!(get(&f, "user.name").as_deref(), Some("jsmith"));
        assert_eq!(get(&f, "user.domain").as_deref(), Some("CORP"));
        assert_eq!(get(&f, "winlog.logon.type").as_deref(), Some("3"));
        assert_eq!(get(&f, "source.ip").as_deref(), Some("203.0.113.5"));
        assert_eq!(get(&f, "source.port").as_deref(), Some("50123"));
        assert_eq!(get(&f, "winlog.record_id").as_deref(), Some("77"));
    }

    #[test]
    fn lockout_names_the_target() {
        let msg = "MSWinEventLog\t1\tSecurity\t9\tMon Jan 15 14:25:03 2024\t4740\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tDC01\tUser Account Management\t\tA user account was locked out.    Subject:   Security ID:  S-1-5-18   Account Name:  DC01$   Account Domain:  CORP    Account That Was Locked Out:   Security ID:  S-1-5-21-1   Account Name:  jsmith    Additional Information:   Caller Computer Name: WS1\t10";
        let (f, r) = parse(msg, &[]);
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "user.target.name").as_deref(), Some("jsmith"));
        assert_eq!(get(&f, "user.name").as_deref(), Some("DC01$"));
        assert_eq!(
            get(&f, "event.action").as_deref(),
            Some("locked-out-user-account")
        );
    }

    #[test]
    fn truncated_and_odd_lines() {
        let (_, r) = parse("MSWinEventLog", &[]);
        assert_eq!(r.unwrap_err().reason, "a delimiter after MSWinEventLog");
        let (_, r) = parse("MSWinEventLog\t1\tSecurity", &[]);
        assert_eq!(r.unwrap_err().reason, "the event id column");
        let (f, r) = parse(
            "MSWinEventLog|0|System|1|x|7036|Service Control Manager",
            &[],
        );
        assert_eq!(r, Ok(()));
        assert_eq!(
            get(&f, "winlog.provider_name").as_deref(),
            Some("Service Control Manager")
        );
        for odd in [
            "MSWinEventLogé",
            "MSWinEventLog\té\té\té\té\té\té\té\té\té\té\té\té\té\té\té",
            "MSWinEventLog\t\t\t\t\t4624\t\t\t\t\t\t\t\tNew Logon: Account Name:",
        ] {
            let _ = parse(odd, &[]);
        }
    }

    #[test]
    fn beats_fields_become_ecs_without_touching_winlog() {
        let existing = vec![
            ("winlog.event_id".to_owned(), FieldValue::Int(4624)),
            (
                "winlog.keywords".to_owned(),
                FieldValue::Str("Audit Success".into()),
            ),
            (
                "winlog.event_data.TargetUserName".to_owned(),
                FieldValue::Str("bob".into()),
            ),
            (
                "winlog.event_data.LogonType".to_owned(),
                FieldValue::Str("10".into()),
            ),
            (
                "winlog.event_data.IpAddress".to_owned(),
                FieldValue::Str("::1".into()),
            ),
            (
                "winlog.computer_name".to_owned(),
                FieldValue::Str("WS1".into()),
            ),
        ];
        let body = Body {
            message: "An account was successfully logged on.",
            app: None,
            fields: &existing,
        };
        assert!(Windows.claims(&body));
        let (f, r) = parse(body.message, &existing);
        assert_eq!(r, Ok(()));
        assert_eq!(get(&f, "event.code").as_deref(), Some("4624"));
        assert_eq!(get(&f, "user.name").as_deref(), Some("bob"));
        assert_eq!(get(&f, "winlog.logon.type").as_deref(), Some("10"));
        assert_eq!(get(&f, "source.ip").as_deref(), Some("::1"));
        assert_eq!(get(&f, "event.outcome").as_deref(), Some("success"));
        assert_eq!(get(&f, "host.hostname").as_deref(), Some("WS1"));
        assert!(
            f.iter()
                .all(|(k, _)| !k.starts_with("winlog.") || k == "winlog.logon.type")
        );
    }
}
