//! Enrolment: one-time tokens, and the registry of enrolled forwarders.
//!
//! `hark forwarder enroll-token` writes a token's SHA-256, group and expiry
//! to `DATA_DIR/uplink/tokens.json` and prints the token:
//! `hark1.<secret>.<ca-sha256>`. The secret proves the forwarder may enrol;
//! the CA hash lets the forwarder check, on its first connection, that it
//! talks to this center (the uplink's certificate chain must contain a CA
//! certificate with that hash). Redeeming the token marks it used, signs
//! the forwarder's certificate request with the center's CA and records the
//! forwarder in `forwarders.json` with the certificate's serial number.
//!
//! A batch is accepted only from a certificate whose serial number is the
//! one recorded for its name and not revoked, so `hark forwarder revoke`
//! (and enrolling the name again) takes effect at the forwarder's next
//! request, whether or not the server was running when it was made. Both
//! files are changed under `uplink/LOCK`, by the server and the commands
//! alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hark_auth::jsonfile::{JsonFile, ct_eq, hash_hex};
use serde::{Deserialize, Serialize};

use crate::UplinkError;
use crate::ca::CenterCa;
use crate::files::DirLock;

/// The directory under the data directory that holds the uplink's files.
pub const UPLINK_DIR: &str = "uplink";
/// Prefix of enrolment tokens (the format's version).
const TOKEN_PREFIX: &str = "hark1";

/// An enrolment token as the forwarder holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollToken {
    /// The one-time secret.
    pub secret: String,
    /// Lower-case hex SHA-256 of the center's CA certificate (DER).
    pub ca_sha256: String,
}

impl EnrollToken {
    /// Reads `hark1.<secret>.<ca-sha256>`.
    pub fn parse(text: &str) -> Result<EnrollToken, UplinkError> {
        let bad = || {
            UplinkError::Refused(
                "not an enrolment token; expected hark1.SECRET.CA_SHA256 as printed by `hark forwarder enroll-token`".into(),
            )
        };
        let mut parts = text.trim().split('.');
        let (Some(TOKEN_PREFIX), Some(secret), Some(ca), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let hex_of =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_of(secret, 64) || !hex_of(ca, 64) {
            return Err(bad());
        }
        Ok(EnrollToken {
            secret: secret.to_owned(),
            ca_sha256: ca.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for EnrollToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{TOKEN_PREFIX}.{}.{}", self.secret, self.ca_sha256)
    }
}

/// A token as the center keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    /// SHA-256 of the secret.
    hash: String,
    /// The group the forwarder joins.
    group: String,
    /// Unix seconds after which it is refused.
    expires: i64,
    /// The forwarder that used it, once used.
    #[serde(default)]
    used_by: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Tokens {
    tokens: Vec<TokenRecord>,
}

/// An enrolled forwarder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwarderRecord {
    /// Its group.
    pub group: String,
    /// Serial number (hex) of the one certificate accepted for it.
    pub serial: String,
    /// When it enrolled, Unix seconds.
    pub enrolled: i64,
    /// When it was revoked, Unix seconds.
    #[serde(default)]
    pub revoked: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Registry {
    forwarders: BTreeMap<String, ForwarderRecord>,
}

/// What a forwarder sends to enrol.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The token's secret.
    pub secret: String,
    /// The name it asks for.
    pub name: String,
    /// Its certificate request, PEM (the key stays on the forwarder).
    pub csr_pem: String,
}

/// What the center answers an enrolment with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The forwarder's client certificate, PEM.
    pub cert_pem: String,
    /// The center's CA certificate, PEM.
    pub ca_pem: String,
    /// The group it joined.
    pub group: String,
}

/// The tokens and the registry of one center.
pub struct Enrolment {
    dir: PathBuf,
    tokens: JsonFile<Tokens>,
    registry: JsonFile<Registry>,
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Enrolment {
    /// Opens the files under `data_dir/uplink`.
    pub fn open(data_dir: &Path) -> Result<Enrolment, UplinkError> {
        let dir = data_dir.join(UPLINK_DIR);
        Ok(Enrolment {
            tokens: JsonFile::open(dir.join("tokens.json"), "enrolment token")?,
            registry: JsonFile::open(dir.join("forwarders.json"), "forwarder registry")?,
            dir,
        })
    }

    /// The directory of the uplink's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes a one-time token for `group`, valid for `ttl`.
    pub fn create_token(
        &self,
        ca: &CenterCa,
        group: &str,
        ttl: Duration,
    ) -> Result<EnrollToken, UplinkError> {
        if !hark_config::forward::valid_name(group) {
            return Err(UplinkError::Refused(format!(
                "group `{group}` must be 1 to 64 letters, digits, `-`, `_` or `.`"
            )));
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let record = TokenRecord {
            hash: hash_hex(&secret),
            group: group.to_owned(),
            expires: now_unix().saturating_add(ttl),
            used_by: None,
        };
        let _lock = DirLock::take(&self.dir)?;
        self.tokens.update(|t: &mut Tokens| {
            let now = now_unix();
            // Expired tokens are of no use to anyone.
            t.tokens.retain(|r| r.expires > now);
            t.tokens.push(record);
            Ok::<_, UplinkError>(())
        })?;
        Ok(EnrollToken {
            secret,
            ca_sha256: ca.fingerprint(),
        })
    }

    /// Redeems a token: checks it, marks it used, signs the request and
    /// records the forwarder. `groups` are the groups accepted (all when empty).
    pub fn enroll(
        &self,
        ca: &CenterCa,
        req: &EnrollRequest,
        groups: &[String],
    ) -> Result<EnrollResponse, UplinkError> {
        if !hark_config::forward::valid_name(&req.name) {
            return Err(UplinkError::Refused(format!(
                "forwarder name `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`",
                req.name
            )));
        }
        let hash = hash_hex(&req.secret);
        let _lock = DirLock::take(&self.dir)?;
        let group = self.tokens.update(|t: &mut Tokens| {
            let now = now_unix();
            let Some(record) = t
                .tokens
                .iter_mut()
                .find(|r| ct_eq(r.hash.as_bytes(), hash.as_bytes()))
            else {
                return Err(UplinkError::Refused("unknown enrolment token".into()));
            };
            if let Some(by) = &record.used_by {
                return Err(UplinkError::Refused(format!(
                    "this enrolment token was already used (by `{by}`); make a new one with `hark forwarder enroll-token`"
                )));
            }
            if record.expires <= now {
                return Err(UplinkError::Refused(
                    "this enrolment token has expired; make a new one".into(),
                ));
            }
            if !groups.is_empty() && !groups.contains(&record.group) {
                return Err(UplinkError::Refused(format!(
                    "group `{}` is not accepted by this center (uplink.groups)",
                    record.group
                )));
            }
            record.used_by = Some(req.name.clone());
            Ok(record.group.clone())
        })?;
        let issued = ca.sign_forwarder(&req.name, &req.csr_pem)?;
        self.registry.update(|r: &mut Registry| {
            r.forwarders.insert(
                req.name.clone(),
                ForwarderRecord {
                    group: group.clone(),
                    serial: issued.serial.clone(),
                    enrolled: now_unix(),
                    revoked: None,
                },
            );
            Ok::<_, UplinkError>(())
        })?;
        tracing::info!(forwarder = %req.name, %group, "enrolled a forwarder");
        Ok(EnrollResponse {
            cert_pem: issued.cert_pem,
            ca_pem: ca.cert_pem().to_owned(),
            group,
        })
    }

    /// Revokes forwarder `name`; returns whether it was enrolled and not revoked yet.
    pub fn revoke(&self, name: &str) -> Result<bool, UplinkError> {
        let _lock = DirLock::take(&self.dir)?;
        self.registry.update(|r: &mut Registry| {
            Ok::<_, UplinkError>(match r.forwarders.get_mut(name) {
                Some(f) if f.revoked.is_none() => {
                    f.revoked = Some(now_unix());
                    true
                }
                _ => false,
            })
        })
    }

    /// The group of forwarder `name` when the certificate with `serial` is
    /// the one accepted for it, else why it is refused.
    pub fn check(
        &self,
        name: &str,
        serial: &str,
        groups: &[String],
    ) -> Result<String, UplinkError> {
        let registry = self.registry.current_or_default();
        let Some(f) = registry.value.forwarders.get(name) else {
            return Err(UplinkError::Refused(format!(
                "forwarder `{name}` is not enrolled"
            )));
        };
        if f.revoked.is_some() {
            return Err(UplinkError::Refused(format!(
                "forwarder `{name}` is revoked"
            )));
        }
        if !ct_eq(f.serial.as_bytes(), serial.as_bytes()) {
            return Err(UplinkError::Refused(format!(
                "this certificate of `{name}` was replaced by a later enrolment"
            )));
        }
        if !groups.is_empty() && !groups.contains(&f.group) {
            return Err(UplinkError::Refused(format!(
                "group `{}` of `{name}` is not accepted by this center",
                f.group
            )));
        }
        Ok(f.group.clone())
    }

    /// Every enrolled forwarder, by name.
    pub fn forwarders(&self) -> BTreeMap<String, ForwarderRecord> {
        self.registry.current_or_default().value.forwarders.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    fn csr(name: &str) -> (String, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        (params.serialize_request(&key).unwrap().pem().unwrap(), key)
    }

    fn request(secret: &str, name: &str) -> EnrollRequest {
        EnrollRequest {
            secret: secret.to_owned(),
            name: name.to_owned(),
            csr_pem: csr(name).0,
        }
    }

    #[test]
    fn a_token_carries_the_ca_hash_and_enrols_once() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CenterCa::open(&dir.path().join(UPLINK_DIR)).unwrap();
        let enrol = Enrolment::open(dir.path()).unwrap();
        let token = enrol
            .create_token(&ca, "dmz", Duration::from_secs(3600))
            .unwrap();
        let parsed = EnrollToken::parse(&token.to_string()).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(
            parsed.ca_sha256,
            crate::ca::fingerprint(ca.cert_der()),
            "the token pins the CA"
        );
        let first = enrol
            .enroll(&ca, &request(&token.secret, "edge1"), &[])
            .unwrap();
        assert_eq!(first.group, "dmz");
        let again = enrol.enroll(&ca, &request(&token.secret, "edge2"), &[]);
        assert!(
            matches!(&again, Err(UplinkError::Refused(m)) if m.contains("already used")),
            "{again:?}"
        );
        // Another process sees the same files: the token stays used.
        let other = Enrolment::open(dir.path()).unwrap();
        assert!(
            other
                .enroll(&ca, &request(&token.secret, "edge3"), &[])
                .is_err()
        );
    }

    #[test]
    fn the_certificate_names_the_forwarder_and_revocation_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CenterCa::open(&dir.path().join(UPLINK_DIR)).unwrap();
        let enrol = Enrolment::open(dir.path()).unwrap();
        let token = enrol
            .create_token(&ca, "dmz", Duration::from_secs(60))
            .unwrap();
        let answer = enrol
            .enroll(&ca, &request(&token.secret, "edge1"), &[])
            .unwrap();
        let der = rustls_pki_types::CertificateDer::from_pem_slice(answer.cert_pem.as_bytes());
        let (serial, name) = crate::ca::serial_and_name(&der.unwrap()).unwrap();
        assert_eq!(name, "edge1");
        assert_eq!(enrol.check("edge1", &serial, &[]).unwrap(), "dmz");
        assert!(enrol.check("edge1", &serial, &["core".into()]).is_err());
        assert!(
            enrol.check("edge1", "00", &[]).is_err(),
            "another certificate"
        );
        assert!(enrol.check("edge2", &serial, &[]).is_err(), "another name");
        assert!(enrol.revoke("edge1").unwrap());
        assert!(!enrol.revoke("edge1").unwrap(), "revoked once");
        let refused = enrol.check("edge1", &serial, &[]);
        assert!(
            matches!(&refused, Err(UplinkError::Refused(m)) if m.contains("revoked")),
            "{refused:?}"
        );
    }

    #[test]
    fn expired_unknown_and_malformed_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CenterCa::open(&dir.path().join(UPLINK_DIR)).unwrap();
        let enrol = Enrolment::open(dir.path()).unwrap();
        let expired = enrol.create_token(&ca, "dmz", Duration::ZERO).unwrap();
        assert!(
            enrol
                .enroll(&ca, &request(&expired.secret, "e1"), &[])
                .is_err()
        );
        assert!(
            enrol
                .enroll(&ca, &request(&"ab".repeat(32), "e1"), &[])
                .is_err()
        );
        let fresh = enrol
            .create_token(&ca, "dmz", Duration::from_secs(60))
            .unwrap();
        assert!(
            enrol
                .enroll(&ca, &request(&fresh.secret, "e1"), &["core".into()])
                .is_err(),
            "a group the center does not accept"
        );
        for bad in [
            "",
            "hark1.x.y",
            "hark2.aa.bb",
            &format!("hark1.{}", "a".repeat(64)),
        ] {
            assert!(EnrollToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_ca_signs_only_its_own_choice_of_name() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CenterCa::open(dir.path()).unwrap();
        // The request asks for another name; the certificate has the enrolled one.
        let (pem, _key) = csr("center.example");
        let issued = ca.sign_forwarder("edge9", &pem).unwrap();
        let der = rustls_pki_types::CertificateDer::from_pem_slice(issued.cert_pem.as_bytes());
        let (serial, name) = crate::ca::serial_and_name(&der.unwrap()).unwrap();
        assert_eq!((serial, name.as_str()), (issued.serial, "edge9"));
        assert!(ca.sign_forwarder("edge9", "not a request").is_err());
        // The CA is kept: opening again gives the same one.
        let again = CenterCa::open(dir.path()).unwrap();
        assert_eq!(again.fingerprint(), ca.fingerprint());
    }
}
