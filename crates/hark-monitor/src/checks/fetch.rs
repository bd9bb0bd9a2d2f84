//! The HTTP/1.1 client of the `http` and `metrics` checks, timing each
//! phase: resolving (`dns`), TCP connect (`connect`), TLS handshake
//! (`tls`), from sending the request to the response head (`ttfb`), and
//! everything (`time`).
//!
//! Each request uses a fresh connection (`Connection: close`): hyper's
//! HTTP/1 client connection runs on a tokio `TcpStream` or a tokio-rustls
//! stream, so the phases can be measured one by one and the server's
//! certificate inspected (see [`super::tls`]). With redirects followed, the
//! phase times add up over the hops.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use hark_config::HttpUrl;
use http::header::{ACCEPT, AUTHORIZATION, CONNECTION, HOST, LOCATION, USER_AGENT};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::context::CheckContext;
use super::net;
use super::progress::{Phase, Progress};
use super::tls::{Alpn, CertReport};

/// The `User-Agent` of checks.
const USER_AGENT_VALUE: &str = concat!("hark-monitor/", env!("CARGO_PKG_VERSION"));

/// Most redirects followed.
pub(crate) const MAX_REDIRECTS: u32 = 10;

/// What to ask.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) headers: &'a BTreeMap<String, String>,
    pub(crate) body: Option<&'a str>,
    pub(crate) accept: &'static str,
    /// Most body bytes kept; the rest is not read.
    pub(crate) body_limit: usize,
    pub(crate) follow_redirects: bool,
    pub(crate) tls_ca: Option<&'a Path>,
}

/// Phase times, summed over redirects.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timing {
    pub(crate) dns: Duration,
    pub(crate) connect: Duration,
    /// `None` when no hop used TLS.
    pub(crate) tls: Option<Duration>,
    pub(crate) ttfb: Duration,
    pub(crate) total: Duration,
}

/// A response, with the first `body_limit` bytes of its body.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
    /// The body was longer than `body_limit`.
    pub(crate) truncated: bool,
    pub(crate) timing: Timing,
    /// One report per HTTPS connection made.
    pub(crate) certs: Vec<CertReport>,
    pub(crate) redirects: u32,
    /// The URL that gave this response.
    pub(crate) url: String,
}

/// Why no response came, with what was learnt before.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) certs: Vec<CertReport>,
}

/// Sends `req` to `url`, following redirects when asked.
pub(crate) async fn fetch(
    ctx: &CheckContext,
    url: &HttpUrl,
    req: &Request<'_>,
    progress: &Progress,
) -> Result<Response, Failure> {
    let started = Instant::now();
    let mut current = url.clone();
    let mut method = req.method.clone();
    let mut body = req.body;
    let mut timing = Timing::default();
    let mut certs = Vec::new();
    let mut redirects = 0;
    loop {
        let hop = match one_request(
            ctx,
            &current,
            &method,
            body,
            req,
            progress,
            &mut timing,
            &mut certs,
        )
        .await
        {
            Ok(h) => h,
            Err(message) => return Err(Failure { message, certs }),
        };
        if req.follow_redirects
            && hop.status.is_redirection()
            && hop.status != StatusCode::NOT_MODIFIED
            && let Some(location) = hop.location
        {
            if redirects == MAX_REDIRECTS {
                return Err(Failure {
                    message: format!("more than {MAX_REDIRECTS} redirects (last to {location})"),
                    certs,
                });
            }
            redirects += 1;
            current = current.join(&location).map_err(|e| Failure {
                message: format!("bad redirect from {current}: {e}"),
                certs: certs.clone(),
            })?;
            if hop.status == StatusCode::SEE_OTHER
                || (method == Method::POST
                    && matches!(
                        hop.status,
                        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND
                    ))
            {
                method = Method::GET;
                body = None;
            }
            continue;
        }
        timing.total = started.elapsed();
        return Ok(Response {
            status: hop.status,
            body: hop.body,
            truncated: hop.truncated,
            timing,
            certs,
            redirects,
            url: current.to_string(),
        });
    }
}

/// One response as received.
struct Hop {
    status: StatusCode,
    location: Option<String>,
    body: Vec<u8>,
    truncated: bool,
}

#[allow(clippy::too_many_arguments)]
async fn one_request(
    ctx: &CheckContext,
    url: &HttpUrl,
    method: &Method,
    body: Option<&str>,
    req: &Request<'_>,
    progress: &Progress,
    timing: &mut Timing,
    certs: &mut Vec<CertReport>,
) -> Result<Hop, String> {
    let request = build_request(url, method, body, req)?;
    progress.set(Phase::Resolving);
    let t = Instant::now();
    let addrs = ctx.resolver.lookup(url.host()).await?;
    timing.dns += t.elapsed();
    let (stream, addr, took) = net::connect(&addrs, url.port(), progress).await?;
    timing.connect += took;
    let read_body = *method != Method::HEAD;
    if url.is_https() {
        progress.set(Phase::TlsHandshake);
        let t = Instant::now();
        let tls = ctx.tls.handshake(stream, url.host(), Alpn::Http1).await?;
        *timing.tls.get_or_insert(Duration::ZERO) += t.elapsed();
        certs.push(
            ctx.tls
                .inspect(tls.get_ref().1.peer_certificates(), url.host(), req.tls_ca),
        );
        exchange(
            tls,
            request,
            read_body,
            req.body_limit,
            progress,
            timing,
            addr,
        )
        .await
    } else {
        exchange(
            stream,
            request,
            read_body,
            req.body_limit,
            progress,
            timing,
            addr,
        )
        .await
    }
}

fn build_request(
    url: &HttpUrl,
    method: &Method,
    body: Option<&str>,
    req: &Request<'_>,
) -> Result<http::Request<Full<Bytes>>, String> {
    let payload = body.map_or_else(Bytes::new, |b| Bytes::copy_from_slice(b.as_bytes()));
    let mut request = http::Request::builder()
        .method(method.clone())
        .uri(url.path())
        .body(Full::new(payload))
        .map_err(|e| format!("invalid request for {url}: {e}"))?;
    let headers = request.headers_mut();
    let host =
        HeaderValue::from_str(&url.host_header()).map_err(|_| format!("invalid host in {url}"))?;
    headers.insert(HOST, host);
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert(ACCEPT, HeaderValue::from_static(req.accept));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    if let Some(user) = url.userinfo() {
        let token = base64::engine::general_purpose::STANDARD.encode(user.as_bytes());
        if let Ok(v) = HeaderValue::from_str(&format!("Basic {token}")) {
            headers.insert(AUTHORIZATION, v);
        }
    }
    for (k, v) in req.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("invalid header name {k:?}"))?;
        let value =
            HeaderValue::from_str(v).map_err(|_| format!("invalid value for header {k}"))?;
        headers.insert(name, value);
    }
    Ok(request)
}

/// Sends `request` on `io` and reads the response.
async fn exchange<S>(
    io: S,
    request: http::Request<Full<Bytes>>,
    read_body: bool,
    limit: usize,
    progress: &Progress,
    timing: &mut Timing,
    addr: std::net::SocketAddr,
) -> Result<Hop, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let failed = |e: hyper::Error| format!("HTTP exchange with {addr} failed: {}", chain(&e));
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
            .await
            .map_err(failed)?;
    let work = async {
        progress.set(Phase::WaitingResponse);
        let sent = Instant::now();
        let response = sender.send_request(request).await.map_err(failed)?;
        timing.ttfb += sent.elapsed();
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        let mut truncated = false;
        if read_body {
            progress.set(Phase::ReadingBody);
            let mut incoming = response.into_body();
            while let Some(frame) = incoming.frame().await {
                let frame = frame.map_err(|e| {
                    format!(
                        "reading the response body from {addr} failed: {}",
                        chain(&e)
                    )
                })?;
                if let Ok(data) = frame.into_data() {
                    let room = limit - body.len();
                    if data.len() > room {
                        body.extend_from_slice(&data[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&data);
                }
            }
        }
        Ok(Hop {
            status,
            location,
            body,
            truncated,
        })
    };
    tokio::pin!(work);
    tokio::pin!(conn);
    tokio::select! {
        biased;
        hop = &mut work => hop,
        // The connection ended first (closed, or failed): the exchange
        // then completes or fails on its own.
        _ = &mut conn => work.await,
    }
}

/// An error with its causes: `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}
