//! `warden serve`: the abuse desk (HTTP API, SMTP intake, case engine), configured by
//! `warden.toml` (`[serve]` for the listeners, `[desk]` for policy, `[attribution.nat]` for the
//! CGN log store), flags and `WARDEN_*` variables; `--demo` runs it on a throw-away store with
//! generated customers, CGN logs and reports.

use anyhow::{Context, bail};
use chrono::Utc;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use warden_config::store::{StoreUse, open_desk_store};
use warden_config::{Config, ImapPoll};
use warden_desk::notify::{HttpWebhook, Mailer, PickupDirMailer, SmtpMailer, Templates};
use warden_desk::tokens::{self, Role};
use warden_desk::{
    Attributor, CgnAttributor, Channel, Desk, InventoryAttributor, NatConfig, NatResolver, Policy,
    RawStore, Store, demo, inventory,
};

use crate::conventions::Console;
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

/// Builds the IMAP source of `[intake.imap]`: the password file is read here, at start, so a
/// missing one stops the desk instead of failing every poll.
fn imap_source(poll: &ImapPoll) -> anyhow::Result<warden_desk::imap::ImapSource> {
    let (host, port) = split_host_port(&poll.server)?;
    Ok(warden_desk::imap::ImapSource {
        host,
        port,
        user: poll.user.clone(),
        password: super::import::read_password(&poll.password_file)?,
        mailbox: poll.mailbox.clone(),
        security: poll.security,
        ca_file: poll.ca_file.clone(),
        move_to: poll.move_to.clone(),
        timeout: Duration::from_secs(60),
    })
}

/// Loads the configuration (file, then `WARDEN_*`) and lays the store flags shared by `serve`
/// and `import` over it.
pub(crate) fn load_with_store_flags(
    path: Option<&Path>,
    data: Option<PathBuf>,
    database: Option<String>,
) -> anyhow::Result<Config> {
    let mut config = Config::load(path)?;
    if data.is_some() {
        config.serve.data = data;
    }
    if database.is_some() {
        config.serve.database = database;
    }
    Ok(config)
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
    console: Console,
) -> anyhow::Result<Arc<dyn Attributor>> {
    Ok(match nat_config {
        Some(cfg) => {
            let dir = cfg.store.display().to_string();
            let resolver = tokio::task::spawn_blocking(move || NatResolver::load(&cfg))
                .await
                .context("NAT store task")?
                .with_context(|| format!("[attribution.nat]: cannot use the NAT store {dir}"))?;
            console.note(&format!(
                "{who}: CGN attribution through the NAT log store {dir}"
            ));
            Arc::new(CgnAttributor::new(store.clone(), Arc::new(resolver)))
        }
        None => Arc::new(InventoryAttributor::new(store.clone())),
    })
}

/// Runs `warden serve`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(serve(args, console))
}

async fn serve(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let logs = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_writer(std::io::stderr);
    let _ = if console.json {
        logs.event_format(crate::conventions::JsonLines).try_init()
    } else {
        logs.try_init()
    };
    let demo = args.demo;
    let mut config = load_with_store_flags(args.config.as_deref(), args.data, args.database)?;
    // Flags over the file and the environment.
    if args.listen.is_some() {
        config.serve.listen = args.listen;
    }
    if args.smtp_listen.is_some() {
        config.serve.smtp_listen = args.smtp_listen;
    }
    if !args.smtp_domains.is_empty() {
        config.serve.smtp_domains = args.smtp_domains;
    }
    if args.relay.is_some() {
        config.serve.relay = args.relay;
    }
    if args.tick_seconds.is_some() {
        config.serve.tick_seconds = args.tick_seconds;
    }
    if demo {
        // A try-out never touches a real store.
        config.serve.data = Some(std::env::temp_dir().join(format!("warden-demo-{}", uuid_like())));
        config.serve.database = None;
    }
    let Config {
        serve: section,
        desk: mut policy,
        self_help,
        attribution,
        intake,
        reports: _,
    } = config;
    let mut nat_config = attribution.nat;
    let data = section.data_dir();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let store = open_desk_store(&section, StoreUse::Create).await?;
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
    let attributor = attributor_for(&store, nat_config, "warden serve", console).await?;
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

    let mut smtp_domains = section.smtp_domains.clone();
    let mut smtp_listen = section.smtp_listen;
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
        console.note(&format!(
            "demo: data in {} ; {} customers and {} CGN subscribers; {} sample reports processed, {} quarantined",
            data.display(),
            50,
            demo::CGN_SUBSCRIBERS,
            processed,
            quarantined
        ));
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
    // Zero would refuse every session or time every client out at once; one is the floor.
    if let Some(n) = section.smtp_max_sessions {
        smtp.max_sessions = n.max(1);
    }
    if let Some(n) = section.smtp_max_sessions_per_ip {
        smtp.max_sessions_per_ip = n.max(1);
    }
    if let Some(s) = section.smtp_command_timeout_seconds {
        smtp.command_timeout = std::time::Duration::from_secs(s.max(1));
    }
    if let Some(s) = section.smtp_data_timeout_seconds {
        smtp.data_timeout = std::time::Duration::from_secs(s.max(1));
    }
    let mut desk = desk.with_max_report_bytes(smtp.max_message_bytes);
    // Both or neither: `Config::validate` refused one without the other.
    match (&section.smtp_tls_cert, &section.smtp_tls_key) {
        (Some(cert), Some(key)) => {
            smtp.tls = Some(warden_server::tls::server_config_from_files(cert, key)?);
        }
        _ if demo => {
            // A try-out shows STARTTLS working: a certificate made now, valid for nobody else.
            let (cert, key) = warden_server::tls::self_signed(&[smtp.hostname.clone()])?;
            let path = data.join("smtp-demo-cert.pem");
            std::fs::write(&path, &cert)
                .with_context(|| format!("cannot write {}", path.display()))?;
            smtp.tls = Some(warden_server::tls::server_config_from_pem(
                cert.as_bytes(),
                key.as_bytes(),
            )?);
            console.note(&format!(
                "demo: SMTP STARTTLS uses a self-signed certificate generated at start for {:?} ({}); clients must trust it explicitly",
                smtp.hostname,
                path.display()
            ));
        }
        _ => {}
    }
    if smtp_listen.is_some() && smtp_domains.is_empty() {
        bail!(
            "--smtp-listen needs at least one --smtp-domain (the domains whose abuse@ this desk receives)"
        );
    }
    let mailer: Arc<dyn Mailer> = match section.relay.clone() {
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
    let tick = section
        .tick_seconds
        .unwrap_or(if demo { 2.0 } else { 10.0 });
    let http_listen = section
        .listen
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    if self_help.enabled {
        // The link secret lives beside the database; a new one would void the links sent.
        let key = warden_desk::selfhelp::load_or_create_key(&data)?;
        let url = self_help
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http_listen}"));
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
    let api = format!("http://{}", running.http_addr);
    let ui = format!("{api}/ui");
    let starttls = running.state.smtp.tls.is_some();
    if console.json {
        // One start-up line on stdout for scripts: where to go, and the token when one was made.
        println!(
            "{}",
            serde_json::json!({
                "event": "started",
                "api": api,
                "ui": ui,
                "openapi": format!("{api}/api/openapi.json"),
                "smtp": running.smtp_addr.map(|a| a.to_string()),
                "smtp_domains": smtp_domains,
                "starttls": starttls,
                "data": data,
                "demo": demo,
                "recovered": running.recovered,
                "admin_token": token,
            })
        );
    } else {
        eprintln!("warden serve: API on {api} (OpenAPI at /api/openapi.json); web UI at {ui}");
        if let Some(a) = running.smtp_addr {
            eprintln!(
                "warden serve: SMTP intake on {a} for abuse@ {}{}",
                smtp_domains.join(", "),
                if starttls { " (STARTTLS offered)" } else { "" }
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
    }
    // [intake.imap]: poll the mailbox until shutdown. Errors are logged and retried at the next
    // round; nothing is marked on the server unless it was stored here first.
    if let Some(poll) = &intake.imap {
        let src = imap_source(poll)?;
        let every = Duration::from_secs(poll.poll_seconds.max(10));
        let desk = running.state.desk.clone();
        console.note(&format!(
            "warden serve: polling imap://{}@{}:{}/{} every {:?}",
            src.user, src.host, src.port, src.mailbox, every
        ));
        tokio::spawn(async move {
            let mut timer = tokio::time::interval(every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                timer.tick().await;
                match warden_desk::imap::import(&desk, &src, Utc::now()).await {
                    Ok(s) if s.messages > 0 => console.note(&format!(
                        "warden serve: IMAP import: {} message(s), {} processed, {} quarantined, {} already received, {} refused",
                        s.messages, s.processed, s.quarantined, s.duplicates, s.refused
                    )),
                    Ok(_) => {}
                    Err(e) => console.note(&format!(
                        "warden serve: IMAP import failed, retrying next round: {e}"
                    )),
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
