//! Security headers on every answer, errors and 404s included: a strict
//! Content Security Policy (only this server's own scripts, styles, images,
//! fonts and connections; no framing), `X-Frame-Options: DENY`,
//! `Referrer-Policy: same-origin`, `X-Content-Type-Options: nosniff`, and
//! `Strict-Transport-Security` when serving HTTPS.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content Security Policy of every answer.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// HSTS over HTTPS: one year.
const HSTS: &str = "max-age=31536000";

/// Adds the security headers to the answer; `tls` adds HSTS.
pub(crate) async fn security_headers(
    State(tls): State<bool>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if tls {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    resp
}
