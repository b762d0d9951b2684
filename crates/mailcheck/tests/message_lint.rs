//! DKIM verification end to end: messages signed in the test with a fresh Ed25519 key
//! (mail-auth's signer), the public key served by a real bind9 on loopback (zone files in
//! tests/data/dns), and the lint's mail-auth resolver pointed at it. In CI (CI=true) bind9 must
//! be installed (.ci/install-mailcheck-smtp.sh); elsewhere the test is skipped, loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use mail_auth::MessageAuthenticator;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use warden_mailcheck::message::{self, LintOptions};
use warden_mailcheck::{Finding, Status};
use warden_test_support::tool::{NAMED, require_tool};

/// A bind9 process serving the test zones; killed when dropped.
struct Bind9 {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Bind9 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fill(template: &Path, out: &Path, vars: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(template).unwrap();
    for (k, v) in vars {
        text = text.replace(k, v);
    }
    std::fs::write(out, text).unwrap();
}

fn start_bind9(named: &Path, example_key: &str, esp_key: &str) -> Bind9 {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dns");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bind9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Free for UDP and TCP (DNS answers on both).
    let port = warden_test_support::net::child_port();
    let dir_s = dir.to_str().unwrap();
    let port_s = port.to_string();
    fill(
        &data.join("named.conf"),
        &dir.join("named.conf"),
        &[("@DIR@", dir_s), ("@PORT@", &port_s)],
    );
    fill(
        &data.join("example.test.zone"),
        &dir.join("example.test.zone"),
        &[("@DKIM_KEY@", example_key)],
    );
    fill(
        &data.join("esp.test.zone"),
        &dir.join("esp.test.zone"),
        &[("@DKIM_KEY@", esp_key)],
    );
    let log = std::fs::File::create(dir.join("named.log")).unwrap();
    let child = Command::new(named)
        .args(["-g", "-c"])
        .arg(dir.join("named.conf"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Bind9 {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        dir,
    }
}

async fn wait_ready(bind: &mut Bind9, auth: &MessageAuthenticator) {
    let start = Instant::now();
    loop {
        if auth
            .txt_raw_lookup("sel._domainkey.example.test.")
            .await
            .is_ok()
        {
            return;
        }
        if let Ok(Some(status)) = bind.child.try_wait() {
            let log = std::fs::read_to_string(bind.dir.join("named.log")).unwrap_or_default();
            panic!("named exited with {status}:\n{log}");
        }
        if start.elapsed() > Duration::from_secs(20) {
            let log = std::fs::read_to_string(bind.dir.join("named.log")).unwrap_or_default();
            panic!("named did not answer within 20 s:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh Ed25519 key as PKCS#8 (so it can be loaded more than once) and its public key in
/// base64 for the zone file.
fn new_key() -> (Vec<u8>, String) {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    (pkcs8, public)
}

const BULK: &str = "From: Example News <news@example.test>\r\n\
To: reader@example.org\r\n\
Subject: Issue 7\r\n\
Date: Tue, 24 Nov 2026 04:35:00 +0000\r\n\
Message-ID: <issue-7@example.test>\r\n\
List-Id: <news.example.test>\r\n\
List-Unsubscribe: <https://example.test/u/7f3a>, <mailto:unsub@example.test?subject=7f3a>\r\n\
List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
\r\n\
This week at Example.\r\n";

fn sign(pkcs8: &[u8], domain: &str, selector: &str, headers: &[&str], raw: &str) -> String {
    let key = Ed25519Key::from_pkcs8_der(pkcs8).unwrap();
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(headers.iter().copied())
        .sign(raw.as_bytes())
        .unwrap();
    format!("{}{raw}", sig.to_header())
}

fn status(f: &[Finding], id: &str) -> Status {
    f.iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {f:#?}"))
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_verified_against_bind9() {
    let Some(tools) = require_tool(&NAMED) else {
        return;
    };
    let named = tools.program("named").to_path_buf();
    let (example_key, example_pub) = new_key();
    let (esp_key, esp_pub) = new_key();
    let (other_key, _) = new_key();
    let mut bind = start_bind9(&named, &example_pub, &esp_pub);
    let auth = message::authenticator_for(bind.addr).unwrap();
    wait_ready(&mut bind, &auth).await;
    let opts = LintOptions {
        authenticator: Some(&auth),
        ..LintOptions::default()
    };
    let all = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ];

    // 1. Aligned signature covering the one-click headers: everything passes.
    let signed = sign(&example_key, "example.test", "sel", &all, BULK);
    let f = message::lint(signed.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Pass, "{f:#?}");
    for id in [
        "message.from",
        "message.date",
        "message.message_id",
        "message.list_unsubscribe",
        "message.one_click",
        "message.one_click_signed",
    ] {
        assert_eq!(status(&f, id), Status::Pass, "{id}: {f:#?}");
    }

    // 2. The body changed after signing: the signature fails.
    let tampered = signed.replace("This week at Example.", "This week at Evil.");
    let f = message::lint(tampered.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Fail, "{f:#?}");
    assert_eq!(status(&f, "message.one_click_signed"), Status::Fail);

    // 3. Signed by the ESP's own domain: DKIM passes but does not align with From.
    let esp = sign(&esp_key, "esp.test", "esp1", &all, BULK);
    let f = message::lint(esp.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Warn, "{f:#?}");
    assert_eq!(status(&f, "message.one_click_signed"), Status::Fail);

    // 4. Aligned and valid, but the one-click headers are not in h= (RFC 8058 section 4).
    let uncovered = sign(
        &example_key,
        "example.test",
        "sel",
        &["From", "To", "Subject", "Date", "Message-ID"],
        BULK,
    );
    let f = message::lint(uncovered.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Pass, "{f:#?}");
    assert_eq!(status(&f, "message.one_click_signed"), Status::Fail);

    // 5. Selector "old" has a revoked key (empty p=, RFC 6376 section 3.6.1).
    let revoked = sign(&other_key, "example.test", "old", &all, BULK);
    let f = message::lint(revoked.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Fail, "{f:#?}");
    let dkim = f.iter().find(|f| f.id == "message.dkim").unwrap();
    assert!(
        dkim.evidence.iter().any(|e| e.contains("s=old")),
        "{dkim:?}"
    );

    // 6. Unknown selector: no key in DNS at all.
    let missing = sign(&other_key, "example.test", "nosuch", &all, BULK);
    let f = message::lint(missing.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Fail, "{f:#?}");

    // 7. A right key under the wrong selector name: the published key does not verify it.
    let wrong_key = sign(&other_key, "example.test", "sel", &all, BULK);
    let f = message::lint(wrong_key.as_bytes(), &opts).await.unwrap();
    assert_eq!(status(&f, "message.dkim"), Status::Fail, "{f:#?}");
}
