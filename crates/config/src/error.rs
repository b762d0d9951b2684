//! Why a configuration was refused. Every variant names where the bad value came from (the file
//! and line, or the environment variable) so the message alone tells the operator what to edit.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of the configuration file (1-based); `None` when the parser gave no position.
    File {
        /// The file as given.
        path: PathBuf,
        /// The line of the offending key.
        line: Option<usize>,
    },
    /// A `WARDEN_*` environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// The file merged with the environment: the value may come from either.
    Merged,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(l),
            } => write!(f, "{} line {l}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Merged => f.write_str("configuration file with WARDEN_* variables"),
        }
    }
}

/// Whether an unknown name is a table header or a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `[name]` or `[parent.name]`.
    Table,
    /// `name = value`.
    Key,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Table => "table",
            KeyKind::Key => "key",
        })
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A table or key the schema does not have (a misspelling, most often).
    #[error("{origin}: unknown {kind} `{key}`{}", suggestion_text(suggestion.as_deref()))]
    Unknown {
        /// Where it was written.
        origin: Origin,
        /// Table or key.
        kind: KeyKind,
        /// The name as written.
        key: String,
        /// The closest valid name, when one is close.
        suggestion: Option<String>,
    },
    /// Not TOML, or a value of the wrong type or range.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where it was written.
        origin: Origin,
        /// What is wrong, in the parser's words.
        message: String,
    },
    /// Every key is known and well typed, but a table's values do not make sense together.
    #[error("[{table}]: {message}")]
    Table {
        /// The table, dotted (`attribution.nat`).
        table: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The desk store could not be opened.
    #[error("{what}: {source}")]
    Store {
        /// Which store (the SQLite directory or the database URL, password hidden).
        what: String,
        /// The desk's reason.
        source: warden_desk::DeskError,
    },
    /// A command that only reads a store was pointed at one that does not exist.
    #[error(
        "{}: no desk store here (no desk.sqlite3); check --data or [serve] data, or import something first",
        dir.display()
    )]
    NoStore {
        /// The data directory.
        dir: PathBuf,
    },
}

fn suggestion_text(s: Option<&str>) -> String {
    s.map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
}
