//! Free-form mail parsing and mbox splitting throughput.
//!
//! Run: `cargo bench -p warden-reports --bench freeform`. Inputs are the test samples and
//! synthetic mails built here (a fail2ban mail with N log lines, an mbox of N messages), so the
//! figures are reproducible without outside data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use warden_reports::Limits;
use warden_reports::container::{MboxFlavor, split_mbox};
use warden_reports::formats::freeform;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/freeform/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap_or_default()
}

/// A fail2ban-style mail with `lines` sshd log lines from 50 different sources.
fn big_log_mail(lines: usize) -> Vec<u8> {
    let mut m = String::from(
        "From: Fail2Ban <fail2ban@host.reporter.example>\nDate: Tue, 24 Nov 2026 06:02:11 +0100\n\
         Subject: [Fail2Ban] sshd: banned\n\nLines containing failures:\n",
    );
    for i in 0..lines {
        m.push_str(&format!(
            "Nov 20 03:{:02}:{:02} host sshd[{}]: Failed password for root from 198.51.100.{} port {} ssh2\n",
            (i / 60) % 60,
            i % 60,
            1000 + i,
            i % 50 + 1,
            40000 + i % 20000
        ));
    }
    m.into_bytes()
}

fn mbox(messages: usize) -> Vec<u8> {
    let one = sample("german-mez-qp-latin1.eml");
    let mut out = Vec::new();
    for i in 0..messages {
        out.extend_from_slice(
            format!("From a@example.org Tue Nov 24 04:{:02}:00 2026\n", i % 60).as_bytes(),
        );
        out.extend_from_slice(&one);
        out.extend_from_slice(b">From a quoted line\n\n");
    }
    out
}

fn benches(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("freeform");
    for name in [
        "fail2ban-sshd.eml",
        "german-mez-qp-latin1.eml",
        "html-only-table.eml",
    ] {
        let raw = sample(name);
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| {
            b.iter(|| freeform::parse(black_box(&raw), &limits))
        });
    }
    let big = big_log_mail(10_000);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("fail2ban-10k-lines", |b| {
        b.iter(|| freeform::parse(black_box(&big), &limits))
    });
    g.finish();

    let mut g = c.benchmark_group("mbox");
    let mb = mbox(1000);
    g.throughput(Throughput::Bytes(mb.len() as u64));
    g.bench_function("split-1000-messages", |b| {
        b.iter(|| split_mbox(black_box(&mb), MboxFlavor::Mboxrd, &limits).map(|m| m.messages.len()))
    });
    g.finish();
}

criterion_group! {
    name = freeform_benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(freeform_benches);
