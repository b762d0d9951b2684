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

/// SMTP smuggling (CVE-2023-51764 class): a bare-LF end-of-data must not end DATA, so the
/// spoofed transaction behind it is never run; the message is refused for its bare LF.
#[tokio::test]
async fn bare_lf_end_of_data_never_splits_a_transaction() {
    let dir = tempdir("smuggle");
    let srv = start(&dir, line_format, None, Policy::default()).await;
    let (mut c, _) = SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    c.cmd("EHLO reporter.example").await;
    for fake_end in ["\n.\r\n", "\r\n.\n", "\n.\n"] {
        assert!(
            c.cmd("MAIL FROM:<r@reporter.example>")
                .await
                .starts_with("250")
        );
        assert!(
            c.cmd("RCPT TO:<abuse@isp.example>")
                .await
                .starts_with("250")
        );
        assert!(c.cmd("DATA").await.starts_with("354"));
        let data = format!(
            "From: r@reporter.example\r\n\r\nTESTREPORT r@reporter.example\r\nspam 192.0.2.5{fake_end}\
             MAIL FROM:<spoof@evil.example>\r\nRCPT TO:<abuse@isp.example>\r\nDATA\r\n\
             From: spoof@evil.example\r\n\r\nTESTREPORT spoof@evil.example\r\nspam 192.0.2.66\r\n.\r\n"
        );
        c.raw(data.as_bytes()).await;
        let r = c.reply().await;
        assert!(
            r.starts_with("550 5.5.2 bare <LF> received"),
            "{fake_end:?}: {r}"
        );
        // Exactly one reply for the whole DATA: had the fake end counted, the smuggled MAIL,
        // RCPT and DATA would have been answered and this NOOP would read their replies.
        assert_eq!(c.cmd("NOOP").await, "250 2.0.0 OK\r\n", "{fake_end:?}");
    }
    // Nothing was stored, from either sender.
    let counts = warden_desk::testing::report_counts(srv.state.desk.store())
        .await
        .unwrap();
    assert_eq!(
        counts.received + counts.processed + counts.quarantined,
        0,
        "{counts:?}"
    );
    assert_eq!(
        srv.state
            .metrics
            .smtp_bare_lf
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    // The session still takes a proper message afterwards.
    let msg = "From: r@reporter.example\r\n\r\nTESTREPORT r@reporter.example\r\nspam 192.0.2.5\r\n";
    let r = c.send("r@reporter.example", "abuse@isp.example", msg).await;
    assert!(r.starts_with("250 2.0.0 Stored as report "), "{r}");
    let id = r.trim().rsplit(' ').next().unwrap().to_owned();
    assert_eq!(
        srv.state.desk.raw_report(&id).await.unwrap(),
        msg.as_bytes()
    );
    srv.shutdown().await;
}

/// Waits (bounded) until a connection from `local` is greeted with 220.
async fn greeted_within(
    addr: std::net::SocketAddr,
    local: [u8; 4],
    limit: std::time::Duration,
) -> SmtpClient {
    let t0 = std::time::Instant::now();
    loop {
        let (c, g) = SmtpClient::connect_from(addr, local).await;
        if g.starts_with("220") {
            return c;
        }
        assert!(t0.elapsed() < limit, "still refused after {limit:?}: {g}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn session_limits_answer_421_and_free_their_slots() {
    let dir = tempdir("limits");
    let srv = common::start_smtp(&dir, |c| {
        c.max_sessions = 3;
        c.max_sessions_per_ip = 2;
    })
    .await;
    let addr = srv.smtp_addr.unwrap();
    let (a1, g) = SmtpClient::connect_from(addr, [127, 0, 0, 1]).await;
    assert!(g.starts_with("220"), "{g}");
    let (_a2, g) = SmtpClient::connect_from(addr, [127, 0, 0, 1]).await;
    assert!(g.starts_with("220"), "{g}");
    // Per-client limit: a third from the same address is turned away at once.
    let (_a3, g) = SmtpClient::connect_from(addr, [127, 0, 0, 1]).await;
    assert!(
        g.starts_with("421 4.7.0") && g.contains("too many connections"),
        "{g}"
    );
    // Another client still gets in, up to the total.
    let (_b1, g) = SmtpClient::connect_from(addr, [127, 0, 0, 2]).await;
    assert!(g.starts_with("220"), "{g}");
    let (_c1, g) = SmtpClient::connect_from(addr, [127, 0, 0, 3]).await;
    assert!(
        g.starts_with("421 4.7.0") && g.contains("too many connections"),
        "total: {g}"
    );
    // A closed session gives its places back.
    drop(a1);
    let mut c = greeted_within(addr, [127, 0, 0, 3], std::time::Duration::from_secs(5)).await;
    assert!(c.cmd("NOOP").await.starts_with("250"));
    let busy = srv
        .state
        .metrics
        .smtp_busy
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(busy >= 2, "{busy}");
    srv.shutdown().await;
}

#[tokio::test]
async fn idle_sessions_time_out_quickly_but_data_gets_the_long_timeout() {
    let dir = tempdir("idle");
    let srv = common::start_smtp(&dir, |c| {
        c.max_sessions = 1;
        c.command_timeout = std::time::Duration::from_millis(300);
        c.data_timeout = std::time::Duration::from_secs(5);
    })
    .await;
    let addr = srv.smtp_addr.unwrap();
    // An idle client holds the only slot, but only for the short command timeout.
    let (mut idle, g) = SmtpClient::connect(addr).await;
    assert!(g.starts_with("220"), "{g}");
    let (_, g) = SmtpClient::connect(addr).await;
    assert!(g.starts_with("421 4.7.0"), "{g}");
    let t0 = std::time::Instant::now();
    let bye = idle.reply().await;
    assert!(bye.starts_with("421 4.4.2"), "{bye}");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t0.elapsed()
    );
    // Its slot is free again; inside DATA a pause longer than the command timeout is fine.
    let mut c = greeted_within(addr, [127, 0, 0, 1], std::time::Duration::from_secs(5)).await;
    c.cmd("EHLO reporter.example").await;
    assert!(
        c.cmd("MAIL FROM:<r@reporter.example>")
            .await
            .starts_with("250")
    );
    assert!(
        c.cmd("RCPT TO:<abuse@isp.example>")
            .await
            .starts_with("250")
    );
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.raw(b"From: r@reporter.example\r\n\r\nTESTREPORT r@reporter.example\r\n")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    c.raw(b"spam 192.0.2.5\r\n.\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Stored as report "), "{r}");
    srv.shutdown().await;
}

/// Issue 16 item 6: a reporter-supplied address list never becomes the acknowledgement's
/// recipient or header; the ack goes to the one validated envelope sender, or to nobody.
#[tokio::test]
async fn acknowledgement_goes_to_one_validated_address() {
    let dir = tempdir("ackone");
    let relay = common::sink().await;
    let policy = Policy {
        batch_minutes: 0,
        from_address: "abuse@isp.example".into(),
        ..Policy::default()
    };
    let srv = start(&dir, line_format, Some(relay.port), policy).await;
    let (st, body) = common::http(
        srv.http_addr,
        "POST",
        "/api/v1/inventory",
        Some(common::ADMIN),
        "text/csv",
        common::INVENTORY,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (mut c, _) = SmtpClient::connect(srv.smtp_addr.unwrap()).await;
    c.cmd("EHLO reporter.example").await;
    // The report names a list; the envelope sender is one good address: it gets the ack.
    let listed = "From: r@reporter.example\r\nSubject: x\r\n\r\nTESTREPORT v1@x.example,v2@y.example\r\nspam 192.0.2.10\r\n";
    let r = c
        .send("r@reporter.example", "abuse@isp.example", listed)
        .await;
    assert!(r.starts_with("250 2.0.0 Stored"), "{r}");
    let id1 = r.trim().rsplit(' ').next().unwrap().to_owned();
    // A null sender (a bounce) and a list: nobody to answer.
    let bounce = "From: mailer-daemon@reporter.example\r\nSubject: y\r\n\r\nTESTREPORT a@x.example, b@y.example\r\nspam 198.51.100.7\r\n";
    let r = c.send("", "abuse@isp.example", bounce).await;
    assert!(r.starts_with("250 2.0.0 Stored"), "{r}");
    let id2 = r.trim().rsplit(' ').next().unwrap().to_owned();
    // Processing runs in the background right after the 250; wait for it (bounded).
    for id in [&id1, &id2] {
        let mut receipt = srv.state.desk.receipt(id).await.unwrap();
        for _ in 0..100 {
            if receipt.status == warden_desk::ReportStatus::Processed {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            receipt = srv.state.desk.receipt(id).await.unwrap();
        }
        assert_eq!(
            receipt.status,
            warden_desk::ReportStatus::Processed,
            "{receipt:?}"
        );
        assert!(!receipt.events.is_empty(), "{receipt:?}");
    }
    warden_server::work_once(&srv.state).await.unwrap();
    let mails = relay.mails.lock().unwrap().clone();
    let acks: Vec<_> = mails
        .iter()
        .filter(|(_, d)| d.contains(&id1) || d.contains(&id2))
        .collect();
    assert_eq!(acks.len(), 1, "{mails:#?}");
    let (rcpt, data) = acks[0];
    assert_eq!(rcpt, "r@reporter.example");
    let headers = data.split("\r\n\r\n").next().unwrap();
    assert!(
        headers.lines().any(|l| l == "To: r@reporter.example"),
        "{headers}"
    );
    for (rcpt, data) in &mails {
        let headers = data.split("\r\n\r\n").next().unwrap();
        for listed in ["v1@x.example", "v2@y.example", "a@x.example", "b@y.example"] {
            assert_ne!(rcpt, listed);
            assert!(!headers.contains(listed), "{listed} in a header: {headers}");
        }
    }
    srv.shutdown().await;
}
