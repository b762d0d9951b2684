//! One full SMTP/TLS probe of a loopback server (banner, EHLO, STARTTLS, TLS 1.3 handshake,
//! certificate analysis, EHLO again, plus the three legacy-protocol connections), and the same
//! probe without the legacy connections. Target: <= 200 ms per probe (docs/benchmarks.md,
//! "Mail security audit" / "TLS probe").
//!
//! Run: cargo bench -p warden-mailcheck --bench tls_probe
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

#[path = "../tests/smtp_server/mod.rs"]
mod smtp_server;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use smtp_server::{HOST, Leaf, Setup, pki, start};
use warden_mailcheck::smtp::{self, ProbeOptions, TrustAnchors};

fn bench(c: &mut Criterion) {
    let setup = Setup::new(pki(Leaf::Good));
    let ca = setup.pki.ca_pem.clone();
    let server = start(setup).expect(
        "the loopback TLS server needs the system OpenSSL: run .ci/install-mailcheck-smtp.sh",
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let full = ProbeOptions {
        trust: TrustAnchors::from_pem("ca", ca.as_bytes()).unwrap(),
        step_timeout: Duration::from_secs(5),
        ..ProbeOptions::default()
    };
    let quick = ProbeOptions {
        legacy_protocols: false,
        ..full.clone()
    };
    let mut group = c.benchmark_group("tls_probe");
    group.sample_size(30);
    group.bench_function("loopback_full_probe", |b| {
        b.iter(|| {
            let p = rt.block_on(smtp::probe_addr(HOST, server.addr, &full));
            assert!(p.tls.is_some());
            p
        })
    });
    group.bench_function("loopback_probe_without_legacy", |b| {
        b.iter(|| {
            let p = rt.block_on(smtp::probe_addr(HOST, server.addr, &quick));
            assert!(p.tls.is_some());
            p
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
