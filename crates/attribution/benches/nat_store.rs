//! CGN attribution benchmark: import lines/s (port-block and per-session), bytes per stored
//! interval, warm lookup latency and rate over a large store, and the same lookups through DuckDB
//! on the Parquet export and through zgrep on the raw log. Figures go to docs/benchmarks.md.
//!
//! `cargo bench -p warden-attribution --bench nat_store` runs it at the default sizes; set
//! `NAT_BENCH_STORE_INTERVALS` (default 10,000,000; target 100,000,000),
//! `NAT_BENCH_IMPORT_INTERVALS` (default 1,000,000), `NAT_BENCH_LOOKUPS` (default 100,000) and
//! `NAT_BENCH_DIR` (default a directory under the system temp dir) to change them. A plain
//! program, not criterion: each phase is one long measured run, not a micro-benchmark.
//!
//! The import-memory run (a 10 GB log through a pipe, measured from outside with
//! `/usr/bin/time -v`) uses two sub-commands of the same binary:
//!
//! ```text
//! nat_store-<hash> --bench gen-session BYTES | /usr/bin/time -v nat_store-<hash> --bench import-stdin DIR
//! ```
//!
//! `gen-session` writes about BYTES of generated Juniper RT_FLOW per-session log to standard
//! output; `import-stdin` imports standard input into the store DIR (as `warden nat import -`
//! does) and prints the summary with CPU time and peak RSS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

// The benchmark itself is the `warden nat bench` command's module; both run the same code.
#[path = "../../cli/src/cmd/nat/bench.rs"]
mod bench;

use bench::{BenchArgs, run};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: only run the
    // full benchmark under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "gen-session") {
        let bytes: u64 = args
            .get(i + 1)
            .and_then(|b| b.parse().ok())
            .unwrap_or(1 << 30);
        if let Err(e) = bench::gen_session_stdout(bytes) {
            eprintln!("gen-session: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "import-stdin") {
        let Some(dir) = args.get(i + 1) else {
            eprintln!("import-stdin needs a store directory");
            std::process::exit(2);
        };
        match bench::import_stdin(std::path::Path::new(dir)) {
            Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
            Err(e) => {
                eprintln!("import-stdin: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let dir = std::env::var("NAT_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("warden-nat-bench"));
    let import = env_u64("NAT_BENCH_IMPORT_INTERVALS", 1_000_000);
    let args = BenchArgs {
        dir: dir.clone(),
        pba_intervals: import,
        session_intervals: import,
        store_intervals: env_u64("NAT_BENCH_STORE_INTERVALS", 10_000_000),
        lookups: env_u64("NAT_BENCH_LOOKUPS", 100_000) as usize,
        duckdb_lookups: 200,
        zgrep_lookups: 3,
    };
    match run(&args, &mut |v| eprintln!("{v}")) {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
        Err(e) => {
            eprintln!("nat_store bench failed: {e}");
            std::process::exit(1);
        }
    }
}
