//! Work that leaves the building (mails, webhooks) is first written to the `outbox` table in the
//! same transaction as the change that causes it, then delivered by [`crate::notify`]. A crash
//! between the two loses nothing; rows are claimed with a lease so any node can deliver and a
//! dead node's claim expires (DESIGN.md, storage).

use crate::error::{DeskError, Result};
use crate::store::{Store, from_ms, new_id, to_ms};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// What an outbox row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A notice to the customer's abuse contact (batched per customer).
    CustomerNotice,
    /// An acknowledgement to the reporter with the case references.
    ReporterAck,
    /// A request to the reporter for a missing source port or time zone.
    InfoRequest,
    /// A signed webhook (escalation, suspension).
    Webhook,
}

impl OutboxKind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerNotice => "customer_notice",
            Self::ReporterAck => "reporter_ack",
            Self::InfoRequest => "info_request",
            Self::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::CustomerNotice, Self::ReporterAck, Self::InfoRequest, Self::Webhook].into_iter().find(|k| k.as_str() == s)
    }
}

/// One claimed outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxItem {
    /// Row id.
    pub id: String,
    /// Kind.
    pub kind: OutboxKind,
    /// Mail address or URL.
    pub recipient: String,
    /// Customer concerned.
    pub customer_id: Option<String>,
    /// Case concerned.
    pub case_id: Option<String>,
    /// Report concerned.
    pub report_id: Option<String>,
    /// Kind-specific data.
    pub payload: serde_json::Value,
    /// Queued at.
    pub created_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// Queues a message inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: OutboxKind,
    recipient: &str,
    customer_id: Option<&str>,
    case_id: Option<&str>,
    report_id: Option<&str>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, customer_id, case_id, report_id, payload, created_at, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(kind.as_str())
    .bind(recipient)
    .bind(customer_id)
    .bind(case_id)
    .bind(report_id)
    .bind(payload.to_string())
    .bind(to_ms(now))
    .bind(to_ms(due))
    .execute(conn)
    .await
    .map_err(DeskError::db("outbox enqueue"))?;
    Ok(())
}

/// Claims up to `limit` due, unsent, unleased rows for `lease`. Rows are claimed one by one with
/// a conditional update, which is race-free on both backends without `SKIP LOCKED`.
pub async fn claim_due(store: &Store, now: DateTime<Utc>, lease: Duration, limit: i64) -> Result<Vec<OutboxItem>> {
    let nowms = to_ms(now);
    let rows = sqlx::query(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND due_at <= $1 AND lease_until <= $1 AND attempts < 20
         ORDER BY due_at, id LIMIT $2",
    )
    .bind(nowms)
    .bind(limit)
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("outbox scan"))?;
    let mut out = Vec::new();
    for r in rows {
        let id: String = r.try_get(0).map_err(DeskError::db("outbox scan"))?;
        let _guard = store.write_guard().await;
        let won = sqlx::query("UPDATE outbox SET lease_until = $2 WHERE id = $1 AND sent_at IS NULL AND lease_until <= $3")
            .bind(&id)
            .bind(to_ms(now + lease))
            .bind(nowms)
            .execute(store.pool())
            .await
            .map_err(DeskError::db("outbox claim"))?
            .rows_affected()
            == 1;
        drop(_guard);
        if !won {
            continue;
        }
        let row = sqlx::query("SELECT kind, recipient, customer_id, case_id, report_id, payload, created_at, attempts FROM outbox WHERE id = $1")
            .bind(&id)
            .fetch_one(store.pool())
            .await
            .map_err(DeskError::db("outbox read"))?;
        let e = DeskError::db;
        let kind: String = row.try_get(0).map_err(e("outbox row"))?;
        let Some(kind) = OutboxKind::parse(&kind) else { continue };
        let payload: String = row.try_get(5).map_err(e("outbox row"))?;
        out.push(OutboxItem {
            id,
            kind,
            recipient: row.try_get(1).map_err(e("outbox row"))?,
            customer_id: row.try_get(2).map_err(e("outbox row"))?,
            case_id: row.try_get(3).map_err(e("outbox row"))?,
            report_id: row.try_get(4).map_err(e("outbox row"))?,
            payload: serde_json::from_str(&payload).unwrap_or_default(),
            created_at: from_ms(row.try_get(6).map_err(e("outbox row"))?),
            attempts: row.try_get(7).map_err(e("outbox row"))?,
        });
    }
    Ok(out)
}

/// Marks rows delivered.
pub async fn mark_sent(store: &Store, ids: &[String], now: DateTime<Utc>) -> Result<()> {
    let _guard = store.write_guard().await;
    for id in ids {
        sqlx::query("UPDATE outbox SET sent_at = $2 WHERE id = $1")
            .bind(id)
            .bind(to_ms(now))
            .execute(store.pool())
            .await
            .map_err(DeskError::db("outbox mark sent"))?;
    }
    Ok(())
}

/// Records a failed attempt and backs off (1 min × 2^attempts, at most a day).
pub async fn mark_failed(store: &Store, ids: &[String], error: &str, now: DateTime<Utc>) -> Result<()> {
    let _guard = store.write_guard().await;
    for id in ids {
        let attempts: i64 = sqlx::query("SELECT attempts FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await
            .map_err(DeskError::db("outbox mark failed"))?
            .and_then(|r| r.try_get(0).ok())
            .unwrap_or(0);
        let backoff = Duration::minutes(1i64 << attempts.clamp(0, 10)).min(Duration::days(1));
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2, lease_until = 0, due_at = $3 WHERE id = $1")
            .bind(id)
            .bind(error.chars().take(1000).collect::<String>())
            .bind(to_ms(now + backoff))
            .execute(store.pool())
            .await
            .map_err(DeskError::db("outbox mark failed"))?;
    }
    Ok(())
}

/// Rows of a report or case, for tests and the API (`kind`, `recipient`, sent).
pub async fn list(store: &Store, limit: i64) -> Result<Vec<(String, String, bool)>> {
    let rows = sqlx::query("SELECT kind, recipient, sent_at FROM outbox ORDER BY created_at, id LIMIT $1")
        .bind(limit)
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("outbox list"))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?, r.try_get::<Option<i64>, _>(2).ok()?.is_some())))
        .collect())
}
