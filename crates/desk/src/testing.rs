//! Set-up and inspection for the tests and benchmarks of the crates above the desk
//! (`warden-webui`, `warden-server`), which must not write SQL against the desk's schema.
//!
//! Compiled only with the `testing` feature, which those crates enable from their
//! `[dev-dependencies]` alone: nothing here is part of the desk's API, and a production build
//! never contains it. The functions back-date, bulk-insert or read rows directly, because that
//! is what a test of a million cases or of crash recovery needs; none of them is a shortcut a
//! feature may take.
//!
//! The bulk seeders generate rows with SQLite's `WITH RECURSIVE` and `printf`, so they take a
//! SQLite store (they refuse PostgreSQL with [`DeskError::Invalid`]).

use crate::error::{DeskError, Result};
use crate::store::{Backend, Store, to_ms};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The store's pool, for the desk's own integration tests and benchmarks: they test the schema
/// itself (raw rows, back-dating), which is this crate's to know. Other crates use the typed
/// functions here instead (their sources hold no SQL).
pub fn pool(store: &Store) -> &sqlx::AnyPool {
    store.pool()
}

/// A migrated store in a fresh PostgreSQL schema named `{prefix}_{random}` on `url` (a server
/// URL without options), so that tests running at once never see each other's rows.
pub async fn pg_schema_store(url: &str, prefix: &str) -> Result<Store> {
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    if !schema
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(DeskError::invalid(
            format!("schema prefix {prefix:?}"),
            "use letters, digits and _ only",
        ));
    }
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(url)
        .await
        .map_err(DeskError::db("connect (test schema)"))?;
    let created = sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .map_err(DeskError::db("create test schema"));
    admin.close().await;
    created?;
    Store::connect(&format!("{url}?options=-c%20search_path%3D{schema}")).await
}

/// How many reports are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCounts {
    /// Stored, not yet parsed and filed (what recovery must leave at zero).
    pub received: i64,
    /// Parsed and filed.
    pub processed: i64,
    /// Not understood by any parser.
    pub quarantined: i64,
}

/// Counts the reports by status.
pub async fn report_counts(store: &Store) -> Result<ReportCounts> {
    let rows = sqlx::query("SELECT status, COUNT(*) FROM reports GROUP BY status")
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("report counts"))?;
    let mut out = ReportCounts::default();
    for r in &rows {
        let status: String = r.try_get(0).map_err(DeskError::db("report count row"))?;
        let n: i64 = r.try_get(1).map_err(DeskError::db("report count row"))?;
        match status.as_str() {
            "received" => out.received = n,
            "processed" => out.processed = n,
            "quarantined" => out.quarantined = n,
            other => {
                return Err(DeskError::invalid(
                    format!("stored report status {other:?}"),
                    "not received, processed or quarantined",
                ));
            }
        }
    }
    Ok(out)
}

/// A report's stored status and event count (`None`: no such report).
pub async fn report_row(store: &Store, id: &str) -> Result<Option<(String, i64)>> {
    let row = sqlx::query("SELECT status, event_count FROM reports WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(DeskError::db("report read"))?;
    row.map(|r| {
        Ok((
            r.try_get(0).map_err(DeskError::db("report row"))?,
            r.try_get(1).map_err(DeskError::db("report row"))?,
        ))
    })
    .transpose()
}

/// The bytes in `raw_reports` under `id` (`None`: no row), not falling back to the older file
/// store as [`crate::Desk::raw_report`] does: durability tests check the row itself.
pub async fn raw_report_row(store: &Store, id: &str) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT bytes FROM raw_reports WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(DeskError::db("raw report read"))?;
    row.map(|r| r.try_get(0).map_err(DeskError::db("raw report row")))
        .transpose()
}

/// How many events are stored, and the sum of the cases' event counts (equal when every
/// filed event was counted in its case exactly once).
pub async fn event_totals(store: &Store) -> Result<(i64, i64)> {
    let one = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(store.pool())
            .await
            .and_then(|r| r.try_get::<i64, _>(0))
            .map_err(DeskError::db("event totals"))
    };
    Ok((
        one("SELECT COUNT(*) FROM events").await?,
        one("SELECT COALESCE(SUM(event_count), 0) FROM cases").await?,
    ))
}

/// How many customer notices are queued (sent or not) for `case_id`.
pub async fn customer_notices(store: &Store, case_id: &str) -> Result<i64> {
    sqlx::query("SELECT COUNT(*) FROM outbox WHERE kind = 'customer_notice' AND case_id = $1")
        .bind(case_id)
        .fetch_one(store.pool())
        .await
        .and_then(|r| r.try_get(0))
        .map_err(DeskError::db("outbox count"))
}

fn sqlite_only(store: &Store, what: &str) -> Result<()> {
    if store.backend() == Backend::Sqlite {
        Ok(())
    } else {
        Err(DeskError::invalid(
            format!("{what} on PostgreSQL"),
            "the bulk seeders generate rows with SQLite functions; use a SQLite store",
        ))
    }
}

async fn execute(store: &Store, sql: &str, context: &'static str) -> Result<()> {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .map_err(DeskError::db(context))?;
    Ok(())
}

/// The id of the `i`-th seeded case (UUID-shaped, so it sorts and parses like a real one).
pub fn seeded_case_id(i: i64) -> String {
    format!("{i:08x}-0000-7000-8000-{i:012x}")
}

/// `n` synthetic cases for the queue benchmark, one per second before `now` (case `i` opened
/// `n - i` seconds ago), spread over 5,000 customers, four classes, four states, the five
/// severities, 1,000 reporters, one in ten assigned to `alice`.
pub async fn seed_queue_cases(store: &Store, n: i64, now: DateTime<Utc>) -> Result<()> {
    sqlite_only(store, "seeding cases")?;
    let now = to_ms(now);
    let sql = format!(
        "INSERT INTO cases (id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at,
            first_event_at, last_event_at, event_count, reporter, assignee)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            CASE i % 7 WHEN 0 THEN 'open' WHEN 1 THEN 'notified' WHEN 2 THEN 'escalated' ELSE 'closed' END,
            CASE i % 5 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low' ELSE 'info' END,
            {now} - ({n} - i) * 1000, {now} - ((i * 7919) % {n}) * 1000,
            {now} - ({n} - i) * 1000 + 86400000 * (1 + i % 3),
            {now}, {now}, 1, 'r' || (i % 1000) || '@reporter.example',
            CASE i % 10 WHEN 0 THEN 'alice' ELSE '' END
         FROM n",
        last = n - 1
    );
    execute(store, &sql, "seed cases").await
}

/// What [`seed_case_detail`] adds to the cases of [`seed_queue_cases`].
#[derive(Debug, Clone, Copy)]
pub struct CaseDetail<'a> {
    /// The stored event JSON every seeded event carries.
    pub event_json: &'a str,
    /// Its attribution JSON.
    pub attribution_json: &'a str,
    /// The seeded case (index as in [`seeded_case_id`]) that gets more events and audit rows.
    pub busy: i64,
    /// Events added to `busy` beyond its first.
    pub extra_events: i64,
    /// Audit rows added to `busy` beyond its first.
    pub extra_audit: i64,
}

/// For the case-page benchmark over [`seed_queue_cases`]: one event and one audit row for each
/// of the `n` cases, plus the busy case's extra rows (`detail`).
pub async fn seed_case_detail(
    store: &Store,
    n: i64,
    detail: CaseDetail<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlite_only(store, "seeding case detail")?;
    let now = to_ms(now);
    let last = n - 1;
    let events = format!(
        "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at, event_json,
            attribution_json, reporter, received_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('r%064x:0', i), printf('r%064x', i), 0,
            printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000), 'spam',
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            {now} - ({n} - i) * 1000, $1, $2, 'r' || (i % 1000) || '@reporter.example', {now}
         FROM n"
    );
    sqlx::query(&events)
        .bind(detail.event_json)
        .bind(detail.attribution_json)
        .execute(store.pool())
        .await
        .map_err(DeskError::db("seed events"))?;
    let audit = format!(
        "INSERT INTO audit_log (id, at, case_id, actor, action, detail)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('a%012x', i), {now} - ({n} - i) * 1000,
            printf('%08x-0000-7000-8000-%012x', i, i), 'intake', 'opened', 'case opened by report'
         FROM n"
    );
    execute(store, &audit, "seed audit").await?;
    let (event_json, attribution_json) = (detail.event_json, detail.attribution_json);
    let busy = seeded_case_id(detail.busy);
    for k in 1..=detail.extra_events {
        sqlx::query(
            "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at,
                event_json, attribution_json, reporter, received_at)
             VALUES ($1, $2, 0, $3, 'c0', 'spam', '10.7.161.32', $4, $5, $6, 'r1@reporter.example', $4)",
        )
        .bind(format!("busy{k}:0"))
        .bind(format!("busy{k}"))
        .bind(&busy)
        .bind(now + k)
        .bind(event_json)
        .bind(attribution_json)
        .execute(store.pool())
        .await
        .map_err(DeskError::db("seed busy events"))?;
    }
    for k in 1..=detail.extra_audit {
        sqlx::query(
            "INSERT INTO audit_log (id, at, case_id, actor, action, detail) VALUES ($1, $2, $3, 'alice', 'note', 'looked at it')",
        )
        .bind(format!("busy-audit-{k}"))
        .bind(now + k)
        .bind(&busy)
        .execute(store.pool())
        .await
        .map_err(DeskError::db("seed busy audit"))?;
    }
    Ok(())
}

/// `n` synthetic cases and one event each for the dashboard benchmark, one every 3.456 s
/// before `now` (1,000,000 of them span 40 days), with notified and closed stamps so that
/// every chart has data; then `ANALYZE`, as a long-running desk would have.
pub async fn seed_dashboard(store: &Store, n: i64, now: DateTime<Utc>) -> Result<()> {
    sqlite_only(store, "seeding the dashboard")?;
    let now = to_ms(now);
    let last = n - 1;
    let cases = format!(
        "INSERT INTO cases (id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at,
            first_event_at, last_event_at, event_count, notified_at, closed_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            CASE i % 7 WHEN 0 THEN 'open' WHEN 1 THEN 'notified' WHEN 2 THEN 'escalated' ELSE 'closed' END,
            'medium', {now} - i * 3456, {now}, {now} - i * 3456 + 86400000, {now}, {now}, 1,
            CASE WHEN i % 7 = 0 THEN NULL ELSE {now} - i * 3456 + (i % 1000) * 60000 END,
            CASE WHEN i % 7 >= 3 THEN {now} - i * 3456 + 86400000 ELSE NULL END
         FROM n"
    );
    execute(store, &cases, "seed dashboard cases").await?;
    let events = format!(
        "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at, event_json,
            attribution_json, reporter, received_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT 'e' || i, 'r' || i, 0, printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.0.0.1', {now} - i * 3456, '{{}}', '{{}}', 'feed' || (i % 500) || '@reporter.example',
            {now} - i * 3456
         FROM n"
    );
    execute(store, &events, "seed dashboard events").await?;
    execute(store, "ANALYZE", "analyze").await
}
