//! `warden check message`: placeholder until the library behind it lands.

use std::process::ExitCode;

/// Arguments of `warden check message`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Anything; this command is not available yet.
    #[arg(trailing_var_arg = true)]
    rest: Vec<String>,
}

/// Runs `warden check message`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`warden check message` is not available in this build yet")
}
