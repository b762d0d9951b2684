//! Throughput of ARF parsing through the registry (`warden_reports::parse`: size check, every
//! format's sniff, MIME parse, feedback fields, original headers, event).
//!
//! Target (issue "Report intake"): at least 20,000 ARF messages per second on one core.
//! Run: `cargo bench -p warden-reports --bench mail`.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

/// A realistic feedback-loop report (about 2.5 KB): three parts, a folded original with a
/// `Received` chain. Every message differs (address, port, time) so no work is cached.
fn arf_message(i: u32) -> Vec<u8> {
    let ip = format!("198.51.{}.{}", (i / 250) % 250, i % 250 + 1);
    let port = 1024 + (i % 60000);
    let (h, m, s) = ((i / 3600) % 24, (i / 60) % 60, i % 60);
    format!(
        "From: Mail Feedback <fbl@mailbox.example>\r\n\
To: fbl@provider.example\r\n\
Subject: FW: Weekly deals {i}\r\n\
Date: Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000\r\n\
Message-ID: <fbl-{i}@mailbox.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"----=_Part_{i}\"\r\n\
\r\n\
------=_Part_{i}\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
This is an email abuse report for an email message received from IP {ip} on\r\n\
Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000. For information, please review the feedback\r\n\
loop policy at https://fbl.mailbox.example/policy.\r\n\
\r\n\
------=_Part_{i}\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: abuse\r\n\
User-Agent: Mailbox-Feedback/2.0\r\n\
Version: 1\r\n\
Original-Mail-From: <bounce-{i}@news.shop.example>\r\n\
Original-Rcpt-To: <redacted@mailbox.example>\r\n\
Arrival-Date: Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000 (UTC)\r\n\
Source-IP: {ip}\r\n\
Source-Port: {port}\r\n\
Reported-Domain: news.shop.example\r\n\
Authentication-Results: mx.mailbox.example; spf=pass smtp.mailfrom=news.shop.example;\r\n\
 dkim=pass header.d=news.shop.example\r\n\
\r\n\
------=_Part_{i}\r\n\
Content-Type: message/rfc822\r\n\
Content-Disposition: inline\r\n\
\r\n\
Received: from mx-in-3.mailbox.example (10.1.2.3) by store-7.mailbox.example\r\n\
 with LMTP; Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000\r\n\
Received: from mail.shop.example (mail.shop.example [{ip}])\r\n\
 by mx-in-3.mailbox.example with ESMTPS id {i}; Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000\r\n\
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=news.shop.example; s=s1;\r\n\
 h=from:to:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\
 b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBqdXN0IGJlbmNoIGRhdGEgZm9yIHdhcmRlbg==\r\n\
From: Shop Deals <deals@news.shop.example>\r\n\
To: redacted@mailbox.example\r\n\
Subject: Weekly deals {i}\r\n\
Date: Thu, 5 Jan 2023 {h:02}:{m:02}:{s:02} +0000\r\n\
Message-ID: <deals-{i}@news.shop.example>\r\n\
List-Unsubscribe: <https://news.shop.example/u/{i}>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Deals of the week. The body was redacted by the feedback loop.\r\n\
\r\n\
------=_Part_{i}--\r\n"
    )
    .into_bytes()
}

fn bench_arf(c: &mut Criterion) {
    let messages: Vec<Vec<u8>> = (0..1000).map(arf_message).collect();
    // Fail loudly rather than measure an error path.
    for m in &messages {
        let records = warden_reports::parse(m).expect("generated ARF parses");
        assert_eq!(records.len(), 1);
    }
    let mut group = c.benchmark_group("arf");
    group.throughput(Throughput::Elements(messages.len() as u64));
    group.bench_function("parse_1000_messages", |b| {
        b.iter(|| {
            for m in &messages {
                black_box(warden_reports::parse(black_box(m)).ok());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_arf);
criterion_main!(benches);
