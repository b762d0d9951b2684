//! The database behind the desk: SQLite in the data directory by default, PostgreSQL by URL.
//!
//! Both run the same portable migrations (`migrations/`) through sqlx's `Any` driver, so every
//! query in this crate is written once, with `$n` placeholders (SQLite accepts them too). Only
//! connection set-up knows the backend: SQLite gets WAL with `synchronous=FULL` (a committed
//! transaction survives power loss, which "store first, then acknowledge" needs), and its writers
//! are serialised in-process because SQLite has one writer and deferred transactions that upgrade
//! to writing would otherwise fail with `SQLITE_BUSY` instead of waiting.

use crate::error::{DeskError, Result};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (single node).
    Sqlite,
    /// PostgreSQL (one or many nodes).
    Postgres,
}

/// A connection pool plus what the desk needs to know about the backend.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises SQLite write transactions; `None` on PostgreSQL, where row locks do the job.
    write_lock: Option<Arc<Mutex<()>>>,
}

impl Store {
    /// Opens (creating if needed) the SQLite database `desk.sqlite3` in `dir`.
    pub async fn open_sqlite_dir(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(DeskError::io(dir))?;
        let path = dir.join("desk.sqlite3");
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DeskError::invalid(
                format!("database URL {url:?}"),
                "use sqlite://PATH or postgres://USER@HOST/DB",
            ));
        };
        let max = if backend == Backend::Sqlite { 4 } else { 16 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode=WAL").await?;
                        conn.execute("PRAGMA synchronous=FULL").await?;
                        conn.execute("PRAGMA busy_timeout=10000").await?;
                        conn.execute("PRAGMA foreign_keys=ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(DeskError::db("connect"))?;
        MIGRATOR.run(&pool).await?;
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            pool,
            backend,
            write_lock,
        })
    }

    /// The pool, for the desk's modules only: the schema is this crate's, so other crates call
    /// its typed functions instead of writing SQL against it.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Checks that the database answers (a health probe): one trivial round trip.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map_err(DeskError::db("health check"))?;
        Ok(())
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Takes the in-process write lock (SQLite only) for the span of a write transaction.
    pub(crate) async fn write_guard(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the epoch: the one time representation in the schema.
pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`to_ms`]; out-of-range values (which only a corrupted row could hold) clamp
/// to the epoch rather than panic.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A new time-ordered identifier (UUID v7), so ids sort by creation and need no sequence.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
