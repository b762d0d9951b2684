//! Cases: events grouped by (customer, class, subject) within the policy window, and the
//! lifecycle an analyst or the escalation timer moves them through.
//!
//! ```text
//! open ──notify──> notified ──customer_replied──> customer_replied ──resolve──> resolved ──close──> closed
//!   └──────────── escalate (count, age, deadline) ──> escalated ──suspend──> suspended ──┘
//! ```
//! Resolved and closed cases stop collecting events; the next event for the same group opens a
//! new case, and the customer's repeat-offender count goes up.

use crate::audit;
use crate::error::{DeskError, Result};
use crate::outbox::{self, OutboxKind};
use crate::policy::Policy;
use crate::store::{Store, from_ms, new_id, to_ms};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::str::FromStr;
use warden_model::{AbuseClass, Severity};

/// Where a case is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// New; the customer has not been told yet.
    Open,
    /// The customer was notified.
    Notified,
    /// The customer answered.
    CustomerReplied,
    /// The abuse stopped.
    Resolved,
    /// Past a threshold (count, age, deadline): the customer did not act in time.
    Escalated,
    /// The service was suspended.
    Suspended,
    /// Done; kept for the record.
    Closed,
}

impl CaseState {
    /// Every state.
    pub const ALL: [CaseState; 7] = [
        Self::Open,
        Self::Notified,
        Self::CustomerReplied,
        Self::Resolved,
        Self::Escalated,
        Self::Suspended,
        Self::Closed,
    ];

    /// Stable name (JSON, SQL, API filters).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Notified => "notified",
            Self::CustomerReplied => "customer_replied",
            Self::Resolved => "resolved",
            Self::Escalated => "escalated",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }

    /// States in which the customer still owes action (deadlines apply). This is the one
    /// definition of "active": [`CaseState::active_sql`] and [`overdue_sql`] are derived from it.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Open | Self::Notified | Self::CustomerReplied | Self::Escalated
        )
    }

    /// Whether a case in this state with this deadline is overdue at `now`: still active and
    /// past its deadline. [`overdue_sql`] is the same rule in SQL.
    pub fn is_overdue(self, deadline_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.is_active() && deadline_at < now
    }

    /// The active states as an SQL list, `('open', ...)`, for `state IN` terms, so that no
    /// query spells the states out again.
    pub fn active_sql() -> String {
        sql_list(Self::ALL.into_iter().filter(|s| s.is_active()))
    }
}

/// `('a', 'b')` from state names (constants of this crate, not input: safe to inline).
fn sql_list(states: impl Iterator<Item = CaseState>) -> String {
    let names: Vec<String> = states.map(|s| format!("'{}'", s.as_str())).collect();
    format!("({})", names.join(", "))
}

/// The SQL term (with a leading ` AND`) that keeps only cases overdue at `now`: the rule of
/// [`CaseState::is_overdue`] over the `cases` columns.
pub(crate) fn overdue_sql(now: DateTime<Utc>) -> String {
    // A number we computed, not input: safe to inline.
    format!(
        " AND deadline_at < {} AND state IN {}",
        to_ms(now),
        CaseState::active_sql()
    )
}

impl FromStr for CaseState {
    type Err = DeskError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| DeskError::invalid(format!("case state {s:?}"), "use open, notified, customer_replied, resolved, escalated, suspended or closed"))
    }
}

/// What an analyst (or the engine) can do to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// Mark the customer as notified.
    Notify,
    /// Record that the customer answered.
    CustomerReplied,
    /// The abuse has stopped.
    Resolve,
    /// Escalate by hand.
    Escalate,
    /// The service was suspended (sends the suspension webhook).
    Suspend,
    /// Close for good.
    Close,
    /// Re-open a resolved or closed case.
    Reopen,
    /// Add a note; no state change.
    Note,
}

impl CaseAction {
    /// The state the action leads to from `from`, or why not.
    pub fn next(self, from: CaseState) -> Result<CaseState> {
        use CaseState::*;
        let to = match (self, from) {
            (Self::Note, s) => Some(s),
            (Self::Notify, Open | CustomerReplied) => Some(Notified),
            (Self::CustomerReplied, Open | Notified | Escalated) => Some(CustomerReplied),
            (Self::Resolve, Open | Notified | CustomerReplied | Escalated | Suspended) => {
                Some(Resolved)
            }
            (Self::Escalate, Open | Notified | CustomerReplied) => Some(Escalated),
            (Self::Suspend, Open | Notified | CustomerReplied | Escalated) => Some(Suspended),
            (Self::Close, s) if s != Closed => Some(Closed),
            (Self::Reopen, Resolved | Closed) => Some(Open),
            _ => None,
        };
        to.ok_or_else(|| DeskError::Transition {
            action: format!("{self:?}").to_lowercase(),
            state: from.as_str().into(),
        })
    }
}

/// A case as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Case reference (UUID v7, time-ordered).
    pub id: String,
    /// Customer id; empty when the events could not be attributed to exactly one customer.
    pub customer_id: String,
    /// Abuse class.
    pub class: AbuseClass,
    /// The grouped subject (address, domain, URL host or mail address).
    pub subject: String,
    /// Lifecycle state.
    pub state: CaseState,
    /// Severity from policy.
    pub severity: Severity,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The customer must act by then.
    pub deadline_at: DateTime<Utc>,
    /// First event.
    pub first_event_at: DateTime<Utc>,
    /// Latest event.
    pub last_event_at: DateTime<Utc>,
    /// Events collected.
    pub event_count: i64,
    /// When the customer was notified.
    pub notified_at: Option<DateTime<Utc>>,
    /// When the case escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// When it was closed or resolved.
    pub closed_at: Option<DateTime<Utc>>,
}

impl Case {
    /// Active and past its deadline.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.is_overdue(self.deadline_at, now)
    }
}

const CASE_COLUMNS: &str = "id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at, \
    first_event_at, last_event_at, event_count, notified_at, escalated_at, closed_at";

fn case_from_row(r: &AnyRow) -> Result<Case> {
    let e = DeskError::db;
    let class: String = r.try_get(2).map_err(e("case row"))?;
    let state: String = r.try_get(4).map_err(e("case row"))?;
    let severity: String = r.try_get(5).map_err(e("case row"))?;
    Ok(Case {
        id: r.try_get(0).map_err(e("case row"))?,
        customer_id: r.try_get(1).map_err(e("case row"))?,
        class: class
            .parse()
            .map_err(|m: String| DeskError::invalid("stored case class", m))?,
        subject: r.try_get(3).map_err(e("case row"))?,
        state: state.parse()?,
        severity: severity
            .parse()
            .map_err(|m: String| DeskError::invalid("stored case severity", m))?,
        opened_at: from_ms(r.try_get(6).map_err(e("case row"))?),
        updated_at: from_ms(r.try_get(7).map_err(e("case row"))?),
        deadline_at: from_ms(r.try_get(8).map_err(e("case row"))?),
        first_event_at: from_ms(r.try_get(9).map_err(e("case row"))?),
        last_event_at: from_ms(r.try_get(10).map_err(e("case row"))?),
        event_count: r.try_get(11).map_err(e("case row"))?,
        notified_at: r
            .try_get::<Option<i64>, _>(12)
            .map_err(e("case row"))?
            .map(from_ms),
        escalated_at: r
            .try_get::<Option<i64>, _>(13)
            .map_err(e("case row"))?
            .map(from_ms),
        closed_at: r
            .try_get::<Option<i64>, _>(14)
            .map_err(e("case row"))?
            .map(from_ms),
    })
}

fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// Puts one event into its case, opening a new case when the group has none or the open one
/// is outside the window. Runs inside the intake transaction. Returns the case id and whether
/// it was opened now. A new case records `reporter` (the first event's reporter address, for the
/// queue's reporter filter) in the same insert.
pub(crate) async fn assign_event(
    conn: &mut AnyConnection,
    policy: &Policy,
    customer_id: &str,
    class: AbuseClass,
    subject: &str,
    reporter: &str,
    now: DateTime<Utc>,
) -> Result<(String, bool)> {
    let group_key = format!("{customer_id}\u{1f}{class}\u{1f}{subject}");
    let fresh = new_id();
    // Upsert-and-return locks the group row on PostgreSQL until commit, so two nodes taking
    // events for the same group agree on one case.
    let row = sqlx::query(
        "INSERT INTO open_cases (group_key, case_id) VALUES ($1, $2)
         ON CONFLICT (group_key) DO UPDATE SET group_key = excluded.group_key RETURNING case_id",
    )
    .bind(&group_key)
    .bind(&fresh)
    .fetch_one(&mut *conn)
    .await
    .map_err(DeskError::db("case grouping"))?;
    let current: String = row.try_get(0).map_err(DeskError::db("case grouping"))?;
    let nowms = to_ms(now);
    if current != fresh {
        let live = sqlx::query("SELECT last_event_at, state FROM cases WHERE id = $1")
            .bind(&current)
            .fetch_optional(&mut *conn)
            .await
            .map_err(DeskError::db("case grouping"))?;
        let joinable = match live {
            Some(r) => {
                let last: i64 = r.try_get(0).map_err(DeskError::db("case grouping"))?;
                let state: String = r.try_get(1).map_err(DeskError::db("case grouping"))?;
                let state: CaseState = state.parse()?;
                !matches!(state, CaseState::Resolved | CaseState::Closed)
                    && nowms - last <= policy.window().num_milliseconds()
            }
            None => false,
        };
        if joinable {
            sqlx::query("UPDATE cases SET event_count = event_count + 1, last_event_at = $2, updated_at = $2 WHERE id = $1")
                .bind(&current)
                .bind(nowms)
                .execute(&mut *conn)
                .await
                .map_err(DeskError::db("case update"))?;
            return Ok((current, false));
        }
        sqlx::query("UPDATE open_cases SET case_id = $2 WHERE group_key = $1")
            .bind(&group_key)
            .bind(&fresh)
            .execute(&mut *conn)
            .await
            .map_err(DeskError::db("case grouping"))?;
    }
    let cp = policy.for_class(class);
    sqlx::query(
        "INSERT INTO cases (id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at,
            first_event_at, last_event_at, event_count, reporter)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $6, $7, $6, $6, 1, $8)",
    )
    .bind(&fresh)
    .bind(customer_id)
    .bind(class.as_str())
    .bind(subject)
    .bind(severity_str(cp.severity))
    .bind(nowms)
    .bind(to_ms(now + cp.deadline()))
    .bind(reporter)
    .execute(&mut *conn)
    .await
    .map_err(DeskError::db("case open"))?;
    let who = if customer_id.is_empty() {
        "unattributed".to_owned()
    } else {
        format!("customer {customer_id}")
    };
    audit::record(
        conn,
        now,
        Some(&fresh),
        "intake",
        "opened",
        &format!("{class} about {subject} ({who})"),
    )
    .await?;
    Ok((fresh, true))
}

/// Filters for [`list`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseFilter {
    /// Only this state.
    pub state: Option<CaseState>,
    /// Only this class.
    pub class: Option<AbuseClass>,
    /// Only this customer (`""` for unattributed).
    pub customer: Option<String>,
    /// Only active cases past their deadline.
    #[serde(default)]
    pub overdue: bool,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// Cases matching `filter`, newest first. The filter terms are the queue's
/// ([`crate::queue::QueueFilter`]), so the API and the queue page mean the same by a filter.
pub async fn list(store: &Store, filter: &CaseFilter, now: DateTime<Utc>) -> Result<Vec<Case>> {
    let terms = crate::queue::QueueFilter {
        state: filter.state,
        class: filter.class,
        customer: filter.customer.clone(),
        overdue: filter.overdue,
        ..Default::default()
    }
    .terms(false, false, now);
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
    let offset = filter.offset.unwrap_or(0).max(0);
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1{} ORDER BY opened_at DESC, id DESC LIMIT {limit} OFFSET {offset}",
        terms.sql
    );
    let rows = terms
        .bind(sqlx::query(&sql))
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("case list"))?;
    rows.iter().map(case_from_row).collect()
}

/// How many cases there are in each state (states without cases are absent): the metrics'
/// `warden_cases` gauge.
pub async fn count_by_state(store: &Store) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT state, COUNT(*) FROM cases GROUP BY state")
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("case count by state"))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0).map_err(DeskError::db("case count row"))?,
                r.try_get(1).map_err(DeskError::db("case count row"))?,
            ))
        })
        .collect()
}

/// One case.
pub async fn get(store: &Store, id: &str) -> Result<Case> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(DeskError::db("case read"))?
        .ok_or_else(|| DeskError::NotFound {
            what: format!("case {id}"),
        })?;
    case_from_row(&row)
}

/// The events of a case (stored JSON), oldest first, at most `limit`.
pub async fn events(store: &Store, case_id: &str, limit: i64) -> Result<Vec<serde_json::Value>> {
    let rows = sqlx::query("SELECT event_json, attribution_json, report_id FROM events WHERE case_id = $1 ORDER BY at, id LIMIT $2")
        .bind(case_id)
        .bind(limit)
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("case events"))?;
    let mut out = Vec::new();
    for r in rows {
        let ev: String = r.try_get(0).map_err(DeskError::db("event row"))?;
        let at: String = r.try_get(1).map_err(DeskError::db("event row"))?;
        let report: String = r.try_get(2).map_err(DeskError::db("event row"))?;
        out.push(serde_json::json!({
            "report_id": report,
            "event": serde_json::from_str::<serde_json::Value>(&ev).unwrap_or_default(),
            "attribution": serde_json::from_str::<serde_json::Value>(&at).unwrap_or_default(),
        }));
    }
    Ok(out)
}

/// How many cases the customer had in the last `days` days (repeat-offender count, HC-11).
pub async fn repeat_count(
    store: &Store,
    customer_id: &str,
    now: DateTime<Utc>,
    days: i64,
) -> Result<i64> {
    if customer_id.is_empty() {
        return Ok(0);
    }
    let row = sqlx::query("SELECT COUNT(*) FROM cases WHERE customer_id = $1 AND opened_at >= $2")
        .bind(customer_id)
        .bind(to_ms(now - Duration::days(days)))
        .fetch_one(store.pool())
        .await
        .map_err(DeskError::db("repeat offender count"))?;
    row.try_get(0)
        .map_err(DeskError::db("repeat offender count"))
}

/// Applies `action` to a case on behalf of `actor`, with an audit entry and, for escalation and
/// suspension, a signed webhook in the outbox.
pub async fn apply(
    store: &Store,
    policy: &Policy,
    id: &str,
    action: CaseAction,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    if note.len() > 10_000 {
        return Err(DeskError::TooLarge {
            what: "case note",
            size: note.len(),
            limit: 10_000,
        });
    }
    let _guard = store.write_guard().await;
    let mut tx = store
        .pool()
        .begin()
        .await
        .map_err(DeskError::db("case action"))?;
    transition(&mut tx, policy, id, action, actor, note, now).await?;
    tx.commit()
        .await
        .map_err(DeskError::db("case action commit"))?;
    get(store, id).await
}

/// Notifies the customer of a case now (the analyst's "notify" on one case or in bulk): the
/// `notify` transition, an audit entry and a customer notice in the outbox, due at once, to the
/// customer's abuse contacts (technical ones when there is none), all in one transaction. Refuses
/// an unattributed case or a customer without contacts: nothing would be sent, so the state must
/// not claim it was.
pub async fn notify_now(
    store: &Store,
    policy: &Policy,
    id: &str,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Case> {
    let case = get(store, id).await?;
    CaseAction::Notify.next(case.state)?;
    if case.customer_id.is_empty() {
        return Err(DeskError::invalid(
            format!("case {id}"),
            "not attributed to a customer: nobody to notify",
        ));
    }
    let contacts =
        sqlx::query("SELECT role, email FROM contacts WHERE customer_id = $1 ORDER BY role, email")
            .bind(&case.customer_id)
            .fetch_all(store.pool())
            .await
            .map_err(DeskError::db("contacts"))?;
    let pick = |role: &str| -> Vec<String> {
        contacts
            .iter()
            .filter(|r| r.try_get::<String, _>(0).is_ok_and(|x| x == role))
            .filter_map(|r| r.try_get::<String, _>(1).ok())
            .collect()
    };
    let mut to = pick("abuse");
    if to.is_empty() {
        to = pick("technical");
    }
    if to.is_empty() {
        return Err(DeskError::invalid(
            format!("case {id}"),
            format!(
                "customer {:?} has no abuse or technical contact",
                case.customer_id
            ),
        ));
    }
    // The newest event gives the excerpt and report the notice quotes.
    let latest = sqlx::query(
        "SELECT report_id, event_json FROM events WHERE case_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await
    .map_err(DeskError::db("case events"))?;
    let (report_id, event): (Option<String>, serde_json::Value) = match &latest {
        Some(r) => (
            r.try_get(0).ok(),
            r.try_get::<String, _>(1)
                .ok()
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
        ),
        None => (None, serde_json::Value::Null),
    };
    let payload = serde_json::json!({
        "case": case.id,
        "class": case.class,
        "severity": case.severity,
        "subject": case.subject,
        "deadline": case.deadline_at,
        "observed": event.pointer("/observed/utc"),
        "excerpt": event.pointer("/evidence/excerpt"),
        "report_id": report_id,
    });
    let _guard = store.write_guard().await;
    let mut tx = store
        .pool()
        .begin()
        .await
        .map_err(DeskError::db("case notify"))?;
    transition(&mut tx, policy, id, CaseAction::Notify, actor, note, now).await?;
    for rcpt in &to {
        outbox::enqueue(
            &mut tx,
            OutboxKind::CustomerNotice,
            rcpt,
            Some(&case.customer_id),
            Some(id),
            report_id.as_deref(),
            &payload,
            now,
            now,
        )
        .await?;
    }
    tx.commit()
        .await
        .map_err(DeskError::db("case notify commit"))?;
    get(store, id).await
}

/// Assigns a case to `assignee` (a desk token name; empty to unassign), with an audit entry.
/// The state does not change: assignment says who works the case, not how far it is.
pub async fn assign(
    store: &Store,
    id: &str,
    assignee: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if assignee.len() > 200 {
        return Err(DeskError::invalid("assignee", "longer than 200 characters"));
    }
    let _guard = store.write_guard().await;
    let mut tx = store
        .pool()
        .begin()
        .await
        .map_err(DeskError::db("case assign"))?;
    let before: Option<String> = sqlx::query("SELECT assignee FROM cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(DeskError::db("case assign"))?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(DeskError::db("case assign"))?;
    let Some(before) = before else {
        return Err(DeskError::NotFound {
            what: format!("case {id}"),
        });
    };
    sqlx::query("UPDATE cases SET assignee = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(assignee)
        .bind(to_ms(now))
        .execute(&mut *tx)
        .await
        .map_err(DeskError::db("case assign"))?;
    let show = |s: &str| {
        if s.is_empty() {
            "nobody".to_owned()
        } else {
            s.to_owned()
        }
    };
    audit::record(
        &mut tx,
        now,
        Some(id),
        actor,
        "assign",
        &format!("{} -> {}", show(&before), show(assignee)),
    )
    .await?;
    tx.commit()
        .await
        .map_err(DeskError::db("case assign commit"))?;
    Ok(())
}

pub(crate) async fn transition(
    conn: &mut AnyConnection,
    policy: &Policy,
    id: &str,
    action: CaseAction,
    actor: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<CaseState> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(DeskError::db("case action"))?
        .ok_or_else(|| DeskError::NotFound {
            what: format!("case {id}"),
        })?;
    let case = case_from_row(&row)?;
    let to = action.next(case.state)?;
    let nowms = to_ms(now);
    let stamp = match to {
        CaseState::Notified => ", notified_at = $3",
        CaseState::Escalated => ", escalated_at = $3",
        CaseState::Resolved | CaseState::Closed => ", closed_at = $3",
        CaseState::Open => ", closed_at = NULL",
        _ => "",
    };
    sqlx::query(&format!(
        "UPDATE cases SET state = $2, updated_at = $3{stamp} WHERE id = $1"
    ))
    .bind(id)
    .bind(to.as_str())
    .bind(nowms)
    .execute(&mut *conn)
    .await
    .map_err(DeskError::db("case action"))?;
    if matches!(to, CaseState::Resolved | CaseState::Closed) {
        // Stop collecting: the next event for this group opens a new case.
        sqlx::query("DELETE FROM open_cases WHERE case_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(DeskError::db("case action"))?;
    }
    let action_name = serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    audit::record(
        conn,
        now,
        Some(id),
        actor,
        &action_name,
        &format!("{} -> {}. {note}", case.state.as_str(), to.as_str()),
    )
    .await?;
    if matches!(to, CaseState::Escalated | CaseState::Suspended)
        && to != case.state
        && !policy.webhook_url.is_empty()
    {
        let payload = serde_json::json!({
            "event": to.as_str(),
            "case": case.id,
            "customer": case.customer_id,
            "class": case.class,
            "subject": case.subject,
            "severity": case.severity,
            "at": now,
            "note": note,
        });
        outbox::enqueue(
            conn,
            OutboxKind::Webhook,
            &policy.webhook_url,
            Some(&case.customer_id),
            Some(id),
            None,
            &payload,
            now,
            now,
        )
        .await?;
    }
    Ok(to)
}

/// Escalates every active case past a threshold of its class: event count, age, or deadline.
/// Called periodically by the server; returns the escalated case ids.
pub async fn escalate_due(
    store: &Store,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    // The states an escalation may leave, as the lifecycle says (not `escalated` itself).
    let escalatable = sql_list(
        CaseState::ALL
            .into_iter()
            .filter(|s| CaseAction::Escalate.next(*s).is_ok()),
    );
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE state IN {escalatable} LIMIT 10000"
    ))
    .fetch_all(store.pool())
    .await
    .map_err(DeskError::db("escalation sweep"))?;
    let mut due = Vec::new();
    for r in &rows {
        let c = case_from_row(r)?;
        let cp = policy.for_class(c.class);
        let reason = if cp.escalate_after_events > 0
            && c.event_count >= i64::from(cp.escalate_after_events)
        {
            Some(format!(
                "{} events (threshold {})",
                c.event_count, cp.escalate_after_events
            ))
        } else if cp.escalate_after_hours > 0
            && now - c.opened_at >= Duration::hours(i64::from(cp.escalate_after_hours))
        {
            Some(format!(
                "open for {} hours (threshold {})",
                (now - c.opened_at).num_hours(),
                cp.escalate_after_hours
            ))
        } else if c.deadline_at < now && c.state != CaseState::CustomerReplied {
            Some(format!("deadline {} passed", c.deadline_at))
        } else {
            None
        };
        if let Some(reason) = reason {
            due.push((c.id, reason));
        }
    }
    let mut done = Vec::new();
    for (id, reason) in due {
        let _guard = store.write_guard().await;
        let mut tx = store
            .pool()
            .begin()
            .await
            .map_err(DeskError::db("escalation"))?;
        // Another node may have moved the case meanwhile; a refused transition is not an error.
        match transition(
            &mut tx,
            policy,
            &id,
            CaseAction::Escalate,
            "system",
            &reason,
            now,
        )
        .await
        {
            Ok(_) => {
                tx.commit()
                    .await
                    .map_err(DeskError::db("escalation commit"))?;
                done.push(id);
            }
            Err(DeskError::Transition { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_transitions() {
        use CaseAction::*;
        use CaseState::*;
        assert_eq!(Notify.next(Open).unwrap(), Notified);
        assert_eq!(Escalate.next(Notified).unwrap(), Escalated);
        assert_eq!(Suspend.next(Escalated).unwrap(), Suspended);
        assert_eq!(Resolve.next(Suspended).unwrap(), Resolved);
        assert_eq!(Reopen.next(Closed).unwrap(), Open);
        assert!(Escalate.next(Closed).is_err());
        assert!(Notify.next(Resolved).is_err());
        assert!(Close.next(Closed).is_err());
        assert_eq!(Note.next(Closed).unwrap(), Closed);
    }
}
