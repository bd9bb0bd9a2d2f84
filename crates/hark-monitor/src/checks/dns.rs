//! `type = "dns"`: one query to one server, judged on the response code,
//! the answers and the response time.
//!
//! The query is built and the response parsed with `hickory-proto`, and
//! sent over UDP by this module (retransmitted each second, over TCP when
//! the answer is truncated). A resolver library is not used for the query
//! itself: it would hide the real response code behind errors, retry other
//! servers and cache, while a DNS check must see exactly what the one server
//! (`server`, or the first name server of `/etc/resolv.conf`) answers —
//! including an expected NXDOMAIN.
//!
//! Answers are compared in a text form: A/AAAA as addresses (so `::1` and
//! `0:0:0:0:0:0:0:1` are equal), CNAME/NS/PTR names without the trailing dot
//! and case-insensitively, MX as `preference host`, TXT as its strings
//! joined without separator, SOA/SRV in their zone-file form. A NOERROR
//! answer without records (NODATA) is CRIT when NOERROR is expected.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hark_config::monitor::{DnsCheck, DnsRcode, DnsRecordType};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::outcome::{CheckOutcome, Status};

use super::context::CheckContext;
use super::findings::Findings;
use super::format;
use super::progress::{Phase, Progress};

/// The record type asked for, in hickory's terms.
fn record_type(t: DnsRecordType) -> RecordType {
    match t {
        DnsRecordType::A => RecordType::A,
        DnsRecordType::Aaaa => RecordType::AAAA,
        DnsRecordType::Cname => RecordType::CNAME,
        DnsRecordType::Mx => RecordType::MX,
        DnsRecordType::Ns => RecordType::NS,
        DnsRecordType::Ptr => RecordType::PTR,
        DnsRecordType::Soa => RecordType::SOA,
        DnsRecordType::Srv => RecordType::SRV,
        DnsRecordType::Txt => RecordType::TXT,
    }
}

/// Time between UDP retransmissions.
const RETRANSMIT: Duration = Duration::from_secs(1);

/// Runs a DNS check.
pub(crate) async fn check(c: &DnsCheck, ctx: &CheckContext, progress: &Progress) -> CheckOutcome {
    let server = match c.server {
        Some(a) => a,
        None => match ctx.resolver.system_servers().first() {
            Some(a) => *a,
            None => {
                return CheckOutcome::new(
                    Status::Unknown,
                    "no DNS server to ask: set server, or a nameserver in /etc/resolv.conf",
                );
            }
        },
    };
    let rtype = record_type(c.record_type);
    let qname = match Name::from_utf8(&c.name) {
        Ok(mut n) => {
            // The name is asked as written: fully qualified, no search list.
            n.set_fqdn(true);
            n
        }
        Err(e) => {
            return CheckOutcome::new(Status::Unknown, format!("invalid name {:?}: {e}", c.name));
        }
    };
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(qname.clone(), rtype));
    let wire = match query.to_vec() {
        Ok(w) => w,
        Err(e) => {
            return CheckOutcome::new(Status::Unknown, format!("cannot encode the query: {e}"));
        }
    };
    progress.set(Phase::WaitingResponse);
    let started = Instant::now();
    let response = match exchange(&wire, &query, server).await {
        Ok(r) => r,
        Err(e) => return CheckOutcome::new(Status::Crit, e),
    };
    let took = started.elapsed();
    judge(c, rtype, server, &response, took)
}

/// Sends the query over UDP (again each second) and returns the matching
/// response; asks again over TCP when it comes back truncated.
async fn exchange(wire: &[u8], query: &Message, server: SocketAddr) -> Result<Message, String> {
    let socket = super::net::udp_to(server)
        .await
        .map_err(|(step, e)| match step {
            "open" => format!("cannot open a UDP socket: {e}"),
            _ => format!("cannot reach {server}: {e}"),
        })?;
    let mut buf = vec![0u8; 4096];
    loop {
        socket
            .send(wire)
            .await
            .map_err(|e| format!("cannot send the query to {server}: {e}"))?;
        let resend_at = Instant::now() + RETRANSMIT;
        loop {
            let n = match tokio::time::timeout_at(resend_at, socket.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(n)) => n,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(format!(
                        "DNS server {server} refused the query (port closed)"
                    ));
                }
                Ok(Err(e)) => return Err(format!("reading the answer from {server} failed: {e}")),
            };
            let Some(response) = buf.get(..n).and_then(|b| Message::from_vec(b).ok()) else {
                continue;
            };
            if !answers(query, &response) {
                continue;
            }
            if response.metadata.truncation {
                return exchange_tcp(wire, query, server).await;
            }
            return Ok(response);
        }
    }
}

/// Whether `response` answers `query` (id, response flag and question).
fn answers(query: &Message, response: &Message) -> bool {
    response.metadata.id == query.metadata.id
        && response.metadata.message_type == MessageType::Response
        && response.metadata.op_code == OpCode::Query
        && match (query.queries.first(), response.queries.first()) {
            (Some(q), Some(r)) => {
                q.query_type == r.query_type && q.name.eq_ignore_root_case(&r.name)
            }
            // Some servers leave the question out of error responses.
            (Some(_), None) => response.metadata.response_code != ResponseCode::NoError,
            _ => false,
        }
}

async fn exchange_tcp(wire: &[u8], query: &Message, server: SocketAddr) -> Result<Message, String> {
    let mut stream = TcpStream::connect(server)
        .await
        .map_err(|e| format!("answer truncated over UDP, and TCP to {server} failed: {e}"))?;
    let len = u16::try_from(wire.len()).map_err(|_| "query too long".to_owned())?;
    let mut framed = Vec::with_capacity(wire.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(wire);
    stream
        .write_all(&framed)
        .await
        .map_err(|e| format!("sending the query over TCP to {server} failed: {e}"))?;
    let mut len = [0u8; 2];
    stream
        .read_exact(&mut len)
        .await
        .map_err(|e| format!("reading the TCP answer from {server} failed: {e}"))?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("reading the TCP answer from {server} failed: {e}"))?;
    let response =
        Message::from_vec(&body).map_err(|e| format!("malformed TCP answer from {server}: {e}"))?;
    if answers(query, &response) {
        Ok(response)
    } else {
        Err(format!("{server} answered another question over TCP"))
    }
}

/// The name of a response code as written in configurations: `NXDOMAIN`.
fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// A name as compared: lower case, no trailing dot.
fn name_text(n: &Name) -> String {
    n.to_utf8().trim_end_matches('.').to_ascii_lowercase()
}

/// The text form of an answer record (see the module documentation).
fn rdata_text(data: &RData) -> String {
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(n) => name_text(&n.0),
        RData::NS(n) => name_text(&n.0),
        RData::PTR(n) => name_text(&n.0),
        RData::MX(mx) => format!("{} {}", mx.preference, name_text(&mx.exchange)),
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect::<Vec<_>>()
            .concat(),
        other => other.to_string().trim_end_matches('.').to_owned(),
    }
}

/// An expected answer brought to the same form as [`rdata_text`].
fn normalise_expected(expected: &str, rtype: RecordType) -> String {
    let e = expected.trim();
    match rtype {
        RecordType::A | RecordType::AAAA => e
            .parse::<IpAddr>()
            .map_or_else(|_| e.to_owned(), |ip| ip.to_string()),
        RecordType::CNAME | RecordType::NS | RecordType::PTR => {
            e.trim_end_matches('.').to_ascii_lowercase()
        }
        RecordType::MX => {
            let mut parts = e.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(pref), Some(host), None) => {
                    format!("{pref} {}", host.trim_end_matches('.').to_ascii_lowercase())
                }
                _ => e.to_ascii_lowercase(),
            }
        }
        RecordType::TXT => e.to_owned(),
        _ => e.trim_end_matches('.').to_owned(),
    }
}

fn judge(
    c: &DnsCheck,
    rtype: RecordType,
    server: SocketAddr,
    response: &Message,
    took: Duration,
) -> CheckOutcome {
    let mut f = Findings::new();
    let rcode = rcode_name(response.metadata.response_code);
    let texts: Vec<String> = response
        .answers
        .iter()
        .map(|r| rdata_text(&r.data))
        .collect();
    let of_type = response
        .answers
        .iter()
        .filter(|r| r.record_type() == rtype)
        .count();
    let question = format!("DNS {} {}", c.record_type, c.name);
    if rcode != c.expect_rcode.name() {
        f.problem(
            Status::Crit,
            format!("{question}: {rcode}, expected {}", c.expect_rcode),
        );
    } else if c.expect_rcode == DnsRcode::NoError {
        if of_type == 0 {
            f.problem(
                Status::Crit,
                format!("{question}: no {} records (NODATA)", c.record_type),
            );
        }
        for expected in &c.expect_answers {
            let want = normalise_expected(expected, rtype);
            if !texts.contains(&want) {
                f.problem(
                    Status::Crit,
                    format!("{question}: {expected} is not among the answers"),
                );
            }
        }
        if let Some(re) = &c.expect_regex
            && !texts.iter().any(|t| re.is_match(t))
        {
            f.problem(
                Status::Crit,
                format!("{question}: no answer matches /{re}/"),
            );
        }
    }
    f.time_limits("time", "response time", took, c.warn_time, c.crit_time);
    let shown = if texts.is_empty() {
        "no answers".to_owned()
    } else {
        let mut list: Vec<String> = texts.iter().take(5).cloned().collect();
        if texts.len() > 5 {
            list.push(format!("{} more", texts.len() - 5));
        }
        format!("answers {}", list.join(", "))
    };
    let summary = format!(
        "{question}: {rcode}, {shown} from {server} in {}",
        format::elapsed(took)
    );
    if f.status() == Status::Ok {
        f.note(summary);
    } else {
        // The problems already name the question; keep the rest short.
        f.note(format!(
            "{shown} from {server} in {}",
            format::elapsed(took)
        ));
    }
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, TXT};

    #[test]
    fn answer_texts_and_expectations_meet() {
        let n = |s: &str| Name::from_utf8(s).unwrap();
        assert_eq!(rdata_text(&RData::A(A::new(192, 0, 2, 10))), "192.0.2.10");
        assert_eq!(
            rdata_text(&RData::AAAA(AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
            "2001:db8::1"
        );
        assert_eq!(
            normalise_expected("2001:0db8:0:0:0:0:0:1", RecordType::AAAA),
            "2001:db8::1"
        );
        assert_eq!(
            rdata_text(&RData::CNAME(CNAME(n("Web.Hark.Test.")))),
            "web.hark.test"
        );
        assert_eq!(
            normalise_expected("web.hark.test.", RecordType::CNAME),
            "web.hark.test"
        );
        assert_eq!(
            rdata_text(&RData::MX(MX::new(10, n("mail.hark.test.")))),
            "10 mail.hark.test"
        );
        assert_eq!(
            normalise_expected(" 10  Mail.hark.test. ", RecordType::MX),
            "10 mail.hark.test"
        );
        assert_eq!(
            rdata_text(&RData::TXT(TXT::new(vec!["v=spf1 ".into(), "-all".into()]))),
            "v=spf1 -all"
        );
        assert_eq!(rcode_name(ResponseCode::NXDomain), "NXDOMAIN");
        assert_eq!(rcode_name(<ResponseCode as From<u16>>::from(11)), "RCODE11");
    }

    #[test]
    fn responses_must_answer_the_question() {
        let mut q = Message::query();
        q.add_query(Query::query(
            Name::from_utf8("a.test.").unwrap(),
            RecordType::A,
        ));
        let mut r = Message::response(q.metadata.id, OpCode::Query);
        r.add_query(Query::query(
            Name::from_utf8("A.TEST.").unwrap(),
            RecordType::A,
        ));
        assert!(answers(&q, &r));
        r.metadata.id = r.metadata.id.wrapping_add(1);
        assert!(!answers(&q, &r));
        let mut other = Message::response(q.metadata.id, OpCode::Query);
        other.add_query(Query::query(
            Name::from_utf8("b.test.").unwrap(),
            RecordType::A,
        ));
        assert!(!answers(&q, &other));
    }
}
