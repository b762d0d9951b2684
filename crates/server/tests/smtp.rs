//! The SMTP listener: never a relay, bounded, and `250` only after the message is stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod common;

use common::{SmtpClient, line_format, start, tempdir};
use warden_desk::Policy;

#[tokio::test]
async fn refuses_to_relay_and_unknown_mailboxes() {
    let dir = tempdir("relay");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let addr = srv.smtp_addr.unwrap();
    let (mut c, greeting) = SmtpClient::connect(addr).await;
    assert!(greeting.starts_with("220 mx.isp.example"), "{greeting}");
    // No MAIL before EHLO, no RCPT before MAIL, no DATA before RCPT.
    assert!(c.cmd("MAIL FROM:<a@b.example>").await.starts_with("503"));
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("SIZE 1048576"), "{ehlo}");
    assert!(
        c.cmd("RCPT TO:<abuse@isp.example>")
            .await
            .starts_with("503")
    );
    assert!(
        c.cmd("MAIL FROM:<spammer@bad.example>")
            .await
            .starts_with("250")
    );
    assert!(
        c.cmd("DATA").await.starts_with("554"),
        "DATA without recipients"
    );
    // Relay attempts, in the spellings relay testers use.
    for rcpt in [
        "<victim@gmail.example>",
        "<abuse@isp.example.evil.example>",
        "<@isp.example:victim@elsewhere.example>",
        "<victim%elsewhere.example@other.example>",
        "<\"abuse@isp.example\"@elsewhere.example>",
    ] {
        let r = c.cmd(&format!("RCPT TO:{rcpt}")).await;
        assert!(r.starts_with("550 5.7.1"), "{rcpt}: {r}");
    }
    let r = c.cmd("RCPT TO:<ceo@isp.example>").await;
    assert!(r.starts_with("550 5.1.1"), "unknown mailbox: {r}");
    assert!(
        c.cmd("RCPT TO:<Abuse@ISP.example>")
            .await
            .starts_with("250")
    );
    assert!(
        c.cmd("RCPT TO:<postmaster@isp.example>")
            .await
            .starts_with("250")
    );
    assert!(c.cmd("RSET").await.starts_with("250"));
    assert!(
        c.cmd("DATA").await.starts_with("503"),
        "RSET forgets the transaction"
    );
    assert!(c.cmd("VRFY abuse").await.starts_with("252"));
    assert!(c.cmd("STARTTLS").await.starts_with("502"));
    assert!(c.cmd("QUIT").await.starts_with("221"));
    let m = srv
        .state
        .metrics
        .smtp_rcpt_refused
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(m, 6);
    srv.shutdown().await;
}

#[tokio::test]
async fn size_limits_and_long_lines() {
    let dir = tempdir("size");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let (mut c, _) = SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    c.cmd("EHLO x").await;
    let r = c.cmd("MAIL FROM:<a@b.example> SIZE=99999999").await;
    assert!(r.starts_with("552"), "{r}");
    // A message over the limit despite no SIZE: read to the end, then refused, nothing stored.
    let big = format!(
        "Subject: big\r\n\r\n{}",
        "x".repeat(1000).repeat(1100).as_str()
    );
    let r = c.send("a@b.example", "abuse@isp.example", &big).await;
    assert!(r.starts_with("552"), "{r}");
    assert!(srv.state.desk.quarantined(10).await.unwrap().is_empty());
    // The session is still usable after a refusal.
    let r = c.cmd(&format!("NOOP {}", "y".repeat(5000))).await;
    assert!(r.starts_with("500"), "over-long command: {r}");
    assert!(c.cmd("NOOP").await.starts_with("250"));
    srv.shutdown().await;
}

#[tokio::test]
async fn accepted_mail_is_stored_before_250_and_resends_recognised() {
    let dir = tempdir("stored");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let (mut c, _) = SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    c.cmd("EHLO reporter.example").await;
    // A line starting with a dot survives dot-stuffing.
    let msg = "From: r@reporter.example\r\nSubject: x\r\n\r\nTESTREPORT r@reporter.example\r\nspam 192.0.2.5\r\n.hidden line\r\n";
    let r = c.send("r@reporter.example", "abuse@isp.example", msg).await;
    assert!(r.starts_with("250 2.0.0 Stored as report "), "{r}");
    let id = r.trim().rsplit(' ').next().unwrap().to_owned();
    // Stored the moment 250 was sent, byte for byte.
    assert_eq!(
        srv.state.desk.raw_report(&id).await.unwrap(),
        msg.as_bytes()
    );
    srv.state.desk.receipt(&id).await.unwrap();
    let again = c.send("r@reporter.example", "abuse@isp.example", msg).await;
    assert!(again.contains(&id), "{again}");
    assert_eq!(
        srv.state
            .metrics
            .reports_duplicate
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    srv.shutdown().await;
}
