//! The promises every `warden` command keeps, in one place so that a new command keeps them by
//! using this module rather than by copying another command:
//!
//! - `--json` (a global flag: every command and subcommand has it) prints machine-readable
//!   output on stdout; messages on stderr become JSON lines too ([`Console`]).
//! - Exit codes: [`OK`] when all is well, [`FINDINGS`] when the command found problems or did
//!   only part of the work, [`USAGE`] for a usage or input error (bad flag, missing file,
//!   unreadable or invalid configuration). `main` maps every error to [`USAGE`].
//! - Progress bars only when stderr is a terminal ([`progress`], [`spinner`]), so pipes, logs and
//!   tests never see control characters.
//! - A store a command only reads must exist ([`existing_dir`]); only commands that create
//!   stores may start from nothing.

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Everything went well.
pub const OK: u8 = 0;
/// Findings, or part of the work failed (the rest was done).
pub const FINDINGS: u8 = 1;
/// Usage or input error: nothing (useful) was done.
pub const USAGE: u8 = 2;

/// [`FINDINGS`] when `found`, else [`OK`].
pub fn exit_for(found: bool) -> ExitCode {
    ExitCode::from(if found { FINDINGS } else { OK })
}

/// How a command writes: chosen once from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    /// `--json` was given.
    pub json: bool,
}

impl Console {
    /// A message for people on stderr; a JSON line (`{"level":"info","message":...}`) with
    /// `--json`, so a log collector reads every line the same way.
    pub fn note(&self, message: &str) {
        if self.json {
            eprintln!(
                "{}",
                serde_json::json!({"level": "info", "message": message})
            );
        } else {
            eprintln!("{message}");
        }
    }

    /// Prints `value` on stdout as one pretty JSON document.
    pub fn print_json(&self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }
}

/// Whether progress may be drawn: only for a person watching a terminal.
fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar over `total` units (`{bytes}` or `{pos}` in `template`), or none when stderr is not a
/// terminal.
pub fn progress(total: u64, template: &str) -> Option<ProgressBar> {
    interactive().then(|| {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    })
}

/// The template of a bar counted in bytes.
pub const BYTES: &str =
    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})";
/// The template of a bar counted in items.
pub const ITEMS: &str = "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})";

/// A ticking spinner with `message` for work whose size is not known beforehand (a library call
/// that reports no progress), or none when stderr is not a terminal.
pub fn spinner(message: &str) -> Option<ProgressBar> {
    interactive().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_message(message.to_owned());
        b.enable_steady_tick(Duration::from_millis(120));
        b
    })
}

/// Clears a bar or spinner, if there is one.
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// Refuses a store directory that does not exist, for commands that only read: opening it would
/// answer from an empty store ("nothing covers this time") instead of naming the typo.
pub fn existing_dir(what: &str, flag: &str, dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!("{what} {}: no such directory (check {flag})", dir.display());
    }
    Ok(())
}

/// `tracing` events as JSON lines (`{"level","target","message",...fields}`) for `--json` on
/// long-running commands, so their logs read the same way as their messages.
pub struct JsonLines;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields(serde_json::Map::new());
        event.record(&mut fields);
        let mut line = fields.0;
        line.insert(
            "level".into(),
            meta.level().as_str().to_ascii_lowercase().into(),
        );
        line.insert("target".into(), meta.target().into());
        writeln!(writer, "{}", serde_json::Value::Object(line))
    }
}

/// Collects an event's fields into a JSON object.
struct Fields(serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}
