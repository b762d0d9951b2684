//! Our protocol verdicts against testssl.sh's on the same loopback SMTP servers
//! (tests/smtp_server): one modern server (TLS 1.2+) and one that still accepts TLS 1.0/1.1.
//! testssl runs with `-p` (protocols only) and `--fast`, to stay short. In CI (CI=true) testssl
//! must be installed (.ci/install-mailcheck-smtp.sh); elsewhere the test is skipped and the skip
//! recorded (warden-test-support's `require_tool`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod smtp_server;

use std::collections::HashMap;
use std::time::Duration;

use openssl::ssl::SslVersion;
use smtp_server::{HOST, Leaf, Setup, pki, start};
use warden_mailcheck::smtp::{self, LegacyVerdict, LegacyVersion, ProbeOptions, TrustAnchors};
use warden_test_support::peer::{Confinement, Peer};
use warden_test_support::tool::{TESTSSL, require_tool, which};

/// Runs testssl against the server and returns protocol id -> "offered"/"not offered".
fn testssl_protocols(addr: std::net::SocketAddr, tag: &str) -> HashMap<String, bool> {
    let json = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("testssl-{tag}-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&json);
    // Confined to loopback (its own resolv.conf naming only 127.0.0.1, where the machine
    // allows a mount namespace); `--nodns none` keeps it from asking DNS at all.
    let peer = Peer::new(
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("testssl-peer-{tag}-{}", std::process::id())),
        Confinement::Loopback,
    );
    let program = which("testssl").expect("testssl (checked by require_tool)");
    let out = peer
        .command(program)
        .args([
            "--quiet",
            "--fast",
            "--nodns",
            "none",
            "--warnings",
            "off",
            "--color",
            "0",
            "--starttls",
            "smtp",
            "-p",
            "--jsonfile",
        ])
        .arg(&json)
        .arg(addr.to_string())
        .output()
        .expect("run testssl");
    peer.assert_confined("testssl");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "testssl wrote no JSON ({e}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_file(&json);
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).expect("testssl JSON");
    let mut map = HashMap::new();
    for item in items {
        let (Some(id), Some(finding)) = (item["id"].as_str(), item["finding"].as_str()) else {
            continue;
        };
        if ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"].contains(&id) {
            let offered = finding.starts_with("offered");
            map.insert(id.to_owned(), offered);
        }
    }
    map
}

async fn ours(addr: std::net::SocketAddr, ca: &str) -> smtp::SmtpProbe {
    let opts = ProbeOptions {
        trust: TrustAnchors::from_pem("ca", ca.as_bytes()).unwrap(),
        step_timeout: Duration::from_secs(5),
        ..ProbeOptions::default()
    };
    smtp::probe_addr(HOST, addr, &opts).await
}

fn accepted(p: &smtp::SmtpProbe, v: LegacyVersion) -> bool {
    let r = p.legacy.iter().find(|l| l.version == v).unwrap();
    assert!(
        !matches!(r.verdict, LegacyVerdict::Inconclusive { .. }),
        "{v:?} inconclusive: {r:?}"
    );
    matches!(r.verdict, LegacyVerdict::Accepted { .. })
}

fn compare(setup: Setup, tag: &str) {
    let ca = setup.pki.ca_pem.clone();
    let Some(server) = start(setup) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let p = rt.block_on(ours(server.addr, &ca));
    let theirs = testssl_protocols(server.addr, tag);
    for (id, v) in [
        ("SSLv3", LegacyVersion::Ssl3),
        ("TLS1", LegacyVersion::Tls1_0),
        ("TLS1_1", LegacyVersion::Tls1_1),
    ] {
        let t = *theirs
            .get(id)
            .unwrap_or_else(|| panic!("testssl gave no {id} verdict: {theirs:?}"));
        assert_eq!(
            accepted(&p, v),
            t,
            "{tag}: {id}: ours {:?}, testssl {t}",
            p.legacy
        );
    }
    // Our modern handshake agrees with testssl on the best version offered.
    let tls = p.tls.as_ref().expect("handshake");
    let best_theirs = if theirs.get("TLS1_3") == Some(&true) {
        "TLSv1_3"
    } else {
        "TLSv1_2"
    };
    assert_eq!(tls.version, best_theirs, "{tag}: {theirs:?}");
}

#[test]
fn protocol_verdicts_agree_with_testssl() {
    if require_tool(&TESTSSL).is_none() {
        return;
    }
    // testssl is a large bash script whose start-up alone takes seconds; run both servers'
    // comparisons at once to keep the wall time down.
    let modern = std::thread::spawn(|| compare(Setup::new(pki(Leaf::Good)), "modern"));
    let mut old = Setup::new(pki(Leaf::Good));
    old.min_version = SslVersion::TLS1;
    compare(old, "tls1");
    modern.join().expect("modern server comparison");
}
