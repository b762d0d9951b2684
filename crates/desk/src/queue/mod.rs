//! The case queue's query: filters (class, state, customer, reporter, assignee, overdue),
//! search by address, domain or case id, and keyset pages in four orders ([`sort`]).
//!
//! Keyset, not OFFSET: case ids are UUID v7 (time-ordered primary key), so a page is
//! `WHERE id < $last ORDER BY id DESC LIMIT n`: one index range walk whatever the page depth,
//! where OFFSET would read and discard every earlier row (slow at a million cases).
//!
//! The filter terms are built in one place ([`QueueFilter`]'s conditions), which the API's
//! offset-paged [`crate::cases::list`] uses too: the queue and the API cannot disagree on what
//! a filter means.

pub mod sort;

use crate::cases::{CaseState, overdue_sql};
use crate::error::{DeskError, Result};
use crate::store::{Store, from_ms, to_ms};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::net::IpAddr;
use warden_model::AbuseClass;

pub use sort::{Cursor, LEVELS, Sort};

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;
/// A class or state with at least this many cases counts as dense for sorted pages (`fetch`):
/// walking the order's index then finds a page within about `PAGE_SIZE * total / DENSE_AT` rows,
/// and below it sorting the matches is cheaper.
const DENSE_AT: i64 = 10_000;

/// What the search box matched as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// A case id.
    CaseId(String),
    /// A case subject (canonical address, normalised domain, lower-case mail address or URL).
    Subject(String),
}

/// Validated filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only this class.
    pub class: Option<AbuseClass>,
    /// Only this state.
    pub state: Option<CaseState>,
    /// Only this customer.
    pub customer: Option<String>,
    /// Only cases first reported by this address (lower case).
    pub reporter: Option<String>,
    /// Only cases assigned to this token name (`Some("")`: unassigned ones).
    pub assignee: Option<String>,
    /// Only active cases past their deadline.
    pub overdue: bool,
    /// Search.
    pub search: Option<Search>,
    /// Keyset cursor, canonical text of a [`Cursor`] for `sort`.
    pub after: Option<String>,
    /// Order.
    pub sort: Sort,
}

/// Whether `s` has the shape of a case id (UUID text), so it can be used as id or cursor.
pub fn is_case_id(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// Reads the search box the way the desk keys case subjects ([`crate::intake::subject_key`]):
/// canonical IP text, normalised domain, else the lower-cased text (mail address, URL).
pub fn parse_search(q: &str) -> Search {
    if is_case_id(q) {
        return Search::CaseId(q.to_ascii_lowercase());
    }
    if let Ok(ip) = q.parse::<IpAddr>() {
        return Search::Subject(ip.to_string());
    }
    if !q.contains(['@', '/', ':'])
        && let Some(d) = crate::inventory::normalize_domain(q)
    {
        return Search::Subject(d);
    }
    Search::Subject(q.to_lowercase())
}

/// One queue row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// Case id.
    pub id: String,
    /// Customer id (empty: unattributed).
    pub customer_id: String,
    /// Class name.
    pub class: String,
    /// Subject.
    pub subject: String,
    /// State.
    pub state: CaseState,
    /// Severity name.
    pub severity: String,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Deadline.
    pub deadline_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Events.
    pub event_count: i64,
    /// Assigned analyst ('' for nobody).
    pub assignee: String,
}

impl QueueRow {
    /// Active and past its deadline.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.is_overdue(self.deadline_at, now)
    }
}

/// A bound value of a case query.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// `WHERE` terms (each with a leading ` AND`) and their bound values, numbered `$1, $2...` in
/// the order they are pushed, so that a term can be written with `?` and still be portable.
#[derive(Debug, Clone, Default)]
pub(crate) struct Terms {
    pub(crate) sql: String,
    binds: Vec<Bind>,
}

impl Terms {
    /// Appends `clause`, replacing each `?` by the next placeholder bound to the next of `vs`.
    fn push(&mut self, clause: &str, vs: Vec<Bind>) {
        let mut clause = clause.to_owned();
        for v in vs {
            self.binds.push(v);
            clause = clause.replacen('?', &format!("${}", self.binds.len()), 1);
        }
        self.sql.push_str(&clause);
    }

    /// Binds the values to `q`, whose text ends with (or contains) these terms.
    pub(crate) fn bind<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

fn text(s: &str) -> Vec<Bind> {
    vec![Bind::Text(s.to_owned())]
}

impl QueueFilter {
    /// The filter's terms over `cases` (everything but the cursor). `dense_class` and
    /// `dense_state` write those terms unindexable (see [`page`]); plain listings pass `false`.
    pub(crate) fn terms(&self, dense_class: bool, dense_state: bool, now: DateTime<Utc>) -> Terms {
        let mut t = Terms::default();
        if let Some(c) = self.class {
            let term = if dense_class {
                " AND class || '' = ?"
            } else {
                " AND class = ?"
            };
            t.push(term, text(c.as_str()));
        }
        if let Some(s) = self.state {
            let term = if dense_state {
                " AND state || '' = ?"
            } else {
                " AND state = ?"
            };
            t.push(term, text(s.as_str()));
        }
        if let Some(c) = &self.customer {
            t.push(" AND customer_id = ?", text(c));
        }
        if let Some(r) = &self.reporter {
            t.push(" AND reporter = ?", text(r));
        }
        if let Some(a) = &self.assignee {
            t.push(" AND assignee = ?", text(a));
        }
        match &self.search {
            Some(Search::CaseId(id)) => t.push(" AND id = ?", text(id)),
            Some(Search::Subject(s)) => t.push(" AND subject = ?", text(s)),
            None => {}
        }
        if self.overdue {
            t.sql.push_str(&overdue_sql(now));
        }
        t
    }
}

/// One page of the queue in the filter's order, and the cursor of the next page if there is one.
pub async fn page(
    store: &Store,
    f: &QueueFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<QueueRow>, Option<String>)> {
    // Under another order than arrival, a *dense* class or state (many cases) must not lead the
    // plan: the planner would pick its index and sort a quarter of the table (1.2 s at a million
    // cases); `|| ''` makes the term unindexable on both backends, so the order's own index is
    // walked and the term filters. A *rare* one must lead, or that walk reads the whole index
    // (2.8 s). Which it is, a bounded count on its index says (see docs/benchmarks.md).
    let dense = |col: &'static str, v: &'static str| async move {
        if f.sort == Sort::Received {
            return Ok::<bool, DeskError>(false);
        }
        let n: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE {col} = $1 LIMIT {DENSE_AT}) AS x"
        ))
        .bind(v)
        .fetch_one(store.pool())
        .await
        .and_then(|r| r.try_get(0))
        .map_err(DeskError::db("case queue density"))?;
        Ok(n >= DENSE_AT)
    };
    let dense_class = match f.class {
        Some(c) => dense("class", c.as_str()).await?,
        None => false,
    };
    let dense_state = match f.state {
        Some(st) => dense("state", st.as_str()).await?,
        None => false,
    };
    let terms = f.terms(dense_class, dense_state, now);
    let t = text;
    let cursor = f
        .after
        .as_deref()
        .map(|a| Cursor::parse(f.sort, a))
        .transpose()?;
    let want = PAGE_SIZE as usize + 1;
    let mut out = Vec::with_capacity(want);
    // (extra clause, its binds, ORDER BY) per range scan; several only for the severity order.
    let mut scans: Vec<(String, Vec<Bind>, &str)> = Vec::new();
    match (f.sort, cursor) {
        (Sort::Received, c) => scans.push((
            c.map(|_| " AND id < ?".to_owned()).unwrap_or_default(),
            match &f.after {
                Some(a) => t(a),
                None => vec![],
            },
            "id DESC",
        )),
        (Sort::Updated, c) => scans.push(match c {
            Some(Cursor::Time(ms, id)) => (
                // The first term is implied by the second; it gives the planner a range on the
                // index (an OR alone makes SQLite scan).
                " AND updated_at <= ? AND (updated_at < ? OR (updated_at = ? AND id < ?))".into(),
                vec![Bind::Int(ms), Bind::Int(ms), Bind::Int(ms), Bind::Text(id)],
                "updated_at DESC, id DESC",
            ),
            _ => (String::new(), vec![], "updated_at DESC, id DESC"),
        }),
        (Sort::Deadline, c) => scans.push(match c {
            Some(Cursor::Time(ms, id)) => (
                " AND deadline_at >= ? AND (deadline_at > ? OR (deadline_at = ? AND id > ?))"
                    .into(),
                vec![Bind::Int(ms), Bind::Int(ms), Bind::Int(ms), Bind::Text(id)],
                "deadline_at, id",
            ),
            _ => (String::new(), vec![], "deadline_at, id"),
        }),
        (Sort::Severity, c) => {
            let (from, id) = match c {
                Some(Cursor::Level(l, id)) => (l, Some(id)),
                _ => (0, None),
            };
            for (i, level) in LEVELS.iter().enumerate().skip(from) {
                let mut b = t(level);
                let mut clause = " AND severity = ?".to_owned();
                if i == from
                    && let Some(id) = &id
                {
                    clause.push_str(" AND id < ?");
                    b.push(Bind::Text(id.clone()));
                }
                scans.push((clause, b, "id DESC"));
            }
        }
    }
    for (clause, extra, order) in scans {
        if out.len() >= want {
            break;
        }
        let mut scan = terms.clone();
        scan.push(&clause, extra);
        out.extend(select(store, &scan, order, want - out.len()).await?);
    }
    let next = if out.len() > PAGE_SIZE as usize {
        out.truncate(PAGE_SIZE as usize);
        out.last().map(|r| next_cursor(f.sort, r).encode())
    } else {
        None
    };
    Ok((out, next))
}

/// The newest `limit` cases matching `f` (its cursor and order ignored): a short listing such as
/// a customer's newest cases, through the same filter terms as the queue.
pub async fn newest(
    store: &Store,
    f: &QueueFilter,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<QueueRow>> {
    let limit = usize::try_from(limit.max(0)).unwrap_or(0);
    select(store, &f.terms(false, false, now), "id DESC", limit).await
}

/// Queue rows matching `terms` in `order`, at most `limit`.
async fn select(store: &Store, terms: &Terms, order: &str, limit: usize) -> Result<Vec<QueueRow>> {
    let sql = format!(
        "SELECT id, customer_id, class, subject, state, severity, opened_at, deadline_at, event_count, assignee, updated_at \
         FROM cases WHERE 1 = 1{} ORDER BY {order} LIMIT {limit}",
        terms.sql
    );
    let rows = terms
        .bind(sqlx::query(&sql))
        .fetch_all(store.pool())
        .await
        .map_err(DeskError::db("case queue"))?;
    let db = DeskError::db;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get(4).map_err(db("case queue row"))?;
            Ok(QueueRow {
                id: r.try_get(0).map_err(db("case queue row"))?,
                customer_id: r.try_get(1).map_err(db("case queue row"))?,
                class: r.try_get(2).map_err(db("case queue row"))?,
                subject: r.try_get(3).map_err(db("case queue row"))?,
                state: state.parse()?,
                severity: r.try_get(5).map_err(db("case queue row"))?,
                opened_at: from_ms(r.try_get(6).map_err(db("case queue row"))?),
                deadline_at: from_ms(r.try_get(7).map_err(db("case queue row"))?),
                event_count: r.try_get(8).map_err(db("case queue row"))?,
                assignee: r.try_get(9).map_err(db("case queue row"))?,
                updated_at: from_ms(r.try_get(10).map_err(db("case queue row"))?),
            })
        })
        .collect()
}

/// The cursor that continues after `r` in `sort`.
fn next_cursor(sort: Sort, r: &QueueRow) -> Cursor {
    match sort {
        Sort::Received => Cursor::Id(r.id.clone()),
        Sort::Updated => Cursor::Time(to_ms(r.updated_at), r.id.clone()),
        Sort::Deadline => Cursor::Time(to_ms(r.deadline_at), r.id.clone()),
        Sort::Severity => Cursor::Level(
            LEVELS
                .iter()
                .position(|l| *l == r.severity)
                .unwrap_or(LEVELS.len() - 1),
            r.id.clone(),
        ),
    }
}
