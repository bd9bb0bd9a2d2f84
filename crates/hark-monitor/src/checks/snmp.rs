//! `type = "snmp"`: one SNMP GET (v1 or v2c) of all the monitor's OIDs,
//! each judged on its own.
//!
//! The GetRequest is encoded and the response decoded by `hark-proto`'s
//! SNMP codec, the one the trap listener uses. The request is sent again each second with
//! the same request id until the agent answers or the monitor's timeout
//! ends the check (CRIT: no answer usually means a wrong community, version
//! or address).
//!
//! Per OID: a numeric value (times `scale`) against `warn`/`crit` (Nagios
//! ranges), `expect` as a substring of the text value, and with `rate` the
//! per-second rate between this poll and the previous one, kept in the
//! context by (monitor, OID). The first poll of a rate says "waiting for a
//! second sample" (OK). Counter32 wraps are undone; a Counter64 going
//! backwards is a reset and starts over. noSuchObject, noSuchInstance,
//! endOfMibView and v1 noSuchName are UNKNOWN naming the OID.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hark_config::monitor::{SnmpCheck, SnmpOid, SnmpVersion};
use hark_proto::snmp::{self as wire, Message, Oid, PduKind};
use tokio::time::Instant;

use crate::outcome::{CheckOutcome, Perf, Status};

use super::context::CheckContext;
use super::findings::Findings;
use super::format;
use super::progress::{Phase, Progress};

/// Time between retransmissions of the request.
const RETRANSMIT: Duration = Duration::from_secs(1);

/// Runs an SNMP check for monitor `name`.
pub(crate) async fn check(
    name: &str,
    c: &SnmpCheck,
    ctx: &CheckContext,
    progress: &Progress,
) -> CheckOutcome {
    let oids: Vec<Oid> = c.oids.iter().map(|o| o.oid.clone()).collect();
    progress.set(Phase::Resolving);
    let ip = match ctx.resolver.lookup(&c.host).await {
        Ok(a) => a[0],
        Err(e) => return CheckOutcome::new(Status::Crit, e),
    };
    let agent = SocketAddr::new(ip, c.port);
    let version = match c.version {
        SnmpVersion::V1 => wire::Version::V1,
        SnmpVersion::V2c => wire::Version::V2c,
    };
    let req_id = i64::from(rand::random::<i32>() & 0x7fff_ffff);
    let request =
        Message::get_request(version, c.community.as_bytes(), req_id, oids.clone()).encode();
    progress.set(Phase::WaitingAgent);
    let started = Instant::now();
    let datagram = match exchange(&request, agent, req_id, version).await {
        Ok(d) => d,
        Err((status, e)) => return CheckOutcome::new(status, e),
    };
    let took = started.elapsed();
    let polled_at = Instant::now();
    let values = match decode_response(&datagram, version, req_id, &oids) {
        Ok(v) => v,
        Err(Problem::Agent(e)) => {
            return CheckOutcome::new(Status::Unknown, format!("SNMP agent {agent}: {e}"));
        }
        Err(Problem::NoSuchName(i)) => {
            let o = &c.oids[i];
            return CheckOutcome::new(
                Status::Unknown,
                format!("{}: no such name on agent {agent}", describe_oid(o)),
            );
        }
    };
    let mut f = Findings::new();
    let mut parts = Vec::with_capacity(c.oids.len());
    for (o, value) in c.oids.iter().zip(values) {
        judge_oid(name, o, value, polled_at, ctx, &mut f, &mut parts);
    }
    f.perf(Perf::seconds("time", took));
    let summary = if parts.is_empty() {
        format!("SNMP {agent} answered in {}", format::elapsed(took))
    } else {
        parts.join(", ")
    };
    f.note(summary);
    f.finish()
}

fn describe_oid(o: &SnmpOid) -> String {
    match &o.label {
        Some(l) => format!("{l} ({})", o.oid),
        None => o.oid.to_string(),
    }
}

// --- The exchange -------------------------------------------------------------

/// Sends the request each second until a response with `req_id` arrives.
async fn exchange(
    request: &[u8],
    agent: SocketAddr,
    req_id: i64,
    version: wire::Version,
) -> Result<Vec<u8>, (Status, String)> {
    let socket = super::net::udp_to(agent)
        .await
        .map_err(|(step, e)| match step {
            "open" => (Status::Unknown, format!("cannot open a UDP socket: {e}")),
            _ => (
                Status::Crit,
                format!("cannot reach SNMP agent {agent}: {e}"),
            ),
        })?;
    let mut buf = vec![0u8; 65_536];
    loop {
        socket.send(request).await.map_err(|e| {
            (
                Status::Crit,
                format!("cannot send to SNMP agent {agent}: {e}"),
            )
        })?;
        let resend_at = Instant::now() + RETRANSMIT;
        loop {
            let n = match tokio::time::timeout_at(resend_at, socket.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Ok(n)) => n,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err((
                        Status::Crit,
                        format!("SNMP agent {agent} refused the request (port closed)"),
                    ));
                }
                Ok(Err(e)) => {
                    return Err((Status::Crit, format!("reading from {agent} failed: {e}")));
                }
            };
            let datagram = &buf[..n];
            match response_id(datagram, version) {
                Ok(id) if id == req_id => return Ok(datagram.to_vec()),
                // A late answer to an earlier request: keep waiting.
                Ok(_) => continue,
                Err(e) => {
                    return Err((
                        Status::Unknown,
                        format!("malformed SNMP response from {agent}: {e}"),
                    ));
                }
            }
        }
    }
}

/// The message, which must be of the request's version.
fn parse(datagram: &[u8], version: wire::Version) -> Result<Message, String> {
    let msg = Message::decode(datagram).map_err(|e| e.to_string())?;
    if msg.version != version {
        return Err(format!(
            "an SNMP {} message answers an SNMP {version} request",
            msg.version
        ));
    }
    Ok(msg)
}

/// The request id of a Response PDU.
fn response_id(datagram: &[u8], version: wire::Version) -> Result<i64, String> {
    let msg = parse(datagram, version)?;
    match msg.pdu.kind {
        PduKind::Response => Ok(msg.pdu.request_id),
        other => Err(format!("expected a Response PDU, got {other:?}")),
    }
}

/// A value as received.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Integer(i64),
    Counter32(u32),
    Counter64(u64),
    Gauge(u32),
    TimeTicks(u32),
    Text(String),
    /// noSuchObject and friends: why there is no value.
    Missing(&'static str),
}

impl Value {
    /// The value as a number: numeric types, and text that is a number
    /// (some agents report loads as `"0.15"`).
    fn number(&self) -> Option<f64> {
        match self {
            Value::Integer(v) => Some(*v as f64),
            Value::Counter32(v) | Value::Gauge(v) | Value::TimeTicks(v) => Some(f64::from(*v)),
            Value::Counter64(v) => Some(*v as f64),
            Value::Text(t) => t.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
            Value::Missing(_) => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Integer(v) => v.to_string(),
            Value::Counter32(v) | Value::Gauge(v) | Value::TimeTicks(v) => v.to_string(),
            Value::Counter64(v) => v.to_string(),
            Value::Text(t) => t.clone(),
            Value::Missing(m) => (*m).to_owned(),
        }
    }
}

/// Why a response cannot be judged OID by OID.
#[derive(Debug, PartialEq)]
enum Problem {
    /// An error status for the whole request.
    Agent(String),
    /// SNMPv1 noSuchName for the OID at this index.
    NoSuchName(usize),
}

fn text_of(bytes: &[u8]) -> String {
    let printable = std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t')
    });
    if printable {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// A varbind value as the check judges it.
fn value_of(v: wire::Value) -> Value {
    use wire::Value as W;
    match v {
        W::NoSuchObject => Value::Missing("no such object"),
        W::NoSuchInstance => Value::Missing("no such instance"),
        W::EndOfMibView => Value::Missing("end of MIB view"),
        W::Null => Value::Missing("no value (NULL)"),
        W::Int(n) => Value::Integer(n),
        W::OctetString(s) | W::Opaque(s) => Value::Text(text_of(&s)),
        W::Oid(o) => Value::Text(o.to_string()),
        W::IpAddr(ip) => Value::Text(ip.to_string()),
        W::Counter32(c) => Value::Counter32(c),
        W::Gauge32(g) => Value::Gauge(g),
        W::TimeTicks(t) => Value::TimeTicks(t),
        W::Counter64(c) => Value::Counter64(c),
        // NsapAddress.
        W::Other {
            tag: 0x45,
            contents,
        } => Value::Text(text_of(&contents)),
        // UInteger32, an SNMPv1 leftover that reads as a Gauge32.
        W::Other {
            tag: 0x47,
            contents,
        } => match contents.iter().skip_while(|&&b| b == 0).count() {
            0..=4 => Value::Gauge(contents.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b))),
            _ => Value::Missing("a value of an unknown type"),
        },
        // BIT STRING: the first byte counts the unused bits.
        W::Other {
            tag: 0x03,
            contents,
        } => Value::Text(text_of(contents.get(1..).unwrap_or_default())),
        W::Other { .. } => Value::Missing("a value of an unknown type"),
    }
}

/// The values of `oids`, in their order, from a Response datagram.
fn decode_response(
    datagram: &[u8],
    version: wire::Version,
    req_id: i64,
    oids: &[Oid],
) -> Result<Vec<Value>, Problem> {
    let msg = parse(datagram, version).map_err(Problem::Agent)?;
    let pdu = msg.pdu;
    if pdu.kind != PduKind::Response {
        return Err(Problem::Agent("not a Response PDU".into()));
    }
    if pdu.request_id != req_id {
        return Err(Problem::Agent("response to another request".into()));
    }
    match pdu.error_status {
        0 => {}
        2 => {
            let i = usize::try_from(pdu.error_index).unwrap_or(0);
            if (1..=oids.len()).contains(&i) {
                return Err(Problem::NoSuchName(i - 1));
            }
            return Err(Problem::Agent("noSuchName".into()));
        }
        n => {
            let name = match n {
                1 => "tooBig (ask for fewer OIDs per monitor)".to_owned(),
                3 => "badValue".to_owned(),
                4 => "readOnly".to_owned(),
                5 => "genErr".to_owned(),
                6 => "noAccess".to_owned(),
                n => format!("error status {n}"),
            };
            return Err(Problem::Agent(format!(
                "{name} (error index {})",
                pdu.error_index
            )));
        }
    }
    let mut received: Vec<(Oid, Value)> = pdu
        .varbinds
        .into_iter()
        .map(|vb| (vb.oid, value_of(vb.value)))
        .collect();
    // Agents answer in request order; match by OID anyway.
    let mut out = Vec::with_capacity(oids.len());
    for (i, want) in oids.iter().enumerate() {
        let pos = if received.get(i).is_some_and(|(a, _)| a == want) {
            Some(i)
        } else {
            received.iter().position(|(a, _)| a == want)
        };
        match pos {
            Some(p) => out.push(std::mem::replace(
                &mut received[p].1,
                Value::Missing("taken"),
            )),
            None => out.push(Value::Missing("missing from the response")),
        }
    }
    Ok(out)
}

// --- Rates ------------------------------------------------------------------

/// The last counter sample of each (monitor, OID), for rates.
#[derive(Default)]
pub(crate) struct CounterMemory {
    samples: Mutex<HashMap<String, HashMap<String, Sample>>>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    value: Value64,
    at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Value64 {
    Counter32(u32),
    Counter64(u64),
    Other(f64),
}

/// What a new sample makes of the rate.
#[derive(Debug, PartialEq)]
enum Rate {
    /// No earlier sample (or one of another type, or at the same instant).
    First,
    /// A Counter64 went backwards: the device restarted its counter.
    Reset,
    /// Units per second.
    PerSecond(f64),
}

impl CounterMemory {
    /// Stores `value` for (monitor, oid) and compares it with the previous sample.
    fn update(&self, monitor: &str, oid: &str, value: Value64, at: Instant) -> Rate {
        let mut all = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let per_monitor = match all.get_mut(monitor) {
            Some(m) => m,
            None => all.entry(monitor.to_owned()).or_default(),
        };
        let new = Sample { value, at };
        let previous = match per_monitor.get_mut(oid) {
            Some(slot) => std::mem::replace(slot, new),
            None => {
                per_monitor.insert(oid.to_owned(), new);
                return Rate::First;
            }
        };
        let secs = at.saturating_duration_since(previous.at).as_secs_f64();
        if secs <= 0.0 {
            return Rate::First;
        }
        match (previous.value, value) {
            (Value64::Counter32(a), Value64::Counter32(b)) => {
                Rate::PerSecond(f64::from(b.wrapping_sub(a)) / secs)
            }
            (Value64::Counter64(a), Value64::Counter64(b)) if b < a => Rate::Reset,
            (Value64::Counter64(a), Value64::Counter64(b)) => {
                Rate::PerSecond((b - a) as f64 / secs)
            }
            (Value64::Other(a), Value64::Other(b)) => Rate::PerSecond((b - a) / secs),
            _ => Rate::First,
        }
    }

    /// Drops the samples of `monitor`.
    pub(crate) fn forget(&self, monitor: &str) {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(monitor);
    }
}

// --- Judging ----------------------------------------------------------------

fn judge_oid(
    monitor: &str,
    o: &SnmpOid,
    value: Value,
    at: Instant,
    ctx: &CheckContext,
    f: &mut Findings,
    parts: &mut Vec<String>,
) {
    let oid = o.oid.to_string();
    let label = o.label.as_deref().unwrap_or(&oid);
    if let Value::Missing(why) = value {
        f.problem(Status::Unknown, format!("{}: {why}", describe_oid(o)));
        return;
    }
    let scale = o.scale.unwrap_or(1.0);
    let text = value.text();
    // An OID with a problem is named by the problem, not again in the summary.
    let mut troubled = false;
    if let Some(expect) = &o.expect
        && !text.contains(expect.as_str())
    {
        troubled = true;
        f.problem(
            Status::Crit,
            format!(
                "{label} is {}, expected to contain {}",
                format::snippet(text.as_bytes(), 60),
                format::snippet(expect.as_bytes(), 60)
            ),
        );
    }
    let (number, shown) = if o.rate {
        let sample = match value {
            Value::Counter32(v) => Some(Value64::Counter32(v)),
            Value::Counter64(v) => Some(Value64::Counter64(v)),
            ref other => other.number().map(Value64::Other),
        };
        let Some(sample) = sample else {
            f.problem(
                Status::Unknown,
                format!(
                    "{label} is {}, not a number to take a rate of",
                    format::snippet(text.as_bytes(), 60)
                ),
            );
            return;
        };
        match ctx.counters.update(monitor, &oid, sample, at) {
            Rate::First => {
                parts.push(format!("{label}: waiting for a second sample"));
                return;
            }
            Rate::Reset => {
                parts.push(format!(
                    "{label}: counter was reset, waiting for the next sample"
                ));
                return;
            }
            Rate::PerSecond(r) => {
                let r = r * scale;
                (Some(r), format!("{label} rate={}/s", format::si(r)))
            }
        }
    } else {
        match value.number() {
            Some(v) if !matches!(value, Value::Text(_)) || o.warn.is_some() || o.crit.is_some() => {
                let v = v * scale;
                (Some(v), format!("{label}={}", format::number(v)))
            }
            _ => (
                None,
                format!("{label}={}", format::snippet(text.as_bytes(), 60)),
            ),
        }
    };
    let thresholds = o.warn.is_some() || o.crit.is_some();
    match number {
        Some(v) => {
            if let Some(t) = o.crit
                && t.alerts(v)
            {
                f.problem(Status::Crit, format!("{shown} (crit at {t})"));
                troubled = true;
            } else if let Some(t) = o.warn
                && t.alerts(v)
            {
                f.problem(Status::Warn, format!("{shown} (warn at {t})"));
                troubled = true;
            }
            let unit = if !o.rate && matches!(value, Value::Counter32(_) | Value::Counter64(_)) {
                "c"
            } else {
                ""
            };
            let mut p = Perf::new(label, v, unit);
            p.warn = o.warn.map(|t| t.to_string());
            p.crit = o.crit.map(|t| t.to_string());
            f.perf(p);
        }
        None if thresholds => {
            f.problem(
                Status::Unknown,
                format!(
                    "{label} is {}, not a number to compare with its thresholds",
                    format::snippet(text.as_bytes(), 60)
                ),
            );
            troubled = true;
        }
        None => {}
    }
    if !troubled {
        parts.push(shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hark_proto::snmp::{Pdu, VarBind};

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    #[test]
    fn get_request_round_trips_through_the_decoder() {
        let oids = vec![
            oid("1.3.6.1.2.1.1.3.0"),
            oid("1.3.6.1.4.1.99999.4294967295.300"),
        ];
        let wire =
            Message::get_request(wire::Version::V2c, b"hark-test", 0x1234_5678, oids.clone())
                .encode();
        let msg = parse(&wire, wire::Version::V2c).unwrap();
        assert_eq!(msg.community, b"hark-test");
        assert_eq!(msg.pdu.kind, PduKind::GetRequest);
        assert_eq!(msg.pdu.request_id, 0x1234_5678);
        let got: Vec<Oid> = msg.pdu.varbinds.into_iter().map(|v| v.oid).collect();
        assert_eq!(got, oids);
        // Long community: long-form lengths.
        let long = vec![b'c'; 300];
        let wire = Message::get_request(wire::Version::V1, &long, 1, oids).encode();
        assert_eq!(
            parse(&wire, wire::Version::V1).unwrap().community.len(),
            300
        );
        // A v1 answer to a v2c request is refused.
        assert!(parse(&wire, wire::Version::V2c).is_err());
    }

    /// A Response as an agent sends it.
    fn response(
        req_id: i64,
        err: i64,
        err_index: i64,
        varbinds: &[(&str, wire::Value)],
    ) -> Vec<u8> {
        Message {
            version: wire::Version::V2c,
            community: b"public".to_vec(),
            pdu: Pdu {
                kind: PduKind::Response,
                request_id: req_id,
                error_status: err,
                error_index: err_index,
                varbinds: varbinds
                    .iter()
                    .map(|(o, v)| VarBind {
                        oid: oid(o),
                        value: v.clone(),
                    })
                    .collect(),
            },
        }
        .encode()
    }

    #[test]
    fn responses_decode() {
        use wire::Value as W;
        let (a, b, c, d) = (
            "1.3.6.1.2.1.1.3.0",
            "1.3.6.1.2.1.1.5.0",
            "1.3.6.1.2.1.2.2.1.10.1",
            "1.3.6.1.2.1.1.9.9",
        );
        let v2 = wire::Version::V2c;
        let wire = response(
            7,
            0,
            0,
            &[
                (a, W::TimeTicks(256)),
                (b, W::OctetString(b"router".to_vec())),
                (c, W::Counter64(u64::MAX)),
                (d, W::NoSuchInstance),
            ],
        );
        let oids: Vec<Oid> = [a, b, c, d].iter().map(|o| oid(o)).collect();
        let values = decode_response(&wire, v2, 7, &oids).unwrap();
        assert_eq!(
            values,
            [
                Value::TimeTicks(256),
                Value::Text("router".into()),
                Value::Counter64(u64::MAX),
                Value::Missing("no such instance"),
            ]
        );
        // Answered out of order: matched by OID.
        let swapped = response(
            7,
            0,
            0,
            &[(b, W::OctetString(b"x".to_vec())), (a, W::TimeTicks(5))],
        );
        let values = decode_response(&swapped, v2, 7, &oids[..2]).unwrap();
        assert_eq!(values, [Value::TimeTicks(5), Value::Text("x".into())]);
        let nsn = response(7, 2, 2, &[(a, W::Null), (b, W::Null)]);
        assert_eq!(
            decode_response(&nsn, v2, 7, &oids[..2]),
            Err(Problem::NoSuchName(1))
        );
        let too_big = response(7, 1, 0, &[]);
        assert!(matches!(
            decode_response(&too_big, v2, 7, &oids),
            Err(Problem::Agent(_))
        ));
    }

    #[test]
    fn garbage_never_panics() {
        let v2 = wire::Version::V2c;
        let good = response(7, 0, 0, &[("1.3.6.1", wire::Value::Int(1))]);
        let want = [oid("1.3.6.1")];
        for cut in 0..good.len() {
            let _ = decode_response(&good[..cut], v2, 7, &want);
            let _ = response_id(&good[..cut], v2);
        }
        let mut flipped = good.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = decode_response(&flipped, v2, 7, &want);
            flipped[i] ^= 0xff;
        }
    }

    #[test]
    fn rates_handle_wraps_and_resets() {
        let m = CounterMemory::default();
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(10);
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(
            m.update("m", "o", Value64::Counter32(u32::MAX - 99), t0),
            Rate::First
        );
        assert_eq!(
            m.update("m", "o", Value64::Counter32(900), t1),
            Rate::PerSecond(100.0)
        );
        assert_eq!(
            m.update("m", "p", Value64::Counter64(1000), t0),
            Rate::First
        );
        assert_eq!(m.update("m", "p", Value64::Counter64(10), t1), Rate::Reset);
        assert_eq!(
            m.update("m", "p", Value64::Counter64(210), t2),
            Rate::PerSecond(20.0)
        );
        assert_eq!(m.update("m", "q", Value64::Other(10.0), t0), Rate::First);
        assert_eq!(
            m.update("m", "q", Value64::Other(5.0), t1),
            Rate::PerSecond(-0.5)
        );
        m.forget("m");
        assert_eq!(m.update("m", "o", Value64::Counter32(1), t2), Rate::First);
    }
}
