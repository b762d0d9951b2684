//! The Parquet export answers the same stabbing lookups as the store, when queried by a standard
//! engine: DuckDB (the Python module, installed by `.ci/install-nat.sh`) reads the Hive-partitioned
//! export and runs one SQL query per lookup; the sets of (inside IP, start, end, end kind) must be
//! equal to the store's candidates.
//!
//! Without the duckdb module the test is skipped and the skip recorded (warden-test-support's
//! `require_tool`), except in CI (`CI=true`), where a missing module is a failure.
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
use warden_attribution::export::{end_name, export_parquet};
use warden_attribution::generator::{GenConfig, Scheme, SplitMix, generate};
use warden_attribution::import::{ImportOptions, Input, VendorParser, import};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_attribution::resolve::{Query, resolve};
use warden_attribution::store::NatStore;
use warden_test_support::peer::{Confinement, Peer};
use warden_test_support::tool::{DUCKDB, require_tool};

#[test]
fn duckdb_on_the_export_agrees_with_the_store() {
    let Some(duckdb) = require_tool(&DUCKDB) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("warden-duckdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Two days of data (the generated time crosses midnight), with losses so that inferred and
    // pending intervals are exported too, in both a PBA and a per-session file.
    let mut inputs = Vec::new();
    let mut truths = Vec::new();
    for (i, scheme) in [
        Scheme::PortBlock {
            block_size: 1024,
            interim_period_ms: None,
        },
        Scheme::PerSession,
    ]
    .into_iter()
    .enumerate()
    {
        let cfg = GenConfig {
            seed: 40 + i as u64,
            start_ms: 1_795_996_800_000 - 1_800_000,
            duration_ms: 3_600_000,
            subscribers: 120,
            outside_ips: 2,
            first_outside: std::net::Ipv4Addr::new(203, 0, 113, 10 * i as u8 + 1),
            scheme,
            mean_hold_ms: if i == 0 { 900_000 } else { 30_000 },
            mean_gap_ms: if i == 0 { 300_000 } else { 20_000 },
            lost_release: 0.05,
            ..GenConfig::default()
        };
        let p = dir.join(format!("log-{i}.log"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        let mut truth = Vec::new();
        generate(&cfg, &mut f, Some(&mut truth)).unwrap();
        f.flush().unwrap();
        inputs.push(Input::Path(p));
        truths.extend(truth);
    }
    let store_dir = dir.join("store");
    let mut parser = VendorParser {
        ctx: ParseContext::new(Vendor::Juniper, Tz::UTC, 1_796_000_000),
    };
    import(
        &store_dir,
        &inputs,
        &mut parser,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let store = NatStore::open(&store_dir).unwrap();
    let pq = dir.join("parquet");
    let ex = export_parquet(&store, &pq).unwrap();
    assert!(
        ex.files.len() >= 2,
        "two day partitions expected: {:?}",
        ex.files
    );
    assert_eq!(ex.rows, store.rows() + store.pending().len() as u64);

    // Lookups: random points around true holdings, plus some without a port.
    let mut rng = SplitMix::new(1);
    let mut queries = Vec::new();
    for i in 0..300 {
        let x = &truths[rng.below(truths.len() as u64) as usize];
        let t = x.start_ms - 30_000 + rng.below((x.end_ms - x.start_ms + 60_000) as u64) as i64;
        let port = x.port_lo + rng.below(u64::from(x.port_hi - x.port_lo) + 1) as u16;
        queries.push(Query {
            vrf: 0,
            ip: x.outside_ip,
            port: if i % 25 == 0 { None } else { Some(port) },
            proto: x.proto,
            time_ms: t,
            window_ms: 5_000,
        });
    }
    let qfile = dir.join("queries.tsv");
    let mut f = std::fs::File::create(&qfile).unwrap();
    for q in &queries {
        writeln!(
            f,
            "{}\t{}\t{}\t{}",
            u32::from(q.ip),
            q.port.map_or(-1, i64::from),
            q.proto.map_or(-1, i64::from),
            q.time_ms
        )
        .unwrap();
    }
    drop(f);
    let script = format!(
        r#"
import duckdb
con = duckdb.connect()
con.execute("CREATE VIEW nat AS SELECT * FROM read_parquet('{pq}/**/*.parquet', hive_partitioning=1)")
for n, l in enumerate(open('{q}')):
    ip, port, proto, t = (int(x) for x in l.split())
    sql = "SELECT inside_ip, start_ms, end_ms, end_kind FROM nat WHERE outside_vrf = 0 AND outside_ip_int = ? AND start_ms <= ? AND end_ms >= ?"
    args = [ip, t + 5000, t - 5000]
    if port >= 0:
        sql += " AND port_lo <= ? AND port_hi >= ?"
        args += [port, port]
    if proto >= 0:
        sql += " AND (proto IS NULL OR proto = ?)"
        args += [proto]
    for r in con.execute(sql, args).fetchall():
        print(n, r[0], r[1], r[2], r[3], sep='\t')
"#,
        pq = pq.display(),
        q = qfile.display()
    );
    // DuckDB reads local files only: it runs without a network (a network namespace of its
    // own where the machine allows one, and the loopback guard in any case), so an extension
    // download or any other traffic fails the test instead of leaving the machine.
    let peer = Peer::new(&dir.join("peer"), Confinement::Offline);
    let out = peer
        .command(duckdb.program("python3"))
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    peer.assert_confined("duckdb");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut duck: Vec<Vec<(String, i64, i64, String)>> = vec![Vec::new(); queries.len()];
    for l in text.lines() {
        let v: Vec<&str> = l.split('\t').collect();
        let n: usize = v[0].parse().unwrap();
        duck[n].push((
            v[1].to_owned(),
            v[2].parse().unwrap(),
            v[3].parse().unwrap(),
            v[4].to_owned(),
        ));
    }
    let mut nonempty = 0;
    for (q, d) in queries.iter().zip(duck.iter_mut()) {
        let a = resolve(&store, q, false).unwrap();
        let mut mine: Vec<(String, i64, i64, String)> = a
            .candidates
            .iter()
            .map(|c| {
                (
                    c.inside_ip.to_string(),
                    c.interval.start_ms,
                    c.interval.end_ms,
                    end_name(c.interval.end_kind).to_owned(),
                )
            })
            .collect();
        mine.sort();
        d.sort();
        assert_eq!(&mine, d, "store and DuckDB disagree for {q:?}");
        nonempty += usize::from(!mine.is_empty());
    }
    assert!(nonempty > 100, "only {nonempty} lookups had answers");
    std::fs::remove_dir_all(&dir).unwrap();
}
