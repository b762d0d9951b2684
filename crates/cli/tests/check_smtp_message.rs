//! `warden check smtp` and `warden check message` end to end: the real binary against a
//! loopback SMTP+STARTTLS server (the OpenSSL/rcgen helper shared with crates/mailcheck/tests)
//! and against the message samples in crates/mailcheck/tests/data/messages, checking exit codes
//! and the JSON findings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

#[path = "../../mailcheck/tests/smtp_server/mod.rs"]
mod smtp_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use smtp_server::{HOST, Leaf, Setup, TestServer, pki, start};

fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "check_smtp_message-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Starts a server with `leaf` and writes the test CA to a file for `--ca-file`; `None` when
/// the test is skipped (see `smtp_server::start`).
fn server(leaf: Leaf) -> Option<(TestServer, PathBuf)> {
    let setup = Setup::new(pki(leaf));
    let ca = scratch("ca.pem");
    std::fs::write(&ca, &setup.pki.ca_pem).unwrap();
    Some((start(setup)?, ca))
}

fn check_smtp(server: &TestServer, ca: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "smtp"])
        .arg(format!("127.0.0.1:{}", server.addr.port()))
        .args([
            "--json",
            "--timeout",
            "5",
            "--server-name",
            HOST,
            "--ca-file",
        ])
        .arg(ca)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {}\nstderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Status ("pass", "fail", ...) of finding `id` in a JSON report.
fn status<'a>(v: &'a Value, id: &str) -> &'a str {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {v:#}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn smtp_good_server_exits_0() {
    let Some((s, ca)) = server(Leaf::Good) else {
        return;
    };
    let out = check_smtp(&s, &ca);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["subject"], format!("127.0.0.1:{}", s.addr.port()));
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
        assert_eq!(status(&v, id), "pass", "{id}: {v:#}");
    }
    // The raw probe record rides along under "probe".
    assert_eq!(v["probe"]["starttls_offered"], true, "{v:#}");
}

#[test]
fn smtp_expired_certificate_exits_1() {
    let Some((s, ca)) = server(Leaf::Expired) else {
        return;
    };
    let out = check_smtp(&s, &ca);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["worst"], "fail");
    assert_eq!(status(&v, "tls.cert.expired"), "fail");
    assert_eq!(status(&v, "tls.cert.name"), "pass");
    assert_eq!(status(&v, "smtp.starttls"), "pass");
}

#[test]
fn smtp_self_signed_certificate_exits_1() {
    let Some((s, ca)) = server(Leaf::SelfSigned) else {
        return;
    };
    let out = check_smtp(&s, &ca);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    // Not port 25: an untrusted certificate is a failure.
    assert_eq!(status(&v, "tls.cert.trust"), "fail");
    assert_eq!(status(&v, "tls.cert.expired"), "pass");
}

#[test]
fn smtp_bad_ca_file_exits_2() {
    let Some((s, _)) = server(Leaf::Good) else {
        return;
    };
    let out = check_smtp(&s, Path::new("/nonexistent/warden-ca.pem"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-file"));
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mailcheck/tests/data/messages")
        .join(name)
}

fn check_message(file: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "message"])
        .arg(file)
        .args(["--json", "--no-dns"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn message_bulk_without_list_unsubscribe_exits_1() {
    // personal.eml has no List-Unsubscribe; --bulk makes it bulk mail, which needs one.
    let out = check_message(&sample("personal.eml"), &["--bulk"]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(status(&v, "message.list_unsubscribe"), "fail");
    assert!(v["subject"].as_str().unwrap().ends_with("personal.eml"));

    // Without --bulk the same message needs no unsubscribe link.
    let out = check_message(&sample("personal.eml"), &[]);
    let v = json(&out);
    assert_eq!(status(&v, "message.list_unsubscribe"), "info", "{v:#}");
}

#[test]
fn message_http_only_unsubscribe_exits_1() {
    let out = check_message(&sample("bulk-http-unsubscribe.eml"), &[]);
    let v = json(&out);
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(status(&v, "message.list_unsubscribe"), "fail");
}

#[test]
fn message_input_errors_exit_2() {
    let missing = sample("no-such-message.eml");
    let out = check_message(&missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-message.eml"));

    let out = check_message(&sample("not-a-message.txt"), &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
