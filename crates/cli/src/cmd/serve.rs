//! `warden serve`: the abuse desk (HTTP API, SMTP intake, case engine), configured by
//! `warden.toml` (`[serve]` for the listeners, `[desk]` for policy, `[attribution.nat]` for the
//! CGN log store), flags and `WARDEN_*` variables; `--demo` runs it on a throw-away store with
//! generated customers, CGN logs and reports.

use anyhow::{Context, bail};
use chrono::Utc;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use warden_desk::notify::{HttpWebhook, Mailer, PickupDirMailer, SmtpMailer, Templates};
use warden_desk::tokens::{self, Role};
use warden_desk::{
    Attributor, CgnAttributor, Channel, Desk, InventoryAttributor, NatConfig, NatResolver, Policy,
    RawStore, Store, demo, inventory,
};
use warden_server::ServerConfig;
use warden_server::smtp::SmtpConfig;

/// Arguments of `warden serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (`[serve]` and `[desk]` tables).
    #[arg(long, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
    /// HTTP API address [default: 127.0.0.1:8080].
    #[arg(long, env = "WARDEN_LISTEN")]
    listen: Option<SocketAddr>,
    /// SMTP intake address for abuse@ (off unless given).
    #[arg(long, env = "WARDEN_SMTP_LISTEN")]
    smtp_listen: Option<SocketAddr>,
    /// Domains whose abuse@ and postmaster@ the SMTP listener accepts (repeatable).
    #[arg(
        long = "smtp-domain",
        env = "WARDEN_SMTP_DOMAINS",
        value_delimiter = ','
    )]
    smtp_domains: Vec<String>,
    /// Data directory: SQLite database and raw reports [default: ./warden-data].
    #[arg(long, env = "WARDEN_DATA")]
    data: Option<PathBuf>,
    /// Database URL (`postgres://user@host/db`); SQLite in the data directory when absent.
    #[arg(long, env = "WARDEN_DATABASE")]
    database: Option<String>,
    /// Outgoing mail relay HOST:PORT; without it, mails are written to DATA/outgoing/.
    #[arg(long, env = "WARDEN_RELAY")]
    relay: Option<String>,
    /// Register this bearer token as `admin` (otherwise a first token is generated and printed).
    #[arg(long, env = "WARDEN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Seconds between escalation and delivery rounds.
    #[arg(long, env = "WARDEN_TICK_SECONDS")]
    tick_seconds: Option<f64>,
    /// Try-out mode: temporary SQLite store, generated inventory and sample reports.
    #[arg(long)]
    demo: bool,
    /// Sample reports generated in demo mode.
    #[arg(long, default_value_t = 300)]
    demo_reports: usize,
}

/// The `[serve]` table of `warden.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ServeSection {
    listen: Option<SocketAddr>,
    smtp_listen: Option<SocketAddr>,
    smtp_hostname: Option<String>,
    smtp_domains: Vec<String>,
    smtp_mailboxes: Vec<String>,
    pub(crate) max_message_bytes: Option<usize>,
    /// PEM certificate chain for STARTTLS on the SMTP listener (with `smtp_tls_key`).
    smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    smtp_tls_key: Option<PathBuf>,
    pub(crate) data: Option<PathBuf>,
    pub(crate) database: Option<String>,
    relay: Option<String>,
    relay_starttls: bool,
    /// Extra PEM CA certificates trusted for https webhooks (besides the public roots).
    webhook_ca_file: Option<PathBuf>,
    /// `[intake.imap]`, filled in by `load_config` (it is its own table in the file).
    #[serde(skip)]
    imap: Option<ImapPoll>,
    templates: Option<PathBuf>,
    /// Web UI chrome overrides: a directory with style.css, header.html, footer.html.
    webui_overrides: Option<PathBuf>,
    tick_seconds: Option<f64>,
    rate_per_sec: Option<u32>,
    rate_burst: Option<u32>,
}

/// The `[self_help]` table: links in customer notices to the self-help page.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SelfHelpSection {
    /// Turn the links on (default) or off.
    enabled: bool,
    /// Base URL customers reach the web UI at; default `http://LISTEN`.
    public_url: Option<String>,
    /// Days a link stays valid after the notice.
    link_days: u32,
    /// Hide who reported.
    hide_reporter: bool,
    /// Hide the local part of mail addresses in evidence.
    mask_email_local_parts: bool,
    /// Hide IP addresses in evidence other than the case's subject.
    hide_other_addresses: bool,
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

/// The `[attribution]` table: `[attribution.nat]` turns on CGN attribution through NAT logs.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AttributionSection {
    nat: Option<NatConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfigFile {
    serve: ServeSection,
    desk: Option<toml::Value>,
    self_help: SelfHelpSection,
    attribution: AttributionSection,
    intake: IntakeSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct IntakeSection {
    imap: Option<ImapPoll>,
}

/// `[intake.imap]`: a mailbox `warden serve` polls, as `warden import imap` would.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImapPoll {
    server: String,
    user: String,
    password_file: PathBuf,
    #[serde(default = "inbox")]
    mailbox: String,
    #[serde(default = "tls")]
    security: warden_desk::imap::ImapSecurity,
    ca_file: Option<PathBuf>,
    move_to: Option<String>,
    #[serde(default = "five_minutes")]
    poll_seconds: u64,
}

fn inbox() -> String {
    "INBOX".into()
}
fn tls() -> warden_desk::imap::ImapSecurity {
    warden_desk::imap::ImapSecurity::Tls
}
fn five_minutes() -> u64 {
    300
}

impl ImapPoll {
    fn source(&self) -> anyhow::Result<warden_desk::imap::ImapSource> {
        let (host, port) = split_host_port(&self.server)?;
        Ok(warden_desk::imap::ImapSource {
            host,
            port,
            user: self.user.clone(),
            password: super::import::read_password(&self.password_file)?,
            mailbox: self.mailbox.clone(),
            security: self.security,
            ca_file: self.ca_file.clone(),
            move_to: self.move_to.clone(),
            timeout: Duration::from_secs(60),
        })
    }
}

/// What `warden.toml` configures: the `[serve]` table (with `[intake.imap]` folded in), the case
/// policy, self-help links and CGN attribution.
pub(crate) type Loaded = (ServeSection, Policy, SelfHelpSection, Option<NatConfig>);

pub(crate) fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Loaded> {
    let Some(path) = path else {
        return Ok((
            ServeSection::default(),
            Policy::default(),
            SelfHelpSection::default(),
            None,
        ));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: ConfigFile = toml::from_str(&text)
        .with_context(|| format!("{}: invalid configuration", path.display()))?;
    let policy = match file.desk {
        Some(v) => Policy::from_toml(&toml::to_string(&v)?)
            .with_context(|| format!("{}: [desk]", path.display()))?,
        None => Policy::default(),
    };
    let mut serve = file.serve;
    serve.imap = file.intake.imap;
    Ok((serve, policy, file.self_help, file.attribution.nat))
}

fn split_host_port(s: &str) -> anyhow::Result<(String, u16)> {
    let (h, p) = s
        .rsplit_once(':')
        .with_context(|| format!("relay {s:?}: expected HOST:PORT"))?;
    Ok((
        h.trim_matches(['[', ']']).to_owned(),
        p.parse()
            .with_context(|| format!("relay {s:?}: bad port"))?,
    ))
}

/// The attributor `[attribution.nat]` asks for: CGN attribution through the NAT log store when
/// configured, the inventory alone otherwise. Shared by `warden serve` and `warden import`, so a
/// report is attributed the same way whichever door it came in by.
pub(crate) async fn attributor_for(
    store: &Store,
    nat_config: Option<NatConfig>,
    who: &str,
) -> anyhow::Result<Arc<dyn Attributor>> {
    Ok(match nat_config {
        Some(cfg) => {
            let dir = cfg.store.display().to_string();
            let resolver = tokio::task::spawn_blocking(move || NatResolver::load(&cfg))
                .await
                .context("NAT store task")?
                .with_context(|| format!("[attribution.nat]: cannot use the NAT store {dir}"))?;
            eprintln!("{who}: CGN attribution through the NAT log store {dir}");
            Arc::new(CgnAttributor::new(store.clone(), Arc::new(resolver)))
        }
        None => Arc::new(InventoryAttributor::new(store.clone())),
    })
}

/// Runs `warden serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_writer(std::io::stderr)
        .try_init();
    let (section, mut policy, self_help, mut nat_config) = load_config(args.config.as_ref())?;
    let demo = args.demo;
    let data = if demo {
        std::env::temp_dir().join(format!("warden-demo-{}", uuid_like()))
    } else {
        args.data
            .or(section.data.clone())
            .unwrap_or_else(|| PathBuf::from("warden-data"))
    };
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let store = match (demo, args.database.or(section.database.clone())) {
        (false, Some(url)) => Store::connect(&url)
            .await
            .with_context(|| "cannot open the database (check --database)".to_string())?,
        _ => Store::open_sqlite_dir(&data)
            .await
            .with_context(|| format!("cannot open the SQLite store in {}", data.display()))?,
    };
    if demo && policy.from_address == Policy::default().from_address {
        policy.from_address = "abuse@isp.example".into();
    }
    let raw = RawStore::open(data.join("raw"))?;
    let now = Utc::now();
    // The demo CGN: generated Juniper port-block logs imported into a real NAT store.
    let mut nat_truth = Vec::new();
    if demo {
        let dir = data.join("nat");
        let (store_dir, truth) = tokio::task::spawn_blocking(move || demo::nat_store(&dir, now))
            .await
            .context("demo NAT store task")??;
        nat_config = Some(NatConfig::for_store(store_dir));
        nat_truth = truth;
    }
    let attributor = attributor_for(&store, nat_config, "warden serve").await?;
    let desk = Desk::new(
        store.clone(),
        raw,
        policy,
        attributor,
        warden_reports::parse,
    );

    let token = match args.admin_token.clone().or_else(|| {
        demo.then(|| std::env::var("WARDEN_DEMO_TOKEN").ok())
            .flatten()
    }) {
        Some(t) => {
            tokens::register(&store, &t, "admin", Role::Admin, now).await?;
            None
        }
        None if tokens::count(&store).await? == 0 => {
            let t = tokens::generate();
            tokens::register(&store, &t, "admin", Role::Admin, now).await?;
            Some(t)
        }
        None => None,
    };

    let mut smtp_domains = if args.smtp_domains.is_empty() {
        section.smtp_domains.clone()
    } else {
        args.smtp_domains.clone()
    };
    let mut smtp_listen = args.smtp_listen.or(section.smtp_listen);
    if demo {
        let inv = demo::inventory(50);
        inventory::import(&store, &inv, now).await?;
        if smtp_domains.is_empty() {
            smtp_domains.push("isp.example".into());
        }
        smtp_listen = smtp_listen.or(Some(SocketAddr::from(([127, 0, 0, 1], 2525))));
        let mut reports = demo::reports(args.demo_reports, 50, 2026, now);
        reports.extend(demo::cgn_reports(&nat_truth, 30, 2026));
        let (mut processed, mut quarantined) = (0, 0);
        for r in reports {
            let receipt = desk.ingest(r, Channel::Demo, None, now).await?;
            if receipt.status == warden_desk::ReportStatus::Quarantined {
                quarantined += 1;
            } else {
                processed += 1;
            }
        }
        eprintln!(
            "demo: data in {} ; {} customers and {} CGN subscribers; {} sample reports processed, {} quarantined",
            data.display(),
            50,
            demo::CGN_SUBSCRIBERS,
            processed,
            quarantined
        );
    }

    let mut smtp = SmtpConfig::default();
    if !smtp_domains.is_empty() {
        smtp.domains = smtp_domains
            .iter()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
    }
    if !section.smtp_mailboxes.is_empty() {
        smtp.mailboxes = section
            .smtp_mailboxes
            .iter()
            .map(|m| m.to_ascii_lowercase())
            .collect();
    }
    if let Some(h) = &section.smtp_hostname {
        smtp.hostname = h.clone();
    }
    if let Some(m) = section.max_message_bytes {
        smtp.max_message_bytes = m;
    }
    let mut desk = desk.with_max_report_bytes(smtp.max_message_bytes);
    match (&section.smtp_tls_cert, &section.smtp_tls_key) {
        (Some(cert), Some(key)) => {
            smtp.tls = Some(warden_server::tls::server_config_from_files(cert, key)?);
        }
        (None, None) if demo => {
            // A try-out shows STARTTLS working: a certificate made now, valid for nobody else.
            let (cert, key) = warden_server::tls::self_signed(&[smtp.hostname.clone()])?;
            let path = data.join("smtp-demo-cert.pem");
            std::fs::write(&path, &cert)
                .with_context(|| format!("cannot write {}", path.display()))?;
            smtp.tls = Some(warden_server::tls::server_config_from_pem(
                cert.as_bytes(),
                key.as_bytes(),
            )?);
            eprintln!(
                "demo: SMTP STARTTLS uses a self-signed certificate generated at start for {:?} ({}); clients must trust it explicitly",
                smtp.hostname,
                path.display()
            );
        }
        (None, None) => {}
        _ => bail!("[serve] smtp_tls_cert and smtp_tls_key go together: give both or neither"),
    }
    if smtp_listen.is_some() && smtp_domains.is_empty() {
        bail!(
            "--smtp-listen needs at least one --smtp-domain (the domains whose abuse@ this desk receives)"
        );
    }
    let mailer: Arc<dyn Mailer> = match args.relay.or(section.relay.clone()) {
        Some(relay) => {
            let (host, port) = split_host_port(&relay)?;
            Arc::new(SmtpMailer::new(&host, port, section.relay_starttls)?)
        }
        None => Arc::new(PickupDirMailer::new(data.join("outgoing"))?),
    };
    let templates = match &section.templates {
        Some(dir) => Templates::load(dir)?,
        None => Templates::default(),
    };
    let tick = args
        .tick_seconds
        .or(section.tick_seconds)
        .unwrap_or(if demo { 2.0 } else { 10.0 });
    let http_listen = args
        .listen
        .or(section.listen)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    if self_help.enabled {
        // The link secret lives beside the database; a new one would void the links sent.
        let key = warden_desk::selfhelp::load_or_create_key(&data)?;
        let url = self_help
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http_listen}"));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("[self_help] public_url {url:?}: expected an http:// or https:// URL");
        }
        let mut sh = warden_desk::selfhelp::SelfHelp::new(
            key,
            &url,
            chrono::Duration::days(i64::from(self_help.link_days.clamp(1, 365))),
        );
        sh.redaction = warden_desk::selfhelp::Redaction {
            hide_reporter: self_help.hide_reporter,
            mask_email_local_parts: self_help.mask_email_local_parts,
            hide_other_addresses: self_help.hide_other_addresses,
        };
        desk = desk.with_self_help(sh);
    }
    let cfg = ServerConfig {
        http_listen,
        smtp_listen,
        smtp,
        tick: Duration::from_secs_f64(tick.clamp(0.01, 3600.0)),
        rate_per_sec: section.rate_per_sec.unwrap_or(200),
        rate_burst: section.rate_burst.unwrap_or(400),
        webui: warden_server::warden_webui::WebUiConfig {
            overrides: match &section.webui_overrides {
                Some(dir) => Arc::new(warden_server::warden_webui::overrides::Overrides::load(
                    dir,
                )?),
                None => Arc::default(),
            },
            ..Default::default()
        },
    };
    let webhooks = match &section.webhook_ca_file {
        Some(f) => HttpWebhook::with_extra_ca(f)?,
        None => HttpWebhook::default(),
    };
    let running = warden_server::start(desk, cfg, templates, mailer, Arc::new(webhooks)).await?;
    eprintln!(
        "warden serve: API on http://{} (OpenAPI at /api/openapi.json)",
        running.http_addr
    );
    if let Some(a) = running.smtp_addr {
        eprintln!(
            "warden serve: SMTP intake on {a} for abuse@ {}{}",
            smtp_domains.join(", "),
            if running.state.smtp.tls.is_some() {
                " (STARTTLS offered)"
            } else {
                ""
            }
        );
    }
    if running.recovered > 0 {
        eprintln!(
            "warden serve: recovered {} report(s) stored before a crash",
            running.recovered
        );
    }
    if let Some(t) = token {
        eprintln!("warden serve: admin API token (shown once, store it): {t}");
        // The token also goes to stdout alone, so scripts can capture it.
        println!("{t}");
    }
    // [intake.imap]: poll the mailbox until shutdown. Errors are logged and retried at the next
    // round; nothing is marked on the server unless it was stored here first.
    if let Some(poll) = &section.imap {
        let src = poll.source()?;
        let every = Duration::from_secs(poll.poll_seconds.max(10));
        let desk = running.state.desk.clone();
        eprintln!(
            "warden serve: polling imap://{}@{}:{}/{} every {:?}",
            src.user, src.host, src.port, src.mailbox, every
        );
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                timer.tick().await;
                match warden_desk::imap::import(&desk, &src, Utc::now()).await {
                    Ok(s) if s.messages > 0 => eprintln!(
                        "warden serve: IMAP import: {} message(s), {} processed, {} quarantined, {} already received, {} refused",
                        s.messages, s.processed, s.quarantined, s.duplicates, s.refused
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("warden serve: IMAP import failed, retrying next round: {e}")
                    }
                }
            }
        });
    }
    running
        .until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    Ok(ExitCode::SUCCESS)
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_help_table_is_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("warden-serve-cfg-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warden.toml");
        std::fs::write(
            &path,
            "[self_help]\npublic_url = \"https://abuse.isp.example\"\nlink_days = 7\nhide_reporter = false\n",
        )
        .unwrap();
        let (_, _, sh, _) = load_config(Some(&path)).unwrap();
        assert_eq!(sh.public_url.as_deref(), Some("https://abuse.isp.example"));
        assert_eq!(sh.link_days, 7);
        assert!(sh.enabled && !sh.hide_reporter && sh.mask_email_local_parts);
        // No table: on, with every redaction.
        let (_, _, sh, _) = load_config(None).unwrap();
        assert!(sh.enabled && sh.hide_reporter && sh.hide_other_addresses);
        // A misspelt key is an error that names it.
        std::fs::write(&path, "[self_help]\nhide_reporters = true\n").unwrap();
        let e = format!("{:#}", load_config(Some(&path)).unwrap_err());
        assert!(e.contains("hide_reporters"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn attribution_nat_table_is_read_and_checked() {
        let dir = std::env::temp_dir().join(format!("warden-serve-cfg-nat-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warden.toml");
        std::fs::write(
            &path,
            "[serve]\nlisten = \"127.0.0.1:9\"\n[attribution.nat]\nstore = \"/var/lib/warden/nat\"\nwindow = \"3s\"\nradius = [\"acct.csv\"]\n",
        )
        .unwrap();
        let (_, _, _, nat) = load_config(Some(&path)).unwrap();
        let nat = nat.unwrap();
        assert_eq!(nat.store, PathBuf::from("/var/lib/warden/nat"));
        assert_eq!(nat.window, "3s");
        assert_eq!(nat.radius, [PathBuf::from("acct.csv")]);
        assert_eq!(nat.max_candidates, warden_desk::cgn::DEFAULT_MAX_CANDIDATES);
        std::fs::write(&path, "[attribution.nat]\nstore = \"x\"\nwindw = \"3s\"\n").unwrap();
        let err = format!("{:#}", load_config(Some(&path)).unwrap_err());
        assert!(err.contains("windw"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
