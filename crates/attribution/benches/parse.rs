//! `parse_line` throughput on generated lines of each shape: port-block (Juniper PBA, Cisco
//! bulk, A10 CEF batch) and per-session (Junos RT_FLOW, VPP, Nokia, conntrack), with a given
//! vendor and with Auto detection. Target: >= 1,000,000 lines/s per core.
//!
//! Run: `cargo bench -p warden-attribution --bench parse`
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! target is per core, and our machines are shared by several builds, so wall time would
//! measure the neighbours.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono_tz::Tz;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use warden_attribution::natlog::{ParseContext, RawRef, Vendor, parse_line};

const LINES: usize = 10_000;

fn gen_lines(shape: &str) -> Vec<Vec<u8>> {
    (0..LINES)
        .map(|i| {
            let (a, b, p) = (i % 250 + 1, (i / 250) % 250 + 1, 1024 + (i * 7) % 60_000);
            let s = match shape {
                "juniper_pba" => format!(
                    "Nov 23 10:{:02}:{:02} 2026-11-23 10: {:02}:{:02}: mx960-cgn1{{CGN_SSET1}}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.{b}.{a} -> 198.51.100.{a}:{p}-{} 0x0",
                    i % 60, (i / 60) % 60, i % 60, (i / 60) % 60, p + 127
                ),
                "cisco_bulk" => format!(
                    "1 2026 Nov 23 11:{:02}:{:02} 10.0.0.1 - - NAT44 - [UserbasedA - 100.64.{b}.{a} Broadband - 198.51.100.{a} - {p} {}]",
                    i % 60, (i / 60) % 60, p + 511
                ),
                "a10_cef_batch" => format!(
                    "<134>Nov 23 10:01:{:02} cgn0.thn2/cgn-demo CEF:0|A10|CFW|6.0.0-P1|CGN 106|Nat Port Batch Pool Allocated|5|proto=UDP src=100.65.{b}.{a} sourceTranslatedAddress=99.99.99.{a} sourceTranslatedPort={p} cn3={} cn3Label=Last Nat Port",
                    i % 60, p + 255
                ),
                "junos_rt_flow" => format!(
                    "<14>Nov 23 13:12:{:02} srx-firewall RT_FLOW: RT_FLOW_SESSION_CREATE: session created 100.64.{b}.{a}/{p}->93.184.216.{a}/443 0x0 junos-https 203.0.113.{a}/{}->93.184.216.{a}/443 0x0 source rule LAN N/A N/A 6 allow-any PRIVATE PUBLIC {i} N/A(N/A) hu-1/0/0.0 UNKNOWN UNKNOWN UNKNOWN",
                    i % 60, p + 1
                ),
                "vpp_sadd" => format!(
                    "<134>1 2026-11-23T10:00:{:02}.{:06}Z vpp NAT - SADD [nsess SSUBIX=\"{a}\" SVLAN=\"0\" IATYP=\"IPv4\" ISADDR=\"10.0.{b}.{a}\" ISPORT=\"{p}\" XATYP=\"IPv4\" XSADDR=\"198.51.100.{a}\" XSPORT=\"{}\" PROTO=\"6\" XDADDR=\"93.184.216.34\" XDPORT=\"443\"]",
                    i % 60, i, p + 3
                ),
                "nokia_sadd" => format!(
                    "<134> Nov 23 14:39:{:02} 192.0.2.10 TMNX: {i} NAT [1/2]: LSN44 SADD 2026 Nov 23 14:39:{:02}:37 CET TCP 1 100.64.{b}.{a} {p} 2 198.51.100.{a} {} 93.184.216.34 443",
                    i % 60, i % 60, p + 5
                ),
                "conntrack_new" => format!(
                    "[1795428000.{:06}]\t    [NEW] tcp      6 120 SYN_SENT src=10.0.{b}.{a} dst=93.184.216.34 sport={p} dport=80 [UNREPLIED] src=93.184.216.34 dst=203.0.113.{a} sport=80 dport={}",
                    i, p + 9
                ),
                _ => unreachable!(),
            };
            s.into_bytes()
        })
        .collect()
}

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns() - i
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like wall time: reuse its formatter (and its elements/s throughput).
        WallTime.formatter()
    }
}

fn bench(c: &mut Criterion<ThreadCpu>) {
    let reference = 1_795_420_000; // 2026-11-23
    let shapes = [
        ("juniper_pba", Vendor::Juniper),
        ("cisco_bulk", Vendor::Cisco),
        ("a10_cef_batch", Vendor::A10),
        ("junos_rt_flow", Vendor::Juniper),
        ("vpp_sadd", Vendor::Vpp),
        ("nokia_sadd", Vendor::Nokia),
        ("conntrack_new", Vendor::Conntrack),
    ];
    let mut g = c.benchmark_group("parse_line");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(20);
    for (shape, vendor) in shapes {
        let lines = gen_lines(shape);
        for (mode, v) in [("vendor", vendor), ("auto", Vendor::Auto)] {
            // Zone-less shapes get a real zone so the DST lookup is in the measurement.
            let ctx = ParseContext::new(v, Tz::Europe__Berlin, reference);
            let mut out = Vec::with_capacity(16);
            // Every line must parse: a benchmark of error paths would flatter the figures.
            for (i, l) in lines.iter().enumerate() {
                out.clear();
                let n = parse_line(l, RawRef::default(), &ctx, &mut out)
                    .unwrap_or_else(|e| panic!("{shape} line {i}: {e}"));
                assert_eq!(n, 1, "{shape} line {i}");
            }
            g.bench_with_input(BenchmarkId::new(shape, mode), &lines, |b, lines| {
                b.iter(|| {
                    for (i, l) in lines.iter().enumerate() {
                        out.clear();
                        let raw = RawRef {
                            file: 0,
                            line: i as u64,
                            offset: 0,
                        };
                        let _ = black_box(parse_line(black_box(l), raw, &ctx, &mut out));
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench
}
criterion_main!(benches);
