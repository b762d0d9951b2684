//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the HTTPS policy at
//! `https://mta-sts.<domain>/.well-known/mta-sts.txt`, and whether the policy's `mx:` patterns
//! cover every MX.
//!
//! The policy host is resolved through [`Resolve`] like every other name (ARCHITECTURE.md
//! invariant), then fetched with hyper over rustls. The fetch follows RFC 8461 section 3.3:
//! no redirects, a 200 answer only, `text/plain`, a size limit (64 KiB), and a certificate that
//! validates for the policy host against the given CA bundle or the system's roots.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject as _};

use super::tags;
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// RFC 8461 section 3.2: max_age is at most 31557600 seconds (a year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// Below a day, a policy protects little against an attacker who can wait it out.
const MAX_AGE_WARN: u64 = 86_400;
/// Largest policy body accepted.
const MAX_POLICY_BYTES: usize = 64 * 1024;

/// A policy's mode (RFC 8461 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Senders refuse MXs that fail validation.
    Enforce,
    /// Senders only report failures.
    Testing,
    /// The policy is being withdrawn.
    None,
}

/// A parsed policy file (RFC 8461 section 3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `mode:`.
    pub mode: Mode,
    /// `max_age:` in seconds.
    pub max_age: u64,
    /// `mx:` patterns, lower-case.
    pub mx: Vec<String>,
}

/// Parses a policy body. Lines end in CRLF or LF; `version: STSv1` is required; unknown keys
/// are ignored (section 3.2: "MUST be ignored").
pub fn parse_policy(body: &str) -> Result<Policy, String> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for (i, line) in body.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(format!("line {}: {line:?} is not \"key: value\"", i + 1));
        };
        let v = v.trim();
        match k.trim() {
            "version" => version = Some(v.to_owned()),
            "mode" => {
                mode = Some(match v {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    other => return Err(format!("mode {other:?} is not enforce, testing or none")),
                })
            }
            "max_age" => {
                let n: u64 = v
                    .parse()
                    .ok()
                    .filter(|_| v.len() <= 10)
                    .ok_or_else(|| format!("max_age {v:?} is not a number of seconds"))?;
                if n > MAX_AGE_LIMIT {
                    return Err(format!("max_age {n} is over the limit {MAX_AGE_LIMIT}"));
                }
                max_age = Some(n);
            }
            "mx" => mx.push(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    match version.as_deref() {
        Some("STSv1") => {}
        Some(v) => return Err(format!("version {v:?} is not STSv1")),
        None => return Err("the required version: STSv1 line is missing".into()),
    }
    let mode = mode.ok_or("the required mode: line is missing")?;
    let max_age = max_age.ok_or("the required max_age: line is missing")?;
    if mx.is_empty() && mode != Mode::None {
        return Err("no mx: line; senders can match no MX".into());
    }
    Ok(Policy { mode, max_age, mx })
}

/// RFC 8461 section 4.1: a pattern matches the MX host exactly, or `*.` matches exactly one
/// leftmost label.
pub fn pattern_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => p == h,
    }
}

/// The TLS client settings for policy fetches: the CA bundle in `ca_file`, else the system's
/// roots.
pub fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read CA bundle {}: {e}", path.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("CA bundle {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("CA bundle {} holds no certificate", path.display()));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| format!("CA bundle {}: {e}", path.display()))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for c in native.certs {
                let _ = roots.add(c);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// Fetches the policy of `domain` from `mta-sts.<domain>` on `port` (443 in production).
pub async fn fetch_policy<R: Resolve>(
    r: &R,
    domain: &str,
    tls: Arc<rustls::ClientConfig>,
    port: u16,
    timeout: Duration,
) -> Result<String, String> {
    let host = format!("mta-sts.{domain}");
    let mut ips: Vec<IpAddr> = Vec::new();
    for t in [RrType::A, RrType::Aaaa] {
        match r.query(&host, t).await {
            Ok(a) => ips.extend(a.ips()),
            Err(e) => return Err(e.to_string()),
        }
    }
    let Some(ip) = ips.first().copied() else {
        return Err(format!("{host} has no address"));
    };
    let fetch = async {
        let tcp = tokio::net::TcpStream::connect(SocketAddr::new(ip, port))
            .await
            .map_err(|e| format!("cannot connect to {host} ({ip}:{port}): {e}"))?;
        let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host} failed: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP with {host} failed: {e}"))?;
        tokio::spawn(conn);
        let req = hyper::Request::get("/.well-known/mta-sts.txt")
            .header(hyper::header::HOST, &host)
            .header(hyper::header::USER_AGENT, "warden-mailcheck")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("HTTP request to {host} failed: {e}"))?;
        let status = resp.status();
        if status != hyper::StatusCode::OK {
            // RFC 8461 section 3.3: redirects MUST NOT be followed; only 200 is a policy.
            return Err(format!(
                "https://{host}/.well-known/mta-sts.txt answered HTTP {status}"
            ));
        }
        let ctype = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ctype.starts_with("text/plain") {
            return Err(format!(
                "policy Content-Type is {ctype:?}, RFC 8461 section 3.2 requires text/plain"
            ));
        }
        let body = Limited::new(resp.into_body(), MAX_POLICY_BYTES)
            .collect()
            .await
            .map_err(|e| format!("policy body from {host}: {e} (limit {MAX_POLICY_BYTES} bytes)"))?
            .to_bytes();
        String::from_utf8(body.to_vec()).map_err(|_| format!("policy from {host} is not UTF-8"))
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| format!("fetching the policy from {host} timed out after {timeout:?}"))?
}

/// MTA-STS findings; `mx_hosts` are the domain's exchanges (from the MX check).
pub async fn check<R: Resolve>(
    r: &R,
    domain: &str,
    mx_hosts: &[String],
    tls: Option<Arc<rustls::ClientConfig>>,
    port: u16,
) -> Vec<Finding> {
    let hard = Practice::Hardening;
    let name = format!("_mta-sts.{domain}");
    let txt = match r.query(&name, RrType::Txt).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                Finding::new(
                    "mtasts.record",
                    hard,
                    Status::Fail,
                    "MTA-STS record could not be read",
                )
                .evidence(e.to_string()),
            ];
        }
    };
    let records: Vec<&str> = txt
        .txt()
        .into_iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=stsv1"))
        .collect();
    let record = match records.as_slice() {
        [] => {
            return vec![
                Finding::new("mtasts.record", hard, Status::Warn, format!("no MTA-STS record at {name}: senders cannot require TLS"))
                    .fix("RFC 8461 section 3.1: publish TXT \"v=STSv1; id=<version>\" at _mta-sts.<domain> and a policy at https://mta-sts.<domain>/.well-known/mta-sts.txt; start with mode: testing."),
            ];
        }
        [one] => *one,
        many => {
            return vec![
                Finding::new(
                    "mtasts.record",
                    hard,
                    Status::Fail,
                    format!(
                        "{} MTA-STS records: senders treat this as no policy",
                        many.len()
                    ),
                )
                .evidence(many.join(" | "))
                .fix("RFC 8461 section 3.1: publish exactly one v=STSv1 record."),
            ];
        }
    };
    let mut out = Vec::new();
    let id_ok = tags::parse(record).ok().and_then(|t| {
        let id = t.get("id")?.to_owned();
        (t.first() == Some(("v", "STSv1"))
            && !id.is_empty()
            && id.len() <= 32
            && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some(id)
    });
    match id_ok {
        Some(_) => out.push(
            Finding::new(
                "mtasts.record",
                hard,
                Status::Pass,
                "one valid MTA-STS record",
            )
            .evidence(record.to_owned()),
        ),
        None => {
            out.push(
                Finding::new(
                    "mtasts.record",
                    hard,
                    Status::Fail,
                    "MTA-STS record is malformed",
                )
                .evidence(record.to_owned())
                .fix("RFC 8461 section 3.1: \"v=STSv1; id=<1 to 32 letters and digits>\"."),
            );
            return out;
        }
    }
    let Some(tls) = tls else {
        out.push(Finding::new(
            "mtasts.policy",
            hard,
            Status::Info,
            "policy not fetched (no TLS settings)",
        ));
        return out;
    };
    let body = match fetch_policy(r, domain, tls, port, Duration::from_secs(10)).await {
        Ok(b) => b,
        Err(e) => {
            out.push(
                Finding::new("mtasts.policy", hard, Status::Fail, "the MTA-STS policy could not be fetched: senders ignore the record")
                    .evidence(e)
                    .fix("RFC 8461 section 3.3: serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt with a certificate valid for that name, HTTP 200, Content-Type text/plain, no redirect."),
            );
            return out;
        }
    };
    let policy = match parse_policy(&body) {
        Ok(p) => p,
        Err(e) => {
            out.push(
                Finding::new("mtasts.policy", hard, Status::Fail, format!("policy does not parse: {e}"))
                    .evidence(body.chars().take(500).collect::<String>())
                    .fix("RFC 8461 section 3.2: version: STSv1, mode:, max_age:, one mx: line per pattern."),
            );
            return out;
        }
    };
    out.push(
        Finding::new(
            "mtasts.policy",
            hard,
            Status::Pass,
            "policy fetched and parsed",
        )
        .evidence(
            body.lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join(" | "),
        ),
    );
    out.push(match policy.mode {
        Mode::Enforce => Finding::new("mtasts.mode", hard, Status::Pass, "mode: enforce"),
        Mode::Testing => Finding::new(
            "mtasts.mode",
            hard,
            Status::Warn,
            "mode: testing: senders deliver even when TLS fails",
        )
        .fix("RFC 8461 section 5: once TLS-RPT reports are clean, switch to mode: enforce."),
        Mode::None => Finding::new(
            "mtasts.mode",
            hard,
            Status::Warn,
            "mode: none: the policy is withdrawn",
        )
        .fix("RFC 8461 section 5: use enforce (or testing while rolling out)."),
    });
    out.push(if policy.max_age < MAX_AGE_WARN {
        Finding::new("mtasts.max_age", hard, Status::Warn, format!("max_age {} s is under a day", policy.max_age))
            .fix("RFC 8461 section 3.2: a long max_age (weeks, up to 31557600) keeps the policy cached across an attack; 604800 or more is usual.")
    } else {
        Finding::new("mtasts.max_age", hard, Status::Pass, format!("max_age {} s", policy.max_age))
    });
    if policy.mode != Mode::None {
        let uncovered: Vec<&String> = mx_hosts
            .iter()
            .filter(|h| !policy.mx.iter().any(|p| pattern_matches(p, h)))
            .collect();
        out.push(if uncovered.is_empty() {
            Finding::new("mtasts.mx", hard, Status::Pass, "every MX matches a policy mx: pattern")
        } else {
            let mut f = Finding::new("mtasts.mx", hard, Status::Fail, format!("{} MX hosts match no mx: pattern: senders in enforce mode will not deliver to them", uncovered.len()))
                .evidence(format!("patterns: {}", policy.mx.join(", ")))
                .fix("RFC 8461 section 4.1: add an mx: line for each MX host (or a *.domain wildcard covering one label).");
            for h in uncovered {
                f = f.evidence(format!("uncovered: {h}"));
            }
            f
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies() {
        let p = parse_policy("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.example.test\r\nmax_age: 604800\r\n").unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.max_age, 604800);
        assert_eq!(p.mx.len(), 2);
        assert!(parse_policy("mode: enforce\nmx: a\nmax_age: 1").is_err());
        assert!(parse_policy("version: STSv1\nmode: strict\nmx: a\nmax_age: 1").is_err());
        assert!(parse_policy("version: STSv1\nmode: enforce\nmax_age: 1").is_err());
        assert!(
            parse_policy("version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999").is_err()
        );
        assert!(parse_policy("version: STSv1\nmode: none\nmax_age: 0").is_ok());
    }

    #[test]
    fn patterns_match_one_label() {
        assert!(pattern_matches("mx1.example.test", "MX1.example.test."));
        assert!(pattern_matches("*.example.test", "mx1.example.test"));
        assert!(!pattern_matches("*.example.test", "a.b.example.test"));
        assert!(!pattern_matches("*.example.test", "example.test"));
        assert!(!pattern_matches("mx1.example.test", "mx2.example.test"));
    }
}
