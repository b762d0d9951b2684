//! `warden`: one binary, one subcommand per capability. Each subcommand lives in its own module
//! under `cmd/` and only wires a library to the terminal: parsing arguments, reading files,
//! printing, and choosing the exit code; the conventions every command keeps (`--json`, exit
//! codes 0 ok / 1 findings or partial failure / 2 usage or input error, progress bars) are in
//! `conventions`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the binary is the one place that prints: libraries return values and errors, commands print them"
)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod conventions;
mod input;

use conventions::Console;

/// Warden: an anti-abuse platform for abuse desks, network operators and senders.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, propagate_version = true)]
struct Cli {
    /// Machine-readable JSON on stdout (and JSON lines for messages on stderr).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse abuse reports (ARF, X-ARF, Shadowserver, SpamCop, free-form mail, DMARC, TLS-RPT)
    /// into normalized events.
    Parse(cmd::parse::Args),
    /// Carrier-grade NAT logs: import, lookup, stats, export.
    Nat(cmd::nat::Args),
    /// Audit a domain, a mail server or a message against the Sender BCP and TLS for Mail.
    Check(cmd::check::Args),
    /// Run the abuse desk: HTTP API, SMTP intake, case engine (`--demo` for a try-out).
    Serve(cmd::serve::Args),
    /// Customer inventory: import and look up who owns which prefix or domain, when.
    Inventory(cmd::inventory::Args),
    /// Import reports from an existing abuse mailbox (Maildir or IMAP) into the desk.
    Import(cmd::import::Args),
    /// Shadowserver schema: compare a newer schema file with the shipped one.
    Shadowserver(cmd::shadowserver::Args),
    /// The configuration file: validate it without starting.
    Config(cmd::config::Args),
    /// Every command and its arguments, for tests that hold each command to the conventions.
    #[command(name = "__commands", hide = true)]
    Commands,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                conventions::USAGE
            } else {
                conventions::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let console = Console { json: cli.json };
    let result = match cli.command {
        Command::Parse(args) => cmd::parse::run(args, console),
        Command::Nat(args) => cmd::nat::run(args, console),
        Command::Check(args) => cmd::check::run(args, console),
        Command::Serve(args) => cmd::serve::run(args, console),
        Command::Inventory(args) => cmd::inventory::run(args, console),
        Command::Import(args) => cmd::import::run(args, console),
        Command::Shadowserver(args) => cmd::shadowserver::run(args, console),
        Command::Config(args) => cmd::config::run(args, console),
        Command::Commands => cmd::commands::run::<Cli>(console),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if console.json {
                eprintln!(
                    "{}",
                    serde_json::json!({"level": "error", "message": format!("warden: {e:#}")})
                );
            } else {
                eprintln!("warden: {e:#}");
            }
            ExitCode::from(conventions::USAGE)
        }
    }
}
