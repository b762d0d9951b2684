//! `warden-config`: the one typed `warden.toml`.
//!
//! Every command that reads configuration (`serve`, `import`, `inventory`, `nat`, `config
//! check`) loads it through [`Config::load`], so a key means the same thing everywhere and a
//! misspelt one is refused everywhere, with the file, the line and the closest valid name:
//!
//! ```text
//! warden.toml line 12: unknown table `atribution`; did you mean `attribution`?
//! ```
//!
//! # Layers
//!
//! 1. the file (`--config FILE` or `WARDEN_CONFIG`), when one is given;
//! 2. the environment: **`WARDEN_` + the table names and the key, upper case, joined by a
//!    double underscore** — `WARDEN_ATTRIBUTION__NAT__STORE=/var/lib/warden/nat` is
//!    `[attribution.nat] store`, `WARDEN_SERVE__SMTP_LISTEN=0.0.0.0:25` is
//!    `[serve] smtp_listen` (single underscores stay inside a key). A value that reads as TOML
//!    (`5`, `true`, `["a", "b"]`) is taken as such, anything else as a string. A variable with a
//!    double underscore that names no key is refused like a misspelt key, and so is one that
//!    starts like a table with a single underscore (`WARDEN_SERVE_LISTEN`). Variables without a
//!    double underscore are the flags' own (`WARDEN_DATA` is `--data`) and are left to them;
//! 3. command-line flags, applied by the command after loading.
//!
//! # Adding a table
//!
//! A capability with settings adds one struct (its table, `deny_unknown_fields`) and one line in
//! the [`tables!`] list below; implementing [`check::CheckTable`] for it lets `warden config
//! check` validate what it can (paths, URLs) without starting.
//!
//! Layering: this crate sits above the libraries whose tables it reuses (`warden-desk`'s
//! [`Policy`](warden_desk::Policy) and [`NatConfig`](warden_desk::NatConfig)) and below the
//! binary; it never prints and never exits.

pub mod check;
mod error;
mod load;
pub mod schema;
pub mod store;

pub use error::{ConfigError, KeyKind, Origin};
pub use load::{ENV_PREFIX, ENV_SEPARATOR, env_name};
pub use schema::{
    AttributionSection, DEFAULT_DATA_DIR, ImapPoll, IntakeSection, ReportsSection, SelfHelpSection,
    ServeSection,
};

use serde::Deserialize;
use std::path::Path;
use warden_desk::Policy;

/// Declares [`Config`] from its list of tables, so that the struct, the table walk of `warden
/// config check` and the documentation cannot disagree about which tables exist.
macro_rules! tables {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        /// The whole of `warden.toml`. Every table is optional; an absent one has its defaults.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Config {
            $( $(#[$doc])* pub $name: $ty, )*
        }

        impl Config {
            /// Every table with its name, for checks that visit them all.
            pub fn tables(&self) -> Vec<(&'static str, &dyn check::CheckTable)> {
                vec![$( (stringify!($name), &self.$name as &dyn check::CheckTable), )*]
            }
        }
    };
}

tables! {
    /// `[serve]`: listeners and stores.
    serve: ServeSection,
    /// `[desk]`: the case policy (windows, batching, acknowledgements, per-class overrides).
    desk: Policy,
    /// `[self_help]`: links to the customer self-help page.
    self_help: SelfHelpSection,
    /// `[attribution]`: CGN attribution through NAT logs.
    attribution: AttributionSection,
    /// `[intake]`: mailboxes polled by the desk.
    intake: IntakeSection,
    /// `[reports]`: data files of the report parsers.
    reports: ReportsSection,
}

impl Config {
    /// Loads `path` (none: every default) with the process environment laid over it.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, std::env::vars())
    }

    /// Loads `path` with `env` (name, value pairs) laid over it; [`Config::load`] passes the
    /// process environment, tests pass their own.
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let (file, doc) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                let file: Config = load::from_file_text(p, &text)?;
                let doc: toml::Table = load::from_file_text(p, &text)?;
                (file, doc)
            }
            None => (Config::default(), toml::Table::new()),
        };
        let config = load::overlay_env::<Config>(doc, env)?.unwrap_or(file);
        config.validate()?;
        Ok(config)
    }

    /// Parses `text` as if read from `name` (no environment): for tests and for checking a
    /// configuration held in memory.
    pub fn from_toml_str(name: &Path, text: &str) -> Result<Self, ConfigError> {
        let config: Config = load::from_file_text(name, text)?;
        config.validate()?;
        Ok(config)
    }

    /// The rules between keys that types cannot express, checked at load so that every
    /// command refuses the same configurations.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let table = |table: &str, message: String| ConfigError::Table {
            table: table.into(),
            message,
        };
        self.desk
            .validate()
            .map_err(|e| table("desk", e.to_string()))?;
        if let Some(nat) = &self.attribution.nat {
            warden_desk::cgn::parse_window(&nat.window)
                .map_err(|e| table("attribution.nat", e.to_string()))?;
        }
        if let Some(url) = &self.self_help.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(table(
                "self_help",
                format!("public_url {url:?}: expected an http:// or https:// URL"),
            ));
        }
        if self.serve.smtp_tls_cert.is_some() != self.serve.smtp_tls_key.is_some() {
            return Err(table(
                "serve",
                "smtp_tls_cert and smtp_tls_key go together: give both or neither".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
