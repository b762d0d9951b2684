//! Feed parsing throughput: Shadowserver CSV rows/s and DMARC aggregate records/s, over inputs
//! generated here (so the figures do not depend on a sample's size).
//!
//! Run: `cargo bench -p warden-reports --bench feeds`. Targets (see docs/benchmarks.md):
//! Shadowserver >= 500,000 rows/s and DMARC >= 1,000,000 records/s on one core.
//!
//! Each case is measured twice: wall-clock time (criterion's default) and the benchmark thread's
//! own CPU time (`.../cpu`, via `CLOCK_THREAD_CPUTIME_ID`). The machines these run on are shared
//! with many builds, so wall time there mostly measures the scheduler; thread CPU time is the
//! figure to compare with a "rows per second on one core" target.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;
use warden_reports::Limits;
use warden_reports::formats::{dmarc, shadowserver};

const ROWS: usize = 100_000;
const RECORDS: usize = 20_000;

/// A scan_rdp report in the current schema, ~230 bytes a row, varied addresses and times.
fn shadowserver_csv(rows: usize) -> Vec<u8> {
    let mut s = String::from(
        "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\
         \"region\",\"city\",\"naics\",\"hostname_source\",\"sector\",\"rdp_protocol\",\"cert_length\",\
         \"subject_common_name\",\"ssl_version\"\n",
    );
    for i in 0..rows {
        let _ = writeln!(
            s,
            "\"2026-11-20 {:02}:{:02}:{:02}\",\"medium\",\"10.{}.{}.{}\",\"tcp\",3389,\
             \"host-{i}.example.net\",\"rdp\",64500,\"DE\",\"HESSEN\",\"FRANKFURT\",517111,\"ptr\",\
             \"Communications, Service Provider, and Hosting Service\",\"RDP\",2048,\"DESK-{i}\",3",
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
    }
    s.into_bytes()
}

/// A DMARC aggregate report with `n` records in the style large receivers write.
fn dmarc_xml(n: usize) -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n<version>1.0</version>\n\
         <report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email>\
         <report_id>1</report_id><date_range><begin>1763596800</begin><end>1763683199</end></date_range>\
         </report_metadata>\n<policy_published><domain>example.org</domain><adkim>r</adkim><aspf>r</aspf>\
         <p>reject</p><sp>reject</sp><pct>100</pct></policy_published>\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "<record><row><source_ip>10.{}.{}.{}</source_ip><count>{}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>\
             <identifiers><header_from>example.org</header_from></identifiers><auth_results><dkim>\
             <domain>example.org</domain><selector>sel</selector><result>pass</result></dkim><spf>\
             <domain>example.org</domain><result>pass</result></spf></auth_results></record>",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            i % 50 + 1
        );
    }
    s.push_str("</feedback>\n");
    s.into_bytes()
}

/// CPU time consumed so far by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always supported on
    // Linux. On failure the zeroed value is returned, which shows up as an absurd figure.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `iters` times and returns the thread CPU time it took.
fn cpu<T>(iters: u64, mut f: impl FnMut() -> T) -> Duration {
    let start = thread_cpu_time();
    for _ in 0..iters {
        black_box(f());
    }
    thread_cpu_time().saturating_sub(start)
}

fn bench_shadowserver(c: &mut Criterion) {
    let csv = shadowserver_csv(ROWS);
    let limits = Limits::default();
    let mapping = shadowserver::Mapping::builtin();
    let mut g = c.benchmark_group("shadowserver");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function("parse_report_scan_rdp_100k_rows", |b| {
        b.iter(|| {
            let r = shadowserver::parse_report(black_box(&csv), mapping, &limits).unwrap();
            assert_eq!(r.events.len(), ROWS);
            r
        })
    });
    g.bench_function("parse_report_scan_rdp_100k_rows/cpu", |b| {
        b.iter_custom(|iters| {
            cpu(iters, || {
                shadowserver::parse_report(black_box(&csv), mapping, &limits).unwrap()
            })
        })
    });
    g.bench_function("registry_parse_scan_rdp_100k_rows", |b| {
        b.iter(|| warden_reports::parse(black_box(&csv)).unwrap())
    });
    g.bench_function("registry_parse_scan_rdp_100k_rows/cpu", |b| {
        b.iter_custom(|iters| cpu(iters, || warden_reports::parse(black_box(&csv)).unwrap()))
    });
    g.finish();
}

fn bench_dmarc(c: &mut Criterion) {
    let xml = dmarc_xml(RECORDS);
    let limits = Limits::default();
    let mut g = c.benchmark_group("dmarc");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.sample_size(10);
    g.bench_function("parse_xml_20k_records", |b| {
        b.iter(|| {
            let r = dmarc::parse_xml(black_box(&xml), &limits).unwrap();
            assert_eq!(r.records.len(), RECORDS);
            r
        })
    });
    g.bench_function("parse_xml_20k_records/cpu", |b| {
        b.iter_custom(|iters| {
            cpu(iters, || {
                dmarc::parse_xml(black_box(&xml), &limits).unwrap()
            })
        })
    });
    g.bench_function("mail_auth_parse_xml_only_20k_records/cpu", |b| {
        b.iter_custom(|iters| {
            cpu(iters, || {
                mail_auth::report::Report::parse_xml(black_box(&xml)).unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench_shadowserver, bench_dmarc);
criterion_main!(benches);
