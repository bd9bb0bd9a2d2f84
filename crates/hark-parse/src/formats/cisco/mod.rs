//! Cisco ASA and Firepower Threat Defense (FTD) syslog messages:
//! `%ASA-6-302013: Built outbound TCP connection …` and `%FTD-…`.
//!
//! The message code is found wherever syslog parsing left it: at the
//! front of the message (`%ASA-6-302013: Built …`, the usual case, with
//! the app set to `ASA`), after a timestamp or host the header parser did
//! not take (`Jul 23 2025 23:59:09: %ASA-…`, looked for in the first 128
//! bytes), or as the application name itself (app `%ASA-6-302013`, text
//! `Built …`). Every message gets `event.code` and `<prefix>.message_id`
//! (the six-digit id), `event.severity` (the level digit), `observer.*`
//! and `event.dataset` (`cisco.asa` or `cisco.ftd`; the prefix follows:
//! `cisco.asa.*` or `cisco.ftd.*`). The families in the submodules read
//! the fields of the common ids; any other id keeps just those fields and
//! its text, which is not an error.
//!
//! | ids | module | what |
//! |---|---|---|
//! | 302013–302016 | [`connection`] | connection built / torn down |
//! | 305011, 305012 | [`connection`] | NAT translation built / torn down |
//! | 106001, 106006, 106015, 106023, 106100 | [`deny`] | denied packets, ACL hits |
//! | 113004, 113005, 113019, 611101, 605004, 605005, 722022, 722023 | [`auth`] | AAA, logins, VPN sessions |
//! | 733100 | [`threat`] | threat-detection drop rate |
//! | 430002, 430003 | [`event`] | FTD connection events (`Key: Value` lists) |

mod auth;
mod connection;
mod deny;
mod event;
mod text;
mod threat;

use std::net::IpAddr;

use crate::{Body, Failure, Format, Out, ecs};

use text::Endpoint;

/// How far into the message the `%ASA-` code is looked for.
const CODE_WINDOW: usize = 128;

/// Cisco ASA and FTD messages.
pub struct Cisco;

impl Format for Cisco {
    fn name(&self) -> &'static str {
        "cisco"
    }

    fn claims(&self, body: &Body<'_>) -> bool {
        body.app.is_some_and(|app| product_of(app).is_some()) || code_start(body.message).is_some()
    }

    fn parse(&self, body: &Body<'_>, out: &mut Out<'_>) -> Result<(), Failure> {
        let (code, text) = match code_start(body.message) {
            Some(at) => {
                let (code, len) = Code::read(&body.message[at..])
                    .ok_or_else(|| Failure::new(at, "a message code %ASA-<level>-<id>"))?;
                (code, body.message[at + len..].trim_start())
            }
            None => {
                let app = body.app.unwrap_or_default();
                let (code, _) = Code::read(app)
                    .ok_or_else(|| Failure::new(0, "a message code %ASA-<level>-<id>"))?;
                (code, body.message.trim_start())
            }
        };
        let text_at = body.message.len() - text.len();
        let mut w = Writer {
            out,
            prefix: code.product.prefix(),
        };
        w.common(&code);
        let result = match code.id {
            "302013" | "302015" => connection::built(&mut w, text),
            "302014" | "302016" => connection::teardown(&mut w, text),
            "305011" => connection::translation_built(&mut w, text),
            "305012" => connection::translation_teardown(&mut w, text),
            "106001" | "106006" | "106015" => deny::packet(&mut w, text),
            "106023" => deny::access_group(&mut w, text),
            "106100" => deny::access_list(&mut w, text),
            "113004" | "113005" => auth::aaa(&mut w, code.id, text),
            "113019" => auth::vpn_disconnected(&mut w, text),
            "722022" | "722023" => auth::svc(&mut w, code.id, text),
            "611101" => auth::vpn_client_login(&mut w, text),
            "605004" | "605005" => auth::device_login(&mut w, code.id, text),
            "733100" => threat::burst(&mut w, text),
            "430002" | "430003" => event::connection(&mut w, code.id, text),
            _ => Ok(()),
        };
        result.map_err(|(offset, reason)| Failure::new(text_at + offset, reason))
    }
}

/// Where the family reader stopped: the byte offset in its text and what it expected.
type ReadError = (usize, &'static str);

/// Which of the two products logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Asa,
    Ftd,
}

impl Product {
    /// The vendor prefix and `event.dataset`.
    fn prefix(self) -> &'static str {
        match self {
            Product::Asa => "cisco.asa",
            Product::Ftd => "cisco.ftd",
        }
    }

    /// `observer.product`.
    fn name(self) -> &'static str {
        match self {
            Product::Asa => "asa",
            Product::Ftd => "ftd",
        }
    }
}

/// `%ASA-[suffix-]level-id[:]`: the parts of a message code.
struct Code<'a> {
    product: Product,
    suffix: Option<&'a str>,
    level: u8,
    id: &'a str,
}

impl<'a> Code<'a> {
    /// Reads the code at the front of `text`; the code and the bytes it
    /// took, including a colon after it.
    fn read(text: &'a str) -> Option<(Code<'a>, usize)> {
        let product = product_of(text)?;
        let body = &text[5..];
        let len = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .count();
        let mut parts = body[..len].rsplitn(3, '-');
        let id = parts.next()?;
        let level = parts.next()?;
        let suffix = parts.next();
        let level = match level.as_bytes() {
            [d @ b'0'..=b'7'] => d - b'0',
            _ => return None,
        };
        if id.len() < 6 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut taken = 5 + len;
        if body[len..].starts_with(':') {
            taken += 1;
        }
        Some((
            Code {
                product,
                suffix,
                level,
                id,
            },
            taken,
        ))
    }
}

/// The product whose code `text` starts with.
fn product_of(text: &str) -> Option<Product> {
    let head = text.as_bytes().get(..5)?;
    if head.eq_ignore_ascii_case(b"%ASA-") {
        Some(Product::Asa)
    } else if head.eq_ignore_ascii_case(b"%FTD-") {
        Some(Product::Ftd)
    } else {
        None
    }
}

/// Where a message code starts in the first bytes of `message`.
fn code_start(message: &str) -> Option<usize> {
    let window = &message.as_bytes()[..message.len().min(CODE_WINDOW)];
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'%', &window[from..]) {
        let at = from + i;
        if product_of(&message[at..]).is_some()
            && window.get(at + 5).is_some_and(u8::is_ascii_alphanumeric)
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Writes one message's fields under ECS names and the product's prefix.
struct Writer<'o, 'a> {
    out: &'o mut Out<'a>,
    prefix: &'static str,
}

impl Writer<'_, '_> {
    /// The fields every message gets.
    fn common(&mut self, code: &Code<'_>) {
        self.out.put(ecs::EVENT_CODE, code.id);
        self.vendor("message_id", code.id);
        if let Some(suffix) = code.suffix {
            self.vendor("suffix", suffix);
        }
        self.out.put_int(ecs::EVENT_SEVERITY, i64::from(code.level));
        self.out.put(ecs::OBSERVER_VENDOR, "Cisco");
        self.out.put(ecs::OBSERVER_PRODUCT, code.product.name());
        self.out.put(ecs::OBSERVER_TYPE, "firewall");
        self.out.put(ecs::EVENT_DATASET, self.prefix);
    }

    /// A field under the product's prefix, as text.
    fn vendor(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.out.put_str(&format!("{}.{key}", self.prefix), value);
        }
    }

    /// A number under the product's prefix; text when it is not one.
    fn vendor_int(&mut self, key: &str, value: &str) {
        match value.parse::<i64>() {
            Ok(n) => self.out.put_int(&format!("{}.{key}", self.prefix), n),
            Err(_) => self.vendor(key, value),
        }
    }

    /// `event.action`, `event.outcome`, one category and its types.
    fn classify(&mut self, action: &str, outcome: Option<&str>, category: &str, types: &[&str]) {
        self.out.put(ecs::EVENT_ACTION, action);
        if let Some(outcome) = outcome {
            self.out.put(ecs::EVENT_OUTCOME, outcome);
        }
        self.out.put(ecs::EVENT_CATEGORY, category);
        for t in types {
            self.out.put(ecs::EVENT_TYPE, t);
        }
    }

    /// `network.transport`, lower case.
    fn transport(&mut self, protocol: &str) {
        self.out
            .put(ecs::NETWORK_TRANSPORT, &protocol.to_ascii_lowercase());
    }

    /// An address under an ECS IP field and `related.ip`; a name the ASA
    /// wrote instead of an address goes under `<prefix>.<host_key>`.
    fn address(&mut self, field: &str, host_key: &str, value: &str) {
        if value.parse::<IpAddr>().is_ok() {
            self.out.put(field, value);
            self.out.put(ecs::RELATED_IP, value);
        } else {
            self.vendor(host_key, value);
        }
    }

    /// A port: a number under `field`, a service name (`ssh`) as
    /// `network.protocol`.
    fn port(&mut self, field: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        if value.bytes().all(|b| b.is_ascii_digit()) {
            self.out.put(field, value);
        } else {
            self.out
                .put(ecs::NETWORK_PROTOCOL, &value.to_ascii_lowercase());
        }
    }

    /// The source side of a flow: address, port, NAT, ingress interface, user.
    fn source(&mut self, ep: &Endpoint<'_>) {
        self.address(ecs::SOURCE_IP, "source_host", ep.address);
        self.port(ecs::SOURCE_PORT, ep.port);
        self.nat(
            ecs::SOURCE_NAT_IP,
            ecs::SOURCE_NAT_PORT,
            "mapped_source_host",
            ep,
        );
        self.out
            .put(ecs::OBSERVER_INGRESS_INTERFACE_NAME, ep.interface);
        self.out.put(ecs::SOURCE_USER_NAME, ep.user);
    }

    /// The destination side of a flow.
    fn destination(&mut self, ep: &Endpoint<'_>) {
        self.address(ecs::DESTINATION_IP, "destination_host", ep.address);
        self.port(ecs::DESTINATION_PORT, ep.port);
        self.nat(
            ecs::DESTINATION_NAT_IP,
            ecs::DESTINATION_NAT_PORT,
            "mapped_destination_host",
            ep,
        );
        self.out
            .put(ecs::OBSERVER_EGRESS_INTERFACE_NAME, ep.interface);
        self.vendor("destination_username", ep.user);
    }

    /// The mapped (NAT) address of `ep`, written only when NAT changed it.
    fn nat(&mut self, ip_field: &str, port_field: &str, host_key: &str, ep: &Endpoint<'_>) {
        if ep.mapped_address.is_empty()
            || (ep.mapped_address == ep.address && ep.mapped_port == ep.port)
        {
            return;
        }
        self.address(ip_field, host_key, ep.mapped_address);
        self.port(port_field, ep.mapped_port);
    }

    /// `event.duration` from `h:mm:ss`; the text under the prefix when it
    /// does not read.
    fn duration(&mut self, value: &str) {
        match text::duration_ns(value) {
            Some(ns) => self.out.put_int(ecs::EVENT_DURATION, ns),
            None => self.vendor("duration", value),
        }
    }
}

#[cfg(test)]
mod tests;
