//! The dashboard's figures: what the desk is receiving and how fast it answers (events per day
//! by class, active cases by age, time to first action, repeat offenders, reporters by volume).
//!
//! The web UI draws them; the numbers live here because they are queries on the desk's tables,
//! and the desk alone knows its schema. Each aggregate is one SQL statement over an index
//! (migration `0003_dashboard_selfhelp.sql`), the same text on SQLite and PostgreSQL.

use crate::cases::CaseState;
use crate::error::{DeskError, Result};
use crate::store::{Store, to_ms};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sqlx::Row;
use std::collections::BTreeMap;
/// Days shown in the per-day chart.
pub const DAYS: usize = 30;
/// Window of the repeat-offender count (the same 90 days as the case page's count).
pub const OFFENDER_DAYS: i64 = 90;
/// Rows in the top-offender and reporter charts.
pub const TOP: i64 = 10;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Open-case age buckets: label and lower bound in milliseconds.
pub const AGE_BUCKETS: [(&str, i64); 6] = [
    ("< 1 h", 0),
    ("1–24 h", HOUR_MS),
    ("1–3 d", DAY_MS),
    ("3–7 d", 3 * DAY_MS),
    ("7–30 d", 7 * DAY_MS),
    ("> 30 d", 30 * DAY_MS),
];

/// Time-to-first-action buckets: label and upper bound in milliseconds (the last is open).
pub const ACTION_BUCKETS: [(&str, i64); 7] = [
    ("< 15 min", 15 * 60_000),
    ("15–60 min", HOUR_MS),
    ("1–4 h", 4 * HOUR_MS),
    ("4–24 h", DAY_MS),
    ("1–3 d", 3 * DAY_MS),
    ("3–7 d", 7 * DAY_MS),
    ("> 7 d", i64::MAX),
];

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// When the figures were computed.
    pub at: DateTime<Utc>,
    /// The [`DAYS`] days shown, oldest first.
    pub days: Vec<NaiveDate>,
    /// Events received per class per day (index into `days`).
    pub per_day: BTreeMap<String, Vec<i64>>,
    /// Active cases per [`AGE_BUCKETS`] bucket.
    pub open_by_age: Vec<i64>,
    /// Cases opened in the last [`DAYS`] days per [`ACTION_BUCKETS`] bucket of the delay to
    /// their first action (notify, escalate, resolve or close).
    pub first_action: Vec<i64>,
    /// Of those, cases with no action yet.
    pub no_action_yet: i64,
    /// Customers with the most cases opened in [`OFFENDER_DAYS`] days: id, name, cases.
    pub offenders: Vec<(String, String, i64)>,
    /// Reporters with the most events in [`DAYS`] days: reporter, events.
    pub reporters: Vec<(String, i64)>,
}

/// The earliest of the action stamps, in SQL both backends accept (no LEAST/MIN(a,b)).
const FIRST_ACTION_SQL: &str = "CASE
    WHEN notified_at IS NOT NULL AND (escalated_at IS NULL OR notified_at <= escalated_at)
         AND (closed_at IS NULL OR notified_at <= closed_at) THEN notified_at
    WHEN escalated_at IS NOT NULL AND (closed_at IS NULL OR escalated_at <= closed_at) THEN escalated_at
    ELSE closed_at END";

/// Computes the dashboard at `now` (no cache).
pub async fn compute(store: &Store, now: DateTime<Utc>) -> Result<Dashboard> {
    let pool = store.pool();
    let today = now.date_naive();
    let first_day = today - Duration::days(DAYS as i64 - 1);
    let start = Utc.from_utc_datetime(&first_day.and_time(chrono::NaiveTime::MIN));
    let start_ms = to_ms(start);
    let now_ms = to_ms(now);
    let days: Vec<NaiveDate> = (0..DAYS as i64)
        .map(|i| first_day + Duration::days(i))
        .collect();

    let rows = sqlx::query(
        "SELECT class, CAST((received_at - $1) / 86400000 AS BIGINT) AS d, COUNT(*) FROM events
         WHERE received_at >= $1 AND received_at <= $2 GROUP BY class, d",
    )
    .bind(start_ms)
    .bind(now_ms)
    .fetch_all(pool)
    .await
    .map_err(DeskError::db("dashboard: events per day"))?;
    let mut per_day: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in &rows {
        let class: String = r
            .try_get(0)
            .map_err(DeskError::db("dashboard: events per day"))?;
        let d: i64 = r
            .try_get(1)
            .map_err(DeskError::db("dashboard: events per day"))?;
        let n: i64 = r
            .try_get(2)
            .map_err(DeskError::db("dashboard: events per day"))?;
        if let Some(slot) = usize::try_from(d).ok().filter(|d| *d < DAYS) {
            per_day.entry(class).or_insert_with(|| vec![0; DAYS])[slot] += n;
        }
    }

    // Age buckets, newest first in the CASE so each row takes the first bound it passes.
    let mut age_case = String::from("CAST(CASE");
    for (i, (_, lo)) in AGE_BUCKETS.iter().enumerate().rev() {
        age_case.push_str(&format!(
            " WHEN opened_at <= {} THEN {i}",
            now_ms.saturating_sub(*lo)
        ));
    }
    age_case.push_str(" ELSE 0 END AS BIGINT)");
    let rows = sqlx::query(&format!(
        "SELECT {age_case} AS b, COUNT(*) FROM cases
         WHERE state IN {active} GROUP BY b",
        active = CaseState::active_sql()
    ))
    .fetch_all(pool)
    .await
    .map_err(DeskError::db("dashboard: open cases by age"))?;
    let mut open_by_age = vec![0; AGE_BUCKETS.len()];
    for r in &rows {
        let b: i64 = r
            .try_get(0)
            .map_err(DeskError::db("dashboard: open cases by age"))?;
        let n: i64 = r
            .try_get(1)
            .map_err(DeskError::db("dashboard: open cases by age"))?;
        if let Some(slot) = usize::try_from(b).ok().and_then(|b| open_by_age.get_mut(b)) {
            *slot += n;
        }
    }

    let mut act_case = String::from("CAST(CASE WHEN f IS NULL THEN -1");
    for (i, (_, hi)) in ACTION_BUCKETS.iter().enumerate() {
        if *hi == i64::MAX {
            act_case.push_str(&format!(" ELSE {i}"));
        } else {
            act_case.push_str(&format!(" WHEN f - opened_at < {hi} THEN {i}"));
        }
    }
    act_case.push_str(" END AS BIGINT)");
    let rows = sqlx::query(&format!(
        "SELECT {act_case} AS b, COUNT(*) FROM
            (SELECT opened_at, {FIRST_ACTION_SQL} AS f FROM cases WHERE opened_at >= $1) t
         GROUP BY b"
    ))
    .bind(to_ms(now - Duration::days(DAYS as i64)))
    .fetch_all(pool)
    .await
    .map_err(DeskError::db("dashboard: time to first action"))?;
    let mut first_action = vec![0; ACTION_BUCKETS.len()];
    let mut no_action_yet = 0;
    for r in &rows {
        let b: i64 = r
            .try_get(0)
            .map_err(DeskError::db("dashboard: time to first action"))?;
        let n: i64 = r
            .try_get(1)
            .map_err(DeskError::db("dashboard: time to first action"))?;
        match usize::try_from(b)
            .ok()
            .and_then(|b| first_action.get_mut(b))
        {
            Some(slot) => *slot += n,
            None => no_action_yet += n,
        }
    }

    let rows = sqlx::query(
        "SELECT t.customer_id, COALESCE(cu.name, ''), t.n FROM
            (SELECT customer_id, COUNT(*) AS n FROM cases
             WHERE opened_at >= $1 AND customer_id <> ''
             GROUP BY customer_id ORDER BY n DESC, customer_id LIMIT $2) t
         LEFT JOIN customers cu ON cu.id = t.customer_id
         ORDER BY t.n DESC, t.customer_id",
    )
    .bind(to_ms(now - Duration::days(OFFENDER_DAYS)))
    .bind(TOP)
    .fetch_all(pool)
    .await
    .map_err(DeskError::db("dashboard: repeat offenders"))?;
    let offenders = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)
                    .map_err(DeskError::db("dashboard: repeat offenders"))?,
                r.try_get(1)
                    .map_err(DeskError::db("dashboard: repeat offenders"))?,
                r.try_get(2)
                    .map_err(DeskError::db("dashboard: repeat offenders"))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;

    let rows = sqlx::query(
        "SELECT reporter, COUNT(*) AS n FROM events WHERE received_at >= $1
         GROUP BY reporter ORDER BY n DESC, reporter LIMIT $2",
    )
    .bind(start_ms)
    .bind(TOP)
    .fetch_all(pool)
    .await
    .map_err(DeskError::db("dashboard: reporters"))?;
    let reporters = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)
                    .map_err(DeskError::db("dashboard: reporters"))?,
                r.try_get(1)
                    .map_err(DeskError::db("dashboard: reporters"))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(Dashboard {
        at: now,
        days,
        per_day,
        open_by_age,
        first_action,
        no_action_yet,
        offenders,
        reporters,
    })
}
