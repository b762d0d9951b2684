//! `warden import maildir DIR` and `warden import imap --server HOST:PORT ...`: take over an
//! existing abuse mailbox. Every message goes through the desk's intake (stored
//! content-addressed first, resends recognised, unreadable ones quarantined) in the same store
//! `warden serve` uses; run it from cron, or once when moving to Warden.

use anyhow::{Context, bail};
use chrono::Utc;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use warden_config::store::{StoreUse, open_desk_store};
use warden_desk::imap::{ImapSecurity, ImapSource};
use warden_desk::{Desk, RawStore};

use crate::conventions::{self, Console};

/// Arguments of `warden import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
    /// Configuration file: `[desk]` policy and `[serve] max_message_bytes`, as for `serve`.
    #[arg(long, global = true, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory holding the SQLite store and raw reports [default: ./warden-data].
    #[arg(long, global = true, env = "WARDEN_DATA")]
    data: Option<PathBuf>,
    /// Database URL (`postgres://...`); SQLite in the data directory when absent.
    #[arg(long, global = true, env = "WARDEN_DATABASE")]
    database: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Every message in new/ and cur/ of a Maildir.
    Maildir {
        /// The Maildir (the directory holding new/ and cur/).
        dir: PathBuf,
    },
    /// Every message of an IMAP mailbox not imported before; each is marked (`\Seen` and the
    /// keyword `warden-imported`) or moved only after it is stored.
    Imap(ImapArgs),
}

#[derive(Debug, clap::Args)]
struct ImapArgs {
    /// The server, HOST:PORT (993 for --tls, 143 for --starttls).
    #[arg(long)]
    server: String,
    /// Login name.
    #[arg(long)]
    user: String,
    /// File holding the password (first line); never on the command line.
    #[arg(long)]
    password_file: PathBuf,
    /// Mailbox to read.
    #[arg(long, default_value = "INBOX")]
    mailbox: String,
    /// TLS from the first byte (IMAPS). The default.
    #[arg(long, group = "security")]
    tls: bool,
    /// Plain connection upgraded with STARTTLS before logging in.
    #[arg(long, group = "security")]
    starttls: bool,
    /// No TLS: the password crosses the network in clear. For tests on loopback only.
    #[arg(long, group = "security")]
    plain_for_testing: bool,
    /// Extra PEM CA certificates to trust (an internal CA), besides the public roots.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Move imported messages to this mailbox instead of flagging them.
    #[arg(long)]
    move_to: Option<String>,
    /// Seconds allowed for connecting and for each IMAP command.
    #[arg(long, default_value_t = 60)]
    timeout_seconds: u64,
}

/// The password file's first line; bounded, and refused when empty.
pub(crate) fn read_password(path: &std::path::Path) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > 4096 {
        bail!(
            "{}: a password file over 4096 bytes is not a password file",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let pw = text.lines().next().unwrap_or("").to_owned();
    if pw.is_empty() {
        bail!("{}: the first line (the password) is empty", path.display());
    }
    Ok(pw)
}

fn split_host_port(s: &str) -> anyhow::Result<(String, u16)> {
    let (h, p) = s
        .rsplit_once(':')
        .with_context(|| format!("--server {s:?}: expected HOST:PORT"))?;
    let host = h.trim_matches(['[', ']']).to_owned();
    if host.is_empty() {
        bail!("--server {s:?}: no host");
    }
    Ok((
        host,
        p.parse()
            .with_context(|| format!("--server {s:?}: bad port"))?,
    ))
}

/// Runs `warden import`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(import(args, console))
}

async fn import(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let config = super::serve::load_with_store_flags(
        args.config.as_deref(),
        args.data.clone(),
        args.database.clone(),
    )?;
    let section = config.serve;
    if let Sub::Maildir { dir } = &args.command {
        // Checked before the store is created, so a typo leaves nothing behind.
        conventions::existing_dir("Maildir", "the DIR argument", dir)?;
    }
    let data = section.data_dir();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create data directory {}", data.display()))?;
    let store = open_desk_store(&section, StoreUse::Create).await?;
    let raw = RawStore::open(data.join("raw"))?;
    let mut desk = Desk::new(
        store.clone(),
        raw,
        config.desk,
        super::serve::attributor_for(&store, config.attribution.nat, "warden import", console)
            .await?,
        warden_reports::parse,
    );
    if let Some(m) = section.max_message_bytes {
        desk = desk.with_max_report_bytes(m);
    }
    let now = Utc::now();
    let (summary, refused) = match args.command {
        Sub::Maildir { dir } => {
            let bar = conventions::spinner(&format!("importing {}", dir.display()));
            let s = warden_desk::maildir::import(&desk, &dir, now).await;
            conventions::finish(bar);
            let s = s?;
            (serde_json::to_value(s)?, s.refused)
        }
        Sub::Imap(a) => {
            let (host, port) = split_host_port(&a.server)?;
            let security = if a.starttls {
                ImapSecurity::Starttls
            } else if a.plain_for_testing {
                ImapSecurity::PlainForTesting
            } else {
                ImapSecurity::Tls
            };
            let src = ImapSource {
                host,
                port,
                user: a.user,
                password: read_password(&a.password_file)?,
                mailbox: a.mailbox,
                security,
                ca_file: a.ca_file,
                move_to: a.move_to,
                timeout: Duration::from_secs(a.timeout_seconds.max(1)),
            };
            let bar =
                conventions::spinner(&format!("importing imap://{}/{}", a.server, src.mailbox));
            let s = warden_desk::imap::import(&desk, &src, now).await;
            conventions::finish(bar);
            let s = s?;
            (serde_json::to_value(s)?, s.refused)
        }
    };
    store.close().await;
    if console.json {
        println!("{summary}");
    } else {
        let g = |k: &str| summary.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        println!(
            "{} message(s): {} processed, {} quarantined, {} already received, {} refused",
            g("messages"),
            g("processed"),
            g("quarantined"),
            g("duplicates"),
            g("refused")
        );
    }
    Ok(conventions::exit_for(refused > 0))
}
