//! Fixtures for the certificate-quality and SSLv3 findings that tests/smtp_probe.rs does not
//! reach: `tls.cert.key` (RSA 1024 against RSA 2048), `tls.cert.signature` (SHA-1 against
//! SHA-256) and `tls.protocol.ssl3` (a server that answers an SSLv3 hello).
//!
//! rcgen cannot make RSA keys or SHA-1 signatures, so these certificates are built with the
//! `openssl` crate. Debian's OpenSSL refuses to even load a 1024-bit key or a SHA-1-signed
//! certificate at its default security level 2, so the small server here (unlike
//! tests/smtp_server, which sets the certificate first) drops to level 0 before loading them,
//! the way an old MTA is configured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Builder, X509Name, X509NameBuilder};
use warden_mailcheck::smtp::{
    self, LegacyVerdict, LegacyVersion, ProbeOptions, TrustAnchors, Validation,
};
use warden_mailcheck::{Finding, Status};
use warden_test_support::tool::{OPENSSL, require_tool};

const HOST: &str = "mx.test";

/// A CA (RSA 2048, SHA-256) and a leaf for `mx.test` with an RSA key of `leaf_bits`, signed by
/// the CA with `digest`.
struct Pki {
    ca: X509,
    leaf: X509,
    leaf_key: PKey<Private>,
}

fn rsa(bits: u32) -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut b = X509NameBuilder::new().unwrap();
    b.append_entry_by_text("CN", cn).unwrap();
    b.build()
}

fn serial() -> Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(63, MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

fn validity(b: &mut X509Builder) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    b.set_not_before(&Asn1Time::from_unix(now - 86_400).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(now + 90 * 86_400).unwrap())
        .unwrap();
}

fn pki(leaf_bits: u32, digest: MessageDigest) -> Pki {
    let ca_key = rsa(2048);
    let ca_name = name("Warden Test RSA CA");
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&ca_name).unwrap();
    b.set_issuer_name(&ca_name).unwrap();
    b.set_pubkey(&ca_key).unwrap();
    validity(&mut b);
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let ca = b.build();

    let leaf_key = rsa(leaf_bits);
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial()).unwrap();
    b.set_subject_name(&name(HOST)).unwrap();
    b.set_issuer_name(ca.subject_name()).unwrap();
    b.set_pubkey(&leaf_key).unwrap();
    validity(&mut b);
    let san = SubjectAlternativeName::new()
        .dns(HOST)
        .build(&b.x509v3_context(Some(&ca), None))
        .unwrap();
    b.append_extension(san).unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap())
        .unwrap();
    b.sign(&ca_key, digest).unwrap();
    Pki {
        ca,
        leaf: b.build(),
        leaf_key,
    }
}

/// A loopback server running `serve` on each connection; stops when dropped.
struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn spawn<F: Fn(TcpStream) + Send + Sync + 'static>(serve: F) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop2.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = conn.set_nodelay(true);
            let serve = serve.clone();
            std::thread::spawn(move || serve(conn));
        }
    });
    Server { addr, stop }
}

/// Plain-text SMTP up to STARTTLS (`in_tls` false), or the part after it. Returns the reader
/// (with anything it buffered) when the client asked for STARTTLS and got 220.
fn smtp<S: Read + Write>(s: S, in_tls: bool) -> Option<BufReader<S>> {
    let mut r = BufReader::new(s);
    if !in_tls {
        r.get_mut()
            .write_all(b"220 mx.test ESMTP warden-test\r\n")
            .ok()?;
    }
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if cmd.starts_with("EHLO") {
            if in_tls {
                b"250-mx.test hello\r\n250 8BITMIME\r\n"
            } else {
                b"250-mx.test hello\r\n250 STARTTLS\r\n"
            }
        } else if cmd == "STARTTLS" && !in_tls {
            r.get_mut()
                .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                .ok()?;
            return Some(r);
        } else if cmd == "QUIT" {
            let _ = r.get_mut().write_all(b"221 2.0.0 Bye\r\n");
            return None;
        } else {
            b"250 2.0.0 OK\r\n"
        };
        r.get_mut().write_all(reply).ok()?;
    }
}

/// An OpenSSL STARTTLS server at security level 0 serving `pki`'s leaf.
fn start_tls_server(pki: &Pki) -> Server {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    // Before the certificate: level 2 would refuse to load a 1024-bit key ("ee key too small")
    // or a SHA-1 signature ("ca md too weak").
    b.set_security_level(0);
    b.set_certificate(&pki.leaf).unwrap();
    b.set_private_key(&pki.leaf_key).unwrap();
    let acc = Arc::new(b.build());
    spawn(move |conn| {
        let plain = conn.try_clone().unwrap();
        if smtp(plain, false).is_some()
            && let Ok(tls) = acc.accept(conn)
        {
            let _ = smtp(tls, true);
        }
    })
}

fn options(ca: &X509) -> ProbeOptions {
    ProbeOptions {
        trust: TrustAnchors::from_pem("test-ca.pem", &ca.to_pem().unwrap()).unwrap(),
        step_timeout: Duration::from_secs(5),
        // The legacy hellos are covered in smtp_probe.rs; here only the certificate matters.
        legacy_protocols: false,
        ..ProbeOptions::default()
    }
}

fn finding<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id} in {f:#?}"))
}

fn status(f: &[Finding], id: &str) -> Status {
    finding(f, id).status
}

#[tokio::test]
async fn rsa_1024_key_fails_and_rsa_2048_passes() {
    if require_tool(&OPENSSL).is_none() {
        return;
    }
    let weak = pki(1024, MessageDigest::sha256());
    let server = start_tls_server(&weak);
    let p = smtp::probe_addr(HOST, server.addr, &options(&weak.ca)).await;
    assert_eq!(p.certificates.len(), 1, "{p:?}");
    assert_eq!(p.certificates[0].key_bits, 1024);
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.key"), Status::Fail, "{f:#?}");
    assert!(finding(&f, "tls.cert.key").summary.contains("1024"));
    assert!(finding(&f, "tls.cert.key").fix.is_some());
    // The chain itself is sound: only the key size is at fault.
    assert_eq!(status(&f, "tls.cert.signature"), Status::Pass);
    // rustls will not verify a handshake signature made with a 1024-bit RSA key, so the
    // session itself fails; the certificate was recorded before that and is still judged.
    assert!(p.tls.is_none() && p.tls_error.is_some(), "{p:?}");

    let strong = pki(2048, MessageDigest::sha256());
    let server = start_tls_server(&strong);
    let p = smtp::probe_addr(HOST, server.addr, &options(&strong.ca)).await;
    assert_eq!(p.certificates[0].key_bits, 2048);
    assert_eq!(p.validation, Some(Validation::Valid), "{p:?}");
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.key"), Status::Pass, "{f:#?}");
    assert_eq!(status(&f, "smtp.starttls"), Status::Pass);
    assert_eq!(status(&f, "tls.cert.trust"), Status::Pass);
}

#[tokio::test]
async fn sha1_signature_fails_and_sha256_passes() {
    if require_tool(&OPENSSL).is_none() {
        return;
    }
    let weak = pki(2048, MessageDigest::sha1());
    let server = start_tls_server(&weak);
    let p = smtp::probe_addr(HOST, server.addr, &options(&weak.ca)).await;
    assert!(p.tls.is_some(), "the session itself is fine: {p:?}");
    assert!(
        p.certificates[0]
            .signature_algorithm
            .to_ascii_lowercase()
            .contains("sha1"),
        "{:?}",
        p.certificates[0]
    );
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.signature"), Status::Fail, "{f:#?}");
    assert!(
        finding(&f, "tls.cert.signature")
            .evidence
            .iter()
            .any(|e| e.contains(HOST)),
        "{f:#?}"
    );
    assert_eq!(status(&f, "tls.cert.key"), Status::Pass);
    // webpki does not accept SHA-1 either, so the chain is not valid.
    assert!(
        matches!(p.validation, Some(Validation::Invalid { .. })),
        "{:?}",
        p.validation
    );

    let good = pki(2048, MessageDigest::sha256());
    let server = start_tls_server(&good);
    let p = smtp::probe_addr(HOST, server.addr, &options(&good.ca)).await;
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.cert.signature"), Status::Pass, "{f:#?}");
    assert!(
        finding(&f, "tls.cert.signature")
            .summary
            .to_ascii_lowercase()
            .contains("sha256"),
        "{f:#?}"
    );
}

/// A hand-built SSLv3 ServerHello record (RFC 6101 section 5.6.1.3): version 3.0, a fixed
/// random, no session id, TLS_RSA_WITH_AES_128_CBC_SHA, null compression.
fn ssl3_server_hello() -> Vec<u8> {
    let mut body = vec![3, 0];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x2f]);
    body.push(0);
    let mut hs = vec![2, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut record = vec![22, 3, 0, 0, hs.len() as u8];
    record.extend_from_slice(&hs);
    record
}

/// This tests our verdict logic (hello, STARTTLS, reading and classifying the answer) end to
/// end, not a real SSLv3 stack: Debian's OpenSSL 3 is built without SSLv3, so no real SSLv3
/// server can be built here. After STARTTLS the server reads the ClientHello; an SSLv3 hello
/// (client_version 3.0) gets an SSLv3 ServerHello, anything else a protocol_version alert.
#[tokio::test]
async fn server_answering_an_sslv3_hello_fails_ssl3() {
    let server = spawn(|conn| {
        let Some(mut r) = smtp(conn, false) else {
            return;
        };
        // Record header (5) + handshake header (4) + client_version (2).
        let mut head = [0u8; 11];
        if r.read_exact(&mut head).is_err() {
            return;
        }
        let answer = if head[0] == 22 && head[5] == 1 && head[9..11] == [3, 0] {
            ssl3_server_hello()
        } else {
            vec![21, 3, 1, 0, 2, 2, 70]
        };
        let s = r.get_mut();
        let _ = s.write_all(&answer);
        let _ = s.flush();
        // Let the client read the answer before the socket closes.
        std::thread::sleep(Duration::from_millis(200));
    });
    let opts = ProbeOptions {
        step_timeout: Duration::from_secs(5),
        ..ProbeOptions::default()
    };
    let p = smtp::probe_addr(HOST, server.addr, &opts).await;
    let verdict = |v: LegacyVersion| &p.legacy.iter().find(|l| l.version == v).unwrap().verdict;
    assert_eq!(
        verdict(LegacyVersion::Ssl3),
        &LegacyVerdict::Accepted {
            cipher_suite: 0x002f
        },
        "{:?}",
        p.legacy
    );
    for v in [LegacyVersion::Tls1_0, LegacyVersion::Tls1_1] {
        assert!(
            matches!(verdict(v), LegacyVerdict::Rejected { .. }),
            "{v:?}: {:?}",
            p.legacy
        );
    }
    let f = smtp::findings(&p);
    assert_eq!(status(&f, "tls.protocol.ssl3"), Status::Fail, "{f:#?}");
    assert_eq!(status(&f, "tls.protocol.tls1_0"), Status::Pass);
    assert_eq!(status(&f, "tls.protocol.tls1_1"), Status::Pass);
    // The modern handshake got the alert: STARTTLS is offered but TLS fails.
    assert_eq!(status(&f, "smtp.starttls"), Status::Fail);
}
