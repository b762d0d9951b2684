//! `warden check domain DOMAIN... | -f FILE`: a domain's mail posture (SPF, DKIM, DMARC, MX,
//! reverse DNS, MTA-STS, TLS-RPT, DANE, BIMI) against the Sender BCP and TLS for Mail.
//!
//! Only wiring lives here: arguments, files, output and the exit code (0 all pass, 1 any
//! warn or fail, 2 usage or input error). The checks are in `warden_mailcheck::audit`.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use warden_mailcheck::audit::{self, AuditOptions, Auditor, SmtpMxProbe};
use warden_mailcheck::report::render_html;
use warden_mailcheck::resolver::{DnsResolver, ResolverSettings};
use warden_mailcheck::smtp::ProbeOptions;

/// Largest domain list accepted with `-f` (bytes); a list of a million domains fits.
const MAX_LIST_BYTES: u64 = 64 << 20;

/// Arguments of `warden check domain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Domains to audit (ASCII / xn-- form).
    #[arg(required_unless_present = "file")]
    domains: Vec<String>,
    /// Read domains from FILE (one a line, `#` comments) and write one JSON line per domain.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "domains"
    )]
    file: Option<PathBuf>,
    /// DNS server to ask instead of the system's (repeatable), e.g. 127.0.0.1:53.
    #[arg(long = "resolver", value_name = "IP:PORT")]
    resolvers: Vec<String>,
    /// DKIM selector to try before the common ones (repeatable).
    #[arg(long = "selector", value_name = "S")]
    selectors: Vec<String>,
    /// Sending IP whose reverse DNS to check (repeatable).
    #[arg(long = "ip", value_name = "IP")]
    ips: Vec<IpAddr>,
    /// Also write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// PEM CA bundle for fetching MTA-STS policies (default: the system's roots).
    #[arg(long = "ca-file", value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// DNSSEC trust anchor (DNSKEY records) instead of the root key; for private test roots.
    #[arg(long = "trust-anchor", value_name = "FILE")]
    trust_anchor: Option<PathBuf>,
    /// Do not validate DNSSEC (DANE findings then cannot pass).
    #[arg(long)]
    no_dnssec: bool,
    /// Seconds allowed for one DNS attempt.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    timeout: u64,
    /// Domains audited at once with -f.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    /// Skip reverse DNS of MX addresses (faster bulk runs).
    #[arg(long)]
    skip_mx_ptr: bool,
    /// Check only the MTA-STS TXT record, do not fetch the HTTPS policy.
    #[arg(long)]
    no_mta_sts_fetch: bool,
    /// Also probe every MX over SMTP (STARTTLS, TLS versions, certificate) and match DANE
    /// records against the certificate it presents. Connects to port 25 of each MX.
    #[arg(long)]
    smtp: bool,
    /// SMTP port of the MX probe (25 by RFC 5321; for labs and tests).
    #[arg(long, default_value_t = 25, hide = true)]
    smtp_port: u16,
    /// Port of the MTA-STS policy host (RFC 8461 says 443; for labs and tests).
    #[arg(long, default_value_t = 443, hide = true)]
    mta_sts_port: u16,
}

fn parse_resolver(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    bail!("--resolver {s:?}: expected IP or IP:PORT (e.g. 127.0.0.1:53 or [::1]:53)")
}

/// Reads a domain list: one a line, blanks and `#` comments skipped; every invalid line is
/// reported with its number before any query is sent.
fn read_list(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_LIST_BYTES {
        bail!(
            "{}: {} bytes is over the {} MiB limit for a domain list; split it",
            path.display(),
            meta.len(),
            MAX_LIST_BYTES >> 20
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        match audit::validate_domain(l) {
            Ok(d) => out.push(d),
            Err(e) => errors.push(format!("{}:{}: {e}", path.display(), i + 1)),
        }
    }
    if !errors.is_empty() {
        let shown: Vec<&String> = errors.iter().take(10).collect();
        bail!(
            "{} invalid lines (fix or remove them):\n{}",
            errors.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(out)
}

/// Runs `warden check domain`.
pub fn run(args: Args, console: crate::conventions::Console) -> anyhow::Result<ExitCode> {
    let upstreams = args
        .resolvers
        .iter()
        .map(|s| parse_resolver(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let domains = match &args.file {
        Some(f) => read_list(f)?,
        None => args
            .domains
            .iter()
            .map(|d| audit::validate_domain(d).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
    if let Some(ca) = &args.ca_file
        && !ca.is_file()
    {
        bail!("--ca-file {}: no such file", ca.display());
    }
    let settings = ResolverSettings {
        upstreams,
        timeout: Duration::from_secs(args.timeout),
        attempts: 2,
        validate: !args.no_dnssec,
        trust_anchor: args.trust_anchor.clone(),
        ..ResolverSettings::default()
    };
    let opts = AuditOptions {
        selectors: args.selectors.clone(),
        sending_ips: args.ips.clone(),
        skip_mx_ptr: args.skip_mx_ptr,
        ca_file: args.ca_file.clone(),
        mta_sts_port: args.mta_sts_port,
        fetch_mta_sts: !args.no_mta_sts_fetch,
    };
    let (smtp, smtp_port) = (args.smtp, args.smtp_port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let resolver = DnsResolver::new(&settings)?;
        let probe = smtp.then(|| SmtpMxProbe {
            options: ProbeOptions::default(),
            port: smtp_port,
        });
        let auditor = Auditor::with_probe(resolver, probe, opts)?;
        if args.file.is_some() {
            run_batch(&auditor, domains, args.concurrency, args.html.as_ref()).await
        } else {
            run_interactive(&auditor, domains, console.json, args.html.as_ref()).await
        }
    })
}

async fn run_interactive(
    a: &Auditor<DnsResolver, SmtpMxProbe>,
    domains: Vec<String>,
    json: bool,
    html: Option<&PathBuf>,
) -> anyhow::Result<ExitCode> {
    let reports = futures_util::future::join_all(domains.iter().map(|d| a.audit(d))).await;
    let mut stdout = std::io::stdout().lock();
    if json {
        let v: Vec<serde_json::Value> = reports.iter().map(|r| r.to_json()).collect();
        let out = if v.len() == 1 {
            serde_json::to_string_pretty(&v[0])?
        } else {
            serde_json::to_string_pretty(&v)?
        };
        writeln!(stdout, "{out}")?;
    } else {
        for (i, rep) in reports.iter().enumerate() {
            if i > 0 {
                writeln!(stdout)?;
            }
            write!(stdout, "{}", rep.render_text())?;
        }
    }
    if let Some(path) = html {
        std::fs::write(path, render_html(&reports))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))?;
    }
    Ok(exit_code(reports.iter().any(|r| r.has_problems())))
}

async fn run_batch(
    a: &Auditor<DnsResolver, SmtpMxProbe>,
    domains: Vec<String>,
    concurrency: u64,
    html: Option<&PathBuf>,
) -> anyhow::Result<ExitCode> {
    let bar = crate::conventions::progress(
        domains.len() as u64,
        "{bar:40} {pos}/{len} domains  {per_sec}  eta {eta}",
    );
    let limit = usize::try_from(concurrency).unwrap_or(64);
    let mut stream = futures_util::stream::iter(domains.iter())
        .map(|d| a.audit(d))
        .buffer_unordered(limit);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut problems = false;
    let mut kept = Vec::new();
    while let Some(rep) = stream.next().await {
        problems |= rep.has_problems();
        writeln!(stdout, "{}", rep.to_json_line())?;
        if let Some(b) = &bar {
            b.inc(1);
        }
        if html.is_some() {
            kept.push(rep);
        }
    }
    stdout.flush()?;
    crate::conventions::finish(bar);
    if let Some(path) = html {
        std::fs::write(path, render_html(&kept))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))?;
    }
    Ok(exit_code(problems))
}

fn exit_code(problems: bool) -> ExitCode {
    crate::conventions::exit_for(problems)
}
