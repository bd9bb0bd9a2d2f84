//! Linux authentication lines, chosen by the program that wrote them:
//! sshd, sudo, su, the shadow tools (useradd, userdel, usermod, groupadd,
//! groupdel, passwd, chpasswd) and systemd-logind.
//!
//! The claim is the application name alone (`sshd`, or `sshd(pam_unix)` as
//! older PAM wrote it), so a plain sshd line never reaches the generic
//! `key=value` reader. Each program says many things this reader does not
//! know (`Received disconnect…`, `reverse mapping checking…`); such a line
//! is claimed, gets `event.dataset` `system.auth` only, and is not an
//! error: the text stays in the message.
//!
//! | line | fields |
//! |---|---|
//! | sshd `Accepted <method> for <user> from <ip> port <n> ssh2[: <key>]` | `event.action` `ssh_login`, `event.outcome` `success`, `user.name`, `source.ip`, `source.port`, `system.auth.ssh.method`, `system.auth.ssh.signature` |
//! | sshd `Failed <method> for [invalid user ]<user> from <ip> port <n>` | the same, `failure` |
//! | sshd `Invalid user <user> from <ip>[ port <n>]` | `invalid_user`, `failure` |
//! | sshd `Disconnected from …`, `Connection closed by …` | `ssh_disconnect` / `ssh_connection_closed`, `user.name` when named |
//! | `pam_unix(<svc>:session): session opened/closed for user <u>[ by <by>]` | `session_opened` / `session_closed`, `user.name` |
//! | `pam_unix(<svc>:auth): authentication failure; … rhost=<ip> user=<u>` | `authentication_failure`, `failure` |
//! | sudo `<user> : [<error> ; ]TTY=… ; PWD=… ; USER=<target> ; COMMAND=<cmd>` | `sudo`, `user.name`, `user.target.name`, `process.command_line`, `system.auth.sudo.*` |
//! | su `Successful su for <target> by <user>`, `FAILED su for …`, `(to <target>) <user> on <tty>` | `su`, `user.name`, `user.target.name` |
//! | useradd/groupadd `new user: name=…, UID=…`, `new group: name=…, GID=…` | `user_created` / `group_created` |
//! | userdel/groupdel `delete user '<u>'`, `group '<g>' removed` | `user_deleted` / `group_deleted` |
//! | passwd/chpasswd `password changed for <user>` | `password_changed` |
//! | systemd-logind `New session <n> of user <u>.`, `Removed session <n>.`, `Session <n> logged out.` | `session_opened` / `session_closed` / `logged_out`, `system.auth.session_id` |

use crate::{Body, Failure, Format, Out, ecs};

/// Programs whose lines this format reads.
const PROGRAMS: &[&str] = &[
    "sshd",
    "sudo",
    "su",
    "useradd",
    "userdel",
    "usermod",
    "groupadd",
    "groupdel",
    "passwd",
    "chpasswd",
    "systemd-logind",
];

/// Linux authentication lines (`system.auth`).
pub struct LinuxAuth;

impl Format for LinuxAuth {
    fn name(&self) -> &'static str {
        "linux_auth"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.app.is_some_and(|app| PROGRAMS.contains(&program(app)))
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        out.put(ecs::EVENT_DATASET, "system.auth");
        let text = body.message.trim_end();
        if let Some(rest) = text.strip_prefix("pam_unix(") {
            if let Some((service, text)) = rest.split_once("): ") {
                out.put_str("system.auth.pam.service", service);
                pam(text, out);
            }
            return Ok(());
        }
        // Older PAM put the module in the app name: `su(pam_unix)[21416]: session opened…`.
        if body.app.is_some_and(|app| app.ends_with("(pam_unix)")) {
            pam(text, out);
            return Ok(());
        }
        match program(body.app.unwrap_or_default()) {
            "sshd" => sshd(text, out),
            "sudo" => sudo(text, out),
            "su" => {
                su(text, out);
                Ok(())
            }
            "systemd-logind" => {
                logind(text, out);
                Ok(())
            }
            _ => {
                shadow(text, out);
                Ok(())
            }
        }
    }
}

/// The program part of an app name: `sshd` of `sshd(pam_unix)`.
fn program(app: &str) -> &str {
    app.split('(').next().unwrap_or(app)
}

/// `event.action`, `event.outcome` (when known), category and type.
fn classify(out: &mut Out<'_>, action: &str, outcome: Option<&str>, category: &str, kind: &[&str]) {
    out.put(ecs::EVENT_ACTION, action);
    if let Some(outcome) = outcome {
        out.put(ecs::EVENT_OUTCOME, outcome);
    }
    out.put(ecs::EVENT_CATEGORY, category);
    for k in kind {
        out.put(ecs::EVENT_TYPE, k);
    }
}

/// A source address with `related.ip`; a host name goes to `source.domain`.
fn source_ip(out: &mut Out<'_>, value: &str) {
    if value.parse::<std::net::IpAddr>().is_ok() {
        out.put(ecs::SOURCE_IP, value);
        out.put(ecs::RELATED_IP, value);
    } else {
        out.put(ecs::SOURCE_DOMAIN, value);
    }
}

/// sshd's own lines.
fn sshd(text: &str, out: &mut Out<'_>) -> Result<(), Failure> {
    let (outcome, rest) = if let Some(r) = text.strip_prefix("Accepted ") {
        ("success", r)
    } else if let Some(r) = text.strip_prefix("Failed ") {
        ("failure", r)
    } else if let Some(r) = text.strip_prefix("Invalid user ") {
        classify(
            out,
            "invalid_user",
            Some("failure"),
            "authentication",
            &["start"],
        );
        let (user, addr) = r.split_once(" from ").unwrap_or((r, ""));
        out.put(ecs::USER_NAME, user.trim());
        address_and_port(addr, out);
        return Ok(());
    } else if let Some(r) = text.strip_prefix("Disconnected from ") {
        classify(out, "ssh_disconnect", None, "session", &["end"]);
        peer(r, out);
        return Ok(());
    } else if let Some(r) = text.strip_prefix("Connection closed by ") {
        classify(out, "ssh_connection_closed", None, "session", &["end"]);
        peer(r, out);
        return Ok(());
    } else {
        return Ok(());
    };
    // `<method> for [invalid user ]<user> from <ip> port <n> ssh2[: <sig>]`
    let at = text.len() - rest.len();
    let (method, rest) = rest
        .split_once(" for ")
        .ok_or_else(|| Failure::new(at, "<method> for <user>"))?;
    classify(
        out,
        "ssh_login",
        Some(outcome),
        "authentication",
        &["start"],
    );
    out.put_str("system.auth.ssh.method", method);
    let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
    let from = rest
        .rfind(" from ")
        .ok_or_else(|| Failure::new(text.len(), "from <address>"))?;
    out.put(ecs::USER_NAME, &rest[..from]);
    let addr = &rest[from + " from ".len()..];
    let (addr, signature) = match addr.split_once(": ") {
        Some((a, s)) => (a, Some(s)),
        None => (addr, None),
    };
    address_and_port(addr, out);
    if let Some(signature) = signature {
        out.put_str("system.auth.ssh.signature", signature);
    }
    Ok(())
}

/// `<ip>[ port <n>][ ssh2]`.
fn address_and_port(text: &str, out: &mut Out<'_>) {
    let mut words = text.split_whitespace();
    if let Some(ip) = words.next() {
        source_ip(out, ip);
    }
    if words.next() == Some("port")
        && let Some(port) = words.next()
    {
        out.put(ecs::SOURCE_PORT, port);
    }
}

/// `[authenticating |invalid ]user <user> <ip> port <n> [preauth]` or `<ip> port <n>`.
fn peer(text: &str, out: &mut Out<'_>) {
    let text = text.trim_end_matches(" [preauth]");
    let text = text
        .strip_prefix("authenticating ")
        .or_else(|| text.strip_prefix("invalid "))
        .unwrap_or(text);
    match text.strip_prefix("user ") {
        Some(rest) => {
            // The user name may hold spaces; the address is the third word from the end.
            let words: Vec<&str> = rest.rsplitn(4, ' ').collect();
            if let [port, "port", ip, user] = words.as_slice() {
                out.put(ecs::USER_NAME, user);
                source_ip(out, ip);
                out.put(ecs::SOURCE_PORT, port);
            }
        }
        None => address_and_port(text, out),
    }
}

/// What `pam_unix(<service>:<module type>): ` says, for any of the programs.
fn pam(text: &str, out: &mut Out<'_>) {
    if let Some(r) = text.strip_prefix("session opened for user ") {
        classify(
            out,
            "session_opened",
            Some("success"),
            "session",
            &["start"],
        );
        let (user, by) = match r.split_once(" by ") {
            Some((u, b)) => (u, Some(b)),
            None => (r, None),
        };
        out.put(ecs::USER_NAME, strip_uid(user));
        if let Some(by) = by.map(strip_uid).filter(|b| !b.is_empty()) {
            out.put_str("system.auth.pam.by", by);
        }
    } else if let Some(r) = text.strip_prefix("session closed for user ") {
        classify(out, "session_closed", Some("success"), "session", &["end"]);
        out.put(ecs::USER_NAME, strip_uid(r));
    } else if let Some(r) = text.strip_prefix("password changed for ") {
        classify(
            out,
            "password_changed",
            Some("success"),
            "iam",
            &["user", "change"],
        );
        out.put(ecs::USER_NAME, r.trim());
    } else if let Some(r) = text.strip_prefix("authentication failure;") {
        classify(
            out,
            "authentication_failure",
            Some("failure"),
            "authentication",
            &["start"],
        );
        for pair in r.split_whitespace() {
            match pair.split_once('=') {
                Some(("rhost", v)) if !v.is_empty() => source_ip(out, v),
                Some(("user", v)) if !v.is_empty() => out.put(ecs::USER_NAME, v),
                Some(("tty", v)) if !v.is_empty() => out.put_str("system.auth.pam.tty", v),
                Some(("ruser", v)) if !v.is_empty() => out.put_str("system.auth.pam.ruser", v),
                _ => {}
            }
        }
    }
}

/// `cyrus(uid=0)` → `cyrus`; `(uid=0)` → ``.
fn strip_uid(text: &str) -> &str {
    text.split('(').next().unwrap_or(text).trim()
}

/// `<user> : [<error> ; ]TTY=<tty> ; PWD=<dir> ; USER=<target> ; [… ;] COMMAND=<cmd>`.
fn sudo(text: &str, out: &mut Out<'_>) -> Result<(), Failure> {
    let Some((user, rest)) = text.split_once(" : ") else {
        // `pam_unix(sudo:…)` went to `pam`; other sudo lines are not read.
        return Ok(());
    };
    let user = user.trim();
    if user.contains(' ') {
        return Ok(());
    }
    out.put(ecs::USER_NAME, user);
    let mut outcome = "success";
    let mut command_seen = false;
    // COMMAND= runs to the end: it may itself contain ` ; `.
    let (fields, command) = match rest.find("COMMAND=") {
        Some(i) => (&rest[..i], Some(&rest[i + "COMMAND=".len()..])),
        None => (rest, None),
    };
    for part in fields.split(" ; ").map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("TTY", v)) => out.put_str("system.auth.sudo.tty", v),
            Some(("PWD", v)) => out.put_str("system.auth.sudo.pwd", v),
            Some(("USER", v)) => out.put(ecs::USER_TARGET_NAME, v),
            Some(("GROUP", v)) => out.put_str("system.auth.sudo.group", v),
            Some((k, v)) if k.bytes().all(|b| b.is_ascii_uppercase()) => {
                out.put_str(&format!("system.auth.sudo.{}", k.to_ascii_lowercase()), v);
            }
            _ => {
                outcome = "failure";
                out.put_str("system.auth.sudo.error", part.trim_end_matches(';').trim());
            }
        }
    }
    if let Some(command) = command {
        command_seen = true;
        out.put(ecs::PROCESS_COMMAND_LINE, command.trim());
    }
    if !command_seen && outcome == "success" {
        return Err(Failure::new(text.len(), "COMMAND="));
    }
    classify(out, "sudo", Some(outcome), "process", &["start"]);
    Ok(())
}

/// su's own lines.
fn su(text: &str, out: &mut Out<'_>) {
    let (outcome, rest) = if let Some(r) = text.strip_prefix("Successful su for ") {
        ("success", r)
    } else if let Some(r) = text.strip_prefix("FAILED su for ") {
        ("failure", r)
    } else if let Some(r) = text.strip_prefix("(to ") {
        // `(to root) alice on pts/0`
        let Some((target, rest)) = r.split_once(") ") else {
            return;
        };
        classify(out, "su", Some("success"), "authentication", &["start"]);
        out.put(ecs::USER_TARGET_NAME, target);
        let (user, tty) = rest.split_once(" on ").unwrap_or((rest, ""));
        out.put(ecs::USER_NAME, user.trim());
        out.put_str("system.auth.su.tty", tty.trim());
        return;
    } else {
        return;
    };
    classify(out, "su", Some(outcome), "authentication", &["start"]);
    let (target, user) = rest.split_once(" by ").unwrap_or((rest, ""));
    out.put(ecs::USER_TARGET_NAME, target.trim());
    out.put(ecs::USER_NAME, user.trim());
}

/// systemd-logind's session lines.
fn logind(text: &str, out: &mut Out<'_>) {
    if let Some(r) = text.strip_prefix("New session ") {
        let Some((id, user)) = r.split_once(" of user ") else {
            return;
        };
        classify(
            out,
            "session_opened",
            Some("success"),
            "session",
            &["start"],
        );
        out.put_str("system.auth.session_id", id.trim());
        out.put(ecs::USER_NAME, user.trim_end_matches('.'));
    } else if let Some(r) = text.strip_prefix("Removed session ") {
        classify(out, "session_closed", Some("success"), "session", &["end"]);
        out.put_str("system.auth.session_id", r.trim_end_matches('.'));
    } else if let Some(r) = text.strip_prefix("Session ")
        && let Some((id, _)) = r.split_once(" logged out")
    {
        classify(out, "logged_out", Some("success"), "session", &["end"]);
        out.put_str("system.auth.session_id", id);
    }
}

/// The shadow tools: account and group changes.
fn shadow(text: &str, out: &mut Out<'_>) {
    if let Some(r) = text.strip_prefix("new user: ") {
        classify(
            out,
            "user_created",
            Some("success"),
            "iam",
            &["user", "creation"],
        );
        for (k, v) in pairs(r) {
            match k {
                "name" => out.put(ecs::USER_NAME, v),
                "UID" => out.put(ecs::USER_ID, v),
                "GID" => out.put(ecs::GROUP_ID, v),
                "home" => out.put_str("system.auth.useradd.home", v),
                "shell" => out.put_str("system.auth.useradd.shell", v),
                other => out.put_str(
                    &format!("system.auth.useradd.{}", other.to_ascii_lowercase()),
                    v,
                ),
            }
        }
    } else if let Some(r) = text
        .strip_prefix("new group: ")
        .or_else(|| text.strip_prefix("group added to /etc/group: "))
    {
        classify(
            out,
            "group_created",
            Some("success"),
            "iam",
            &["group", "creation"],
        );
        for (k, v) in pairs(r) {
            match k {
                "name" => out.put(ecs::GROUP_NAME, v),
                "GID" => out.put(ecs::GROUP_ID, v),
                _ => {}
            }
        }
    } else if let Some(r) = text.strip_prefix("delete user ") {
        classify(
            out,
            "user_deleted",
            Some("success"),
            "iam",
            &["user", "deletion"],
        );
        out.put(ecs::USER_NAME, r.trim_matches(['\'', '`', '"']));
    } else if let Some(r) = text.strip_prefix("group ")
        && let Some(name) = r.strip_suffix(" removed")
    {
        classify(
            out,
            "group_deleted",
            Some("success"),
            "iam",
            &["group", "deletion"],
        );
        out.put(ecs::GROUP_NAME, name.trim_matches(['\'', '`', '"']));
    } else if let Some(r) = text.strip_prefix("password changed for ") {
        classify(
            out,
            "password_changed",
            Some("success"),
            "iam",
            &["user", "change"],
        );
        out.put(ecs::USER_NAME, r.trim());
    }
}

/// `name=bob, UID=1001, …` as pairs.
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split(", ")
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

#[cfg(test)]
mod tests {
    use hark_event::FieldValue;

    use super::*;

    fn parse(app: &str, message: &str) -> (Vec<(String, FieldValue)>, Result<(), Failure>) {
        let mut fields = Vec::new();
        let mut out = Out::new(&mut fields);
        let body = Body {
            message,
            app: Some(app),
            fields: &[],
        };
        let r = LinuxAuth.parse(&body, &mut out);
        (fields, r)
    }

    fn get(f: &[(String, FieldValue)], name: &str) -> Option<String> {
        f.iter().find(|(k, _)| k == name).map(|(_, v)| match v {
            FieldValue::Str(s) => s.clone(),
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn claims_by_program_only() {
        let body = |app| Body {
            message: "x",
            app,
            fields: &[],
        };
        assert!(LinuxAuth.claims(&body(Some("sshd"))));
        assert!(LinuxAuth.claims(&body(Some("su(pam_unix)"))));
        assert!(!LinuxAuth.claims(&body(Some("sshd-keygen"))));
        assert!(!LinuxAuth.claims(&body(Some("cron"))));
        assert!(!LinuxAuth.claims(&body(None)));
    }

    #[test]
    fn publickey_login_with_signature() {
        let (f, r) = parse(
            "sshd",
            "Accepted publickey for alice from 2001:db8::7 port 50022 ssh2: ED25519 SHA256:abc/def",
        );
        assert_eq!(r, Ok(()));
        assert_eq!(
            get(&f, "system.auth.ssh.method").as_deref(),
            Some("publickey")
        );
        assert_eq!(get(&f, "source.ip").as_deref(), Some("2001:db8::7"));
        assert_eq!(
            get(&f, "system.auth.ssh.signature").as_deref(),
            Some("ED25519 SHA256:abc/def")
        );
        assert_eq!(get(&f, "event.outcome").as_deref(), Some("success"));
    }

    #[test]
    fn disconnects_name_the_user() {
        let (f, _) = parse(
            "sshd",
            "Disconnected from invalid user admin 10.0.0.9 port 4242 [preauth]",
        );
        assert_eq!(get(&f, "user.name").as_deref(), Some("admin"));
        assert_eq!(get(&f, "source.port").as_deref(), Some("Int(4242)"));
        let (f, _) = parse("sshd", "Connection closed by 10.0.0.9 port 22 [preauth]");
        assert_eq!(get(&f, "source.ip").as_deref(), Some("10.0.0.9"));
        assert_eq!(get(&f, "user.name"), None);
    }

    #[test]
    fn truncated_login_fails_but_unknown_lines_do_not() {
        let (_, r) = parse("sshd", "Accepted password");
        assert_eq!(r.unwrap_err().reason, "<method> for <user>");
        let (f, r) = parse("sshd", "Server listening on 0.0.0.0 port 22.");
        assert_eq!(r, Ok(()));
        assert_eq!(f.len(), 1);
        let (_, r) = parse("sshd", "Failed password for root");
        assert!(r.is_err());
    }

    #[test]
    fn sudo_command_with_semicolons_and_missing_command() {
        let (f, r) = parse(
            "sudo",
            "bob : TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh -c 'a ; b'",
        );
        assert_eq!(r, Ok(()));
        assert_eq!(
            get(&f, "process.command_line").as_deref(),
            Some("/bin/sh -c 'a ; b'")
        );
        let (_, r) = parse("sudo", "bob : TTY=pts/1 ; PWD=/tmp");
        assert!(r.is_err());
    }

    #[test]
    fn su_logind_and_shadow_tools() {
        let (f, _) = parse("su", "(to root) alice on pts/0");
        assert_eq!(get(&f, "user.target.name").as_deref(), Some("root"));
        assert_eq!(get(&f, "user.name").as_deref(), Some("alice"));
        let (f, _) = parse("su", "FAILED su for root by mallory");
        assert_eq!(get(&f, "event.outcome").as_deref(), Some("failure"));
        let (f, _) = parse("systemd-logind", "New session 42 of user bob.");
        assert_eq!(get(&f, "user.name").as_deref(), Some("bob"));
        assert_eq!(get(&f, "system.auth.session_id").as_deref(), Some("42"));
        let (f, _) = parse(
            "systemd-logind",
            "Session 42 logged out. Waiting for processes to exit.",
        );
        assert_eq!(get(&f, "event.action").as_deref(), Some("logged_out"));
        let (f, _) = parse(
            "useradd",
            "new user: name=svc, UID=998, GID=996, home=/home/svc, shell=/bin/false, from=none",
        );
        assert_eq!(get(&f, "user.id").as_deref(), Some("998"));
        assert_eq!(get(&f, "group.id").as_deref(), Some("996"));
        assert_eq!(get(&f, "system.auth.useradd.from").as_deref(), Some("none"));
        let (f, _) = parse("userdel", "delete user 'svc'");
        assert_eq!(get(&f, "user.name").as_deref(), Some("svc"));
        let (f, _) = parse("groupdel", "group 'svc' removed");
        assert_eq!(get(&f, "group.name").as_deref(), Some("svc"));
        let (f, _) = parse(
            "passwd",
            "pam_unix(passwd:chauthtok): password changed for bob",
        );
        assert_eq!(get(&f, "event.action").as_deref(), Some("password_changed"));
    }

    #[test]
    fn odd_input_never_panics() {
        for app in PROGRAMS {
            for msg in [
                "",
                " : ",
                "pam_unix(",
                "pam_unix(x): ",
                "Accepted  for  from ",
                "Disconnected from user",
                "(to ",
                "New session ",
                "Session  logged out",
                "new user: =,=",
                "é : é ; COMMAND=é",
            ] {
                let _ = parse(app, msg);
            }
        }
    }
}
