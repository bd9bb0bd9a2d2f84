//! TLS for the checks: shared client configurations, the trust stores, and
//! the inspection of the server's certificate after the handshake.
//!
//! A monitor must see a broken certificate, not just fail on it: the
//! handshake therefore accepts any chain (still checking the handshake
//! signatures), and the chain is verified afterwards with rustls'
//! [`WebPkiServerVerifier`] against the system roots plus the monitor's
//! `tls_ca`. The verdict, the expiry date (read with `x509-parser`) and the
//! days left become part of the check's findings. Session resumption is off
//! so every check sees the certificate the server presents now.
//!
//! System roots come from the operating system's store through
//! `rustls-native-certs` (on Debian `/etc/ssl/certs`), so the roots an
//! administrator adds there are trusted as by other programs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::outcome::{Perf, Status};

use super::findings::Findings;
use super::format;

/// Which application protocol to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// `http/1.1`.
    Http1,
    /// Nothing (a TCP check's arbitrary protocol).
    None,
}

/// TLS state shared by all checks.
pub(crate) struct TlsContext {
    http: TlsConnector,
    plain: TlsConnector,
    provider: Arc<CryptoProvider>,
    system_roots: RootCertStore,
    /// Why the system roots could not all be loaded, if so.
    pub(crate) roots_note: Option<String>,
    /// Verifiers by `tls_ca` (None: the system roots alone), built on first use.
    verifiers: Mutex<HashMap<Option<PathBuf>, Arc<WebPkiServerVerifier>>>,
}

impl TlsContext {
    /// Loads the system roots and builds the client configurations.
    pub(crate) fn new() -> Result<TlsContext, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let loaded = rustls_native_certs::load_native_certs();
        let mut system_roots = RootCertStore::empty();
        let (added, ignored) = system_roots.add_parsable_certificates(loaded.certs);
        let mut notes = Vec::new();
        if !loaded.errors.is_empty() {
            notes.push(format!(
                "errors loading the system's CA certificates: {}",
                loaded
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if ignored > 0 {
            notes.push(format!(
                "{ignored} system CA certificates could not be parsed"
            ));
        }
        if added == 0 {
            notes.push("no system CA certificates found; only tls_ca files are trusted".into());
        }
        let verifier = Arc::new(InspectOnly {
            algorithms: provider.signature_verification_algorithms,
        });
        let build = |alpn: Alpn| -> Result<TlsConnector, String> {
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS configuration: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            config.resumption = Resumption::disabled();
            if alpn == Alpn::Http1 {
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
            }
            Ok(TlsConnector::from(Arc::new(config)))
        };
        Ok(TlsContext {
            http: build(Alpn::Http1)?,
            plain: build(Alpn::None)?,
            provider,
            system_roots,
            roots_note: (!notes.is_empty()).then(|| notes.join("; ")),
            verifiers: Mutex::new(HashMap::new()),
        })
    }

    /// Forgets the loaded `tls_ca` files, so they are read again when next used.
    pub(crate) fn forget_ca_files(&self) {
        lock(&self.verifiers).retain(|k, _| k.is_none());
    }

    /// A TLS handshake over `stream` with `host` as server name (SNI for a
    /// name; none for an IP address). Any certificate is accepted here; see
    /// [`TlsContext::inspect`].
    pub(crate) async fn handshake<S>(
        &self,
        stream: S,
        host: &str,
        alpn: Alpn,
    ) -> Result<TlsStream<S>, String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = server_name(host)?;
        let connector = match alpn {
            Alpn::Http1 => &self.http,
            Alpn::None => &self.plain,
        };
        connector
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake with {host} failed: {e}"))
    }

    /// What the certificate chain the server presented is worth for `host`.
    pub(crate) fn inspect(
        &self,
        chain: Option<&[CertificateDer<'static>]>,
        host: &str,
        tls_ca: Option<&Path>,
    ) -> CertReport {
        let mut report = CertReport {
            host: host.to_owned(),
            ..CertReport::default()
        };
        let Some((leaf, intermediates)) = chain.and_then(|c| c.split_first()) else {
            report.missing = true;
            return report;
        };
        match x509_parser::parse_x509_certificate(leaf) {
            Ok((_, cert)) => {
                report.not_before = Some(cert.validity().not_before.timestamp());
                report.not_after = Some(cert.validity().not_after.timestamp());
            }
            Err(e) => report.trust_problem = Some(format!("certificate cannot be parsed: {e}")),
        }
        let verifier = match self.verifier(tls_ca) {
            Ok(v) => v,
            Err(e) => {
                report.setup_problem = Some(e);
                return report;
            }
        };
        let Ok(name) = server_name(host) else {
            report.trust_problem = Some(format!("{host} is not a valid TLS server name"));
            return report;
        };
        let verify =
            |at: UnixTime| verifier.verify_server_cert(leaf, intermediates, &name, &[], at);
        match verify(UnixTime::now()) {
            Ok(_) => {}
            Err(rustls::Error::InvalidCertificate(
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. },
            )) => {
                // Outside its validity: is it otherwise good? Ask again at a
                // moment inside it, so a bad chain or name is still reported.
                if let (Some(from), Some(to)) = (report.not_before, report.not_after)
                    && to >= from
                {
                    let middle = from + (to - from) / 2;
                    if let Ok(secs) = u64::try_from(middle)
                        && let Err(e) =
                            verify(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
                    {
                        report.trust_problem = Some(describe_error(&e, host));
                    }
                }
            }
            Err(e) => report.trust_problem = Some(describe_error(&e, host)),
        }
        report
    }

    /// The verifier for the system roots plus `tls_ca`, built once per file.
    fn verifier(&self, tls_ca: Option<&Path>) -> Result<Arc<WebPkiServerVerifier>, String> {
        let key = tls_ca.map(Path::to_path_buf);
        if let Some(v) = lock(&self.verifiers).get(&key) {
            return Ok(v.clone());
        }
        let mut roots = self.system_roots.clone();
        if let Some(path) = tls_ca {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read tls_ca {}: {e}", path.display()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("cannot read tls_ca {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!(
                    "tls_ca {} holds no PEM certificate",
                    path.display()
                ));
            }
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "tls_ca {}: no usable CA certificate in it",
                    path.display()
                ));
            }
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| match e {
                    rustls::client::VerifierBuilderError::NoRootAnchors => {
                        "no trusted CA certificates: the system store is empty and no tls_ca is set"
                            .to_owned()
                    }
                    other => format!("cannot build the certificate verifier: {other}"),
                })?;
        lock(&self.verifiers).insert(key, verifier.clone());
        Ok(verifier)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    ServerName::try_from(bare.to_owned())
        .map_err(|_| format!("{host} is not a valid TLS server name"))
}

fn describe_error(e: &rustls::Error, host: &str) -> String {
    match e {
        rustls::Error::InvalidCertificate(ce) => match ce {
            CertificateError::UnknownIssuer => {
                "certificate not trusted: unknown issuer (the chain does not lead to a trusted CA)"
                    .into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("certificate not valid for {host}")
            }
            CertificateError::BadSignature => "certificate has a bad signature".into(),
            CertificateError::Revoked => "certificate revoked".into(),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "certificate not meant for TLS servers".into()
            }
            other => format!("certificate invalid: {other:?}"),
        },
        other => format!("certificate invalid: {other}"),
    }
}

/// Accepts any certificate chain during the handshake but checks the
/// handshake signatures, so the connection is real; the chain is judged
/// after the handshake by [`TlsContext::inspect`].
#[derive(Debug)]
struct InspectOnly {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for InspectOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What was found about one server certificate.
#[derive(Debug, Clone, Default)]
pub(crate) struct CertReport {
    /// The host it was presented for.
    pub(crate) host: String,
    /// The server sent no certificate.
    pub(crate) missing: bool,
    /// Validity start, Unix seconds.
    pub(crate) not_before: Option<i64>,
    /// Expiry, Unix seconds.
    pub(crate) not_after: Option<i64>,
    /// An untrusted chain, a wrong name, a bad signature (not the dates).
    pub(crate) trust_problem: Option<String>,
    /// The trust store could not be built (an unreadable `tls_ca`).
    pub(crate) setup_problem: Option<String>,
}

/// Expiry limits of the certificate check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpiryLimits {
    pub(crate) warn: Option<Duration>,
    pub(crate) crit: Option<Duration>,
}

impl CertReport {
    /// Adds the certificate's verdict to `f`: trust problems are CRIT when
    /// `verify`, an expired or not yet valid certificate is CRIT, fewer than
    /// `limits` days left is CRIT/WARN. `prefix` names the certificate when
    /// a check saw several (redirects to other hosts); `with_perf` adds the
    /// perf value `cert_days`.
    pub(crate) fn judge(
        &self,
        f: &mut Findings,
        verify: bool,
        limits: ExpiryLimits,
        prefix: &str,
        now: SystemTime,
        with_perf: bool,
    ) {
        if self.missing {
            f.problem(Status::Crit, format!("{prefix}server sent no certificate"));
            return;
        }
        if let Some(p) = &self.setup_problem {
            f.problem(Status::Unknown, p.clone());
        }
        if let Some(p) = &self.trust_problem {
            if verify {
                f.problem(Status::Crit, format!("{prefix}{p}"));
            } else {
                f.note(format!("{prefix}{p} (not verified: tls_verify = false)"));
            }
        }
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if let Some(from) = self.not_before
            && from > now_secs
        {
            f.problem(
                Status::Crit,
                format!("{prefix}certificate not valid before {}", date(from)),
            );
        }
        let Some(to) = self.not_after else {
            return;
        };
        let left = to.saturating_sub(now_secs);
        let days = calendar_days(now_secs, to);
        let when = date(to);
        let mut perf = Perf::new(
            "cert_days",
            (left as f64 / 86_400.0 * 100.0).round() / 100.0,
            "",
        );
        perf.warn = limits
            .warn
            .map(|w| format::number(w.as_secs_f64() / 86_400.0));
        perf.crit = limits
            .crit
            .map(|c| format::number(c.as_secs_f64() / 86_400.0));
        if with_perf {
            f.perf(perf);
        }
        let below = |limit: Option<Duration>| {
            limit.is_some_and(|l| u64::try_from(left).map_or(true, |left| left < l.as_secs()))
        };
        if left < 0 {
            let ago = if days == 0 {
                "today".to_owned()
            } else {
                format!("{} ago", format::plural(-days, "day", "days"))
            };
            f.problem(
                Status::Crit,
                format!("{prefix}certificate expired {ago} ({when})"),
            );
        } else if below(limits.crit) {
            f.problem(Status::Crit, format!("{prefix}{}", expires_in(days, &when)));
        } else if below(limits.warn) {
            f.problem(Status::Warn, format!("{prefix}{}", expires_in(days, &when)));
        } else {
            f.note(format!("{prefix}{}", expires_in(days, &when)));
        }
    }
}

fn expires_in(days: i64, when: &str) -> String {
    if days <= 0 {
        format!("certificate expires today ({when})")
    } else {
        format!(
            "certificate expires in {} ({when})",
            format::plural(days, "day", "days")
        )
    }
}

/// Whole calendar days (UTC) from `now` to `then`: what a person counts
/// looking at the two dates.
fn calendar_days(now: i64, then: i64) -> i64 {
    then.div_euclid(86_400) - now.div_euclid(86_400)
}

/// `2026-11-27` (UTC).
fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_days_count_dates_not_hours() {
        let day = 86_400;
        // 23:00 to 01:00 the next day is one calendar day.
        assert_eq!(calendar_days(23 * 3600, day + 3600), 1);
        assert_eq!(calendar_days(10, 5 * day + 10), 5);
        assert_eq!(calendar_days(10 * day, 7 * day), -3);
        assert_eq!(date(1_795_737_600), "2026-11-27");
    }

    fn judge(report: &CertReport, now: i64, verify: bool) -> crate::outcome::CheckOutcome {
        let mut f = Findings::new();
        report.judge(
            &mut f,
            verify,
            ExpiryLimits {
                warn: Some(Duration::from_secs(21 * 86_400)),
                crit: Some(Duration::from_secs(7 * 86_400)),
            },
            "",
            UNIX_EPOCH + Duration::from_secs(now as u64),
            true,
        );
        f.finish()
    }

    #[test]
    fn expiry_levels() {
        let now = 1_795_305_600; // 2026-11-22 00:00
        let mut r = CertReport {
            not_before: Some(now - 86_400),
            not_after: Some(now + 10 * 86_400),
            ..CertReport::default()
        };
        let o = judge(&r, now, true);
        assert_eq!(o.status, Status::Warn);
        assert_eq!(o.output, "certificate expires in 10 days (2026-12-02)");
        assert_eq!(o.perf[0].value, 10.0);
        r.not_after = Some(now + 5 * 86_400);
        assert_eq!(judge(&r, now, true).status, Status::Crit);
        r.not_after = Some(now + 50 * 86_400);
        assert_eq!(judge(&r, now, true).status, Status::Ok);
        r.not_after = Some(now - 3 * 86_400);
        let o = judge(&r, now, true);
        assert_eq!(o.status, Status::Crit);
        assert_eq!(o.output, "certificate expired 3 days ago (2026-11-19)");
        assert_eq!(o.perf[0].value, -3.0);
    }

    #[test]
    fn trust_problems_matter_only_when_verifying() {
        let now = 1_795_305_600;
        let r = CertReport {
            not_after: Some(now + 100 * 86_400),
            trust_problem: Some("certificate not valid for a.test".into()),
            ..CertReport::default()
        };
        assert_eq!(judge(&r, now, true).status, Status::Crit);
        let o = judge(&r, now, false);
        assert_eq!(o.status, Status::Ok);
        assert!(o.output.contains("not verified"), "{}", o.output);
        let missing = CertReport {
            missing: true,
            ..CertReport::default()
        };
        assert_eq!(judge(&missing, now, false).status, Status::Crit);
    }
}
