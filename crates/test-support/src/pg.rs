//! One PostgreSQL schema per test, dropped when the test is done.
//!
//! Every machine runs PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`). A test gets
//! a fresh schema so tests never see each other's rows, and the [`PgSchema`] guard drops it
//! (with everything in it) when it goes out of scope, so runs do not pile up schemas. The
//! schema's name is also the connections' `application_name`: the guard ends those sessions
//! first, so a pool still holding a connection cannot block the drop.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The PostgreSQL every machine runs (trust auth).
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A schema created for one test; dropped (CASCADE) on drop.
#[derive(Debug)]
pub struct PgSchema {
    name: String,
}

impl PgSchema {
    /// Creates `<prefix>_<uuid>`.
    ///
    /// # Panics
    /// When the PostgreSQL at [`PG_URL`] cannot be reached: the store tests need it on every
    /// machine.
    pub async fn create(prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(PG_URL)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {PG_URL}: {e}"));
        sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE SCHEMA {name}: {e}"));
        admin.close().await.ok();
        Self { name }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection URL whose sessions use this schema (search_path) and carry its name as
    /// their application_name.
    pub fn url(&self) -> String {
        format!(
            "{PG_URL}?options=-c%20search_path%3D{0}&application_name={0}",
            self.name
        )
    }

    async fn drop_now(name: &str) -> Result<(), sqlx::Error> {
        let mut admin = PgConnection::connect(PG_URL).await?;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&mut admin)
        .await?;
        sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .execute(&mut admin)
            .await?;
        admin.close().await
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop cannot await, and may run inside the test's runtime: do the work on a thread of
        // its own with a runtime of its own.
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(Self::drop_now(&name))
                .map_err(|e| e.to_string())
        })
        .join();
        let outcome = match done {
            Ok(r) => r,
            Err(_) => Err("the drop thread panicked".to_owned()),
        };
        if let Err(e) = outcome {
            if std::thread::panicking() {
                eprintln!("DROP SCHEMA {} failed: {e}", self.name);
            } else {
                panic!("DROP SCHEMA {} failed: {e}", self.name);
            }
        }
    }
}
