//! MTA-STS (with a real HTTPS policy server on loopback), TLS-RPT, BIMI and DANE findings
//! against the fixture zones on a real bind9.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, pem::PemObject as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use warden_mailcheck::domain::{bimi, dane, mtasts, tlsrpt};
use warden_mailcheck::{Finding, Status};

fn status(fs: &[Finding], id: &str) -> Status {
    fs.iter()
        .filter(|f| f.id == id)
        .map(|f| f.status)
        .max_by_key(|s| match s {
            Status::Fail => 3,
            Status::Warn => 2,
            Status::Pass => 1,
            Status::Info => 0,
        })
        .unwrap_or_else(|| panic!("no {id} finding in {fs:#?}"))
}

/// The policy each fixture host serves; `None` answers 404.
fn policy_for(host: &str) -> Option<&'static str> {
    match host {
        "mta-sts.good.test" => {
            Some("version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\nmax_age: 604800\r\n")
        }
        "mta-sts.sts-testing.test" => {
            Some("version: STSv1\nmode: testing\nmx: *.other.test\nmax_age: 3600\n")
        }
        _ => None,
    }
}

/// Starts an HTTPS server on 127.0.0.1 with a certificate from a fresh test CA covering the
/// policy hosts; returns its port and the CA bundle path.
async fn policy_server(dir: &std::path::Path) -> (u16, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "warden test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![
        "mta-sts.good.test".to_owned(),
        "mta-sts.sts-testing.test".to_owned(),
        "mta-sts.sts-nofetch.test".to_owned(),
    ])
    .unwrap()
    .signed_by(&leaf_key, &ca, &ca_key)
    .unwrap();
    let ca_path = dir.join("mta-sts-ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&buf).to_string();
                let host = req
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("host: ")
                            .or_else(|| l.strip_prefix("Host: "))
                    })
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                let resp = match (
                    req.starts_with("GET /.well-known/mta-sts.txt "),
                    policy_for(&host),
                ) {
                    (true, Some(p)) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{p}",
                        p.len()
                    ),
                    _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned(),
                };
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca_path)
}

#[tokio::test]
async fn mta_sts_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);
    let (port, ca) = policy_server(&b.dir).await;
    let tls = mtasts::tls_config(Some(&ca)).unwrap();
    let mx = |h: &str| vec![h.to_owned()];

    let good = mtasts::check(
        &r,
        "good.test",
        &mx("mx1.good.test"),
        Some(tls.clone()),
        port,
    )
    .await;
    for id in [
        "mtasts.record",
        "mtasts.policy",
        "mtasts.mode",
        "mtasts.max_age",
        "mtasts.mx",
    ] {
        assert_eq!(status(&good, id), Status::Pass, "{id}: {good:#?}");
    }

    let testing = mtasts::check(
        &r,
        "sts-testing.test",
        &mx("mx1.good.test"),
        Some(tls.clone()),
        port,
    )
    .await;
    assert_eq!(status(&testing, "mtasts.mode"), Status::Warn);
    assert_eq!(status(&testing, "mtasts.max_age"), Status::Warn);
    assert_eq!(status(&testing, "mtasts.mx"), Status::Fail);

    let nofetch = mtasts::check(
        &r,
        "sts-nofetch.test",
        &mx("mx1.good.test"),
        Some(tls.clone()),
        port,
    )
    .await;
    assert_eq!(status(&nofetch, "mtasts.policy"), Status::Fail);
    assert!(
        nofetch
            .iter()
            .any(|f| f.evidence.iter().any(|e| e.contains("404"))),
        "{nofetch:#?}"
    );

    // The same server, but the client does not trust the test CA: the fetch must fail.
    let system = mtasts::tls_config(None).unwrap();
    let untrusted = mtasts::check(&r, "good.test", &mx("mx1.good.test"), Some(system), port).await;
    assert_eq!(
        status(&untrusted, "mtasts.policy"),
        Status::Fail,
        "{untrusted:#?}"
    );

    assert_eq!(
        status(
            &mtasts::check(&r, "nospf.test", &[], Some(tls.clone()), port).await,
            "mtasts.record"
        ),
        Status::Warn
    );
    assert_eq!(
        status(
            &mtasts::check(&r, "sts-badrec.test", &[], Some(tls.clone()), port).await,
            "mtasts.record"
        ),
        Status::Fail
    );
    assert_eq!(
        status(
            &mtasts::check(&r, "sts-two.test", &[], Some(tls), port).await,
            "mtasts.record"
        ),
        Status::Fail
    );
}

#[tokio::test]
async fn tlsrpt_and_bimi_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);
    assert_eq!(
        status(&tlsrpt::check(&r, "good.test").await, "tlsrpt.record"),
        Status::Pass
    );
    assert_eq!(
        status(&tlsrpt::check(&r, "nospf.test").await, "tlsrpt.record"),
        Status::Warn
    );
    assert_eq!(
        status(&tlsrpt::check(&r, "tlsrpt-bad.test").await, "tlsrpt.record"),
        Status::Fail
    );
    assert_eq!(
        status(&bimi::check(&r, "good.test").await, "bimi.record"),
        Status::Pass
    );
    assert_eq!(
        status(&bimi::check(&r, "nospf.test").await, "bimi.record"),
        Status::Info
    );
    assert_eq!(
        status(&bimi::check(&r, "bimi-bad.test").await, "bimi.record"),
        Status::Fail
    );
}

fn cert(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/certs")
        .join(name);
    CertificateDer::from_pem_file(p).unwrap().to_vec()
}

#[tokio::test]
async fn dane_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let mx1 = cert("mx1.pem");
    let other = cert("other.pem");
    let good = dane::check_mx(&r, "mx1.good.test", Some(std::slice::from_ref(&mx1))).await;
    for id in ["dane.dnssec", "dane.tlsa", "dane.match"] {
        assert_eq!(status(&good, id), Status::Pass, "{id}: {good:#?}");
    }
    let rolled = dane::check_mx(&r, "mx1.good.test", Some(std::slice::from_ref(&other))).await;
    assert_eq!(status(&rolled, "dane.match"), Status::Fail);

    let insecure = dane::check_mx(&r, "mx.insecure.test", None).await;
    assert_eq!(
        status(&insecure, "dane.dnssec"),
        Status::Fail,
        "{insecure:#?}"
    );

    // A DS for a key the zone does not use: validation fails, and DANE must say so.
    let bogus = dane::check_mx(&r, "mx.bogus.test", None).await;
    assert_eq!(status(&bogus, "dane.dnssec"), Status::Fail, "{bogus:#?}");
    assert!(
        bogus
            .iter()
            .any(|f| f.id.starts_with("dane.") && f.status == Status::Fail),
        "{bogus:#?}"
    );
    assert!(
        !bogus.iter().any(|f| f.status == Status::Pass),
        "{bogus:#?}"
    );

    let pkix = dane::check_mx(&r, "mx.nospf.test", None).await;
    assert_eq!(status(&pkix, "dane.tlsa"), Status::Fail);

    let none = dane::check_mx(&r, "mx.sts-testing.test", None).await;
    assert_eq!(status(&none, "dane.tlsa"), Status::Info);
}

#[tokio::test]
async fn whole_audit_of_good_domain_passes_and_of_bad_domain_fails() {
    use warden_mailcheck::audit::{AuditOptions, Auditor};
    let Some(b) = dns_support::bind() else { return };
    let (port, ca) = policy_server(&b.dir).await;
    let opts = AuditOptions {
        ca_file: Some(ca),
        mta_sts_port: port,
        ..AuditOptions::default()
    };
    let a = Auditor::new(dns_support::resolver(b), opts).unwrap();
    let good = a.audit("good.test").await;
    assert!(!good.has_problems(), "{}", good.render_text());
    assert_eq!(good.score(), Some(100));
    let bad = a.audit("nospf.test").await;
    assert!(bad.has_problems());
    assert_eq!(bad.worst(), Some(Status::Fail));
}

/// A probe that presents a fixed chain, standing in for the SMTP module: the audit must pass
/// the chain to DANE and keep the probe's own findings.
struct FixedChain(Vec<u8>);

impl warden_mailcheck::audit::MxProbe for FixedChain {
    async fn probe(
        &self,
        host: &str,
        _addr: std::net::IpAddr,
    ) -> warden_mailcheck::audit::ProbeOutcome {
        warden_mailcheck::audit::ProbeOutcome {
            findings: vec![Finding::new(
                "smtp.fake",
                warden_mailcheck::Practice::Transport,
                Status::Pass,
                format!("probed {host}"),
            )],
            chain_der: Some(vec![self.0.clone()]),
        }
    }
}

#[tokio::test]
async fn audit_passes_the_probed_chain_to_dane() {
    use warden_mailcheck::audit::{AuditOptions, Auditor};
    let Some(b) = dns_support::bind() else { return };
    let opts = AuditOptions {
        fetch_mta_sts: false,
        ..AuditOptions::default()
    };
    let a = Auditor::with_probe(
        dns_support::resolver(b),
        Some(FixedChain(cert("mx1.pem"))),
        opts.clone(),
    )
    .unwrap();
    let rep = a.audit("good.test").await;
    assert_eq!(status(&rep.findings, "dane.match"), Status::Pass);
    assert_eq!(status(&rep.findings, "smtp.fake"), Status::Pass);
    let a = Auditor::with_probe(
        dns_support::resolver(b),
        Some(FixedChain(cert("other.pem"))),
        opts,
    )
    .unwrap();
    let rep = a.audit("good.test").await;
    assert_eq!(status(&rep.findings, "dane.match"), Status::Fail);
}
