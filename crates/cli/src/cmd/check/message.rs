//! `warden check message FILE.eml`: Sender BCP lint of one message (DKIM verified and aligned,
//! recorded SPF/DMARC, List-Unsubscribe with RFC 8058 one-click on bulk mail, From, Date,
//! Message-ID). Exit 0 when every check passes, 1 on findings, 2 for bad input.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use warden_mailcheck::Report;
use warden_mailcheck::message::{self, LintOptions, MAX_MESSAGE};

/// Arguments of `warden check message`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The message file (RFC 5322, as saved by a mail client or taken from a queue).
    file: PathBuf,
    /// Also write the report as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Treat the message as bulk mail even without Precedence: bulk or List-Id.
    #[arg(long)]
    bulk: bool,
    /// Look DKIM keys up at this DNS server (IP:PORT) instead of the system resolver.
    #[arg(long, value_name = "IP:PORT", conflicts_with = "no_dns")]
    dns_server: Option<SocketAddr>,
    /// Do not look DKIM keys up (signatures are listed, not verified).
    #[arg(long)]
    no_dns: bool,
}

/// Runs `warden check message`.
pub fn run(args: Args, console: crate::conventions::Console) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("{}: cannot open", args.file.display()))?;
    let mut raw = Vec::new();
    file.take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut raw)
        .with_context(|| format!("{}: cannot read", args.file.display()))?;
    if raw.len() > MAX_MESSAGE {
        bail!(
            "{}: larger than the {MAX_MESSAGE} byte limit for one message",
            args.file.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let findings = runtime.block_on(async {
        let authenticator = match (args.no_dns, args.dns_server) {
            (true, _) => None,
            (false, Some(addr)) => Some(message::authenticator_for(addr)?),
            (false, None) => Some(message::system_authenticator()?),
        };
        let options = LintOptions {
            bulk: args.bulk,
            authenticator: authenticator.as_ref(),
            ..LintOptions::default()
        };
        message::lint(&raw, &options).await
    });
    let findings = findings.with_context(|| format!("{}", args.file.display()))?;
    let mut report = Report::new(args.file.display().to_string());
    report.extend(findings);
    if let Some(path) = &args.html {
        std::fs::write(
            path,
            warden_mailcheck::report::render_html(std::slice::from_ref(&report)),
        )
        .with_context(|| format!("--html {}: cannot write", path.display()))?;
    }
    if console.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
