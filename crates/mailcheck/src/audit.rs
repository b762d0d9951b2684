//! Runs every domain check for one domain and collects the findings in a [`Report`].
//!
//! The checks that depend on the MX set (PTR, DANE, SMTP) run after it; the rest run
//! concurrently, so a domain costs roughly the time of its slowest chain of queries.

use std::net::IpAddr;

use crate::domain::{dkim, dmarc, mx, ptr, spf};
use crate::finding::{Finding, Practice, Status};
use crate::report::Report;
use crate::resolver::Resolve;

/// What to audit besides the domain's own records.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// DKIM selectors to try before the common ones.
    pub selectors: Vec<String>,
    /// Sending IPs whose reverse DNS to check.
    pub sending_ips: Vec<IpAddr>,
    /// Skip PTR checks of MX addresses (e.g. in bulk runs where only the domain matters).
    pub skip_mx_ptr: bool,
}

/// Checks that `domain` is a syntactically valid host name before any query is sent
/// (RFC 1035 section 2.3.4: labels up to 63 octets, name up to 253).
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

/// Audits one domain.
pub async fn audit_domain<R: Resolve>(r: &R, domain: &str, opts: &AuditOptions) -> Report {
    let mut report = Report::new(domain);
    let ((mx_findings, mx_set), spf_f, dmarc_f, dkim_f) = futures_util::join!(
        mx::check(r, domain),
        spf::check(r, domain),
        dmarc::check(r, domain),
        dkim::check(r, domain, &opts.selectors),
    );
    report.extend(mx_findings);
    report.extend(spf_f);
    report.extend(dmarc_f);
    report.extend(dkim_f);

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
    let ptr_results = futures_util::future::join_all(
        ptr_jobs
            .iter()
            .map(|(ip, role)| ptr::check_ip(r, *ip, role)),
    )
    .await;
    for f in ptr_results {
        report.extend(f);
    }
    if mx_set.null_mx
        && report
            .findings
            .iter()
            .any(|f| f.id == "spf.record" && f.status == Status::Fail)
    {
        report.push(Finding::new("audit.null_mx_spf", Practice::Authentication, Status::Info,
            "a domain with null MX usually sends no mail either: publish \"v=spf1 -all\" and \"v=DMARC1; p=reject\""));
    }
    report
}
