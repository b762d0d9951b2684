//! The probe against real SMTP servers on loopback (tests/smtp_server): good, expired,
//! self-signed, wrong-name, TLS 1.0-enabled, no-STARTTLS, AUTH-before-TLS and implicit-TLS
//! setups, each judged end to end into findings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod smtp_server;

use std::time::Duration;

use openssl::ssl::SslVersion;
use smtp_server::{HOST, Leaf, Setup, pki, start};
use warden_mailcheck::smtp::{
    self, LegacyVerdict, LegacyVersion, ProbeOptions, TlsMode, TrustAnchors, Validation,
};
use warden_mailcheck::{Finding, Status};

fn options(ca_pem: &str) -> ProbeOptions {
    ProbeOptions {
        trust: TrustAnchors::from_pem("test-ca.pem", ca_pem.as_bytes()).unwrap(),
        step_timeout: Duration::from_secs(5),
        ..ProbeOptions::default()
    }
}

fn status(f: &[Finding], id: &str) -> Status {
    f.iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id} in {f:#?}"))
        .status
}

fn legacy(p: &smtp::SmtpProbe, v: LegacyVersion) -> &LegacyVerdict {
    &p.legacy.iter().find(|l| l.version == v).unwrap().verdict
}

#[tokio::test]
async fn good_server_passes_everything() {
    let setup = Setup::new(pki(Leaf::Good));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    assert_eq!(p.banner.as_ref().unwrap().code, 220);
    assert!(p.starttls_offered);
    let tls = p.tls.as_ref().expect("handshake");
    assert!(
        tls.version == "TLSv1_3" || tls.version == "TLSv1_2",
        "{tls:?}"
    );
    assert!(tls.key_exchange_group.is_some());
    assert_eq!(p.validation, Some(Validation::Valid));
    assert_eq!(p.chain_der.len(), 1);
    assert_eq!(p.certificates[0].dns_names, vec![HOST.to_string()]);
    assert_eq!(p.certificates[0].key_bits, 256);
    assert!(p.ehlo_after_tls.as_ref().unwrap().is_positive());
    for v in LegacyVersion::ALL {
        assert!(
            matches!(legacy(&p, v), LegacyVerdict::Rejected { .. }),
            "{v:?}: {:?}",
            legacy(&p, v)
        );
    }
    let f = smtp::findings(&p);
    for id in [
        "smtp.starttls",
        "tls.protocol.version",
        "tls.cert.expired",
        "tls.cert.name",
        "tls.cert.trust",
        "tls.cert.key",
        "tls.cert.signature",
        "tls.protocol.ssl3",
        "tls.protocol.tls1_0",
        "tls.protocol.tls1_1",
    ] {
        assert_eq!(status(&f, id), Status::Pass, "{id}: {f:#?}");
    }
    assert!(
        !f.iter()
            .any(|f| f.status == Status::Fail || f.status == Status::Warn),
        "{f:#?}"
    );
}

#[tokio::test]
async fn expired_certificate_fails() {
    let setup = Setup::new(pki(Leaf::Expired));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    assert!(p.tls.is_some(), "opportunistic TLS still completes: {p:?}");
    assert!(
        matches!(&p.validation, Some(Validation::Invalid { reason }) if reason.contains("xpired")),
        "{:?}",
        p.validation
    );
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.expired"), Status::Fail);
    assert_eq!(status(&f, "tls.cert.name"), Status::Pass);
}

#[tokio::test]
async fn self_signed_certificate_is_untrusted() {
    let setup = Setup::new(pki(Leaf::SelfSigned));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    assert!(p.certificates[0].self_issued);
    let f = smtp::findings(&p);
    // Not port 25, so the untrusted certificate is a failure, not a warning.
    assert_eq!(status(&f, "tls.cert.trust"), Status::Fail);
    assert!(f.iter().any(|f| f.summary.contains("self-signed")));
    assert_eq!(status(&f, "tls.cert.expired"), Status::Pass);
}

#[tokio::test]
async fn wrong_name_fails_name_check() {
    let setup = Setup::new(pki(Leaf::WrongName));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.name"), Status::Fail);
    // The chain itself is fine: only the name is wrong, and that is reported once.
    assert_eq!(status(&f, "tls.cert.trust"), Status::Pass);
    assert!(
        matches!(&p.validation, Some(Validation::WrongName { .. })),
        "{:?}",
        p.validation
    );
    let name = f.iter().find(|f| f.id == "tls.cert.name").unwrap();
    assert!(name.evidence.iter().any(|e| e.contains("other.example")));
}

#[tokio::test]
async fn tls1_0_enabled_server_is_caught() {
    let mut setup = Setup::new(pki(Leaf::Good));
    setup.min_version = SslVersion::TLS1;
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    assert!(
        matches!(
            legacy(&p, LegacyVersion::Tls1_0),
            LegacyVerdict::Accepted { .. }
        ),
        "{:?}",
        p.legacy
    );
    assert!(
        matches!(
            legacy(&p, LegacyVersion::Tls1_1),
            LegacyVerdict::Accepted { .. }
        ),
        "{:?}",
        p.legacy
    );
    // Debian's OpenSSL 3 is built without SSLv3.
    assert!(
        matches!(
            legacy(&p, LegacyVersion::Ssl3),
            LegacyVerdict::Rejected { .. }
        ),
        "{:?}",
        p.legacy
    );
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.protocol.tls1_0"), Status::Fail);
    assert_eq!(status(&f, "tls.protocol.tls1_1"), Status::Fail);
    assert_eq!(status(&f, "tls.protocol.ssl3"), Status::Pass);
    // The modern handshake still works on the same server.
    assert_eq!(status(&f, "smtp.starttls"), Status::Pass);
}

#[tokio::test]
async fn no_starttls_is_a_failure_and_skips_tls_checks() {
    let mut setup = Setup::new(pki(Leaf::Good));
    setup.starttls = false;
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    assert!(!p.starttls_offered);
    assert!(p.legacy.is_empty());
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "smtp.starttls"), Status::Fail);
    assert!(!f.iter().any(|f| f.id.starts_with("tls.")));
}

#[tokio::test]
async fn auth_before_starttls_is_reported() {
    let mut setup = Setup::new(pki(Leaf::Good));
    setup.auth_before_tls = true;
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let p = smtp::probe_addr(HOST, server.addr, &options(&ca)).await;
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "smtp.auth_before_tls"), Status::Fail);
    // Inside TLS the server offers AUTH, as it should.
    assert!(
        p.ehlo_after_tls
            .as_ref()
            .unwrap()
            .ehlo_keywords()
            .iter()
            .any(|k| k.starts_with("AUTH"))
    );
}

#[tokio::test]
async fn implicit_tls_on_submissions_port() {
    let mut setup = Setup::new(pki(Leaf::Good));
    setup.implicit = true;
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let opts = ProbeOptions {
        mode: TlsMode::Implicit,
        ..options(&ca)
    };
    let p = smtp::probe_addr(HOST, server.addr, &opts).await;
    assert_eq!(p.banner.as_ref().map(|b| b.code), Some(220), "{p:?}");
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.implicit"), Status::Pass);
    assert_eq!(status(&f, "tls.cert.trust"), Status::Pass);
    assert_eq!(status(&f, "tls.protocol.tls1_0"), Status::Pass);
}

#[tokio::test]
async fn role_addresses_are_checked_inside_tls() {
    let setup = Setup::new(pki(Leaf::Good));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let opts = ProbeOptions {
        role_domain: Some("example.test".into()),
        legacy_protocols: false,
        ..options(&ca)
    };
    let p = smtp::probe_addr(HOST, server.addr, &opts).await;
    assert!(p.legacy.is_empty());
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "role.postmaster"), Status::Pass);
    assert_eq!(status(&f, "role.abuse"), Status::Fail);
}

#[tokio::test]
async fn closed_port_is_a_connect_failure() {
    // Bind then drop: the port is very likely closed for the next few milliseconds.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = smtp::probe_addr(HOST, addr, &ProbeOptions::default()).await;
    assert!(p.connect_error.is_some());
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "smtp.connect"), Status::Fail);
}

#[tokio::test]
async fn invalid_host_is_an_input_error() {
    let e = smtp::probe("bad host", 25, &ProbeOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("bad host"));
}

#[tokio::test]
async fn mx_prober_returns_findings_and_chain_for_dane() {
    use warden_mailcheck::audit::MxProbe;
    let setup = Setup::new(pki(Leaf::Good));
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let prober = smtp::MxProber {
        options: ProbeOptions {
            legacy_protocols: false,
            ..options(&ca)
        },
        port: server.addr.port(),
    };
    let outcome = prober.probe(HOST, server.addr.ip()).await;
    assert_eq!(outcome.chain_der.as_ref().map(Vec::len), Some(1));
    assert_eq!(status(&outcome.findings, "smtp.starttls"), Status::Pass);
}
