//! Opening the desk store the configuration names: PostgreSQL by `[serve] database`, else SQLite
//! in the data directory. One function, so `serve`, `import` and `inventory` cannot disagree
//! about which store a configuration means.

use crate::ConfigError;
use crate::schema::ServeSection;
use std::path::Path;
use warden_desk::Store;

/// Whether the command may create the store when it is not there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUse {
    /// Commands that write (serve, import, inventory import): an absent SQLite store is created.
    Create,
    /// Commands that only read (lookups): an absent store is an error, not an empty answer.
    Existing,
}

/// The SQLite file inside a data directory.
pub const SQLITE_FILE: &str = "desk.sqlite3";

/// Opens the store `serve` names (its `data` and `database` keys, flags already applied).
pub async fn open_desk_store(serve: &ServeSection, how: StoreUse) -> Result<Store, ConfigError> {
    match &serve.database {
        Some(url) => Store::connect(url)
            .await
            .map_err(|source| ConfigError::Store {
                what: format!(
                    "cannot open the database {} (check --database)",
                    redact(url)
                ),
                source,
            }),
        None => {
            let dir = serve.data_dir();
            if how == StoreUse::Existing && !dir.join(SQLITE_FILE).is_file() {
                return Err(ConfigError::NoStore { dir });
            }
            open_sqlite(&dir).await
        }
    }
}

async fn open_sqlite(dir: &Path) -> Result<Store, ConfigError> {
    Store::open_sqlite_dir(dir)
        .await
        .map_err(|source| ConfigError::Store {
            what: format!("cannot open the SQLite store in {}", dir.display()),
            source,
        })
}

/// `url` with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.split_once('@') {
        Some(x) => x,
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@127.0.0.1/test"),
            "postgres://u:***@127.0.0.1/test"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
