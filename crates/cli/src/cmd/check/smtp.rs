//! `warden check smtp HOST[:PORT]`: one STARTTLS / TLS probe of one server, rendered with the
//! mailcheck report (text, `--json`, `--html FILE`). Exit 0 when every check passes, 1 when
//! there are findings (warnings or failures, including "cannot connect"), 2 for bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use warden_mailcheck::Report;
use warden_mailcheck::smtp::{self, ProbeOptions, TlsMode, TrustAnchors};

/// Largest CA file we read: a full Mozilla bundle is about 250 KiB.
const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

/// Arguments of `warden check smtp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Server to probe: `host`, `host:port`, `[2001:db8::1]:587`. Port 25 by default (465 with
    /// --implicit-tls). Ports 465, 993 and 995 always use implicit TLS (RFC 8314).
    target: String,
    /// Also write the report as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// TLS from the first byte instead of STARTTLS (submissions 465, IMAPS 993, POP3S 995).
    #[arg(long)]
    implicit_tls: bool,
    /// Trust only the CA certificates in this PEM file instead of the Mozilla roots.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Also ask RCPT TO for postmaster@ and abuse@ DOMAIN (opt-in: visible in the server's logs).
    #[arg(long, value_name = "DOMAIN")]
    role_addresses: Option<String>,
    /// Name the certificate must carry, if not the host (e.g. probing an MX by address).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// Seconds to wait for each step (connect, each reply, the handshake).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    timeout: u64,
    /// Skip the SSLv3 / TLS 1.0 / TLS 1.1 probes.
    #[arg(long)]
    no_legacy: bool,
}

/// Splits `host[:port]`, `[v6]:port` or a bare IPv6 address.
fn split_target(target: &str) -> anyhow::Result<(String, Option<u16>)> {
    let port_of = |p: &str| -> anyhow::Result<u16> {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .with_context(|| format!("{target:?}: port {p:?} is not a number from 1 to 65535"))
    };
    if let Some(rest) = target.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            bail!("{target:?}: missing ']' after the IPv6 address");
        };
        return match after.strip_prefix(':') {
            Some(p) => Ok((host.to_owned(), Some(port_of(p)?))),
            None if after.is_empty() => Ok((host.to_owned(), None)),
            None => bail!("{target:?}: unexpected text after ']'"),
        };
    }
    if target.matches(':').count() > 1 {
        return Ok((target.to_owned(), None));
    }
    match target.split_once(':') {
        Some((h, p)) => Ok((h.to_owned(), Some(port_of(p)?))),
        None => Ok((target.to_owned(), None)),
    }
}

/// Runs `warden check smtp`.
pub fn run(args: Args, console: crate::conventions::Console) -> anyhow::Result<ExitCode> {
    let (host, port) = split_target(&args.target)?;
    if host.is_empty() {
        bail!("{:?}: no host name", args.target);
    }
    let implicit = args.implicit_tls || matches!(port, Some(465 | 993 | 995));
    let port = port.unwrap_or(if implicit { 465 } else { 25 });
    let trust = match &args.ca_file {
        None => TrustAnchors::WebPkiRoots,
        Some(path) => {
            let meta = std::fs::metadata(path)
                .with_context(|| format!("--ca-file {}: cannot read", path.display()))?;
            if meta.len() > MAX_CA_FILE {
                bail!(
                    "--ca-file {}: {} bytes is larger than the {} byte limit",
                    path.display(),
                    meta.len(),
                    MAX_CA_FILE
                );
            }
            let pem = std::fs::read(path)
                .with_context(|| format!("--ca-file {}: cannot read", path.display()))?;
            TrustAnchors::from_pem(&path.display().to_string(), &pem)?
        }
    };
    let options = ProbeOptions {
        mode: if implicit {
            TlsMode::Implicit
        } else {
            TlsMode::StartTls
        },
        server_name: args.server_name.clone(),
        step_timeout: Duration::from_secs(args.timeout),
        trust,
        legacy_protocols: !args.no_legacy,
        role_domain: args.role_addresses.clone(),
        ..ProbeOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let probe = runtime.block_on(smtp::probe(&host, port, &options))?;
    let subject = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut report = Report::new(subject);
    report.extend(smtp::findings(&probe));
    if let Some(path) = &args.html {
        std::fs::write(
            path,
            warden_mailcheck::report::render_html(std::slice::from_ref(&report)),
        )
        .with_context(|| format!("--html {}: cannot write", path.display()))?;
    }
    if console.json {
        let mut value = report.to_json();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("probe".into(), serde_json::to_value(&probe)?);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn targets() {
        assert_eq!(
            split_target("mx.example").unwrap(),
            ("mx.example".into(), None)
        );
        assert_eq!(
            split_target("mx.example:587").unwrap(),
            ("mx.example".into(), Some(587))
        );
        assert_eq!(split_target("[::1]:25").unwrap(), ("::1".into(), Some(25)));
        assert_eq!(split_target("::1").unwrap(), ("::1".into(), None));
        assert!(split_target("mx:0").is_err());
        assert!(split_target("mx:smtp").is_err());
        assert!(split_target("[::1").is_err());
    }
}
