//! `warden __commands`: the command tree as JSON, walked from clap's own definition, so a test
//! can hold every command to the conventions and a new command is covered the day it is added.

use clap::CommandFactory;
use serde_json::{Value, json};
use std::process::ExitCode;

use crate::conventions::Console;

/// Prints every runnable command (a leaf of the tree) with its arguments.
pub fn run<C: CommandFactory>(console: Console) -> anyhow::Result<ExitCode> {
    let mut root = C::command();
    root.build();
    let mut leaves = Vec::new();
    walk(&root, &mut Vec::new(), &mut leaves);
    if console.json {
        console.print_json(&leaves)?;
    } else {
        for l in &leaves {
            if let Some(path) = l["path"].as_array() {
                let words: Vec<&str> = path.iter().filter_map(Value::as_str).collect();
                println!("{}", words.join(" "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Value>) {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    if subs.is_empty() && !path.is_empty() {
        let args: Vec<Value> = cmd
            .get_arguments()
            .filter(|a| a.get_id() != "help" && a.get_id() != "version")
            .map(|a| {
                json!({
                    "id": a.get_id().as_str(),
                    "long": a.get_long(),
                    "positional": a.is_positional(),
                    "required": a.is_required_set(),
                    "global": a.is_global_set(),
                })
            })
            .collect();
        out.push(json!({"path": path.clone(), "args": args}));
    }
    for s in subs {
        path.push(s.get_name().to_owned());
        walk(s, path, out);
        path.pop();
    }
}
