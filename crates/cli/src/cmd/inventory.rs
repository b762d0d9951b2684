//! `warden inventory import FILE` and `warden inventory lookup IP|DOMAIN [--at TIME]`: the
//! customer inventory the desk attributes reports with, in the same store `warden serve` uses.

use anyhow::Context;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::process::ExitCode;
use warden_config::store::{StoreUse, open_desk_store};
use warden_desk::inventory::{self, InventoryDoc};

use crate::conventions::{self, Console};

/// Arguments of `warden inventory`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
    /// Configuration file: its `[serve] data` and `database` name the store, as for `serve`.
    #[arg(long, global = true, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory holding the SQLite store [default: ./warden-data].
    #[arg(long, global = true, env = "WARDEN_DATA")]
    data: Option<PathBuf>,
    /// Database URL (`postgres://...`); SQLite in the data directory when absent.
    #[arg(long, global = true, env = "WARDEN_DATABASE")]
    database: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Import customers, contacts, prefixes and domains from CSV or JSON.
    Import {
        /// The file (`.csv` or `.json`; see docs/desk.md for the columns).
        file: PathBuf,
        /// Force the format instead of going by the file name.
        #[arg(long, value_parser = ["csv", "json"])]
        format: Option<String>,
    },
    /// Who held an address or a domain at a time.
    Lookup {
        /// An IPv4/IPv6 address or a domain name.
        query: String,
        /// The time (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
}

/// Runs `warden inventory`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let config =
        super::serve::load_with_store_flags(args.config.as_deref(), args.data, args.database)?;
    // An import may start a store; a lookup in a store that is not there is a typo.
    let how = match &args.command {
        Sub::Import { .. } => StoreUse::Create,
        Sub::Lookup { .. } => StoreUse::Existing,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let store = open_desk_store(&config.serve, how).await?;
        let code = match args.command {
            Sub::Import { file, format } => {
                let bytes = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let csv = match format.as_deref() {
                    Some(f) => f == "csv",
                    None => !file
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("json")),
                };
                let doc = if csv {
                    InventoryDoc::from_csv(&bytes)
                } else {
                    InventoryDoc::from_json(&bytes)
                }
                .with_context(|| format!("{}", file.display()))?;
                let bar = conventions::spinner(&format!("importing {}", file.display()));
                let sum = inventory::import(&store, &doc, Utc::now()).await;
                conventions::finish(bar);
                let sum = sum?;
                if console.json {
                    println!("{}", serde_json::to_string(&sum)?);
                } else {
                    println!(
                        "imported {} customers, {} contacts, {} prefixes, {} domains, {} subscriber ids from {}",
                        sum.customers,
                        sum.contacts,
                        sum.prefixes,
                        sum.domains,
                        sum.subscribers,
                        file.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Sub::Lookup { query, at } => {
                let at = at.unwrap_or_else(Utc::now);
                let holders = match query.parse::<std::net::IpAddr>() {
                    Ok(ip) => inventory::holders_of_ip(&store, ip, at).await?,
                    Err(_) => inventory::holders_of_domain(&store, &query, at).await?,
                };
                if console.json {
                    println!(
                        "{}",
                        serde_json::to_string(
                            &serde_json::json!({"query": query, "at": at, "holders": holders})
                        )?
                    );
                } else if holders.is_empty() {
                    println!("{query}: no holder at {at}");
                } else {
                    for h in &holders {
                        let until = h.valid_to.map_or("now".to_owned(), |t| t.to_rfc3339());
                        let shared = if h.shared {
                            "  (shared CGN pool: needs port and time)"
                        } else {
                            ""
                        };
                        println!(
                            "{query}: {} ({}) via {} from {} until {until}{shared}",
                            h.customer_id,
                            h.customer_name,
                            h.matched,
                            h.valid_from.to_rfc3339()
                        );
                    }
                }
                // Like grep: 1 when nothing matched, so scripts can branch on it.
                conventions::exit_for(holders.is_empty())
            }
        };
        store.close().await;
        Ok(code)
    })
}
