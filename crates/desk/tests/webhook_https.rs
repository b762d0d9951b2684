//! https webhooks against a real TLS receiver on loopback whose certificate only an extra CA
//! file vouches for; the receiver checks the HMAC signature like a real integration would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{desk, t, tempdir};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use warden_desk::notify::{Courier, HttpWebhook, PickupDirMailer, Templates};
use warden_desk::{Policy, Store, cases};

const SECRET: &str = "s3cret-hook";

/// (path, body, signature valid) per request received.
type Seen = Arc<Mutex<Vec<(String, String, bool)>>>;

fn valid_signature(header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|r| r.split_once(",v1=")) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let Ok(sig) = hex::decode(v1) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

/// A TLS HTTP/1.1 receiver: answers 200 when the signature checks out, 401 otherwise.
async fn receiver(cert_pem: &str, key_pem: &str) -> (u16, Seen) {
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()],
        PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let Ok(tls) = acceptor.accept(tcp).await else {
                continue; // an untrusting client hangs up during the handshake
            };
            let mut r = BufReader::new(tls);
            let mut request = String::new();
            r.read_line(&mut request).await.unwrap();
            let (mut len, mut sig) = (0usize, String::new());
            loop {
                let mut h = String::new();
                r.read_line(&mut h).await.unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap(),
                    "x-warden-signature" => sig = v.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).await.unwrap();
            let body = String::from_utf8(body).unwrap();
            let ok = valid_signature(&sig, &body);
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            s2.lock().unwrap().push((path, body, ok));
            let answer: &[u8] = if ok {
                b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            } else {
                b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
            };
            r.get_mut().write_all(answer).await.unwrap();
            r.get_mut().shutdown().await.ok();
        }
    });
    (port, seen)
}

#[tokio::test]
async fn https_webhook_reaches_a_receiver_trusted_through_the_extra_ca() {
    let dir = tempdir("hook-https");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (ck.cert.pem(), ck.key_pair.serialize_pem());
    let ca_file = dir.join("internal-ca.pem");
    std::fs::write(&ca_file, &cert).unwrap();
    let (port, seen) = receiver(&cert, &key).await;

    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let policy = Policy {
        webhook_url: format!("https://localhost:{port}/hooks/warden"),
        webhook_secret: SECRET.into(),
        ..Policy::default()
    };
    let d = desk(store.clone(), &dir, policy.clone());
    let r = d
        .ingest(
            b"TESTREPORT r@reporter.example\nphishing 192.0.2.9\n".to_vec(),
            warden_desk::Channel::Http,
            None,
            t(0),
        )
        .await
        .unwrap();
    cases::apply(
        &store,
        &policy,
        &r.events[0].case_id,
        cases::CaseAction::Suspend,
        "analyst",
        "taken down",
        t(0),
    )
    .await
    .unwrap();
    let templates = Templates::default();
    let mailer = PickupDirMailer::new(dir.join("outgoing")).unwrap();

    // Public roots only: the receiver's certificate is not trusted, nothing is delivered.
    let public_only = HttpWebhook::default();
    let courier = Courier {
        store: &store,
        policy: &policy,
        templates: &templates,
        mailer: &mailer,
        webhooks: &public_only,
        self_help: None,
    };
    let rep = courier.deliver_due(t(0)).await.unwrap();
    assert_eq!((rep.webhooks, rep.failed >= 1), (0, true), "{rep:?}");
    assert!(seen.lock().unwrap().is_empty());

    // With the operator's CA file it goes through, signed.
    let trusting = HttpWebhook::with_extra_ca(&ca_file).unwrap();
    let courier = Courier {
        webhooks: &trusting,
        ..courier
    };
    let rep = courier.deliver_due(t(1)).await.unwrap();
    assert_eq!(rep.webhooks, 1, "{rep:?}");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (path, body, ok) = &got[0];
    assert_eq!(path, "/hooks/warden");
    assert!(ok, "signature must verify: {body}");
    assert!(body.contains("\"suspended\""), "{body}");
    assert!(body.contains(&r.events[0].case_id), "{body}");
    // Delivered once: nothing left to send.
    assert_eq!(courier.deliver_due(t(2)).await.unwrap().webhooks, 0);

    // A post the receiver refuses (bad signature: 401) is an error, not a delivery.
    use warden_desk::notify::WebhookSender;
    let headers = vec![(
        "X-Warden-Signature".to_owned(),
        warden_desk::notify::sign_webhook("not-the-secret", "{}", t(0)).unwrap(),
    )];
    let e = trusting
        .post(&policy.webhook_url, "{}", &headers)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert!(!seen.lock().unwrap()[1].2);
    store.close().await;
}
