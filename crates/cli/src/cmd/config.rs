//! `warden config check [--config FILE]`: validate `warden.toml` (and the `WARDEN_*` variables
//! laid over it) without starting anything. Exit 0 when usable, 1 with findings (a missing
//! certificate, an unreachable database...), 2 when the file cannot be read or is refused
//! (unknown key, wrong type).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use warden_config::Config;

use crate::conventions::{self, Console};

/// Arguments of `warden config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Load the configuration, then check paths, certificates, keys and stores it names.
    Check {
        /// Configuration file [default: none, only WARDEN_* variables].
        #[arg(long, env = "WARDEN_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Runs `warden config`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let Sub::Check { config } = args.command;
    let loaded = Config::load(config.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let findings = rt.block_on(warden_config::check::check(&loaded));
    let name = config
        .as_ref()
        .map_or_else(|| "(no file)".to_owned(), |p| p.display().to_string());
    if console.json {
        console.print_json(&serde_json::json!({
            "config": config,
            "ok": findings.is_empty(),
            "findings": findings,
        }))?;
    } else if findings.is_empty() {
        println!("{name}: ok");
    } else {
        for f in &findings {
            println!("{name}: [{}] {}", f.key, f.problem);
        }
        println!("{name}: {} finding(s)", findings.len());
    }
    Ok(conventions::exit_for(!findings.is_empty()))
}
