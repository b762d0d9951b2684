//! Throughput of ARF parsing through the registry (`warden_reports::parse`: size check, every
//! format's sniff, MIME parse, feedback fields, original headers, event).
//!
//! Target (issue "Report intake"): at least 20,000 ARF messages per second on one core.
//! Run: `cargo bench -p warden-reports --bench mail`.
//!
//! Two groups: `arf` measures wall-clock time (criterion's default); `arf_cpu` measures the
//! benchmark thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`). On the project's shared 2-core
//! machines, with a dozen other builds running, wall time mostly measures waiting for a core;
//! thread CPU time is the cost of the parse itself, which is what "per core" asks for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
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

fn messages() -> Vec<Vec<u8>> {
    let messages: Vec<Vec<u8>> = (0..1000).map(arf_message).collect();
    // Fail loudly rather than measure an error path.
    for m in &messages {
        let records = warden_reports::parse(m).expect("generated ARF parses");
        assert_eq!(records.len(), 1);
    }
    messages
}

fn bench_arf<M: Measurement>(c: &mut Criterion<M>, group_name: &str) {
    let messages = messages();
    let mut group = c.benchmark_group(group_name);
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

fn bench_wall(c: &mut Criterion) {
    bench_arf(c, "arf");
}

fn bench_cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench_arf(c, "arf_cpu");
}

/// CPU time consumed by the calling thread.
fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A criterion measurement of the benchmark thread's CPU time.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuNanos
    }
}

/// Formats nanoseconds of CPU time and elements per CPU-second.
struct CpuNanos;

impl ValueFormatter for CpuNanos {
    fn scale_values(&self, typical_ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical_ns < 1e3 {
            (1.0, "ns cpu")
        } else if typical_ns < 1e6 {
            (1e-3, "µs cpu")
        } else if typical_ns < 1e9 {
            (1e-6, "ms cpu")
        } else {
            (1e-9, "s cpu")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match *t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) => {
                n as f64
            }
        };
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v);
        "elem/cpu-s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(wall, bench_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_cpu
}
criterion_main!(wall, cpu);
