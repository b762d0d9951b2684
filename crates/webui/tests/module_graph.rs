//! The crate's modules form no cycle: pages depend on the shared state (`state`), the request
//! checks (`extract`), the layout and the desk, and the router (`routes`) on the pages, never
//! the other way round. A cycle makes every module of it a dependency of every other one, which
//! is how the old `routes.rs` (the shared state beside the router) tied eight modules together.
//!
//! The graph is read from the source: every `crate::<module>` path and every `use crate::{...}`
//! group in `src/*.rs`, outside comments and the `#[cfg(test)]` module at the end of a file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The source without comment lines and without the trailing `#[cfg(test)]` module.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]") {
        Some(i) => &source[..i],
        None => source,
    };
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` names through `crate::`, among `modules`.
fn references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first segment of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        out.insert(ident(&group[j..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| modules.contains(m));
    out
}

/// The module graph of the `.rs` files directly in `src` (`lib.rs` is the root, not a node).
fn graph_of(src: &Path) -> Graph {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("src directory") {
        let path = entry.expect("directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            let text = std::fs::read_to_string(&path).expect("source file");
            files.insert(name.to_owned(), text);
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(m, text)| {
            let mut refs = references(&code_of(text), &modules);
            refs.remove(m);
            (m.clone(), refs)
        })
        .collect()
}

/// A cycle of `g` as its modules in order (first repeated at the end), if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        m: &str,
        g: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(m.to_owned(), Mark::OnPath);
        path.push(m.to_owned());
        for next in g.get(m).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::OnPath => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, g, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(m.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for m in g.keys() {
        if marks.get(m.as_str()).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(c) = visit(m, g, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn webui_modules_form_no_cycle() {
    let g = graph_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // The graph is really read: the router mounts the pages.
    assert!(
        g.get("routes")
            .is_some_and(|r| r.contains("queue") && r.contains("state")),
        "routes should reference queue and state: {g:?}"
    );
    if let Some(cycle) = find_cycle(&g) {
        panic!(
            "module cycle in crates/webui/src: {}; move what the modules share into a module \
             below them (as `state` and `extract` are)",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_reader_sees_use_groups_and_paths_and_finds_cycles() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d"].map(String::from).into();
    let code = code_of(
        "use crate::{a::X, b, other};\n// crate::d only in a comment\nfn f() { crate::c::g() }\n\
         #[cfg(test)]\nmod tests { use crate::d; }",
    );
    assert_eq!(
        references(&code, &modules),
        ["a", "b", "c"].map(String::from).into()
    );
    let mut g = Graph::new();
    g.insert("a".into(), ["b".into()].into());
    g.insert("b".into(), ["c".into()].into());
    g.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&g), None);
    g.insert("c".into(), ["a".into()].into());
    assert_eq!(
        find_cycle(&g),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
}
