//! The audit log: every state change and every message sent, with who did it and when, so that
//! an operator can show a customer, a reporter or a court what happened to a case (Hosting BCP
//! HC-12, chain of custody).

use crate::error::{DeskError, Result};
use crate::store::{Store, from_ms, new_id, to_ms};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The case it concerns, if any.
    pub case_id: Option<String>,
    /// `system`, `intake`, or the API token's name.
    pub actor: String,
    /// What happened (`opened`, `notified`, `escalate`, ...).
    pub action: String,
    /// Free text detail.
    pub detail: String,
}

/// Appends an entry inside the caller's transaction, so the entry and the change commit together.
pub async fn record(
    conn: &mut AnyConnection,
    at: DateTime<Utc>,
    case_id: Option<&str>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (id, at, case_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(new_id())
        .bind(to_ms(at))
        .bind(case_id)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(conn)
        .await
        .map_err(DeskError::db("audit log"))?;
    Ok(())
}

/// The entries of one case, oldest first.
pub async fn for_case(store: &Store, case_id: &str) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query("SELECT at, case_id, actor, action, detail FROM audit_log WHERE case_id = $1 ORDER BY at, id")
        .bind(case_id)
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("audit log read"))?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                at: from_ms(r.try_get(0).map_err(DeskError::db("audit row"))?),
                case_id: r.try_get(1).map_err(DeskError::db("audit row"))?,
                actor: r.try_get(2).map_err(DeskError::db("audit row"))?,
                action: r.try_get(3).map_err(DeskError::db("audit row"))?,
                detail: r.try_get(4).map_err(DeskError::db("audit row"))?,
            })
        })
        .collect()
}
