//! STARTTLS on the abuse@ listener (RFC 3207): a real client (lettre, TLS required) delivers
//! over TLS, plaintext pipelined behind STARTTLS is not obeyed (CVE-2011-0411), the session
//! starts over after the handshake, and the listener still refuses to relay inside TLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{start_tls, tempdir};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use warden_server::tls::{self, rustls};

const HOST: &str = "mx.isp.example";

fn cert() -> (String, Arc<rustls::ServerConfig>) {
    let (c, k) = tls::self_signed(&[HOST.into()]).unwrap();
    let cfg = tls::server_config_from_pem(c.as_bytes(), k.as_bytes()).unwrap();
    (c, cfg)
}

fn lettre_client(port: u16, ca_pem: &str) -> AsyncSmtpTransport<Tokio1Executor> {
    let params = TlsParameters::builder(HOST.into())
        .add_root_certificate(Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build_rustls()
        .unwrap();
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(Tls::Required(params))
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build()
}

#[tokio::test]
async fn lettre_delivers_over_starttls_and_250_means_stored() {
    let dir = tempdir("tls-lettre");
    let (ca, cfg) = cert();
    let srv = start_tls(&dir, cfg).await;
    let port = srv.smtp_addr.unwrap().port();
    let client = lettre_client(port, &ca);
    let msg = "From: r@reporter.example\r\nSubject: over TLS\r\n\r\nTESTREPORT r@reporter.example\r\nspam 192.0.2.7";
    let env = lettre::address::Envelope::new(
        Some("r@reporter.example".parse().unwrap()),
        vec!["abuse@isp.example".parse().unwrap()],
    )
    .unwrap();
    let resp = client.send_raw(&env, msg.as_bytes()).await.unwrap();
    assert_eq!(resp.code().to_string(), "250");
    let text: String = resp.message().collect::<Vec<_>>().join(" ");
    let id = text
        .strip_prefix("2.0.0 Stored as report ")
        .unwrap_or_else(|| panic!("{text}"))
        .trim()
        .to_owned();
    // Durable byte for byte the moment 250 arrived (lettre ends the data with CRLF . CRLF, so
    // the final line break is part of the message), and known to the database.
    assert_eq!(
        srv.state.desk.raw_report(&id).await.unwrap(),
        format!("{msg}\r\n").as_bytes()
    );
    srv.state.desk.receipt(&id).await.unwrap();
    assert_eq!(srv.state.metrics.smtp_starttls.load(Ordering::Relaxed), 1);

    // Relaying stays refused inside TLS.
    let env = lettre::address::Envelope::new(
        Some("r@reporter.example".parse().unwrap()),
        vec!["victim@elsewhere.example".parse().unwrap()],
    )
    .unwrap();
    let err = client.send_raw(&env, msg.as_bytes()).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(err.to_string().contains("Relaying denied"), "{err}");

    // A client that requires TLS but does not trust the certificate gets nothing through.
    let (other_ca, _) = cert();
    let wrong = lettre_client(port, &other_ca);
    let env = lettre::address::Envelope::new(
        Some("r@reporter.example".parse().unwrap()),
        vec!["abuse@isp.example".parse().unwrap()],
    )
    .unwrap();
    assert!(
        wrong
            .send_raw(&env, b"Subject: x\r\n\r\nno\r\n")
            .await
            .is_err()
    );
    srv.shutdown().await;
}

async fn reply<S: AsyncRead + Unpin>(r: &mut BufReader<S>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap() == 0 {
            return all;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

async fn cmd<S: AsyncRead + AsyncWrite + Unpin>(s: &mut BufReader<S>, line: &str) -> String {
    s.get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .unwrap();
    reply(s).await
}

#[tokio::test]
async fn plaintext_pipelined_after_starttls_is_not_obeyed() {
    let dir = tempdir("tls-inject");
    let (ca, cfg) = cert();
    let srv = start_tls(&dir, cfg).await;
    let mut s = BufReader::new(TcpStream::connect(srv.smtp_addr.unwrap()).await.unwrap());
    assert!(reply(&mut s).await.starts_with("220"));
    let ehlo = cmd(&mut s, "EHLO attacker.example").await;
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    // The CVE-2011-0411 probe: commands in the same packet as STARTTLS.
    s.get_mut()
        .write_all(
            b"STARTTLS\r\nRSET\r\nMAIL FROM:<inject@evil.example>\r\nRCPT TO:<abuse@isp.example>\r\n",
        )
        .await
        .unwrap();
    let r = reply(&mut s).await;
    assert!(r.starts_with("220 2.0.0"), "{r}");
    // Had the server answered the injected commands in clear, they would be waiting here.
    assert!(
        s.buffer().is_empty(),
        "{:?}",
        String::from_utf8_lossy(s.buffer())
    );
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let t = connector
        .connect(HOST.try_into().unwrap(), s.into_inner())
        .await
        .unwrap();
    let mut t = BufReader::new(t);
    // The injected MAIL was dropped, and the session starts over: EHLO is required again.
    let r = cmd(&mut t, "RCPT TO:<abuse@isp.example>").await;
    assert!(r.starts_with("503"), "injected MAIL must not count: {r}");
    let r = cmd(&mut t, "MAIL FROM:<a@b.example>").await;
    assert!(r.starts_with("503 5.5.1 Send EHLO first"), "{r}");
    let ehlo = cmd(&mut t, "EHLO reporter.example").await;
    assert!(!ehlo.contains("STARTTLS"), "not offered twice: {ehlo}");
    assert!(cmd(&mut t, "STARTTLS").await.starts_with("503"));
    assert!(
        cmd(&mut t, "MAIL FROM:<a@b.example>")
            .await
            .starts_with("250")
    );
    let r = cmd(&mut t, "RCPT TO:<victim@gmail.example>").await;
    assert!(r.starts_with("550 5.7.1"), "no relay inside TLS: {r}");
    assert!(cmd(&mut t, "QUIT").await.starts_with("221"));
    let m = &srv.state.metrics;
    assert_eq!(m.smtp_starttls_discarded.load(Ordering::Relaxed), 1);
    assert_eq!(m.smtp_starttls.load(Ordering::Relaxed), 1);
    srv.shutdown().await;
}

#[tokio::test]
async fn starttls_is_not_offered_without_a_certificate() {
    let dir = tempdir("tls-off");
    let srv = common::start(
        &dir,
        common::line_format,
        None,
        warden_desk::Policy::default(),
    )
    .await;
    let (mut c, _) = common::SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    let ehlo = c.cmd("EHLO x.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(c.cmd("STARTTLS").await.starts_with("502"));
    srv.shutdown().await;
}
