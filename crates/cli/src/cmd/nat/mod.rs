//! `warden nat`: CGN logs. Import vendor logs into the interval store, look up who held an
//! outside address and port at a time, show store statistics, export to Parquet, drop old days.
//! The work is in `warden-attribution`; this module reads arguments, prints and picks exit codes.

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use warden_attribution::export::{end_name, export_parquet};
use warden_attribution::import::{ImportOptions, ImportSummary, Input, VendorParser, import};
use warden_attribution::natlog::pair::{Millis, PairConfig};
use warden_attribution::natlog::{ParseContext, Vendor};
use warden_attribution::resolve::{
    CandidateSource, Doubt, NatAttribution, Query, Sources, coverage, resolve_with,
};

#[allow(
    dead_code,
    reason = "shared with crates/attribution/benches/nat_store.rs, which also uses its gen-session and import-stdin helpers"
)]
mod bench;

/// Largest RADIUS accounting file read for a lookup (it is read whole).
const MAX_RADIUS_BYTES: u64 = 1 << 30;
use warden_attribution::store::manifest::MANIFEST;
use warden_attribution::store::{NatStore, drop_partitions_before};
use warden_config::Config;
use warden_desk::NatConfig;

use crate::conventions::{self, Console};

/// Arguments of `warden nat`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Configuration file: `[attribution.nat]` names the store and the lookup window.
    #[arg(long, global = true, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Import CGN log files (plain, .gz, .zst; `-` for standard input) into the store.
    Import(ImportArgs),
    /// Who held outside IP, port at a time: every candidate with its evidence.
    Lookup(LookupArgs),
    /// What the store holds: intervals, bytes per interval, days, files, gaps.
    Stats(StoreArg),
    /// Export the store as Parquet, partitioned by day (Hive style `day=YYYY-MM-DD/`).
    Export(ExportArgs),
    /// Drop whole day partitions older than a retention period.
    Prune(PruneArgs),
    /// Measure import, storage and lookup on generated logs (use a --release build).
    Bench(BenchArgs),
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Scratch directory (logs, stores, export); removed first.
    #[arg(long)]
    dir: PathBuf,
    /// Port-block holdings to simulate for the PBA import phase.
    #[arg(long, default_value_t = 1_000_000)]
    pba_intervals: u64,
    /// Sessions to simulate for the per-session import phase.
    #[arg(long, default_value_t = 1_000_000)]
    session_intervals: u64,
    /// Sessions in the large store for the lookup phase (target 100 M).
    #[arg(long, default_value_t = 10_000_000)]
    store_intervals: u64,
    /// Lookups to time.
    #[arg(long, default_value_t = 100_000)]
    lookups: usize,
    /// Lookups to run through DuckDB (0 skips it).
    #[arg(long, default_value_t = 200)]
    duckdb_lookups: usize,
    /// Lookups to run through zgrep (0 skips it).
    #[arg(long, default_value_t = 3)]
    zgrep_lookups: usize,
}

#[derive(Debug, clap::Args)]
struct StoreArg {
    /// Store directory [default: `[attribution.nat] store` of the configuration].
    #[arg(long)]
    store: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// Store directory, created if missing [default: `[attribution.nat] store` of the
    /// configuration].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Log dialect: auto, juniper, cisco, a10, f5, nokia, vpp, conntrack, 6wind, citrix.
    #[arg(long, default_value = "auto")]
    vendor: String,
    /// Zone of times written without an offset (IANA name, e.g. Europe/Berlin).
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// Longest a session may live when its close is lost.
    #[arg(long, default_value = "24h")]
    max_session: String,
    /// Longest a port block may live when its release is lost.
    #[arg(long, default_value = "7d")]
    max_block: String,
    /// The devices' interim (PBA active) logging period, when configured.
    #[arg(long)]
    interim: Option<String>,
    /// Log files, in the order written; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct LookupArgs {
    /// Store directory [default: `[attribution.nat] store` of the configuration].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Half-width of the time window around TIME (reporter clock skew) [default:
    /// `[attribution.nat] window`, else 5s].
    #[arg(long)]
    window: Option<String>,
    /// Protocol, when the report says.
    #[arg(long, value_parser = ["tcp", "udp"])]
    proto: Option<String>,
    /// Zone of TIME when it has no offset.
    #[arg(long)]
    tz: Option<String>,
    /// Outside VRF.
    #[arg(long, default_value_t = 0)]
    vrf: u32,
    /// Deterministic NAT configurations (JSON array) to answer by computation too.
    #[arg(long)]
    detnat: Option<PathBuf>,
    /// RADIUS accounting (CSV export with a header row, or FreeRADIUS `detail` file) to name the
    /// subscriber behind each inside address.
    #[arg(long)]
    radius: Vec<PathBuf>,
    /// Outside (public) IPv4 address.
    ip: String,
    /// Source port from the report, or `-` when the report has none.
    port: String,
    /// Time: RFC 3339 (`2026-11-24T04:46:04Z`, `...+01:00`), `YYYY-MM-DD HH:MM:SS` with --tz, or
    /// `@UNIXSECONDS`.
    time: String,
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Store directory [default: `[attribution.nat] store` of the configuration].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Output directory for the Parquet data set.
    #[arg(long)]
    parquet: PathBuf,
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// Store directory [default: `[attribution.nat] store` of the configuration].
    #[arg(long)]
    store: Option<PathBuf>,
    /// Keep this many days back from today (UTC), e.g. 180d.
    #[arg(long, conflicts_with = "before")]
    keep: Option<String>,
    /// Drop every day before this one (YYYY-MM-DD).
    #[arg(long)]
    before: Option<String>,
}

/// Runs `warden nat`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let nat = Config::load(args.config.as_deref())?.attribution.nat;
    let cx = Cx { console, nat };
    match args.command {
        Command::Import(a) => run_import(a, &cx),
        Command::Lookup(a) => run_lookup(a, &cx),
        Command::Stats(a) => run_stats(a, &cx),
        Command::Export(a) => run_export(a, &cx),
        Command::Prune(a) => run_prune(a, &cx),
        Command::Bench(a) => run_bench(a, &cx),
    }
}

/// What every `nat` subcommand gets besides its own arguments.
struct Cx {
    console: Console,
    /// `[attribution.nat]`, when configured.
    nat: Option<NatConfig>,
}

impl Cx {
    /// The store directory: `--store`, else the configured one.
    fn store_dir(&self, flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
        flag.or_else(|| self.nat.as_ref().map(|n| n.store.clone()))
            .context("give --store DIR, or configure [attribution.nat] store (--config, WARDEN_ATTRIBUTION__NAT__STORE)")
    }

    /// Opens a store that must already hold imported logs: a missing or empty directory is a
    /// typo, not a store without coverage.
    fn existing_store(&self, flag: Option<PathBuf>) -> anyhow::Result<(PathBuf, NatStore)> {
        let dir = self.store_dir(flag)?;
        conventions::existing_dir("NAT store", "--store", &dir)?;
        if !dir.join(MANIFEST).is_file() {
            bail!(
                "NAT store {}: not a store (no {MANIFEST}); import logs with `warden nat import --store {}`",
                dir.display(),
                dir.display()
            );
        }
        let store =
            NatStore::open(&dir).with_context(|| format!("opening store {}", dir.display()))?;
        Ok((dir, store))
    }
}

/// Parses a duration flag in the one duration syntax (`500ms`, `5s`, `2m`, `1h`, `7d`).
pub(crate) fn parse_duration(s: &str) -> anyhow::Result<Millis> {
    Ok(warden_attribution::duration::parse_millis(s)?)
}

fn parse_tz(s: &str) -> anyhow::Result<Tz> {
    s.parse::<Tz>().map_err(|_| {
        anyhow::anyhow!("--tz {s:?}: not an IANA time zone name (e.g. UTC, Europe/Berlin)")
    })
}

/// Parses a report time; a time without offset needs a zone (DESIGN rule 4: no guessing).
fn parse_time(s: &str, tz: Option<&str>) -> anyhow::Result<Millis> {
    if let Some(secs) = s.strip_prefix('@') {
        let v: i64 = secs
            .parse()
            .with_context(|| format!("time {s:?}: expected @UNIXSECONDS"))?;
        return v
            .checked_mul(1000)
            .with_context(|| format!("time {s:?} is out of range"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            let Some(tz) = tz else {
                bail!(
                    "time {s:?} has no UTC offset: give one (e.g. {}Z) or name the reporter's zone with --tz; \
                     a zone-less time behind CGN cannot be attributed safely",
                    s.replace(' ', "T")
                );
            };
            let zone = parse_tz(tz)?;
            return match zone.from_local_datetime(&naive) {
                chrono::LocalResult::Single(t) => Ok(t.timestamp_millis()),
                chrono::LocalResult::Ambiguous(a, b) => bail!(
                    "time {s:?} happens twice in {tz} (DST change: {} or {}); give an offset",
                    a.to_rfc3339(),
                    b.to_rfc3339()
                ),
                chrono::LocalResult::None => bail!("time {s:?} does not exist in {tz} (DST gap)"),
            };
        }
    }
    bail!(
        "time {s:?}: expected RFC 3339 (2026-11-24T04:46:04Z), `YYYY-MM-DD HH:MM:SS` with --tz, or @UNIXSECONDS"
    )
}

fn fmt_ms(ms: Millis) -> String {
    Utc.timestamp_millis_opt(ms).single().map_or_else(
        || format!("{ms}ms"),
        |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    )
}

fn run_import(a: ImportArgs, cx: &Cx) -> anyhow::Result<ExitCode> {
    let store_dir = cx.store_dir(a.store.clone())?;
    let vendor: Vendor = a
        .vendor
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--vendor: {e}"))?;
    let tz = parse_tz(&a.tz)?;
    let pair = PairConfig {
        max_session_ms: parse_duration(&a.max_session).context("--max-session")?,
        max_block_ms: parse_duration(&a.max_block).context("--max-block")?,
        interim_period_ms: a
            .interim
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--interim")?,
    };
    let inputs: Vec<Input> = a.files.iter().map(|f| Input::from_arg(f)).collect();
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("`-` (standard input) can be given only once");
    }
    // A named log that is not there is an input error (exit 2) before anything is imported; a
    // file that fails half-way is a partial import (exit 1).
    for i in &inputs {
        if let Input::Path(p) = i
            && std::fs::metadata(p).is_err()
        {
            bail!("{}: no such file", p.display());
        }
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .sum();
    let bar = conventions::progress(total, conventions::BYTES);
    let now = Utc::now().timestamp();
    let mut parser = VendorParser {
        ctx: ParseContext::new(vendor, tz, now),
    };
    let opts = ImportOptions {
        pair,
        ..ImportOptions::default()
    };
    let summary = import(&store_dir, &inputs, &mut parser, &opts, &mut |n| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    })
    .with_context(|| format!("importing into {}", store_dir.display()))?;
    conventions::finish(bar);
    if cx.console.json {
        cx.console.print_json(&summary)?;
    } else {
        print_summary(&summary);
    }
    let partial = summary.rejects > 0 || summary.files.iter().any(|f| f.read_error.is_some());
    Ok(conventions::exit_for(partial))
}

fn print_summary(s: &ImportSummary) {
    println!("import generation {}", s.generation);
    for f in &s.files {
        println!(
            "  {}: {} lines, {} events, {} rejected, {} not NAT{}",
            f.path,
            f.lines,
            f.events,
            f.rejects,
            f.not_nat,
            f.read_error
                .as_ref()
                .map_or(String::new(), |e| format!(", STOPPED: {e}"))
        );
    }
    println!(
        "lines {}  events {}  intervals stored {}  still open {}",
        s.lines, s.events, s.intervals, s.pending
    );
    println!(
        "releases without allocation {}  ends inferred {}",
        s.pairing.orphan_closes, s.pairing.inferred_ends
    );
    if s.rejects > 0 {
        println!("rejected lines: {}", s.rejects);
        for (reason, n) in &s.reject_reasons {
            println!("  {n:>8}  {reason}");
        }
        for r in s.reject_samples.iter().take(20) {
            println!("  {}:{}: {}", r.path, r.line, r.reason);
        }
    }
    if !s.gaps.is_empty() {
        println!("sequence gaps (possible log loss): {}", s.gaps.len());
        for g in s.gaps.iter().take(20) {
            println!(
                "  {} seq {} -> {} between {} and {}",
                g.exporter.as_deref().unwrap_or("-"),
                g.after_seq,
                g.next_seq,
                fmt_ms(g.from_ms),
                fmt_ms(g.to_ms)
            );
        }
    }
}

fn run_lookup(a: LookupArgs, cx: &Cx) -> anyhow::Result<ExitCode> {
    let ip: Ipv4Addr = a.ip.parse().with_context(|| {
        format!(
            "IP {:?}: expected an IPv4 address such as 198.51.100.7",
            a.ip
        )
    })?;
    let port = match a.port.as_str() {
        "-" => None,
        p => Some(p.parse::<u16>().with_context(|| {
            format!("PORT {p:?}: expected 0-65535, or - when the report has none")
        })?),
    };
    let time_ms = parse_time(&a.time, a.tz.as_deref())?;
    let window = a
        .window
        .clone()
        .or_else(|| cx.nat.as_ref().map(|n| n.window.clone()))
        .unwrap_or_else(|| "5s".into());
    let window_ms = parse_duration(&window).context("--window")?;
    let proto = a.proto.as_deref().map(|p| if p == "udp" { 17 } else { 6 });
    let (_, store) = cx.existing_store(a.store.clone())?;
    let q = Query {
        vrf: a.vrf,
        ip,
        port,
        proto,
        time_ms,
        window_ms,
    };
    let det = match &a.detnat {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(
                warden_attribution::detnat::DetConfigSet::from_json(&text)
                    .with_context(|| format!("deterministic NAT configuration {}", p.display()))?,
            )
        }
        None => None,
    };
    let radius = if a.radius.is_empty() {
        None
    } else {
        let zone = parse_tz(a.tz.as_deref().unwrap_or("UTC"))?;
        let mut records = Vec::new();
        for (i, p) in a.radius.iter().enumerate() {
            let meta = std::fs::metadata(p).with_context(|| format!("reading {}", p.display()))?;
            if meta.len() > MAX_RADIUS_BYTES {
                bail!(
                    "{}: {} bytes is over the {MAX_RADIUS_BYTES}-byte limit for accounting files",
                    p.display(),
                    meta.len()
                );
            }
            let data = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let file = u32::try_from(i).unwrap_or(u32::MAX);
            let res = if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
                warden_attribution::radius::read_csv(&data, file, zone)
            } else {
                warden_attribution::radius::read_detail(&data, file, zone)
            };
            for e in res.errors.iter().take(5) {
                cx.console.note(&format!("warden: {}: {e}", p.display()));
            }
            records.extend(res.records);
        }
        Some(warden_attribution::radius::SubscriberIndex::build(records))
    };
    let sources = Sources {
        detnat: det.as_ref(),
        radius: radius.as_ref(),
    };
    let ans = resolve_with(&store, &q, true, sources)?;
    if cx.console.json {
        cx.console.print_json(&ans)?;
    } else {
        print_attribution(&ans);
    }
    Ok(conventions::exit_for(ans.unique().is_none()))
}

fn print_attribution(a: &NatAttribution) {
    let q = &a.query;
    println!(
        "{}:{} at {} ± {} ms{}",
        q.ip,
        q.port.map_or("-".into(), |p| p.to_string()),
        fmt_ms(q.time_ms),
        q.window_ms,
        q.proto.map_or(String::new(), |p| format!(" proto {p}"))
    );
    if a.candidates.is_empty() {
        println!("no candidate");
    }
    for (i, c) in a.candidates.iter().enumerate() {
        let iv = &c.interval;
        println!(
            "#{} inside {}{}{}  ports {}-{}  {} .. {}  (start {:?}, end {}){}",
            i + 1,
            c.inside_ip,
            c.b4_ipv6.map_or(String::new(), |b| format!(" b4 {b}")),
            c.subscriber_id
                .as_ref()
                .map_or(String::new(), |s| format!(" subscriber {s}")),
            iv.port_lo,
            iv.port_hi,
            fmt_ms(iv.start_ms),
            fmt_ms(iv.end_ms),
            iv.start_kind,
            end_name(iv.end_kind),
            if c.inferred { "  [inferred]" } else { "" }
        );
        if let CandidateSource::Deterministic { config } = &c.source {
            println!(
                "    deterministic NAT, configuration {config:?} (no log line: the configuration is the evidence)"
            );
        }
        for s in &c.subscribers {
            println!(
                "    subscriber {} (session {}, calling station {}) from {}{}",
                s.user_name.as_deref().unwrap_or("?"),
                s.session_id.as_deref().unwrap_or("-"),
                s.calling_station_id.as_deref().unwrap_or("-"),
                fmt_ms(s.start_ms),
                s.end_ms.map_or(" (still open)".to_string(), |e| format!(
                    " to {}",
                    fmt_ms(e)
                ))
            );
        }
        for e in &c.evidence {
            let path = e.path.as_deref().unwrap_or("?");
            match (&e.text, &e.unreadable) {
                (Some(t), _) => println!(
                    "    {} {}:{} @{}: {}",
                    e.role, path, e.line, t.offset, t.text
                ),
                (None, Some(why)) => println!("    {} {}:{} ({why})", e.role, path, e.line),
                (None, None) => println!("    {} {}:{}", e.role, path, e.line),
            }
        }
    }
    println!(
        "{}",
        if a.unique().is_some() {
            "answer: one holder".to_string()
        } else if a.ambiguous {
            "answer: AMBIGUOUS".to_string()
        } else {
            "answer: no single holder".to_string()
        }
    );
    for d in &a.doubts {
        let msg = match d {
            Doubt::NoPort => "no source port given: every holder of the address in the window is listed; ask the reporter for the source port".to_string(),
            Doubt::NoCoverage => "no imported log covers this time: import the logs of that period".to_string(),
            Doubt::Retention { kept_from } => format!("logs before {kept_from} were dropped by retention"),
            Doubt::LogGap { exporter, after_seq, next_seq } => format!(
                "{} lost records around then (sequence {after_seq} -> {next_seq}): the holder may be missing",
                exporter.as_deref().unwrap_or("an exporter")
            ),
            Doubt::SeveralHolders { holders } => format!("{holders} different holders meet the window: narrow the window or add the protocol"),
            Doubt::InferredBounds => "an interval's end was inferred (its release was lost, or it is still open at the end of the imported logs)".to_string(),
            Doubt::NoHolder => "logs cover this time but nobody held this port".to_string(),
            Doubt::SeveralSubscribers => "accounting names several subscriber sessions for one inside address".to_string(),
            Doubt::NoSubscriber => "accounting names no subscriber for an inside address".to_string(),
        };
        println!("  - {msg}");
    }
}

fn run_stats(a: StoreArg, cx: &Cx) -> anyhow::Result<ExitCode> {
    let (_, store) = cx.existing_store(a.store)?;
    let m = store.manifest();
    let mut days: Vec<&str> = m.segments.iter().map(|s| s.day.as_str()).collect();
    days.sort_unstable();
    days.dedup();
    let rows = store.rows();
    let bytes = store.bytes();
    let cov = coverage(m);
    let stats = serde_json::json!({
        "generation": m.generation,
        "intervals": rows,
        "pending": store.pending().len(),
        "segments": m.segments.len(),
        "segment_bytes": bytes,
        "bytes_per_interval": if rows > 0 { bytes as f64 / rows as f64 } else { 0.0 },
        "days": days,
        "files": m.files.len(),
        "lines": m.files.iter().map(|f| f.lines).sum::<u64>(),
        "gaps": m.gaps.len(),
        "coverage": cov.iter().map(|&(a, b)| [fmt_ms(a), fmt_ms(b)]).collect::<Vec<_>>(),
        "retained_from_day": m.retained_from_day,
    });
    if cx.console.json {
        cx.console.print_json(&stats)?;
    } else {
        println!("generation     {}", m.generation);
        println!(
            "intervals      {rows} stored, {} still open",
            store.pending().len()
        );
        println!(
            "segments       {} ({} bytes, {:.2} bytes/interval)",
            m.segments.len(),
            bytes,
            if rows > 0 {
                bytes as f64 / rows as f64
            } else {
                0.0
            }
        );
        println!("days           {}", days.join(" "));
        println!(
            "files          {} ({} lines)",
            m.files.len(),
            m.files.iter().map(|f| f.lines).sum::<u64>()
        );
        println!("sequence gaps  {}", m.gaps.len());
        for (a, b) in cov {
            println!("coverage       {} .. {}", fmt_ms(a), fmt_ms(b));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_export(a: ExportArgs, cx: &Cx) -> anyhow::Result<ExitCode> {
    let (_, store) = cx.existing_store(a.store)?;
    let bar = conventions::spinner(&format!("exporting to {}", a.parquet.display()));
    let s = export_parquet(&store, &a.parquet);
    conventions::finish(bar);
    let s = s?;
    if cx.console.json {
        cx.console.print_json(&s)?;
    } else {
        println!(
            "{} rows, {} bytes, {} files under {}",
            s.rows,
            s.bytes,
            s.files.len(),
            a.parquet.display()
        );
        for f in &s.files {
            println!("  {f}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_bench(a: BenchArgs, cx: &Cx) -> anyhow::Result<ExitCode> {
    let args = bench::BenchArgs {
        dir: a.dir,
        pba_intervals: a.pba_intervals,
        session_intervals: a.session_intervals,
        store_intervals: a.store_intervals,
        lookups: a.lookups,
        duckdb_lookups: a.duckdb_lookups,
        zgrep_lookups: a.zgrep_lookups,
    };
    let report = bench::run(&args, &mut |v| cx.console.note(&v.to_string()))
        .map_err(|e| anyhow::anyhow!("benchmark: {e}"))?;
    // The report is JSON whether or not --json is given: it is read by scripts and notes.
    cx.console.print_json(&report)?;
    Ok(ExitCode::SUCCESS)
}

fn run_prune(a: PruneArgs, cx: &Cx) -> anyhow::Result<ExitCode> {
    let (dir, _) = cx.existing_store(a.store)?;
    let day = match (a.keep, a.before) {
        (_, Some(d)) => d,
        (Some(k), None) => {
            let keep = parse_duration(&k).context("--keep")?;
            let cutoff = Utc::now().timestamp_millis() - keep;
            warden_attribution::store::day_name(warden_attribution::store::day_of(cutoff))
        }
        (None, None) => bail!("give --keep (e.g. 180d) or --before YYYY-MM-DD"),
    };
    let out = drop_partitions_before(&dir, &day)?;
    if cx.console.json {
        cx.console.print_json(&serde_json::json!({
            "before": day,
            "days": out.days,
            "segments": out.segments,
            "intervals": out.rows,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "dropped {} day(s), {} segment(s), {} interval(s) before {day}",
        out.days.len(),
        out.segments,
        out.rows
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), 5000);
        assert_eq!(parse_duration("250ms").unwrap(), 250);
        assert_eq!(parse_duration("7d").unwrap(), 7 * 86_400_000);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("@1", None).unwrap(), 1000);
        assert_eq!(parse_time("1970-01-01T00:00:01Z", None).unwrap(), 1000);
        assert_eq!(parse_time("1970-01-01T01:00:01+01:00", None).unwrap(), 1000);
        let e = parse_time("2026-11-24 04:46:04", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no UTC offset"), "{e}");
        assert_eq!(
            parse_time("2026-11-24 05:46:04", Some("Europe/Berlin")).unwrap(),
            parse_time("2026-11-24T04:46:04Z", None).unwrap()
        );
        assert!(parse_time("yesterday", None).is_err());
    }
}
