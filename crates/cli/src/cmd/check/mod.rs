//! `warden check domain|smtp|message`.

use std::process::ExitCode;

mod domain;
mod message;
mod smtp;

/// Arguments of `warden check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Audit one or more domains (DNS, every MX, TLS).
    Domain(domain::Args),
    /// Probe one SMTP server's STARTTLS and TLS.
    Smtp(smtp::Args),
    /// Lint one message file against the Sender BCP.
    Message(message::Args),
}

/// Runs `warden check`.
pub fn run(args: Args, console: crate::conventions::Console) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Domain(a) => domain::run(a, console),
        What::Smtp(a) => smtp::run(a, console),
        What::Message(a) => message::run(a, console),
    }
}
