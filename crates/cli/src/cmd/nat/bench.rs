//! The CGN attribution benchmark (docs/benchmarks.md, "CGN attribution"), run by
//! `warden nat bench` and by `cargo bench -p warden-attribution --bench nat_store` (which
//! includes this file). It lives beside the command, not in the library: it shells out, reads
//! `/proc` and measures the machine, none of which belongs in `warden-attribution`'s API.
//!
//! Phases, each on generated data so it runs anywhere:
//! 1. import of Juniper port-block logs (text file) — lines/s on one core;
//! 2. import of Juniper per-session logs — lines/s and bytes per stored interval;
//! 3. a large per-session store built from the simulator directly (no text: 100 M intervals of
//!    text would be ~75 GB), then warm random lookups — p50/p99 and lookups/s on one core;
//! 4. the same lookups through DuckDB over the Parquet export, and `zgrep` over the gzipped raw
//!    per-session log, for the ratios.
//!
//! Peak memory is the process's `VmHWM` after each import phase. Build with `--release`.
//! It shells out to `python3` (DuckDB) and `zgrep` for the comparison phases and skips a phase
//! whose tool is missing, saying so in the report.
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use warden_attribution::generator::{GenConfig, Kind, Scheme, SplitMix, generate, simulate};
use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
use warden_attribution::natlog::pair::{EndKind, LineRef, NatInterval, RecordKind, StartKind};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_attribution::resolve::{Query, resolve};
use warden_attribution::store::{ImportTxn, NatStore};

/// Any error of the benchmark (it is a measuring tool, not a library API).
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Benchmark sizes.
#[derive(Debug, Clone)]
pub struct BenchArgs {
    /// Scratch directory (logs, stores, export); removed first.
    pub dir: PathBuf,
    /// Port-block holdings to simulate for the PBA import phase.
    pub pba_intervals: u64,
    /// Sessions to simulate for the per-session import phase.
    pub session_intervals: u64,
    /// Sessions in the large store for the lookup phase (target 100 M).
    pub store_intervals: u64,
    /// Lookups to time.
    pub lookups: usize,
    /// Lookups to run through DuckDB (0 skips it).
    pub duckdb_lookups: usize,
    /// Lookups to run through zgrep (0 skips it).
    pub zgrep_lookups: usize,
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) of this process so far, in seconds, from `/proc/self/stat`. The
/// machine is shared, so wall time measures the neighbours as much as this code; CPU time of a
/// single-threaded phase is the per-core figure.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn gen_to_file(cfg: &GenConfig, path: &Path) -> Result<(u64, u64), BenchError> {
    let mut f = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let s = generate(cfg, &mut f, None)?;
    f.flush()?;
    Ok((s.lines, std::fs::metadata(path)?.len()))
}

/// Sizes a simulation so it yields about `n` holdings: subscribers × duration / (hold + gap).
fn sized(mut cfg: GenConfig, n: u64, per_sub_rate_ms: i64) -> GenConfig {
    let per_sub = (cfg.duration_ms / per_sub_rate_ms).max(1) as u64;
    cfg.subscribers = (n / per_sub).clamp(1, u64::from(u32::MAX)) as u32;
    cfg
}

fn import_timed(
    store: &Path,
    log: &Path,
    label: &str,
    note: &mut dyn FnMut(&serde_json::Value),
) -> Result<serde_json::Value, BenchError> {
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Juniper, chrono_tz::Tz::UTC, 1_796_000_000),
    };
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let s = import(
        store,
        &[Input::Path(log.to_owned())],
        &mut parser,
        &ImportOptions::default(),
        &mut |_| {},
    )?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let st = NatStore::open(store)?;
    let out = serde_json::json!({
        "phase": label,
        "lines": s.lines,
        "events": s.events,
        "rejects": s.rejects,
        "intervals": st.rows(),
        "seconds": secs,
        "lines_per_sec_wall": s.lines as f64 / secs,
        "cpu_seconds": cpu,
        "lines_per_cpu_sec": cpu.map(|c| s.lines as f64 / c.max(0.01)),
        "segment_bytes": st.bytes(),
        "bytes_per_interval": st.bytes() as f64 / st.rows().max(1) as f64,
        "vm_hwm_mib_after": vm_hwm_kib().map(|k| k / 1024),
    });
    note(&out);
    Ok(out)
}

/// Writes about `bytes` of generated per-session log (Juniper RT_FLOW, RFC 5424, the same
/// shape as the per-session import phase) to standard output, for the import-memory run: a
/// 10 GB log streamed through a pipe needs no 10 GB of disk.
pub fn gen_session_stdout(bytes: u64) -> Result<(), BenchError> {
    // ~384 bytes per line, two lines per session.
    let sessions = (bytes / 768).max(1);
    let cfg = sized(
        GenConfig {
            seed: 4,
            duration_ms: 6 * 3_600_000,
            outside_ips: 1_024,
            scheme: Scheme::PerSession,
            mean_hold_ms: 30_000,
            mean_gap_ms: 4_000,
            ..GenConfig::default()
        },
        sessions,
        4_000,
    );
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    match generate(&cfg, &mut out, None) {
        Ok(_) => {}
        // The reader went away: not this program's error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    out.flush()?;
    Ok(())
}

/// Imports standard input into the store `dir` (what `warden nat import --store DIR -` does)
/// and returns lines, CPU time, wall time, peak RSS and the store's size.
pub fn import_stdin(dir: &Path) -> Result<serde_json::Value, BenchError> {
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Juniper, chrono_tz::Tz::UTC, 1_796_000_000),
    };
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let s = import(
        dir,
        &[Input::Stdin],
        &mut parser,
        &ImportOptions::default(),
        &mut |_| {},
    )?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let st = NatStore::open(dir)?;
    let raw_bytes: u64 = std::fs::read_dir(dir.join("raw"))
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    Ok(serde_json::json!({
        "phase": "import per-session from standard input",
        "lines": s.lines,
        "events": s.events,
        "rejects": s.rejects,
        "intervals": st.rows(),
        "pending": s.pending,
        "seconds": secs,
        "lines_per_sec_wall": s.lines as f64 / secs,
        "cpu_seconds": cpu,
        "lines_per_cpu_sec": cpu.map(|c| s.lines as f64 / c.max(0.01)),
        "segment_bytes": st.bytes(),
        "bytes_per_interval": st.bytes() as f64 / st.rows().max(1) as f64,
        "raw_copy_bytes": raw_bytes,
        "vm_hwm_mib": vm_hwm_kib().map(|k| k / 1024),
    }))
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0.0)
}

/// Runs the benchmark; `note` sees each phase's figures as they come. Returns all phases.
pub fn run(
    a: &BenchArgs,
    note: &mut dyn FnMut(&serde_json::Value),
) -> Result<Vec<serde_json::Value>, BenchError> {
    let _ = std::fs::remove_dir_all(&a.dir);
    std::fs::create_dir_all(&a.dir)?;
    let mut report = Vec::new();

    // 1. PBA import: one block per subscriber at a time, held ~1 h, 10 min between blocks.
    let pba = sized(
        GenConfig {
            seed: 1,
            duration_ms: 24 * 3_600_000,
            outside_ips: 4_000,
            scheme: Scheme::PortBlock {
                block_size: 256,
                interim_period_ms: None,
            },
            mean_hold_ms: 3_600_000,
            mean_gap_ms: 600_000,
            ..GenConfig::default()
        },
        a.pba_intervals,
        4_200_000,
    );
    let pba_log = a.dir.join("pba.log");
    let (lines, bytes) = gen_to_file(&pba, &pba_log)?;
    note(&serde_json::json!({"generated_pba_lines": lines, "bytes": bytes}));
    let mut r = import_timed(
        &a.dir.join("store-pba"),
        &pba_log,
        "import port-block (Juniper JSERVICES)",
        note,
    )?;
    r["input_bytes"] = bytes.into();
    report.push(r);

    // 2. Per-session import: sessions of ~30 s, one every ~2 s per subscriber.
    let sess = sized(
        GenConfig {
            seed: 2,
            duration_ms: 3_600_000,
            outside_ips: 64,
            scheme: Scheme::PerSession,
            mean_hold_ms: 30_000,
            mean_gap_ms: 2_000,
            ..GenConfig::default()
        },
        a.session_intervals,
        2_000,
    );
    let sess_log = a.dir.join("session.log");
    let (lines, bytes) = gen_to_file(&sess, &sess_log)?;
    note(&serde_json::json!({"generated_session_lines": lines, "bytes": bytes}));
    let mut r = import_timed(
        &a.dir.join("store-sess"),
        &sess_log,
        "import per-session (Juniper RT_FLOW RFC 5424)",
        note,
    )?;
    r["input_bytes"] = bytes.into();
    report.push(r);

    // 3. Large store straight from the simulator.
    let big = sized(
        GenConfig {
            seed: 3,
            duration_ms: 6 * 3_600_000,
            outside_ips: 1_024,
            scheme: Scheme::PerSession,
            mean_hold_ms: 30_000,
            mean_gap_ms: 4_000,
            ..GenConfig::default()
        },
        a.store_intervals,
        4_000,
    );
    let store_dir = a.dir.join("store-big");
    let t = Instant::now();
    let mut txn = ImportTxn::begin(&store_dir)?;
    let line_no = std::cell::Cell::new(0u64);
    let open_line: std::cell::RefCell<HashMap<(u32, u16, u8), u64>> = Default::default();
    let mut batch = Vec::with_capacity(1 << 16);
    let mut samples: Vec<(Ipv4Addr, u16, Option<u8>, i64, std::net::IpAddr)> = Vec::new();
    let mut rng = SplitMix::new(5);
    let want = a.lookups.max(a.duckdb_lookups).max(1) as u64;
    let keep_every = (a.store_intervals / want).max(1);
    let mut err: Option<BenchError> = None;
    simulate(
        &big,
        &mut |h, kind, _t, _seq| {
            line_no.set(line_no.get() + 1);
            if kind == Kind::Open {
                open_line
                    .borrow_mut()
                    .insert((h.ip, h.lo, h.proto.unwrap_or(0)), line_no.get());
            }
            Ok(())
        },
        &mut |x| {
            let key = (
                u32::from(x.outside_ip) - u32::from(big.first_outside),
                x.port_lo,
                x.proto.unwrap_or(0),
            );
            let open = open_line.borrow_mut().remove(&key).unwrap_or(line_no.get());
            if rng.below(keep_every) == 0 {
                samples.push((
                    x.outside_ip,
                    x.port_lo,
                    x.proto,
                    (x.start_ms + x.end_ms) / 2,
                    x.inside_ip,
                ));
            }
            batch.push(NatInterval {
                outside_vrf: 0,
                outside_ip: x.outside_ip,
                port_lo: x.port_lo,
                port_hi: x.port_hi,
                proto: x.proto,
                start_ms: x.start_ms,
                end_ms: x.end_ms,
                start_kind: StartKind::Logged,
                end_kind: EndKind::Released,
                record: RecordKind::Session,
                inside_ip: x.inside_ip,
                b4_ipv6: None,
                subscriber_id: None,
                open_ref: LineRef {
                    file: 0,
                    line: open,
                },
                close_ref: Some(LineRef {
                    file: 0,
                    line: line_no.get(),
                }),
            });
            if batch.len() >= 1 << 16
                && let Err(e) = txn.add(&mut batch)
            {
                err.get_or_insert(e.into());
            }
        },
    )?;
    if let Some(e) = err {
        return Err(e);
    }
    txn.add(&mut batch)?;
    txn.commit()?;
    let build_s = t.elapsed().as_secs_f64();
    let store = NatStore::open(&store_dir)?;
    let rows = store.rows();
    // Warm-up pass, then the timed pass.
    let queries: Vec<Query> = samples
        .iter()
        .take(a.lookups)
        .map(|&(ip, port, proto, t, _)| Query {
            vrf: 0,
            ip,
            port: Some(port),
            proto,
            time_ms: t,
            window_ms: 5_000,
        })
        .collect();
    for q in &queries {
        resolve(&store, q, false)?;
    }
    let mut lat = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    let t_all = Instant::now();
    let cpu0 = cpu_seconds();
    for (q, s) in queries.iter().zip(&samples) {
        let t = Instant::now();
        let ans = resolve(&store, q, false)?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        if ans.candidates.iter().any(|c| c.inside_ip == s.4) {
            found += 1;
        }
    }
    let total = t_all.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    lat.sort_by(f64::total_cmp);
    let r = serde_json::json!({
        "phase": "large per-session store + warm lookups",
        "intervals": rows,
        "build_seconds": build_s,
        "segment_bytes": store.bytes(),
        "bytes_per_interval": store.bytes() as f64 / rows.max(1) as f64,
        "segments": store.segments().len(),
        "lookups": lat.len(),
        "true_holder_found": found,
        "lookup_us_p50": pct(&lat, 0.5),
        "lookup_us_p99": pct(&lat, 0.99),
        "lookup_us_max": pct(&lat, 1.0),
        "lookups_per_sec_wall": lat.len() as f64 / total,
        "lookup_cpu_seconds": cpu,
        "lookups_per_cpu_sec": cpu.map(|c| lat.len() as f64 / c.max(0.01)),
        "vm_hwm_mib_after": vm_hwm_kib().map(|k| k / 1024),
    });
    note(&r);
    let store_p99 = pct(&lat, 0.99);
    let store_p50 = pct(&lat, 0.5);
    report.push(r);

    // 4a. DuckDB over the Parquet export.
    if a.duckdb_lookups > 0 {
        let pq = a.dir.join("parquet");
        let t = Instant::now();
        let ex = warden_attribution::export::export_parquet(&store, &pq)?;
        let export_s = t.elapsed().as_secs_f64();
        let qfile = a.dir.join("queries.tsv");
        let mut f = BufWriter::new(std::fs::File::create(&qfile)?);
        for q in queries.iter().take(a.duckdb_lookups) {
            writeln!(
                f,
                "{}\t{}\t{}",
                u32::from(q.ip),
                q.port.unwrap_or(0),
                q.time_ms
            )?;
        }
        f.flush()?;
        drop(f);
        let script = format!(
            r#"
import duckdb, time, statistics, sys
con = duckdb.connect()
con.execute("CREATE VIEW nat AS SELECT * FROM read_parquet('{dir}/**/*.parquet', hive_partitioning=1)")
qs = [tuple(int(x) for x in l.split()) for l in open('{qfile}')]
for ip, port, t in qs[:5]:
    con.execute("SELECT inside_ip FROM nat WHERE outside_ip_int=? AND port_lo<=? AND port_hi>=? AND start_ms<=? AND end_ms>=?", [ip, port, port, t+5000, t-5000]).fetchall()
lat = []
for ip, port, t in qs:
    s = time.perf_counter()
    con.execute("SELECT inside_ip FROM nat WHERE outside_ip_int=? AND port_lo<=? AND port_hi>=? AND start_ms<=? AND end_ms>=?", [ip, port, port, t+5000, t-5000]).fetchall()
    lat.append((time.perf_counter() - s) * 1e6)
lat.sort()
print(lat[len(lat)//2], lat[min(len(lat)-1, int(len(lat)*0.99))], duckdb.__version__)
"#,
            dir = pq.display(),
            qfile = qfile.display()
        );
        match std::process::Command::new("python3")
            .arg("-c")
            .arg(&script)
            .output()
        {
            Ok(o) if o.status.success() => {
                let s = String::from_utf8_lossy(&o.stdout);
                let v: Vec<&str> = s.split_whitespace().collect();
                let p50: f64 = v.first().and_then(|x| x.parse().ok()).unwrap_or(0.0);
                let p99: f64 = v.get(1).and_then(|x| x.parse().ok()).unwrap_or(0.0);
                let r = serde_json::json!({
                    "phase": "DuckDB over Parquet export (same lookups)",
                    "duckdb_version": v.get(2),
                    "export_seconds": export_s,
                    "parquet_bytes": ex.bytes,
                    "parquet_bytes_per_interval": ex.bytes as f64 / ex.rows.max(1) as f64,
                    "lookups": a.duckdb_lookups.min(queries.len()),
                    "lookup_us_p50": p50,
                    "lookup_us_p99": p99,
                    "p50_ratio_vs_store": p50 / store_p50.max(1e-9),
                    "p99_ratio_vs_store": p99 / store_p99.max(1e-9),
                });
                note(&r);
                report.push(r);
            }
            Ok(o) => report.push(serde_json::json!({
                "phase": "DuckDB over Parquet export",
                "skipped": String::from_utf8_lossy(&o.stderr),
            })),
            Err(e) => report.push(serde_json::json!({
                "phase": "DuckDB over Parquet export",
                "skipped": format!("python3 not runnable ({e})"),
            })),
        }
    }

    // 4b. zgrep over the gzipped raw per-session log.
    if a.zgrep_lookups > 0 {
        let gz = a.dir.join("session.log.gz");
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "gzip -1 -c '{}' > '{}'",
                sess_log.display(),
                gz.display()
            ))
            .status()?;
        if st.success() {
            let sess_store = NatStore::open(&a.dir.join("store-sess"))?;
            let mut lat = Vec::new();
            let mut rng = SplitMix::new(9);
            let seg_rows: Vec<NatInterval> = sess_store
                .segments()
                .first()
                .map(|(_, s)| s.block(0))
                .transpose()?
                .unwrap_or_default();
            for _ in 0..a.zgrep_lookups {
                let Some(r) = seg_rows.get(rng.below(seg_rows.len().max(1) as u64) as usize) else {
                    break;
                };
                let pat = format!(
                    "nat-source-address=\"{}\" nat-source-port=\"{}\"",
                    r.outside_ip, r.port_lo
                );
                let t = Instant::now();
                std::process::Command::new("zgrep")
                    .arg("-c")
                    .arg("-F")
                    .arg(&pat)
                    .arg(&gz)
                    .output()?;
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
            lat.sort_by(f64::total_cmp);
            let gz_bytes = std::fs::metadata(&gz).map(|m| m.len()).unwrap_or(0);
            let r = serde_json::json!({
                "phase": "zgrep -F over gzipped per-session log (phase 2 file)",
                "gz_bytes": gz_bytes,
                "lookups": lat.len(),
                "lookup_us_p50": pct(&lat, 0.5),
                "p50_ratio_vs_store": pct(&lat, 0.5) / store_p50.max(1e-9),
            });
            note(&r);
            report.push(r);
        }
    }
    Ok(report)
}
