//! `warden parse PATH...`: placeholder, being written.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `warden parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files, directories, mbox files, Maildirs, or `-` for stdin.
    paths: Vec<PathBuf>,
}

/// Runs `warden parse`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
