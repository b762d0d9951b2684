//! The message lint on the samples in tests/data/messages (see the README there), without DNS:
//! header, unsubscribe and recorded-result checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use warden_mailcheck::message::{self, LintError, LintOptions};
use warden_mailcheck::{Finding, Status};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/messages/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn lint(name: &str) -> Vec<Finding> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(message::lint(&sample(name), &LintOptions::default()))
        .unwrap()
}

fn status(f: &[Finding], id: &str) -> Status {
    f.iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {f:#?}"))
        .status
}

#[test]
fn missing_date_and_message_id() {
    let f = lint("missing-headers.eml");
    assert_eq!(status(&f, "message.date"), Status::Fail);
    assert_eq!(status(&f, "message.message_id"), Status::Fail);
    assert_eq!(status(&f, "message.from"), Status::Pass);
    assert_eq!(status(&f, "message.dkim"), Status::Fail);
    assert_eq!(status(&f, "message.list_unsubscribe"), Status::Info);
}

#[test]
fn two_from_headers_fail() {
    let f = lint("two-from.eml");
    assert_eq!(status(&f, "message.from"), Status::Fail);
    assert_eq!(status(&f, "message.date"), Status::Pass);
    assert_eq!(status(&f, "message.message_id"), Status::Pass);
}

#[test]
fn bulk_with_http_only_unsubscribe() {
    let f = lint("bulk-http-unsubscribe.eml");
    assert_eq!(status(&f, "message.list_unsubscribe"), Status::Fail);
    assert_eq!(status(&f, "message.one_click"), Status::Fail);
    let lu = f
        .iter()
        .find(|f| f.id == "message.list_unsubscribe")
        .unwrap();
    assert!(
        lu.evidence
            .iter()
            .any(|e| e.contains("http://news.example/unsub?t=abc123")),
        "{lu:?}"
    );
    assert!(lu.evidence.iter().any(|e| e.contains("List-Id")));
}

#[test]
fn recorded_spf_and_dmarc_results() {
    let f = lint("authres-softfail.eml");
    assert_eq!(status(&f, "message.spf"), Status::Fail);
    assert_eq!(status(&f, "message.dmarc"), Status::Fail);
    let dmarc = f.iter().find(|f| f.id == "message.dmarc").unwrap();
    assert!(dmarc.summary.contains("mx.example.org"), "{dmarc:?}");
    assert_eq!(status(&f, "message.list_unsubscribe"), Status::Pass);
    assert_eq!(status(&f, "message.one_click"), Status::Pass);
    // No signature at all, so the one-click headers cannot be signed.
    assert_eq!(status(&f, "message.one_click_signed"), Status::Fail);
}

#[test]
fn personal_mail_needs_no_unsubscribe() {
    let f = lint("personal.eml");
    assert_eq!(status(&f, "message.list_unsubscribe"), Status::Info);
    assert_eq!(status(&f, "message.from"), Status::Pass);
    assert_eq!(status(&f, "message.spf"), Status::Info);
    assert!(!f.iter().any(|f| f.id == "message.one_click"));
}

#[test]
fn forced_bulk_flag_requires_unsubscribe() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let opts = LintOptions {
        bulk: true,
        ..LintOptions::default()
    };
    let f = rt
        .block_on(message::lint(&sample("personal.eml"), &opts))
        .unwrap();
    assert_eq!(status(&f, "message.list_unsubscribe"), Status::Fail);
}

#[test]
fn non_messages_are_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(message::lint(
            &sample("not-a-message.txt"),
            &LintOptions::default(),
        ))
        .unwrap_err();
    assert!(matches!(e, LintError::NotAMessage(_)), "{e}");
    let e = rt
        .block_on(message::lint(b"", &LintOptions::default()))
        .unwrap_err();
    assert!(matches!(e, LintError::NotAMessage(_)), "{e}");
    let big = vec![b'a'; message::MAX_MESSAGE + 1];
    let e = rt
        .block_on(message::lint(&big, &LintOptions::default()))
        .unwrap_err();
    assert!(matches!(e, LintError::TooLarge { .. }), "{e}");
}
