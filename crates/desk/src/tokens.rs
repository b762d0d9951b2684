//! API bearer tokens and their roles. Only the SHA-256 of a token is stored, so a copy of the
//! database does not hand out access.

use crate::error::{DeskError, Result};
use crate::store::{Store, to_ms};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::str::FromStr;

/// What a token may do. Ordered: a higher role may do everything a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read cases, reports and inventory.
    ReadOnly,
    /// Also submit reports and act on cases.
    Analyst,
    /// Also change the inventory and manage tokens.
    Admin,
}

impl Role {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read_only",
            Self::Analyst => "analyst",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = DeskError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "read_only" | "read-only" | "readonly" => Ok(Self::ReadOnly),
            "analyst" => Ok(Self::Analyst),
            "admin" => Ok(Self::Admin),
            other => Err(DeskError::invalid(
                format!("role {other:?}"),
                "use admin, analyst or read_only",
            )),
        }
    }
}

fn hash(token: &str) -> String {
    warden_model::sha256_hex(token.as_bytes())
}

/// A new random token (256 bits, hex), for `warden serve` to print once.
pub fn generate() -> String {
    format!(
        "wdn_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Registers `token` under `name` with `role` (replacing an earlier registration of it).
pub async fn register(
    store: &Store,
    token: &str,
    name: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<()> {
    if token.len() < 16 || token.len() > 512 {
        return Err(DeskError::invalid(
            "API token",
            "must be 16 to 512 characters",
        ));
    }
    let _guard = store.write_guard().await;
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, name, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (token_hash) DO UPDATE SET name = excluded.name, role = excluded.role",
    )
    .bind(hash(token))
    .bind(name)
    .bind(role.as_str())
    .bind(to_ms(now))
    .execute(store.pool())
    .await
    .map_err(DeskError::db("token register"))?;
    Ok(())
}

/// The name and role of `token`, if it is registered.
pub async fn verify(store: &Store, token: &str) -> Result<Option<(String, Role)>> {
    if token.len() > 512 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT name, role FROM api_tokens WHERE token_hash = $1")
        .bind(hash(token))
        .fetch_optional(store.pool())
        .await
        .map_err(DeskError::db("token check"))?;
    let Some(row) = row else { return Ok(None) };
    let name: String = row.try_get(0).map_err(DeskError::db("token row"))?;
    let role: String = row.try_get(1).map_err(DeskError::db("token row"))?;
    Ok(Some((name, role.parse()?)))
}

/// How many tokens exist (a fresh desk has none and needs a first admin token).
pub async fn count(store: &Store) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) FROM api_tokens")
        .fetch_one(store.pool())
        .await
        .map_err(DeskError::db("token count"))?;
    row.try_get(0).map_err(DeskError::db("token count"))
}

/// The names of the tokens that may work cases (analyst or admin), sorted, for assignment
/// choices.
pub async fn workers(store: &Store) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT name FROM api_tokens WHERE role IN ('analyst', 'admin') ORDER BY name LIMIT 1000",
    )
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("token names"))?;
    Ok(rows.iter().filter_map(|r| r.try_get(0).ok()).collect())
}
