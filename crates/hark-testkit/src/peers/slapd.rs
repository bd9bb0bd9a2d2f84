//! OpenLDAP's slapd with a private database on free ports, ready once its
//! administrator's bind has succeeded.
//!
//! The directory holds `dc=example,dc=test` with a service account
//! ([`SERVICE_DN`]), the users alice (member of `cn=noc`), bob (member of
//! `cn=admins`) and carol (in no group), each with the password
//! [`password`] gives. Users are loaded with `slapadd` before slapd starts;
//! groups are added over LDAP once it runs, so that the memberof overlay
//! writes `memberOf` into the members' entries (slapadd bypasses overlays).
//! The ACLs hide `userPassword` from everyone but its owner (who may only
//! bind with it) and let bound users read everything else; anonymous users
//! see nothing.
//!
//! ```no_run
//! use hark_testkit::peers::slapd::{self, Slapd};
//! let directory = Slapd::start();
//! directory.add_user("dave");
//! directory.add_member("noc", "dave");
//! println!("{} has dave with password {}", directory.url(), slapd::password("dave"));
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::ports::free_tcp_port;
use crate::process::{ChildGuard, signal};
use crate::wait::until;

/// The directory's suffix.
pub const SUFFIX: &str = "dc=example,dc=test";
/// Where users live.
pub const PEOPLE: &str = "ou=people,dc=example,dc=test";
/// Where groups live.
pub const GROUPS: &str = "ou=groups,dc=example,dc=test";
/// The account Hark searches with.
pub const SERVICE_DN: &str = "cn=hark,ou=services,dc=example,dc=test";
/// The service account's password.
pub const SERVICE_PASSWORD: &str = "hark-service-secret";
/// The directory's administrator (slapd's rootdn, not subject to ACLs).
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=test";
/// The administrator's password.
const ADMIN_PASSWORD: &str = "admin-secret";

/// The seeded users and the group each is in.
pub const SEED_USERS: [(&str, Option<&str>); 3] = [
    ("alice", Some("noc")),
    ("bob", Some("admins")),
    ("carol", None),
];

/// The password of user `uid`, seeded or added by [`Slapd::add_user`].
pub fn password(uid: &str) -> String {
    format!("{uid}-Secret-7")
}

/// The DN of user `uid`.
pub fn user_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

/// The DN of group `cn`.
pub fn group_dn(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

/// The files of a test CA and of slapd's certificate for `localhost` and
/// 127.0.0.1, signed by it.
struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A running slapd; killed, and its files removed, on drop.
pub struct Slapd {
    dir: tempfile::TempDir,
    port: u16,
    ldaps_port: Option<u16>,
    tls: Option<TlsFiles>,
    proc: Option<ChildGuard>,
}

impl Slapd {
    /// Starts slapd on `ldap://127.0.0.1:<free port>` without TLS.
    pub fn start() -> Slapd {
        Slapd::launch(false, false)
    }

    /// Starts slapd with a certificate from a fresh test CA
    /// ([`Slapd::ca_pem`]): StartTLS on [`Slapd::url`] and LDAPS on
    /// [`Slapd::ldaps_url`].
    pub fn start_with_tls() -> Slapd {
        Slapd::launch(true, false)
    }

    /// [`Slapd::start`] for a peer kept in a `static` and shared by the tests
    /// of one binary: it is killed when the test process exits.
    pub fn start_shared() -> Slapd {
        Slapd::launch(false, true)
    }

    /// [`Slapd::start_with_tls`] for a peer kept in a `static`, like
    /// [`Slapd::start_shared`].
    pub fn start_shared_with_tls() -> Slapd {
        Slapd::launch(true, true)
    }

    fn launch(tls: bool, shared: bool) -> Slapd {
        remove_stale_directories();
        let dir = tempfile::Builder::new()
            .prefix("hark-slapd-")
            .tempdir()
            .expect("create slapd's directory");
        std::fs::create_dir_all(dir.path().join("db")).expect("create slapd's database dir");
        let tls = tls.then(|| make_certificates(dir.path()));
        let mut slapd = Slapd {
            port: free_tcp_port(),
            ldaps_port: tls.as_ref().map(|_| free_tcp_port()),
            tls,
            dir,
            proc: None,
        };
        let conf = slapd.dir().join("slapd.conf");
        std::fs::write(&conf, slapd.config()).expect("write slapd.conf");
        run_ok(Command::new("slaptest").args(["-u", "-f"]).arg(&conf), "");
        run_ok(Command::new("slapadd").arg("-f").arg(&conf), &seed_ldif());
        let mut listeners = slapd.url();
        if let Some(ldaps) = slapd.ldaps_url() {
            listeners = format!("{listeners}/ {ldaps}/");
        }
        let mut cmd = Command::new("slapd");
        cmd.arg("-f").arg(&conf).args(["-h", &listeners, "-d", "0"]);
        let log = slapd.dir().join("slapd.log");
        let mut proc = if shared {
            ChildGuard::logged_for_process_lifetime("slapd", &cmd, &log)
        } else {
            ChildGuard::logged("slapd", &mut cmd, &log)
        };
        until(
            format_args!("slapd on {} to accept a bind", slapd.url()),
            || {
                proc.assert_running();
                slapd.admin_bind_succeeds().then_some(())
            },
        );
        slapd.proc = Some(proc);
        let groups = [("noc", "alice"), ("admins", "bob")]
            .map(|(cn, uid)| group_ldif(cn, &[uid]))
            .join("\n");
        slapd.ldap("ldapadd", &groups);
        slapd
    }

    /// slapd.conf: schemas, an mdb database, ACLs, a size limit and the
    /// memberof overlay.
    fn config(&self) -> String {
        let d = self.dir().display();
        let tls = match &self.tls {
            Some(t) => format!(
                "TLSCACertificateFile {}\nTLSCertificateFile {}\nTLSCertificateKeyFile {}\n",
                t.ca.display(),
                t.cert.display(),
                t.key.display()
            ),
            None => String::new(),
        };
        format!(
            r#"include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
{tls}
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {d}/db
# Like Active Directory's MaxPageSize: one search returns at most 100
# entries; a paged search returns them all.
limits users size.soft=100 size.hard=100 size.prtotal=unlimited
access to attrs=userPassword
  by self =xw
  by anonymous auth
  by * none
access to *
  by users read
  by * none
index objectClass eq
index uid eq
index member eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
"#
        )
    }

    /// Its files (slapd.conf, the database, the certificates, the log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `ldap://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The port of [`Slapd::url`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ldaps://127.0.0.1:<port>` when started with TLS.
    pub fn ldaps_url(&self) -> Option<String> {
        self.ldaps_port.map(|p| format!("ldaps://127.0.0.1:{p}"))
    }

    /// The test CA's certificate (PEM) when started with TLS.
    pub fn ca_pem(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca.as_path())
    }

    /// What slapd has written to stdout and stderr.
    pub fn log(&self) -> String {
        self.proc.as_ref().map(|p| p.log()).unwrap_or_default()
    }

    /// Adds user `uid` under [`PEOPLE`] with the password [`password`] gives.
    pub fn add_user(&self, uid: &str) {
        self.ldap("ldapadd", &user_ldif(uid));
    }

    /// Deletes user `uid` (the memberof overlay removes it from its groups).
    pub fn delete_user(&self, uid: &str) {
        let out = self
            .client("ldapdelete", &self.url())
            .arg(user_dn(uid))
            .output();
        let out = out.expect("run ldapdelete (installed? see scripts/install-test-deps.sh)");
        assert!(
            out.status.success(),
            "ldapdelete {} failed: {out:?}\nslapd log:\n{}",
            user_dn(uid),
            self.log()
        );
    }

    /// Adds group `cn` under [`GROUPS`] with these members (at least one:
    /// groupOfNames requires a member).
    pub fn add_group(&self, cn: &str, members: &[&str]) {
        self.ldap("ldapadd", &group_ldif(cn, members));
    }

    /// Adds the groups `cns` under [`GROUPS`], each with these members, in
    /// one `ldapadd`.
    pub fn add_groups(&self, cns: &[String], members: &[&str]) {
        let ldif: Vec<String> = cns.iter().map(|cn| group_ldif(cn, members)).collect();
        self.ldap("ldapadd", &ldif.join("\n"));
    }

    /// Adds user `uid` to group `cn`.
    pub fn add_member(&self, cn: &str, uid: &str) {
        self.modify_member(cn, uid, "add");
    }

    /// Adds group `cn` under [`GROUPS`] whose members are the groups
    /// `groups` (at least one), for nested groups.
    pub fn add_group_of_groups(&self, cn: &str, groups: &[&str]) {
        let mut ldif = format!(
            "dn: {}\nobjectClass: groupOfNames\ncn: {cn}\n",
            group_dn(cn)
        );
        for member in groups {
            ldif.push_str(&format!("member: {}\n", group_dn(member)));
        }
        self.ldap("ldapadd", &ldif);
    }

    /// Makes group `member` a member of group `cn`.
    pub fn add_group_member(&self, cn: &str, member: &str) {
        let ldif = format!(
            "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n",
            group_dn(cn),
            group_dn(member)
        );
        self.ldap("ldapmodify", &ldif);
    }

    /// Removes user `uid` from group `cn` (which must keep another member).
    pub fn remove_member(&self, cn: &str, uid: &str) {
        self.modify_member(cn, uid, "delete");
    }

    fn modify_member(&self, cn: &str, uid: &str, op: &str) {
        let ldif = format!(
            "dn: {}\nchangetype: modify\n{op}: member\nmember: {}\n",
            group_dn(cn),
            user_dn(uid)
        );
        self.ldap("ldapmodify", &ldif);
    }

    /// Stops slapd (SIGKILL): the port refuses connections afterwards.
    pub fn stop(&mut self) {
        self.proc.take();
    }

    /// Freezes slapd (SIGSTOP): connections are accepted by the kernel but
    /// never answered, like a hung directory.
    /// Returns once the process is seen stopped.
    pub fn pause(&self) {
        if let Some(p) = &self.proc {
            let pid = p.id();
            signal(pid, "STOP");
            until(format_args!("slapd ({pid}) to stop"), || {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                // The state follows the command name in parentheses.
                let state = stat.rsplit_once(") ")?.1.chars().next()?;
                (state == 'T').then_some(())
            });
        }
    }

    /// Lets a paused slapd run again (SIGCONT).
    pub fn resume(&self) {
        if let Some(p) = &self.proc {
            signal(p.id(), "CONT");
        }
    }

    /// Whether `ldapwhoami` as the administrator succeeds (and, with TLS,
    /// also over LDAPS trusting the test CA).
    fn admin_bind_succeeds(&self) -> bool {
        let mut urls = vec![self.url()];
        urls.extend(self.ldaps_url());
        urls.iter().all(|url| {
            self.client("ldapwhoami", url)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// An ldap-utils `tool` bound as the administrator to `url`.
    fn client(&self, tool: &str, url: &str) -> Command {
        let mut c = Command::new(tool);
        c.args(["-x", "-H", url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD]);
        if let Some(ca) = self.ca_pem() {
            c.env("LDAPTLS_CACERT", ca);
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs `tool` as the administrator with `input` on stdin; panics with
    /// its output and slapd's log when it fails.
    fn ldap(&self, tool: &str, input: &str) {
        let out = feed(&mut self.client(tool, &self.url()), input);
        assert!(
            out.status.success(),
            "{tool} failed ({}):\n{input}\n{}{}\nslapd log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- slapd log ----\n{}", self.log());
        }
        self.proc.take();
    }
}

/// Removes the directories of shared peers from earlier test runs: a
/// `static` is never dropped, so its directory stays behind when the
/// process exits. A directory goes once its `slapd.pid` names a process
/// that no longer exists.
fn remove_stale_directories() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("hark-slapd-"));
        let pid = std::fs::read_to_string(path.join("slapd.pid")).ok();
        let gone = pid
            .as_deref()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if ours && gone {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// The base entries, the organisational units, the service account and
/// the seeded users, for slapadd.
fn seed_ldif() -> String {
    let mut ldif = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
    );
    for ou in ["people", "groups", "services"] {
        ldif.push_str(&format!(
            "dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
        ));
    }
    ldif.push_str(&format!(
        "dn: {SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n\
         cn: hark\nuserPassword: {}\n\n",
        hash(SERVICE_PASSWORD)
    ));
    for (uid, _) in SEED_USERS {
        ldif.push_str(&user_ldif(uid));
        ldif.push('\n');
    }
    ldif
}

/// An inetOrgPerson entry for `uid` with a hashed [`password`].
fn user_ldif(uid: &str) -> String {
    format!(
        "dn: {}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid} Example\nsn: Example\n\
         mail: {uid}@example.test\nuserPassword: {}\n",
        user_dn(uid),
        hash(&password(uid))
    )
}

/// A groupOfNames entry.
fn group_ldif(cn: &str, members: &[&str]) -> String {
    let mut ldif = format!(
        "dn: {}\nobjectClass: groupOfNames\ncn: {cn}\n",
        group_dn(cn)
    );
    for uid in members {
        ldif.push_str(&format!("member: {}\n", user_dn(uid)));
    }
    ldif
}

/// `slappasswd -s secret`: a salted SHA-1 hash, as slapd stores passwords.
fn hash(secret: &str) -> String {
    let out = Command::new("slappasswd")
        .args(["-s", secret])
        .output()
        .expect("run slappasswd (installed? see scripts/install-test-deps.sh)");
    assert!(out.status.success(), "slappasswd failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs `cmd` with `input` on stdin and returns its output.
fn feed(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("run {cmd:?} (installed? see scripts/install-test-deps.sh): {e}")
        });
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write to stdin");
    }
    child.wait_with_output().expect("wait for the child")
}

/// Runs `cmd` with `input` on stdin and panics unless it succeeds.
fn run_ok(cmd: &mut Command, input: &str) {
    let out = feed(cmd, input);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for `localhost` and 127.0.0.1, as PEM
/// files in `dir`.
fn make_certificates(dir: &Path) -> TlsFiles {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "hark slapd test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("self-sign the CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("server key");
    let cert = params
        .signed_by(&key, &issuer)
        .expect("sign the server certificate");
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write a PEM file");
        p
    };
    TlsFiles {
        ca: write("ca.pem", ca.pem()),
        cert: write("server.pem", cert.pem()),
        key: write("server.key", key.serialize_pem()),
    }
}

/// A CA that signed nothing slapd presents, as a PEM file in `dir`: for
/// tests that a client trusting only it refuses the directory.
pub fn unrelated_ca(dir: &Path) -> PathBuf {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "an unrelated CA");
    let key = KeyPair::generate().expect("CA key");
    let ca = params.self_signed(&key).expect("self-sign the CA");
    let path = dir.join("unrelated-ca.pem");
    std::fs::write(&path, ca.pem()).expect("write a PEM file");
    path
}
