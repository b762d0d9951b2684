//! A real SMTP server on loopback for the probe tests: a plain-text dialogue (banner, EHLO,
//! STARTTLS, MAIL, RCPT, RSET, QUIT) in blocking threads, with the TLS part handed to OpenSSL,
//! which (unlike rustls) can still be told to accept TLS 1.0 and 1.1 the way old MTAs do.
//! Certificates come from rcgen, made fresh in each test. Shared by smtp_*.rs and testssl.rs.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslMethod, SslOptions, SslVersion};
use openssl::x509::X509;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// A test CA and a leaf made by it (or self-signed).
pub struct Pki {
    /// PEM of the CA (the trust anchor the probe is given).
    pub ca_pem: String,
    /// Leaf certificate PEM.
    pub cert_pem: String,
    /// Leaf key PEM.
    pub key_pem: String,
}

/// Which leaf to make.
pub enum Leaf {
    /// Signed by the test CA, valid now, for `mx.test`.
    Good,
    /// Signed by the test CA, expired in 2021.
    Expired,
    /// Self-signed, valid now, for `mx.test`.
    SelfSigned,
    /// Signed by the test CA, valid now, for `other.example` only.
    WrongName,
}

/// Host name the tests probe as.
pub const HOST: &str = "mx.test";

pub fn pki(leaf: Leaf) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Warden Test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let names = match leaf {
        Leaf::WrongName => vec!["other.example".to_string()],
        _ => vec![HOST.to_string()],
    };
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, HOST);
    let now = time::OffsetDateTime::now_utc();
    match leaf {
        Leaf::Expired => {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        _ => {
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(90);
        }
    }
    let key = KeyPair::generate().unwrap();
    let cert = match leaf {
        Leaf::SelfSigned => params.self_signed(&key).unwrap(),
        _ => params.signed_by(&key, &ca, &ca_key).unwrap(),
    };
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// How the server behaves.
pub struct Setup {
    pub pki: Pki,
    /// Offer STARTTLS.
    pub starttls: bool,
    /// TLS from the first byte (465-style); then `starttls` is ignored.
    pub implicit: bool,
    /// Lowest TLS version OpenSSL accepts.
    pub min_version: SslVersion,
    /// Advertise AUTH in the plain-text EHLO.
    pub auth_before_tls: bool,
    /// Local parts RCPT TO accepts; others get 550.
    pub accept_local: Vec<&'static str>,
}

impl Setup {
    pub fn new(pki: Pki) -> Self {
        Self {
            pki,
            starttls: true,
            implicit: false,
            min_version: SslVersion::TLS1_2,
            auth_before_tls: false,
            accept_local: vec!["postmaster"],
        }
    }
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn acceptor(setup: &Setup) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    let cert = X509::from_pem(setup.pki.cert_pem.as_bytes()).unwrap();
    let key = PKey::private_key_from_pem(setup.pki.key_pem.as_bytes()).unwrap();
    b.set_certificate(&cert).unwrap();
    b.set_private_key(&key).unwrap();
    if setup.min_version != SslVersion::TLS1_2 && setup.min_version != SslVersion::TLS1_3 {
        // What an old MTA does: security level 0 so that SHA-1/MD5 handshake signatures and
        // CBC suites of TLS 1.0/1.1 are allowed (Debian's OpenSSL refuses them at level 2).
        b.set_security_level(0);
        // mozilla_intermediate_v5 switches these off with options; the min version alone
        // would not bring them back.
        b.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
        b.set_cipher_list("ALL:@SECLEVEL=0").unwrap();
    }
    b.set_min_proto_version(Some(setup.min_version)).unwrap();
    b.build()
}

/// Starts the server on a loopback listener bound to port 0, or `None` when the system OpenSSL
/// is missing outside CI (warden-test-support's `require_tool` records the skip).
pub fn start(setup: Setup) -> Option<TestServer> {
    warden_test_support::require_tool(&warden_test_support::tool::OPENSSL)?;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let acc = Arc::new(acceptor(&setup));
    let setup = Arc::new(setup);
    let stop2 = stop.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stop2.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            let acc = acc.clone();
            let setup = setup.clone();
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(3)));
                let _ = conn.set_nodelay(true);
                serve(conn, &acc, &setup);
            });
        }
    });
    Some(TestServer { addr, stop })
}

fn serve(conn: TcpStream, acc: &SslAcceptor, setup: &Setup) {
    if setup.implicit {
        if let Ok(tls) = acc.accept(conn) {
            let _ = dialogue(tls, setup, true);
        }
        return;
    }
    let plain = conn.try_clone().unwrap();
    if let Some(true) = dialogue(plain, setup, false)
        && let Ok(tls) = acc.accept(conn)
    {
        let _ = dialogue_after_tls(tls, setup);
    }
}

fn dialogue_after_tls<S: Read + Write>(s: S, setup: &Setup) -> Option<bool> {
    dialogue_inner(s, setup, true, false)
}

/// Runs the dialogue; returns Some(true) when the client asked for STARTTLS.
fn dialogue<S: Read + Write>(s: S, setup: &Setup, in_tls: bool) -> Option<bool> {
    dialogue_inner(s, setup, in_tls, true)
}

fn dialogue_inner<S: Read + Write>(s: S, setup: &Setup, in_tls: bool, greet: bool) -> Option<bool> {
    let mut r = BufReader::new(s);
    if greet {
        r.get_mut()
            .write_all(b"220 mx.test ESMTP warden-test\r\n")
            .ok()?;
    }
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return Some(false);
        }
        let cmd = line.trim_end().to_ascii_uppercase();
        let reply: String = if cmd.starts_with("EHLO") {
            let mut lines = vec![
                "mx.test hello".to_string(),
                "PIPELINING".into(),
                "SIZE 10240000".into(),
            ];
            if !in_tls && setup.starttls {
                lines.push("STARTTLS".into());
            }
            if in_tls || setup.auth_before_tls {
                lines.push("AUTH PLAIN LOGIN".into());
            }
            lines.push("8BITMIME".into());
            let n = lines.len();
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("250{}{l}\r\n", if i + 1 == n { ' ' } else { '-' }))
                .collect()
        } else if cmd == "STARTTLS" && !in_tls && setup.starttls {
            r.get_mut()
                .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                .ok()?;
            return Some(true);
        } else if cmd.starts_with("MAIL FROM") || cmd == "RSET" || cmd == "NOOP" {
            "250 2.0.0 OK\r\n".into()
        } else if let Some(rest) = cmd.strip_prefix("RCPT TO:<") {
            let local = rest.split('@').next().unwrap_or("").to_ascii_lowercase();
            if setup.accept_local.iter().any(|a| *a == local) {
                "250 2.1.5 OK\r\n".into()
            } else {
                "550 5.1.1 No such user\r\n".into()
            }
        } else if cmd == "QUIT" {
            let _ = r.get_mut().write_all(b"221 2.0.0 Bye\r\n");
            return Some(false);
        } else {
            "502 5.5.2 Command not recognised\r\n".into()
        };
        r.get_mut().write_all(reply.as_bytes()).ok()?;
    }
}
