//! The quarantine: reports no parser understood, kept with the parser's reason until an analyst
//! re-runs them after a parser or mapping fix (rule 3 of the design: nothing is dropped).
//!
//! The web page and the API list the same rows through [`list`], so both show the same
//! reports in the same order.

use crate::error::{DeskError, Result};
use crate::store::{Store, from_ms};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The `reports.status` of a quarantined report.
const QUARANTINED: &str = "quarantined";

/// One quarantined report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedReport {
    /// SHA-256 of the raw report (its id).
    pub id: String,
    /// First arrival.
    pub received_at: DateTime<Utc>,
    /// Channel of the first arrival (`http`, `smtp`, `maildir`).
    pub channel: String,
    /// Size in bytes.
    pub size: i64,
    /// The parser's error kind (`unknown_format`, `malformed`, `empty`...).
    pub error_kind: String,
    /// The parser's reason.
    pub error: String,
}

const COLUMNS: &str = "id, received_at, channel, size, error_kind, error";

fn row_to_report(r: &sqlx::any::AnyRow) -> Result<QuarantinedReport> {
    let db = DeskError::db;
    Ok(QuarantinedReport {
        id: r.try_get(0).map_err(db("quarantine row"))?,
        received_at: from_ms(r.try_get(1).map_err(db("quarantine row"))?),
        channel: r.try_get(2).map_err(db("quarantine row"))?,
        size: r.try_get(3).map_err(db("quarantine row"))?,
        error_kind: r
            .try_get::<Option<String>, _>(4)
            .map_err(db("quarantine row"))?
            .unwrap_or_default(),
        error: r
            .try_get::<Option<String>, _>(5)
            .map_err(db("quarantine row"))?
            .unwrap_or_default(),
    })
}

/// The newest quarantined reports (at most `limit`) and how many there are in all.
pub async fn list(store: &Store, limit: i64) -> Result<(Vec<QuarantinedReport>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reports WHERE status = '{QUARANTINED}' ORDER BY received_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("quarantine list"))?;
    let total: i64 = sqlx::query(&format!(
        "SELECT COUNT(*) FROM reports WHERE status = '{QUARANTINED}'"
    ))
    .fetch_one(store.pool())
    .await
    .map_err(DeskError::db("quarantine count"))?
    .try_get(0)
    .map_err(DeskError::db("quarantine count"))?;
    let out = rows.iter().map(row_to_report).collect::<Result<_, _>>()?;
    Ok((out, total))
}

/// One report's row, whatever its status (`None` when unknown), with its status.
pub async fn report(store: &Store, id: &str) -> Result<Option<(QuarantinedReport, String)>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, status FROM reports WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await
    .map_err(DeskError::db("report read"))?;
    match row {
        None => Ok(None),
        Some(r) => {
            let status: String = r.try_get(6).map_err(DeskError::db("report row"))?;
            Ok(Some((row_to_report(&r)?, status)))
        }
    }
}

/// The ids of the oldest quarantined reports (at most `limit`), the order a "re-run all" takes
/// them in so that a batch at a time works through the whole quarantine.
pub async fn oldest_ids(store: &Store, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(&format!(
        "SELECT id FROM reports WHERE status = '{QUARANTINED}' ORDER BY received_at, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("quarantine list"))?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(DeskError::db("quarantine row")))
        .collect()
}
