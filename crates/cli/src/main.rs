//! `warden`: one binary, one subcommand per capability. Each subcommand lives in its own module
//! under `cmd/` and only wires a library to the terminal: parsing arguments, reading files,
//! printing, and choosing the exit code (0 all good, 1 findings or partial failure, 2 usage or
//! input error).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod input;

/// Warden: an anti-abuse platform for abuse desks, network operators and senders.
#[derive(Debug, Parser)]
#[command(name = "warden", version, about, propagate_version = true)]
struct Cli {
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
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Parse(args) => cmd::parse::run(args),
        Command::Nat(args) => cmd::nat::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Inventory(args) => cmd::inventory::run(args),
        Command::Import(args) => cmd::import::run(args),
        Command::Shadowserver(args) => cmd::shadowserver::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("warden: {e:#}");
            ExitCode::from(2)
        }
    }
}
