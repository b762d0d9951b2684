//! Thousands of random lookups against the generator's ground truth: Juniper port-block logs
//! (gzip-compressed) and Juniper per-session logs, both with lost releases, lost allocations and
//! a skewed device clock, go through the real parser, pairing and store.
//!
//! What must hold:
//! * recall: when the allocation was logged and the time is clear of the interval's edges by
//!   more than window + skew + one second of log precision, the true holder is a candidate;
//! * no confident wrong answer: a candidate whose start and end were both logged is always the
//!   true holder of that block within that margin;
//! * most clean lookups are unique (not ambiguous);
//! * with Nokia-style sequence numbers, every lost record shows as a sequence gap, and a lookup
//!   at the time of a lost release says logs were lost there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono_tz::Tz;
use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use warden_attribution::generator::{
    GenConfig, LineFormat, Scheme, SplitMix, TruthInterval, generate,
};
use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
use warden_attribution::natlog::pair::{EndKind, StartKind};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_attribution::resolve::{Doubt, Query, resolve};
use warden_attribution::store::NatStore;

const WINDOW_MS: i64 = 5_000;

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("warden-gt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn import_file(store: &Path, file: &Path) -> warden_attribution::import::ImportSummary {
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Auto, Tz::UTC, 1_796_000_000),
    };
    import(
        store,
        &[Input::Path(file.to_owned())],
        &mut parser,
        &ImportOptions {
            spill_rows: 5_000, // force several spills and a merge
            ..ImportOptions::default()
        },
        &mut |_| {},
    )
    .unwrap()
}

struct Outcome {
    recall_checked: usize,
    unique: usize,
}

fn check(cfg: &GenConfig, truth: &[TruthInterval], store: &NatStore, lookups: usize) -> Outcome {
    let skew = cfg.clock_skew_ms.abs();
    let margin = WINDOW_MS + skew + 1_000;
    let mut rng = SplitMix::new(99);
    let mut out = Outcome {
        recall_checked: 0,
        unique: 0,
    };
    // truth by (ip, first port) for the precision check
    let mut by_key: std::collections::BTreeMap<(std::net::Ipv4Addr, u16), Vec<&TruthInterval>> =
        std::collections::BTreeMap::new();
    for x in truth {
        by_key.entry((x.outside_ip, x.port_lo)).or_default().push(x);
    }
    let holders_near = |ip, port: u16, t: i64| -> Vec<IpAddr> {
        by_key
            .range((ip, port.saturating_sub(1023))..=(ip, port))
            .flat_map(|(_, v)| v.iter())
            .filter(|x| {
                x.port_lo <= port
                    && port <= x.port_hi
                    && x.start_ms <= t + margin
                    && x.end_ms >= t - margin
            })
            .map(|x| x.inside_ip)
            .collect()
    };
    for i in 0..lookups {
        let x = &truth[rng.below(truth.len() as u64) as usize];
        let span = u64::from(x.port_hi - x.port_lo) + 1;
        let port = x.port_lo + rng.below(span) as u16;
        // Half the lookups fall inside the true interval, half anywhere near it (including the
        // free time after it, where lost releases leave inferred intervals).
        let t = if i % 2 == 0 {
            x.start_ms + rng.below((x.end_ms - x.start_ms).max(1) as u64) as i64
        } else {
            x.start_ms - 60_000 + rng.below((x.end_ms - x.start_ms + 120_000) as u64) as i64
        };
        let q = Query {
            vrf: 0,
            ip: x.outside_ip,
            port: Some(port),
            proto: x.proto,
            time_ms: t,
            window_ms: WINDOW_MS,
        };
        let a = resolve(store, &q, false).unwrap();
        let near = holders_near(x.outside_ip, port, t);
        for c in &a.candidates {
            let logged = c.interval.start_kind == StartKind::Logged
                && c.interval.end_kind == EndKind::Released;
            if logged {
                assert!(
                    near.contains(&c.inside_ip),
                    "confident wrong answer {c:?} for {q:?}; true holders near: {near:?}"
                );
            }
        }
        let clear = x.alloc_logged && t - x.start_ms > margin && x.end_ms - t > margin;
        if clear {
            out.recall_checked += 1;
            assert!(
                a.candidates.iter().any(|c| c.inside_ip == x.inside_ip),
                "true holder {} missing for {q:?}: {a:?}",
                x.inside_ip
            );
            assert!(!a.doubts.contains(&Doubt::NoCoverage));
            if a.unique().is_some() {
                out.unique += 1;
            }
        }
    }
    out
}

#[test]
fn port_block_logs_with_loss_and_skew() {
    let dir = tmpdir("pba");
    let cfg = GenConfig {
        seed: 7,
        subscribers: 400,
        outside_ips: 3,
        duration_ms: 2 * 3_600_000,
        scheme: Scheme::PortBlock {
            block_size: 512,
            interim_period_ms: None,
        },
        mean_hold_ms: 15 * 60_000,
        mean_gap_ms: 5 * 60_000,
        lost_release: 0.05,
        lost_alloc: 0.01,
        clock_skew_ms: 2_000,
        ..GenConfig::default()
    };
    let mut truth = Vec::new();
    let log = dir.join("pba.log.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&log).unwrap(),
        flate2::Compression::fast(),
    );
    let stats = generate(&cfg, &mut gz, Some(&mut truth)).unwrap();
    gz.finish().unwrap().flush().unwrap();
    let store_dir = dir.join("store");
    let s = import_file(&store_dir, &log);
    assert_eq!(s.lines, stats.lines);
    assert_eq!(s.events, stats.lines, "every generated line parses: {s:?}");
    assert_eq!(s.rejects, 0);
    let store = NatStore::open(&store_dir).unwrap();
    let o = check(&cfg, &truth, &store, 2_000);
    assert!(o.recall_checked > 600, "{}", o.recall_checked);
    assert!(
        o.unique * 100 >= o.recall_checked * 85,
        "only {} of {} clean lookups unique",
        o.unique,
        o.recall_checked
    );
    // Evidence: the original (gzip) line comes back.
    let x = truth.iter().find(|x| x.alloc_logged).unwrap();
    let q = Query {
        vrf: 0,
        ip: x.outside_ip,
        port: Some(x.port_lo),
        proto: None,
        time_ms: (x.start_ms + x.end_ms) / 2,
        window_ms: 0,
    };
    let a = resolve(&store, &q, true).unwrap();
    let c = a
        .candidates
        .iter()
        .find(|c| c.inside_ip == x.inside_ip)
        .unwrap();
    let line = c.evidence[0].text.as_ref().unwrap();
    assert!(
        line.text.contains("JSERVICES_NAT_PORT_BLOCK_ALLOC"),
        "{line:?}"
    );
    assert!(line.text.contains(&format!(
        "{} -> {}:{}",
        x.inside_ip, x.outside_ip, x.port_lo
    )));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn per_session_logs_with_loss_and_skew() {
    let dir = tmpdir("sess");
    let cfg = GenConfig {
        seed: 11,
        subscribers: 150,
        outside_ips: 2,
        duration_ms: 3_600_000,
        scheme: Scheme::PerSession,
        mean_hold_ms: 40_000,
        mean_gap_ms: 15_000,
        lost_release: 0.05,
        lost_alloc: 0.01,
        clock_skew_ms: -1_500,
        ..GenConfig::default()
    };
    let mut truth = Vec::new();
    let log = dir.join("flow.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    let stats = generate(&cfg, &mut f, Some(&mut truth)).unwrap();
    f.flush().unwrap();
    drop(f);
    let store_dir = dir.join("store");
    let s = import_file(&store_dir, &log);
    assert_eq!(s.events, stats.lines, "{s:?}");
    assert!(
        s.pairing.orphan_closes > 0,
        "lost allocations show as orphan releases"
    );
    let store = NatStore::open(&store_dir).unwrap();
    assert!(store.rows() as usize > truth.len() * 9 / 10);
    let o = check(&cfg, &truth, &store, 2_500);
    assert!(o.recall_checked > 600, "{}", o.recall_checked);
    assert!(
        o.unique * 100 >= o.recall_checked * 90,
        "{} of {}",
        o.unique,
        o.recall_checked
    );
    // Without a port the answer is the set of holders of the address, flagged.
    let x = &truth[truth.len() / 2];
    let q = Query {
        vrf: 0,
        ip: x.outside_ip,
        port: None,
        proto: None,
        time_ms: (x.start_ms + x.end_ms) / 2,
        window_ms: WINDOW_MS,
    };
    let a = resolve(&store, &q, false).unwrap();
    assert!(a.doubts.contains(&Doubt::NoPort));
    assert!(a.ambiguous);
    // Outside the imported time there is no coverage, and the answer says so.
    let q = Query {
        time_ms: cfg.start_ms - 86_400_000,
        port: Some(x.port_lo),
        ..q
    };
    let a = resolve(&store, &q, false).unwrap();
    assert!(a.candidates.is_empty());
    assert!(a.doubts.contains(&Doubt::NoCoverage), "{a:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn second_import_closes_pending_intervals_and_retention_drops_days() {
    let dir = tmpdir("two");
    let cfg = GenConfig {
        seed: 3,
        subscribers: 50,
        outside_ips: 1,
        duration_ms: 2 * 3_600_000,
        mean_hold_ms: 30 * 60_000,
        mean_gap_ms: 10 * 60_000,
        ..GenConfig::default()
    };
    let mut truth = Vec::new();
    let mut all = Vec::new();
    generate(&cfg, &mut all, Some(&mut truth)).unwrap();
    let text = String::from_utf8(all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (a, b) = lines.split_at(lines.len() / 2);
    let fa = dir.join("a.log");
    let fb = dir.join("b.log");
    std::fs::write(&fa, a.join("\n") + "\n").unwrap();
    std::fs::write(&fb, b.join("\n") + "\n").unwrap();
    let store_dir = dir.join("store");
    let s1 = import_file(&store_dir, &fa);
    assert!(s1.pending > 0);
    let s2 = import_file(&store_dir, &fb);
    assert_eq!(s2.pending, 0, "{s2:?}");
    let store = NatStore::open(&store_dir).unwrap();
    assert_eq!(store.rows() as usize, truth.len());
    assert!(store.pending().is_empty());
    let o = check(&cfg, &truth, &store, 500);
    assert_eq!(o.unique, o.recall_checked);
    // Retention: drop everything before the day after the data.
    let days: Vec<String> = store
        .segments()
        .iter()
        .map(|(m, _)| m.day.clone())
        .collect();
    drop(store);
    let out = warden_attribution::store::drop_partitions_before(&store_dir, "2099-01-01").unwrap();
    assert_eq!(out.rows as usize, truth.len());
    assert!(days.iter().all(|d| out.days.contains(d)));
    let store = NatStore::open(&store_dir).unwrap();
    assert_eq!(store.rows(), 0);
    let x = &truth[0];
    let a = resolve(
        &store,
        &Query {
            vrf: 0,
            ip: x.outside_ip,
            port: Some(x.port_lo),
            proto: None,
            time_ms: x.start_ms + 1,
            window_ms: 0,
        },
        false,
    )
    .unwrap();
    assert!(
        a.doubts
            .iter()
            .any(|d| matches!(d, Doubt::Retention { .. })),
        "{a:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nokia_sequence_gaps_mark_lost_records() {
    let dir = tmpdir("nokia");
    let cfg = GenConfig {
        seed: 21,
        subscribers: 120,
        outside_ips: 2,
        duration_ms: 3_600_000,
        scheme: Scheme::PerSession,
        format: LineFormat::Nokia,
        mean_hold_ms: 40_000,
        mean_gap_ms: 15_000,
        lost_release: 0.03,
        lost_alloc: 0.01,
        ..GenConfig::default()
    };
    let mut truth = Vec::new();
    let log = dir.join("nokia.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    let stats = generate(&cfg, &mut f, Some(&mut truth)).unwrap();
    f.flush().unwrap();
    drop(f);
    let store_dir = dir.join("store");
    let s = import_file(&store_dir, &log);
    assert_eq!(s.events, stats.lines, "every Nokia line parses: {s:?}");
    assert_eq!(s.rejects, 0);
    // Every lost record left a hole in the device's numbering, and only those.
    let lost = truth
        .iter()
        .map(|x| usize::from(!x.alloc_logged) + usize::from(!x.release_logged))
        .sum::<usize>();
    assert!(lost > 50, "the run should lose records: {lost}");
    let missing: u64 = s.gaps.iter().map(|g| g.next_seq - g.after_seq - 1).sum();
    assert_eq!(missing as usize, lost, "{} gaps", s.gaps.len());
    let store = NatStore::open(&store_dir).unwrap();
    assert_eq!(store.manifest().gaps.len(), s.gaps.len());
    // A lookup at the moment a release was lost is told that logs were lost around then.
    let mut flagged = 0;
    for x in truth.iter().filter(|x| !x.release_logged) {
        let q = Query {
            vrf: 0,
            ip: x.outside_ip,
            port: Some(x.port_lo),
            proto: x.proto,
            time_ms: x.end_ms,
            window_ms: WINDOW_MS,
        };
        let a = resolve(&store, &q, false).unwrap();
        assert!(
            a.doubts.iter().any(|d| matches!(d, Doubt::LogGap { .. })),
            "no gap reported at a lost release: {q:?} {a:?}"
        );
        flagged += 1;
    }
    assert!(flagged > 30, "{flagged}");
    // And the rest of the ground truth holds as for Juniper.
    let o = check(&cfg, &truth, &store, 1_500);
    assert!(o.recall_checked > 300, "{}", o.recall_checked);
    std::fs::remove_dir_all(&dir).unwrap();
}
