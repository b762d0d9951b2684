//! The domain audit with the real SMTP probe: MX from the fixture zone (bind9), the probe
//! against the loopback SMTP server of the probe tests, findings of both in one report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;
mod smtp_server;

use rustls::pki_types::pem::PemObject as _;
use warden_mailcheck::audit::{AuditOptions, Auditor, SmtpMxProbe};
use warden_mailcheck::smtp::{ProbeOptions, TrustAnchors};
use warden_mailcheck::{Practice, Status};

#[tokio::test]
async fn audit_probes_every_mx_over_smtp() {
    let Some(b) = dns_support::bind() else { return };
    let pki = smtp_server::pki(smtp_server::Leaf::Good);
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(pki.ca_pem.as_bytes());
    let Some(server) = smtp_server::start(smtp_server::Setup::new(pki)) else {
        return;
    };
    let probe = SmtpMxProbe {
        options: ProbeOptions {
            trust: TrustAnchors::Custom(vec![ca.unwrap()]),
            legacy_protocols: false,
            ..ProbeOptions::default()
        },
        port: server.addr.port(),
    };
    let opts = AuditOptions {
        fetch_mta_sts: false,
        skip_mx_ptr: true,
        ..AuditOptions::default()
    };
    let a = Auditor::with_probe(dns_support::resolver(b), Some(probe), opts).unwrap();
    let rep = a.audit("smtp-e2e.test").await;
    let transport: Vec<_> = rep
        .findings
        .iter()
        .filter(|f| f.practice == Practice::Transport)
        .collect();
    assert!(!transport.is_empty(), "{}", rep.render_text());
    let starttls = transport
        .iter()
        .find(|f| f.id == "smtp.starttls")
        .unwrap_or_else(|| panic!("{}", rep.render_text()));
    assert_eq!(starttls.status, Status::Pass, "{}", rep.render_text());
    // No TLSA for mx.test: DANE says so, and nothing to match.
    assert!(
        rep.findings
            .iter()
            .any(|f| f.id == "dane.tlsa" && f.status == Status::Info)
    );
    assert!(!rep.findings.iter().any(|f| f.id == "dane.match"));
}
