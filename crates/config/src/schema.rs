//! The tables of `warden.toml` that belong to no library: the listeners of `warden serve`, the
//! self-help links, the IMAP poll, the report parsers' data files. Tables that a library already
//! defines (`[desk]` is [`warden_desk::Policy`], `[attribution.nat]` is
//! [`warden_desk::NatConfig`]) are used as they are, so the library and the file cannot drift.
//!
//! Every table refuses unknown keys (`deny_unknown_fields`): a misspelt key is an error at start,
//! never a feature silently off.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use warden_desk::NatConfig;
use warden_desk::imap::ImapSecurity;

/// The data directory used when neither `[serve] data` nor `--data` names one.
pub const DEFAULT_DATA_DIR: &str = "warden-data";

/// `[serve]`: the listeners and stores of `warden serve` (the stores are shared by `warden
/// import` and `warden inventory`, so that every door reaches the same desk).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSection {
    /// HTTP API and web UI address [default: 127.0.0.1:8080].
    pub listen: Option<SocketAddr>,
    /// SMTP intake address for abuse@ (off unless given).
    pub smtp_listen: Option<SocketAddr>,
    /// Name the SMTP listener greets with.
    pub smtp_hostname: Option<String>,
    /// Domains whose abuse@ and postmaster@ the SMTP listener accepts.
    pub smtp_domains: Vec<String>,
    /// Local parts accepted besides abuse and postmaster.
    pub smtp_mailboxes: Vec<String>,
    /// Largest report accepted, by every door.
    pub max_message_bytes: Option<usize>,
    /// PEM certificate chain for STARTTLS on the SMTP listener (with `smtp_tls_key`).
    pub smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    pub smtp_tls_key: Option<PathBuf>,
    /// Concurrent SMTP sessions in all; beyond it `421` [default: 256].
    pub smtp_max_sessions: Option<usize>,
    /// Concurrent SMTP sessions per client IP, so one host cannot take every slot [default: 16].
    pub smtp_max_sessions_per_ip: Option<usize>,
    /// Idle seconds allowed per SMTP command, before MAIL and between commands [default: 30].
    pub smtp_command_timeout_seconds: Option<u64>,
    /// Idle seconds allowed per line inside DATA, where slow links pause [default: 300].
    pub smtp_data_timeout_seconds: Option<u64>,
    /// Data directory: SQLite database, raw reports, outgoing mail [default: ./warden-data].
    pub data: Option<PathBuf>,
    /// Database URL (`postgres://user@host/db`); SQLite in the data directory when absent.
    pub database: Option<String>,
    /// Outgoing mail relay HOST:PORT; without it, mails are written to DATA/outgoing/.
    pub relay: Option<String>,
    /// Upgrade the relay connection with STARTTLS.
    pub relay_starttls: bool,
    /// Extra PEM CA certificates trusted for https webhooks (besides the public roots).
    pub webhook_ca_file: Option<PathBuf>,
    /// Directory of notice templates replacing the built-in ones.
    pub templates: Option<PathBuf>,
    /// Web UI chrome overrides: a directory with style.css, header.html, footer.html.
    pub webui_overrides: Option<PathBuf>,
    /// Seconds between escalation and delivery rounds.
    pub tick_seconds: Option<f64>,
    /// API requests per second per client.
    pub rate_per_sec: Option<u32>,
    /// API request burst per client.
    pub rate_burst: Option<u32>,
}

impl ServeSection {
    /// The data directory: the configured one or [`DEFAULT_DATA_DIR`].
    pub fn data_dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}

/// `[self_help]`: links in customer notices to the self-help page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfHelpSection {
    /// Turn the links on (default) or off.
    pub enabled: bool,
    /// Base URL customers reach the web UI at; default `http://LISTEN`.
    pub public_url: Option<String>,
    /// Days a link stays valid after the notice.
    pub link_days: u32,
    /// Hide who reported.
    pub hide_reporter: bool,
    /// Hide the local part of mail addresses in evidence.
    pub mask_email_local_parts: bool,
    /// Hide IP addresses in evidence other than the case's subject.
    pub hide_other_addresses: bool,
}

impl Default for SelfHelpSection {
    fn default() -> Self {
        Self {
            enabled: true,
            public_url: None,
            link_days: 30,
            hide_reporter: true,
            mask_email_local_parts: true,
            hide_other_addresses: true,
        }
    }
}

/// `[attribution]`: `[attribution.nat]` turns on CGN attribution through NAT logs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributionSection {
    /// The NAT log store and its lookup settings; CGN attribution is off without it.
    pub nat: Option<NatConfig>,
}

/// `[intake]`: doors into the desk besides the API and the SMTP listener.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeSection {
    /// A mailbox `warden serve` polls.
    pub imap: Option<ImapPoll>,
}

/// `[intake.imap]`: a mailbox `warden serve` polls, as `warden import imap` would.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapPoll {
    /// HOST:PORT of the IMAP server.
    pub server: String,
    /// Login name.
    pub user: String,
    /// File holding the password (first line), so it is never in the configuration.
    pub password_file: PathBuf,
    /// Mailbox to read.
    #[serde(default = "inbox")]
    pub mailbox: String,
    /// How the connection is protected.
    #[serde(default = "tls")]
    pub security: ImapSecurity,
    /// Extra PEM CA certificates to trust (an internal CA).
    pub ca_file: Option<PathBuf>,
    /// Move imported messages here instead of flagging them.
    pub move_to: Option<String>,
    /// Seconds between polls (at least 10).
    #[serde(default = "five_minutes")]
    pub poll_seconds: u64,
}

fn inbox() -> String {
    "INBOX".into()
}
fn tls() -> ImapSecurity {
    ImapSecurity::Tls
}
fn five_minutes() -> u64 {
    300
}

/// `[reports]`: data files the report parsers read instead of their built-in copies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsSection {
    /// Shadowserver's own report schema (a newer copy than the one built in), so new report
    /// types are understood without a new release.
    pub shadowserver_schema: Option<PathBuf>,
}
