//! `warden inventory`: placeholder until the library behind it lands.

use std::process::ExitCode;

/// Arguments of `warden inventory`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Anything; this command is not available yet.
    #[arg(trailing_var_arg = true)]
    rest: Vec<String>,
}

/// Runs `warden inventory`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`warden inventory` is not available in this build yet")
}
