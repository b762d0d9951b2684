//! Runs every domain check for one domain and collects the findings in a [`Report`].
//!
//! Order: MX first (its exchanges feed PTR, MTA-STS coverage, DANE and the SMTP probe), the
//! domain-level records (SPF, DMARC, DKIM, TLS-RPT, BIMI) concurrently with it, then the
//! per-MX work concurrently. A domain costs roughly its slowest chain of queries.
//!
//! The SMTP/TLS probe lives in another module; it plugs in through [`MxProbe`], so this file
//! does not depend on it and the DANE check gets the presented chain when a probe runs.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::domain::{bimi, dane, dkim, dmarc, mtasts, mx, ptr, spf, tlsrpt};
use crate::finding::{Finding, Practice, Status};
use crate::report::Report;
use crate::resolver::Resolve;

/// What to audit besides the domain's own records.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// DKIM selectors to try before the common ones.
    pub selectors: Vec<String>,
    /// Sending IPs whose reverse DNS to check.
    pub sending_ips: Vec<IpAddr>,
    /// Skip PTR checks of MX addresses (e.g. in bulk runs where only the domain matters).
    pub skip_mx_ptr: bool,
    /// PEM CA bundle for the MTA-STS policy fetch; `None` uses the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Port of the MTA-STS policy host: 443 by RFC 8461; tests and labs change it.
    pub mta_sts_port: u16,
    /// Fetch MTA-STS policies over HTTPS (off: only the TXT record is checked).
    pub fetch_mta_sts: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            selectors: Vec::new(),
            sending_ips: Vec::new(),
            skip_mx_ptr: false,
            ca_file: None,
            mta_sts_port: 443,
            fetch_mta_sts: true,
        }
    }
}

/// What an SMTP probe of one MX address learned: its own findings (STARTTLS, TLS versions,
/// certificate) and the certificate chain it was shown, for DANE matching.
#[derive(Debug, Clone, Default)]
pub struct ProbeOutcome {
    /// Findings of the probe.
    pub findings: Vec<Finding>,
    /// DER certificates, leaf first, if the TLS handshake got that far.
    pub chain_der: Option<Vec<Vec<u8>>>,
}

/// A prober of MX hosts (the SMTP/TLS module implements it). The audit calls it once per MX
/// host, with the host's first address.
pub trait MxProbe: Send + Sync {
    /// Probes `host` at `addr`.
    fn probe(&self, host: &str, addr: IpAddr) -> impl Future<Output = ProbeOutcome> + Send;
}

/// The probe used when no SMTP probe is wanted: it learns nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProbe;

impl MxProbe for NoProbe {
    async fn probe(&self, _host: &str, _addr: IpAddr) -> ProbeOutcome {
        ProbeOutcome::default()
    }
}

/// The SMTP/TLS module's MX probe ([`crate::smtp::MxProber`], the one adapter), under the name the
/// audit's callers know it by.
pub use crate::smtp::MxProber as SmtpMxProbe;

/// Errors preparing an audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditSetupError {
    /// The CA bundle for MTA-STS could not be loaded.
    #[error("MTA-STS TLS settings: {0}")]
    Tls(String),
}

/// Audits domains with one resolver, one set of options and an optional MX probe. Build it
/// once and share it: the TLS settings and the resolver's cache are reused across domains.
pub struct Auditor<R, P = NoProbe> {
    resolver: R,
    probe: Option<P>,
    opts: AuditOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl<R: Resolve> Auditor<R, NoProbe> {
    /// An auditor without SMTP probing.
    pub fn new(resolver: R, opts: AuditOptions) -> Result<Self, AuditSetupError> {
        Self::with_probe(resolver, None, opts)
    }
}

impl<R: Resolve, P: MxProbe> Auditor<R, P> {
    /// An auditor that probes every MX with `probe`.
    pub fn with_probe(
        resolver: R,
        probe: Option<P>,
        opts: AuditOptions,
    ) -> Result<Self, AuditSetupError> {
        let tls = if opts.fetch_mta_sts {
            Some(mtasts::tls_config(opts.ca_file.as_deref()).map_err(AuditSetupError::Tls)?)
        } else {
            None
        };
        Ok(Self {
            resolver,
            probe,
            opts,
            tls,
        })
    }

    /// The resolver, for callers that want its statistics.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// Audits one domain (already validated with [`validate_domain`]).
    pub async fn audit(&self, domain: &str) -> Report {
        let r = &self.resolver;
        let opts = &self.opts;
        let mut report = Report::new(domain);
        let ((mx_findings, mx_set), spf_f, dmarc_f, dkim_f, tlsrpt_f, bimi_f) = futures_util::join!(
            mx::check(r, domain),
            spf::check(r, domain),
            dmarc::check(r, domain),
            dkim::check(r, domain, &opts.selectors),
            tlsrpt::check(r, domain),
            bimi::check(r, domain),
        );
        report.extend(mx_findings);
        report.extend(spf_f);
        report.extend(dmarc_f);
        report.extend(dkim_f);

        let hosts: Vec<String> = mx_set.exchanges.iter().map(|e| e.host.clone()).collect();
        let mut ptr_jobs: Vec<(IpAddr, String)> = Vec::new();
        if !opts.skip_mx_ptr {
            for ex in &mx_set.exchanges {
                for ip in &ex.addresses {
                    ptr_jobs.push((*ip, format!("MX {}", ex.host)));
                }
            }
        }
        for ip in &opts.sending_ips {
            ptr_jobs.push((*ip, "sending IP".to_owned()));
        }
        let per_mx = mx_set.exchanges.iter().map(|ex| async move {
            let outcome = match (&self.probe, ex.addresses.first()) {
                (Some(p), Some(addr)) => Some(p.probe(&ex.host, *addr).await),
                _ => None,
            };
            let chain = outcome.as_ref().and_then(|o| o.chain_der.as_deref());
            let dane_f = dane::check_mx(r, &ex.host, chain).await;
            (outcome.map(|o| o.findings).unwrap_or_default(), dane_f)
        });
        let (ptr_results, mx_results, sts_f) = futures_util::join!(
            futures_util::future::join_all(
                ptr_jobs
                    .iter()
                    .map(|(ip, role)| ptr::check_ip(r, *ip, role))
            ),
            futures_util::future::join_all(per_mx),
            async {
                if mx_set.null_mx {
                    Vec::new()
                } else {
                    mtasts::check(r, domain, &hosts, self.tls.clone(), opts.mta_sts_port).await
                }
            },
        );
        for f in ptr_results {
            report.extend(f);
        }
        for (probe_f, dane_f) in mx_results {
            report.extend(probe_f);
            report.extend(dane_f);
        }
        report.extend(sts_f);
        report.extend(tlsrpt_f);
        report.extend(bimi_f);
        if mx_set.null_mx
            && report
                .findings
                .iter()
                .any(|f| f.id == "spf.record" && f.status == Status::Fail)
        {
            report.push(Finding::new(
                "audit.null_mx_spf",
                Practice::Authentication,
                Status::Info,
                "a domain with null MX usually sends no mail either: publish \"v=spf1 -all\" and \"v=DMARC1; p=reject\"",
            ));
        }
        report
    }
}

/// Checks that `domain` is a syntactically valid host name before any query is sent
/// (RFC 1035 section 2.3.4: labels up to 63 octets, name up to 253), and normalises it.
pub fn validate_domain(domain: &str) -> Result<String, String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.is_empty() {
        return Err("empty domain name".into());
    }
    if d.len() > 253 {
        return Err(format!("{domain:?}: longer than 253 octets"));
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "{domain:?}: empty label or label longer than 63 octets"
            ));
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "{domain:?}: label {label:?} has characters other than letters, digits, '-' and '_' (give IDNs in their xn-- form)"
            ));
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_domains() {
        assert_eq!(validate_domain(" Example.TEST. ").unwrap(), "example.test");
        assert!(validate_domain("").is_err());
        assert!(validate_domain("a..b").is_err());
        assert!(validate_domain("a b.test").is_err());
        assert!(validate_domain(&format!("{}.test", "a".repeat(64))).is_err());
    }
}
