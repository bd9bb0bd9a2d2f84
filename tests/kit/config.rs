//! The configuration of a server under test: its inputs and extra TOML.

use std::fmt::Write as _;

use crate::init_crypto;
use crate::server::Hark;
use crate::tls::TlsFiles;
use hark_testkit::tmpfs::Tmpfs;
use hark_testkit::{free_tcp_port, free_udp_port};

/// An input's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// Plain TCP.
    Tcp,
    /// TCP with TLS.
    Tls,
    /// HTTP over plain TCP (GELF).
    Http,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Http => "http",
        }
    }
}

struct InputSpec {
    name: String,
    /// The `type` key.
    kind: String,
    /// Written as `transport` when set (syslog and gelf need it).
    transport: Option<Transport>,
    port: u16,
    /// Extra `key = value` lines for this input's table.
    options: String,
}

/// Builds the configuration of a [`Hark`] before starting it.
#[derive(Default)]
pub struct HarkBuilder {
    inputs: Vec<InputSpec>,
    extra: String,
    /// Size in MiB of a tmpfs to mount as the data directory.
    tmpfs_mib: Option<u32>,
}

impl HarkBuilder {
    /// A syslog input `name` on a free port of 127.0.0.1.
    pub fn input(self, name: &str, transport: Transport) -> Self {
        self.input_with(name, transport, "")
    }

    /// Like [`HarkBuilder::input`], with extra `key = value` lines for the
    /// input's table (e.g. `max_message_size = 1024`).
    pub fn input_with(mut self, name: &str, transport: Transport, options: &str) -> Self {
        let port = match transport {
            Transport::Udp => free_udp_port(),
            Transport::Tcp | Transport::Tls | Transport::Http => free_tcp_port(),
        };
        self.inputs.push(InputSpec {
            name: name.to_owned(),
            kind: "syslog".to_owned(),
            transport: Some(transport),
            port,
            options: options.to_owned(),
        });
        self
    }

    /// An input of another `kind` (`relp`, `beats`, `gelf`, `snmptrap`) on a
    /// free port: a UDP port when `udp`, else TCP. `transport` is written only
    /// when given (gelf needs it; relp and beats derive it).
    pub fn typed_input(
        mut self,
        name: &str,
        kind: &str,
        transport: Option<Transport>,
        udp: bool,
        options: &str,
    ) -> Self {
        let port = if udp {
            free_udp_port()
        } else {
            free_tcp_port()
        };
        self.inputs.push(InputSpec {
            name: name.to_owned(),
            kind: kind.to_owned(),
            transport,
            port,
            options: options.to_owned(),
        });
        self
    }

    /// A TLS syslog input with the server certificate of `tls`; with
    /// `require_client_cert` clients must present a certificate signed by
    /// `tls`'s CA.
    pub fn tls_input(
        self,
        name: &str,
        tls: &TlsFiles,
        require_client_cert: bool,
        options: &str,
    ) -> Self {
        let mut opts = format!(
            "tls_cert = {}\ntls_key = {}\n",
            toml_str(&tls.server_cert.display().to_string()),
            toml_str(&tls.server_key.display().to_string()),
        );
        if require_client_cert {
            let _ = writeln!(
                opts,
                "tls_client_ca = {}",
                toml_str(&tls.ca_cert.display().to_string())
            );
        }
        opts.push_str(options);
        self.input_with(name, Transport::Tls, &opts)
    }

    /// A monitor `[monitors.NAME]` whose table holds `body` (`key = value`
    /// lines: `type`, `host`, `interval` …).
    pub fn monitor(mut self, name: &str, body: &str) -> Self {
        let _ = writeln!(self.extra, "[monitors.{name}]\n{}\n", body.trim());
        self
    }

    /// Puts the data directory on a tmpfs of `mib` MiB, which the test can
    /// fill and grow ([`Hark::data_tmpfs`]).
    pub fn data_on_tmpfs(mut self, mib: u32) -> Self {
        self.tmpfs_mib = Some(mib);
        self
    }

    /// TOML appended to the configuration as is; start it with a table
    /// header (`[storage]` …), since top-level keys are written first.
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self.extra.push('\n');
        self
    }

    /// Writes the configuration, starts `hark serve` and waits for `ready`.
    pub fn start(self) -> Hark {
        init_crypto();
        let dir = tempfile::Builder::new()
            .prefix("hark-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        let data_dir = dir.path().join("data");
        let tmpfs = self.tmpfs_mib.map(|mib| Tmpfs::mount(&data_dir, mib));
        let http_port = free_tcp_port();
        let mut toml = String::new();
        let _ = writeln!(
            toml,
            "data_dir = {}",
            toml_str(&data_dir.display().to_string())
        );
        let _ = writeln!(toml, "\n[http]\nlisten = \"127.0.0.1:{http_port}\"");
        for i in &self.inputs {
            let _ = writeln!(
                toml,
                "\n[inputs.{}]\ntype = \"{}\"\nlisten = \"127.0.0.1:{}\"",
                i.name, i.kind, i.port
            );
            if let Some(t) = i.transport {
                let _ = writeln!(toml, "transport = \"{}\"", t.name());
            }
            if !i.options.is_empty() {
                let _ = writeln!(toml, "{}", i.options.trim_end());
            }
        }
        if !self.extra.is_empty() {
            let _ = writeln!(toml, "\n{}", self.extra.trim_end());
        }
        let config_path = dir.path().join("hark.toml");
        std::fs::write(&config_path, &toml).expect("write the configuration");
        Hark::launch_new(dir, config_path, data_dir, toml, tmpfs)
    }
}

/// TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
