//! `warden parse PATH...`: any abuse report into normalized records.
//!
//! Output: JSON lines (`--json`, and the default when stdout is not a terminal), a table on a
//! terminal, or counts with `--summary`. Every input that fails is named on stderr with its file,
//! message number and reason, and the rest of the batch is still parsed. Exit 0 when all parsed,
//! 1 when some input failed, 2 on a usage error.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;
use warden_reports::formats::shadowserver::Mapping;
use warden_reports::{Limits, ParseError, ParseOptions, Record, registry};

use crate::input::{self, Input, Origin};

/// Arguments of `warden parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files, directories, mbox files, Maildirs, or `-` for stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print counts by format, class and missing field instead of the records (as one JSON
    /// object with `--json` or when stdout is not a terminal).
    #[arg(long)]
    summary: bool,
    /// Force one format instead of detecting it (e.g. `arf`, `shadowserver`).
    #[arg(long, value_name = "NAME")]
    format: Option<String>,
    /// Largest accepted input in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_input)]
    max_size: usize,
    /// warden.toml: its `[reports] shadowserver_schema` (a newer Shadowserver schema) is used
    /// instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Counts for `--summary`.
#[derive(Default)]
struct Summary {
    inputs: usize,
    failed: usize,
    by_format: BTreeMap<String, usize>,
    by_class: BTreeMap<String, usize>,
    missing: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
}

/// Runs `warden parse`.
pub fn run(args: Args, console: crate::conventions::Console) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_input: args.max_size,
        ..Limits::default()
    };
    let forced = match &args.format {
        Some(name) => Some(registry::by_name(name).with_context(|| {
            let known: Vec<_> = registry::FORMATS.iter().map(|f| f.name).collect();
            format!(
                "unknown format {name:?}; known formats: {}",
                known.join(", ")
            )
        })?),
        None => None,
    };
    let config = warden_config::Config::load(args.config.as_deref())?;
    let loaded = match &config.reports.shadowserver_schema {
        Some(file) => Some(super::shadowserver::mapping_from_file(file)?),
        None => None,
    };
    let mapping = loaded.as_ref().unwrap_or_else(|| Mapping::builtin());
    // A path named on the command line that is not there is a usage error (exit 2), unlike a
    // file inside a named directory that cannot be read (reported, the rest parsed, exit 1).
    for p in &args.paths {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    let stdout = std::io::stdout();
    let as_json = console.json || !stdout.is_terminal();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::default();
    let mut table: Vec<[String; 7]> = Vec::new();

    let inputs = input::collect(&args.paths, limits.max_input);
    let bar = crate::conventions::progress(inputs.len() as u64, crate::conventions::ITEMS);
    for input in inputs {
        if let Some(b) = &bar {
            b.inc(1);
        }
        summary.inputs += 1;
        let (origin, bytes) = match input {
            Input::Report(o, b, warning) => {
                if let Some(w) = warning {
                    // Parsed all the same (nothing dropped), but the batch is not clean.
                    summary.failed += 1;
                    *summary.errors.entry("truncated".into()).or_default() += 1;
                    eprintln!("warden parse: {o}: {w}");
                }
                (o, b)
            }
            Input::Error(o, reason) => {
                summary.failed += 1;
                *summary.errors.entry("unreadable".into()).or_default() += 1;
                eprintln!("warden parse: {o}: {reason}");
                continue;
            }
        };
        let result = catch_unwind(AssertUnwindSafe(|| match forced {
            Some(f) => (f.parse)(&bytes, &limits),
            // The file name decides a Shadowserver feed's report type before any sniffing
            // (`2026-03-24-scan_imap-….csv` and `…-scan_pop3-….csv` share their columns).
            None => {
                let name = (origin.path != "-").then_some(origin.path.as_str());
                let options = ParseOptions {
                    limits: &limits,
                    file_name: name,
                    shadowserver: mapping,
                };
                registry::parse_with_options(&bytes, &options)
            }
        }))
        .unwrap_or_else(|_| {
            Err(ParseError::malformed(
                "internal",
                "the parser panicked on this input; it was skipped (please report it with the input)",
            ))
        });
        match result {
            Ok(records) => {
                for record in &records {
                    count(&mut summary, record);
                    if args.summary {
                        continue;
                    }
                    if as_json {
                        writeln!(out, "{}", json_line(record, &origin)?)?;
                    } else {
                        table.push(table_row(record, &origin));
                    }
                }
            }
            Err(e) => {
                summary.failed += 1;
                *summary.errors.entry(format!("{:?}", e.kind)).or_default() += 1;
                eprintln!("warden parse: {origin}: {e}");
            }
        }
    }

    crate::conventions::finish(bar);
    if args.summary {
        print_summary(&mut out, &summary, as_json)?;
    } else if !as_json {
        print_table(&mut out, &table)?;
    }
    out.flush()?;
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The record's JSON with a `source` object naming the input it came from.
fn json_line(record: &Record, origin: &Origin) -> anyhow::Result<String> {
    let mut v = serde_json::to_value(record)?;
    if let Value::Object(map) = &mut v {
        let mut src = serde_json::Map::new();
        src.insert("path".into(), Value::String(origin.path.clone()));
        if let Some(n) = origin.message {
            src.insert("message".into(), Value::from(n));
        }
        map.insert("source".into(), Value::Object(src));
    }
    Ok(serde_json::to_string(&v)?)
}

fn count(s: &mut Summary, record: &Record) {
    match record {
        Record::Event(e) => {
            *s.by_format
                .entry(e.source_format.as_str().into())
                .or_default() += 1;
            *s.by_class.entry(e.class.as_str().into()).or_default() += 1;
            for m in &e.missing {
                let name = serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *s.missing.entry(name).or_default() += 1;
            }
        }
        Record::Dmarc(_) => *s.by_format.entry("dmarc".into()).or_default() += 1,
        Record::TlsRpt(_) => *s.by_format.entry("tlsrpt".into()).or_default() += 1,
    }
}

fn table_row(record: &Record, origin: &Origin) -> [String; 7] {
    match record {
        Record::Event(e) => [
            e.source_format.as_str().into(),
            e.class.as_str().into(),
            e.subject
                .ip
                .map(|i| i.to_string())
                .or_else(|| e.subject.url.clone())
                .or_else(|| e.subject.domain.clone())
                .or_else(|| e.subject.email.clone())
                .unwrap_or_else(|| "-".into()),
            e.subject
                .port
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            e.observed
                .map(|t| {
                    let z = if t.zone_given { "" } else { " (zone?)" };
                    format!("{}{z}", t.utc.format("%Y-%m-%d %H:%M:%SZ"))
                })
                .unwrap_or_else(|| "-".into()),
            if e.missing.is_empty() {
                "-".into()
            } else {
                e.missing
                    .iter()
                    .filter_map(|m| serde_json::to_value(m).ok())
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
                    .join(",")
            },
            origin.to_string(),
        ],
        Record::Dmarc(_) => dash_row("dmarc", "aggregate report", origin),
        Record::TlsRpt(_) => dash_row("tlsrpt", "TLS report", origin),
    }
}

fn dash_row(format: &str, what: &str, origin: &Origin) -> [String; 7] {
    [
        format.into(),
        what.into(),
        "-".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        origin.to_string(),
    ]
}

/// Prints a plain aligned table. Cells are reporter-controlled: control characters are replaced
/// so a report cannot drive the terminal (escape sequences) or break the layout.
fn print_table(out: &mut impl Write, rows: &[[String; 7]]) -> anyhow::Result<()> {
    const HEAD: [&str; 7] = [
        "FORMAT",
        "CLASS",
        "SUBJECT",
        "PORT",
        "OBSERVED (UTC)",
        "MISSING",
        "SOURCE",
    ];
    let clean = |s: &str| -> String {
        let s: String = s
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        if s.chars().count() > 60 {
            s.chars().take(57).chain("...".chars()).collect()
        } else {
            s
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths = HEAD.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < cells.len() {
                s.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(c.chars().count()),
                ));
            }
        }
        writeln!(out, "{s}")
    };
    line(out, &HEAD)?;
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(out, &cells)?;
    }
    writeln!(out, "{} record(s)", rows.len())?;
    Ok(())
}

fn print_summary(out: &mut impl Write, s: &Summary, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let v = serde_json::json!({
            "inputs": s.inputs,
            "failed": s.failed,
            "records_by_format": s.by_format,
            "events_by_class": s.by_class,
            "missing": s.missing,
            "errors": s.errors,
        });
        writeln!(out, "{v}")?;
        return Ok(());
    }
    writeln!(out, "inputs: {}  failed: {}", s.inputs, s.failed)?;
    for (title, map) in [
        ("records by format", &s.by_format),
        ("events by class", &s.by_class),
        ("events missing for attribution", &s.missing),
        ("failures by reason", &s.errors),
    ] {
        writeln!(out, "\n{title}:")?;
        if map.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for (k, n) in map {
            writeln!(out, "  {k:<24} {n:>8}")?;
        }
    }
    Ok(())
}
