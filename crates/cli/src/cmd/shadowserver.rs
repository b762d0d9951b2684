//! `warden shadowserver schema FILE [--json]`: compare a Shadowserver schema file with the one
//! Warden ships.
//!
//! Shadowserver adds report types every few months. Before pointing `[reports]
//! shadowserver_schema` at a newer file, an operator wants to know what it changes: which types
//! are new (and which of those have no class in the reviewed table yet, so their events will say
//! `needs_mapping`), which changed columns, which are gone. Exit 0 when the file describes the
//! same types as the shipped schema, 1 when it differs, 2 when it cannot be read.

use crate::conventions::Console;
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use warden_reports::formats::shadowserver::{
    Mapping, Schema, SchemaDiff, schema::BUILTIN_SCHEMA_DATE,
};

/// Arguments of `warden shadowserver`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Check a Shadowserver schema file and list new, changed and removed report types against
    /// the shipped schema.
    Schema {
        /// The schema file (Shadowserver's JSON, as IntelMQ downloads it).
        file: PathBuf,
    },
}

/// One new type and what Warden would make of it.
#[derive(Serialize)]
struct NewType {
    name: String,
    title: String,
    classification: Option<String>,
    class: String,
    needs_mapping: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    shipped_schema: &'static str,
    types: usize,
    same: bool,
    added: Vec<NewType>,
    changed: &'a [warden_reports::formats::shadowserver::TypeChange],
    removed: &'a [String],
}

/// Reads a Shadowserver schema file and builds the mapping over it, with the reviewed class table
/// shipped in this build; errors name the file and say what is wrong with it.
fn load(file: &std::path::Path) -> anyhow::Result<(Schema, Mapping)> {
    let shown = file.display();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {shown}"))?;
    let schema = Schema::from_json(&bytes).with_context(|| format!("{shown} is not usable"))?;
    let mapping = Mapping::with_schema(&schema)
        .with_context(|| format!("{shown}: the shipped table does not fit it"))?;
    Ok((schema, mapping))
}

/// The mapping for `[reports] shadowserver_schema = FILE`: what every command that parses
/// reports uses instead of the built-in schema.
pub fn mapping_from_file(file: &std::path::Path) -> anyhow::Result<Mapping> {
    load(file)
        .map(|(_, mapping)| mapping)
        .with_context(|| "[reports] shadowserver_schema".to_string())
}

/// Runs `warden shadowserver`.
pub fn run(args: Args, console: Console) -> anyhow::Result<ExitCode> {
    let Sub::Schema { file } = args.command;
    let shown = file.display().to_string();
    let (schema, mapping) = load(&file)?;
    let diff: SchemaDiff = Schema::builtin().diff(&schema);
    let added = diff
        .added
        .iter()
        .filter_map(|name| {
            let t = schema.get(name)?;
            let r = mapping.get(name)?;
            Some(NewType {
                name: name.clone(),
                title: t.title.clone(),
                classification: t.classification.clone(),
                class: r.class.as_str().to_owned(),
                needs_mapping: r.needs_mapping,
            })
        })
        .collect::<Vec<_>>();
    let report = Report {
        file: shown.clone(),
        shipped_schema: BUILTIN_SCHEMA_DATE,
        types: schema.types().len(),
        same: diff.is_empty(),
        added,
        changed: &diff.changed,
        removed: &diff.removed,
    };
    if console.json {
        console.print_json(&report)?;
    } else {
        print_text(&report);
    }
    Ok(crate::conventions::exit_for(!report.same))
}

fn print_text(r: &Report<'_>) {
    println!(
        "{}: {} report types; shipped schema retrieved {}",
        r.file, r.types, r.shipped_schema
    );
    if r.same {
        println!("same report types and columns as the shipped schema");
        return;
    }
    if !r.added.is_empty() {
        println!("\nnew types ({}):", r.added.len());
        for t in &r.added {
            let flag = if t.needs_mapping {
                "  (no class in the reviewed table: events will say needs_mapping)"
            } else {
                ""
            };
            println!("  {:<36} {:<40} -> {}{flag}", t.name, t.title, t.class);
        }
    }
    if !r.changed.is_empty() {
        println!("\nchanged types ({}):", r.changed.len());
        for c in r.changed {
            let mut what = Vec::new();
            if !c.fields_added.is_empty() {
                what.push(format!("columns added: {}", c.fields_added.join(", ")));
            }
            if !c.fields_removed.is_empty() {
                what.push(format!("columns removed: {}", c.fields_removed.join(", ")));
            }
            if c.order_changed {
                what.push("column order changed".to_owned());
            }
            if c.classification_changed {
                what.push("classification changed".to_owned());
            }
            if c.title_changed {
                what.push("name changed".to_owned());
            }
            println!("  {:<36} {}", c.name, what.join("; "));
        }
    }
    if !r.removed.is_empty() {
        println!("\nremoved types ({}):", r.removed.len());
        for name in r.removed {
            println!("  {name}  (files named for it are still read by the shipped table)");
        }
    }
}
