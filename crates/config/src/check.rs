//! `warden config check`: everything that can be known about a configuration without starting
//! the desk. Loading already refused unknown keys and bad values; this looks outside the file:
//! paths exist and are readable, certificates and keys parse, the SQLite directory is there, the
//! PostgreSQL server answers, the NAT store is a store.
//!
//! Each table checks its own keys ([`CheckTable`]), so a new table brings its checks along.
//! Network probes are collected first and run afterwards with a timeout, so the walk itself stays
//! synchronous and cheap.

use crate::Config;
use crate::schema::{
    AttributionSection, IntakeSection, ReportsSection, SelfHelpSection, ServeSection,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use warden_desk::Policy;

/// How long the PostgreSQL probe may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One problem found, with the key it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The dotted key (`serve.smtp_tls_cert`).
    pub key: String,
    /// What is wrong and, where it helps, what to do.
    pub problem: String,
}

/// What the table walk collects: findings, and the probes to run afterwards.
#[derive(Debug, Default)]
pub struct Findings {
    found: Vec<Finding>,
    databases: Vec<(String, String)>,
}

impl Findings {
    /// Records a problem with `key`.
    pub fn add(&mut self, key: impl Into<String>, problem: impl Into<String>) {
        self.found.push(Finding {
            key: key.into(),
            problem: problem.into(),
        });
    }

    /// Asks for the database at `url` (set by `key`) to be connected to after the walk.
    pub fn probe_database(&mut self, key: impl Into<String>, url: impl Into<String>) {
        self.databases.push((key.into(), url.into()));
    }

    /// A file that must exist and be readable; its bytes, when it is.
    pub fn readable_file(&mut self, key: &str, path: &Path) -> Option<Vec<u8>> {
        match std::fs::read(path) {
            Ok(b) => Some(b),
            Err(e) => {
                self.add(key, format!("{}: cannot read: {e}", path.display()));
                None
            }
        }
    }

    /// A directory that must exist and be listable.
    pub fn readable_dir(&mut self, key: &str, path: &Path) {
        if let Err(e) = std::fs::read_dir(path) {
            self.add(
                key,
                format!("{}: cannot read the directory: {e}", path.display()),
            );
        }
    }

    /// A PEM file holding at least one certificate.
    pub fn certificates(&mut self, key: &str, path: &Path) {
        let Some(pem) = self.readable_file(key, path) else {
            return;
        };
        match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
            Ok(certs) if certs.is_empty() => {
                self.add(key, format!("{}: no PEM certificate in it", path.display()))
            }
            Ok(_) => {}
            Err(e) => self.add(
                key,
                format!("{}: not a PEM certificate: {e}", path.display()),
            ),
        }
    }

    /// A PEM file holding a private key.
    pub fn private_key(&mut self, key: &str, path: &Path) {
        let Some(pem) = self.readable_file(key, path) else {
            return;
        };
        if let Err(e) = PrivateKeyDer::from_pem_slice(&pem) {
            self.add(
                key,
                format!("{}: not a PEM private key: {e}", path.display()),
            );
        }
    }
}

/// A table that can check its values against the world.
pub trait CheckTable {
    /// Records what is wrong with this table (named `name` in the file) into `out`.
    fn check(&self, name: &str, out: &mut Findings);
}

/// Checks every table, then runs the probes; an empty list means the configuration is usable.
pub async fn check(config: &Config) -> Vec<Finding> {
    let mut out = Findings::default();
    for (name, table) in config.tables() {
        table.check(name, &mut out);
    }
    for (key, url) in std::mem::take(&mut out.databases) {
        if let Err(problem) = connect(&url).await {
            out.add(key, problem);
        }
    }
    out.found
}

/// Connects to a PostgreSQL URL and closes again; nothing is migrated or written.
async fn connect(url: &str) -> Result<(), String> {
    use sqlx::Connection as _;
    let shown = crate::store::redact(url);
    match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect(url)).await {
        Ok(Ok(c)) => {
            let _ = c.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(format!("{shown}: cannot connect: {e}")),
        Err(_) => Err(format!(
            "{shown}: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

fn host_port(out: &mut Findings, key: &str, value: &str) {
    let ok = value
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.trim_matches(['[', ']']).is_empty() && p.parse::<u16>().is_ok());
    if !ok {
        out.add(key, format!("{value:?}: expected HOST:PORT"));
    }
}

impl CheckTable for ServeSection {
    fn check(&self, name: &str, out: &mut Findings) {
        let key = |k: &str| format!("{name}.{k}");
        match &self.database {
            Some(url) if url.starts_with("postgres:") || url.starts_with("postgresql:") => {
                out.probe_database(key("database"), url.clone());
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(rest) => {
                    let file = Path::new(rest.split('?').next().unwrap_or(rest));
                    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
                    if let Some(dir) = dir
                        && !dir.is_dir()
                    {
                        out.add(
                            key("database"),
                            format!(
                                "{}: the SQLite file's directory does not exist",
                                dir.display()
                            ),
                        );
                    }
                }
                None => out.add(
                    key("database"),
                    format!(
                        "{}: use sqlite://PATH or postgres://USER@HOST/DB",
                        crate::store::redact(url)
                    ),
                ),
            },
            None => {
                // SQLite in the data directory, created on first start when its parent exists.
                let data = self.data_dir();
                if data.exists() {
                    if !data.is_dir() {
                        out.add(key("data"), format!("{}: not a directory", data.display()));
                    } else {
                        out.readable_dir(&key("data"), &data);
                    }
                } else if let Some(parent) = data.parent().filter(|p| !p.as_os_str().is_empty())
                    && !parent.is_dir()
                {
                    out.add(
                        key("data"),
                        format!(
                            "{}: neither the data directory nor its parent {} exists",
                            data.display(),
                            parent.display()
                        ),
                    );
                }
            }
        }
        if let Some(c) = &self.smtp_tls_cert {
            out.certificates(&key("smtp_tls_cert"), c);
        }
        if let Some(k) = &self.smtp_tls_key {
            out.private_key(&key("smtp_tls_key"), k);
        }
        if let Some(c) = &self.webhook_ca_file {
            out.certificates(&key("webhook_ca_file"), c);
        }
        if let Some(dir) = &self.templates
            && let Err(e) = warden_desk::notify::Templates::load(dir)
        {
            out.add(key("templates"), e.to_string());
        }
        if let Some(dir) = &self.webui_overrides {
            out.readable_dir(&key("webui_overrides"), dir);
        }
        if let Some(relay) = &self.relay {
            host_port(out, &key("relay"), relay);
        }
        if self.smtp_listen.is_some() && self.smtp_domains.is_empty() {
            out.add(
                key("smtp_domains"),
                "smtp_listen needs at least one domain (the domains whose abuse@ this desk receives)",
            );
        }
    }
}

impl CheckTable for Policy {
    // Validated in full at load; the webhook is reached only when a case escalates.
    fn check(&self, _name: &str, _out: &mut Findings) {}
}

impl CheckTable for SelfHelpSection {
    // Validated in full at load.
    fn check(&self, _name: &str, _out: &mut Findings) {}
}

impl CheckTable for AttributionSection {
    fn check(&self, name: &str, out: &mut Findings) {
        let Some(nat) = &self.nat else {
            return;
        };
        let key = format!("{name}.nat.store");
        if !nat
            .store
            .join(warden_attribution::store::manifest::MANIFEST)
            .is_file()
        {
            out.add(
                key,
                format!(
                    "{}: not a NAT log store (no MANIFEST); create it with `warden nat import --store {}`",
                    nat.store.display(),
                    nat.store.display()
                ),
            );
            return;
        }
        // Opens the store, reads the deterministic NAT and RADIUS files: what start-up does.
        if let Err(e) = warden_desk::NatResolver::load(nat) {
            out.add(format!("{name}.nat"), e.to_string());
        }
    }
}

impl CheckTable for IntakeSection {
    fn check(&self, name: &str, out: &mut Findings) {
        let Some(imap) = &self.imap else {
            return;
        };
        let key = |k: &str| format!("{name}.imap.{k}");
        host_port(out, &key("server"), &imap.server);
        if let Some(pw) = out.readable_file(&key("password_file"), &imap.password_file)
            && pw
                .split(|&b| b == b'\n')
                .next()
                .is_none_or(<[u8]>::is_empty)
        {
            out.add(
                key("password_file"),
                format!(
                    "{}: the first line (the password) is empty",
                    imap.password_file.display()
                ),
            );
        }
        if let Some(ca) = &imap.ca_file {
            out.certificates(&key("ca_file"), ca);
        }
    }
}

impl CheckTable for ReportsSection {
    fn check(&self, name: &str, out: &mut Findings) {
        if let Some(schema) = &self.shadowserver_schema {
            out.readable_file(&format!("{name}.shadowserver_schema"), schema);
        }
    }
}
