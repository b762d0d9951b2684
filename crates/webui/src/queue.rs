//! The case queue: filters (class, state, customer, overdue), search by address, domain or case
//! id, and keyset pagination.
//!
//! Keyset, not OFFSET: case ids are UUID v7 (time-ordered primary key), so a page is
//! `WHERE id < $last ORDER BY id DESC LIMIT n`: one index range walk whatever the page depth,
//! where OFFSET would read and discard every earlier row (slow at a million cases).

use crate::error::UiError;
use crate::layout::{self, Viewer};
use crate::queue_sort::{Cursor, LEVELS, Sort};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;
use std::net::IpAddr;
use warden_desk::Store;
use warden_desk::cases::CaseState;
use warden_desk::store::{from_ms, to_ms};
use warden_model::AbuseClass;

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;
/// A class or state with at least this many cases counts as dense for sorted pages (`fetch`):
/// walking the order's index then finds a page within about `PAGE_SIZE * total / DENSE_AT` rows,
/// and below it sorting the matches is cheaper.
const DENSE_AT: i64 = 10_000;
/// Longest accepted search text or filter value.
const MAX_INPUT: usize = 300;

/// The queue's query string as the filter form sends it (empty fields mean "any").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueParams {
    /// Abuse class.
    pub class: Option<String>,
    /// Lifecycle state.
    pub state: Option<String>,
    /// Customer id.
    pub customer: Option<String>,
    /// First reporter's mail address (webui-b).
    pub reporter: Option<String>,
    /// Assigned analyst's token name; `-` for unassigned cases (webui-b).
    pub assignee: Option<String>,
    /// `on` (checkbox) for overdue only.
    pub overdue: Option<String>,
    /// IP address, domain, mail address or case id.
    pub q: Option<String>,
    /// Keyset cursor: where the previous page ended (`crate::queue_sort::Cursor`).
    pub after: Option<String>,
    /// Sort order (`crate::queue_sort::Sort`; webui-b).
    pub sort: Option<String>,
    /// Bulk-close outcome, for the banner.
    pub closed: Option<u32>,
    /// Bulk-close failures, for the banner.
    pub failed: Option<u32>,
}

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

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bounded<'a>(what: &str, v: &'a str) -> Result<&'a str, UiError> {
    if v.len() > MAX_INPUT {
        return Err(UiError::bad(
            what,
            format!("longer than {MAX_INPUT} characters"),
        ));
    }
    Ok(v)
}

/// Whether `s` has the shape of a case id (UUID text), so it can be used as id or cursor.
pub fn is_case_id(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl QueueFilter {
    /// Validates the form's values, naming the field and the reason on refusal.
    pub fn from_params(p: &QueueParams) -> Result<Self, UiError> {
        let class = nonempty(&p.class)
            .map(|c| {
                bounded("class", c)?
                    .parse::<AbuseClass>()
                    .map_err(|m| UiError::bad(format!("class {c:?}"), m))
            })
            .transpose()?;
        let state = nonempty(&p.state)
            .map(|s| {
                bounded("state", s)?
                    .parse::<CaseState>()
                    .map_err(UiError::from)
            })
            .transpose()?;
        let customer = nonempty(&p.customer)
            .map(|c| bounded("customer", c).map(str::to_owned))
            .transpose()?;
        let reporter = nonempty(&p.reporter)
            .map(|r| bounded("reporter", r).map(str::to_lowercase))
            .transpose()?;
        let assignee = nonempty(&p.assignee)
            .map(|a| {
                bounded("assignee", a).map(|a| {
                    if a == "-" {
                        String::new()
                    } else {
                        a.to_owned()
                    }
                })
            })
            .transpose()?;
        let overdue = nonempty(&p.overdue).is_some_and(|v| v == "on" || v == "true" || v == "1");
        let search = nonempty(&p.q)
            .map(|q| bounded("search", q).map(parse_search))
            .transpose()?;
        let sort = Sort::parse(nonempty(&p.sort).unwrap_or(""))?;
        let after = nonempty(&p.after)
            .map(|a| Cursor::parse(sort, bounded("page cursor", a)?).map(|c| c.encode()))
            .transpose()?;
        Ok(Self {
            class,
            state,
            customer,
            reporter,
            assignee,
            overdue,
            search,
            after,
            sort,
        })
    }

    /// The query string for these filters (no cursor), for pager and bulk-close links.
    pub fn query_string(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(c) = self.class {
            s.append_pair("class", c.as_str());
        }
        if let Some(st) = self.state {
            s.append_pair("state", st.as_str());
        }
        if let Some(c) = &self.customer {
            s.append_pair("customer", c);
        }
        if let Some(r) = &self.reporter {
            s.append_pair("reporter", r);
        }
        if let Some(a) = &self.assignee {
            s.append_pair("assignee", if a.is_empty() { "-" } else { a });
        }
        if self.overdue {
            s.append_pair("overdue", "on");
        }
        match &self.search {
            Some(Search::CaseId(id)) | Some(Search::Subject(id)) => {
                s.append_pair("q", id);
            }
            None => {}
        }
        if self.sort != Sort::Received {
            s.append_pair("sort", self.sort.as_str());
        }
        s.finish()
    }
}

/// Reads the search box the way the desk keys case subjects (`warden_desk::intake::subject_key`):
/// canonical IP text, normalised domain, else the lower-cased text (mail address, URL).
pub fn parse_search(q: &str) -> Search {
    if is_case_id(q) {
        return Search::CaseId(q.to_ascii_lowercase());
    }
    if let Ok(ip) = q.parse::<IpAddr>() {
        return Search::Subject(ip.to_string());
    }
    if !q.contains(['@', '/', ':'])
        && let Some(d) = warden_desk::inventory::normalize_domain(q)
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
        self.state.is_active() && self.deadline_at < now
    }
}

/// A bound value of the queue query.
enum Bind {
    Text(String),
    Int(i64),
}

/// One page of the queue in the filter's order, and the cursor of the next page if there is one.
pub async fn fetch(
    store: &Store,
    f: &QueueFilter,
    now: DateTime<Utc>,
) -> Result<(Vec<QueueRow>, Option<String>), UiError> {
    let mut sql = String::from(
        "SELECT id, customer_id, class, subject, state, severity, opened_at, deadline_at, event_count, assignee, updated_at \
         FROM cases WHERE 1 = 1",
    );
    let mut binds: Vec<Bind> = Vec::new();
    fn push(sql: &mut String, binds: &mut Vec<Bind>, clause: &str, vs: Vec<Bind>) {
        let mut clause = clause.to_owned();
        for v in vs {
            binds.push(v);
            clause = clause.replacen('?', &format!("${}", binds.len()), 1);
        }
        sql.push_str(&clause);
    }
    let t = |s: &str| vec![Bind::Text(s.to_owned())];
    // Under another order than arrival, a *dense* class or state (many cases) must not lead the
    // plan: the planner would pick its index and sort a quarter of the table (1.2 s at a million
    // cases); `|| ''` makes the term unindexable on both backends, so the order's own index is
    // walked and the term filters. A *rare* one must lead, or that walk reads the whole index
    // (2.8 s). Which it is, a bounded count on its index says (see docs/benchmarks.md).
    let dense = |col: &'static str, v: &'static str| async move {
        if f.sort == Sort::Received {
            return Ok::<bool, UiError>(false);
        }
        let n: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM cases WHERE {col} = $1 LIMIT {DENSE_AT}) AS x"
        ))
        .bind(v)
        .fetch_one(store.pool())
        .await
        .and_then(|r| r.try_get(0))
        .map_err(UiError::db("case queue density"))?;
        Ok(n >= DENSE_AT)
    };
    let class_term = match f.class {
        Some(c) if dense("class", c.as_str()).await? => " AND class || '' = ?",
        _ => " AND class = ?",
    };
    let state_term = match f.state {
        Some(st) if dense("state", st.as_str()).await? => " AND state || '' = ?",
        _ => " AND state = ?",
    };
    if let Some(c) = f.class {
        push(&mut sql, &mut binds, class_term, t(c.as_str()));
    }
    if let Some(s) = f.state {
        push(&mut sql, &mut binds, state_term, t(s.as_str()));
    }
    if let Some(c) = &f.customer {
        push(&mut sql, &mut binds, " AND customer_id = ?", t(c));
    }
    if let Some(r) = &f.reporter {
        push(&mut sql, &mut binds, " AND reporter = ?", t(r));
    }
    if let Some(a) = &f.assignee {
        push(&mut sql, &mut binds, " AND assignee = ?", t(a));
    }
    match &f.search {
        Some(Search::CaseId(id)) => push(&mut sql, &mut binds, " AND id = ?", t(id)),
        Some(Search::Subject(s)) => push(&mut sql, &mut binds, " AND subject = ?", t(s)),
        None => {}
    }
    if f.overdue {
        // A number we computed, not input: safe to inline.
        sql.push_str(&format!(
            " AND deadline_at < {} AND state IN ('open', 'notified', 'customer_replied', 'escalated')",
            to_ms(now)
        ));
    }
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
        let mut q_sql = sql.clone();
        let mut q_binds: Vec<Bind> = binds
            .iter()
            .map(|b| match b {
                Bind::Text(s) => Bind::Text(s.clone()),
                Bind::Int(i) => Bind::Int(*i),
            })
            .collect();
        push(&mut q_sql, &mut q_binds, &clause, extra);
        q_sql.push_str(&format!(" ORDER BY {order} LIMIT {}", want - out.len()));
        let mut q = sqlx::query(&q_sql);
        for b in q_binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q
            .fetch_all(store.pool())
            .await
            .map_err(UiError::db("case queue"))?;
        let db = UiError::db;
        for r in &rows {
            let state: String = r.try_get(4).map_err(db("case queue row"))?;
            out.push(QueueRow {
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
            });
        }
    }
    let next = if out.len() > PAGE_SIZE as usize {
        out.truncate(PAGE_SIZE as usize);
        out.last().map(|r| next_cursor(f.sort, r).encode())
    } else {
        None
    };
    Ok((out, next))
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

/// The queue page.
pub fn render(
    viewer: &Viewer<'_>,
    can_act: bool,
    f: &QueueFilter,
    p: &QueueParams,
    rows: &[QueueRow],
    next: Option<&str>,
    now: DateTime<Utc>,
) -> Markup {
    let search_text = match &f.search {
        Some(Search::CaseId(s)) | Some(Search::Subject(s)) => s.as_str(),
        None => "",
    };
    let qs = f.query_string();
    let body = html! {
        h1 { "Case queue" }
        @if let (Some(c), Some(x)) = (p.closed, p.failed) {
            p.banner role="status" { "Closed " (c) " case(s); " (x) " could not be closed (already closed or gone)." }
        }
        form.filters method="get" action="/ui/cases" {
            label { "Search" input type="search" name="q" value=(search_text) placeholder="IP, domain or case id" size="28"; }
            label { "Class"
                select name="class" {
                    option value="" { "any" }
                    @for c in AbuseClass::ALL {
                        option value=(c.as_str()) selected[f.class == Some(c)] { (c.as_str()) }
                    }
                }
            }
            label { "State"
                select name="state" {
                    option value="" { "any" }
                    @for s in CaseState::ALL {
                        option value=(s.as_str()) selected[f.state == Some(s)] { (s.as_str()) }
                    }
                }
            }
            label { "Customer" input type="text" name="customer" value=(f.customer.as_deref().unwrap_or("")) size="12"; }
            label { "Reporter" input type="text" name="reporter" value=(f.reporter.as_deref().unwrap_or("")) size="18" placeholder="reporter mail address"; }
            label { "Assignee" input type="text" name="assignee" value=(f.assignee.as_deref().map(|a| if a.is_empty() { "-" } else { a }).unwrap_or("")) size="10" placeholder="- for nobody"; }
            label { "Sort"
                select name="sort" {
                    @for o in Sort::ALL { option value=(o.as_str()) selected[f.sort == o] { (o.label()) } }
                }
            }
            label { "Overdue only" input type="checkbox" name="overdue" checked[f.overdue]; }
            button type="submit" { "Filter" }
            a href="/ui/cases" { "Reset" }
        }
        form id="bulk" method="post" action="/ui/cases/bulk-close" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input type="hidden" name="back" value=(qs);
            table.queue {
                thead { tr {
                    th { @if can_act { input id="select-all" type="checkbox" title="Select all" aria-label="Select all cases on this page"; } }
                    th { "Case" } th { "Class" } th { "Subject" } th { "Customer" }
                    th { "State" } th { "Severity" } th { "Events" } th { "Opened" } th { "Deadline" } th { "Assignee" }
                } }
                tbody {
                    @for r in rows {
                        tr data-case=(r.id) {
                            td { @if can_act { input type="checkbox" name="ids" value=(r.id) aria-label={ "select case " (r.id) }; } }
                            td.mono { a href={ "/ui/cases/" (r.id) } { "…" (r.id.get(r.id.len().saturating_sub(12)..).unwrap_or(&r.id)) } }
                            td { (r.class) }
                            td.subject { (r.subject) }
                            td { @if r.customer_id.is_empty() { span.muted { "unattributed" } } @else { (r.customer_id) } }
                            td { span class={ "state state-" (r.state.as_str()) } { (r.state.as_str()) } }
                            td { (r.severity) }
                            td { (r.event_count) }
                            td { (layout::when(r.opened_at)) }
                            td {
                                @if r.overdue(now) { span.overdue title="past deadline" { "OVERDUE " } }
                                (layout::relative(r.deadline_at, now))
                            }
                            td { (r.assignee) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="11" .muted { "No case matches these filters." } } }
                }
            }
            @if can_act && !rows.is_empty() {
                (crate::bulk::controls())
            }
        }
        div.pager {
            @if f.after.is_some() { a href={ "/ui/cases?" (qs) } { "« Newest" } }
            @if let Some(n) = next {
                a rel="next" href={ "/ui/cases?" (qs) @if !qs.is_empty() { "&" } "after=" (n) } { "Older »" }
            }
        }
    };
    layout::page("Case queue", Some(viewer), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_reads_like_subject_keys() {
        assert_eq!(
            parse_search("2001:DB8::1"),
            Search::Subject("2001:db8::1".into())
        );
        assert_eq!(
            parse_search("Evil.Example."),
            Search::Subject("evil.example".into())
        );
        assert_eq!(
            parse_search("019A0000-0000-7000-8000-000000000000"),
            Search::CaseId("019a0000-0000-7000-8000-000000000000".into())
        );
    }

    #[test]
    fn bad_filters_name_the_input() {
        let p = QueueParams {
            class: Some("nonsense".into()),
            ..Default::default()
        };
        let e = QueueFilter::from_params(&p).unwrap_err().to_string();
        assert!(e.contains("nonsense"), "{e}");
        let p = QueueParams {
            after: Some("1 OR 1=1".into()),
            ..Default::default()
        };
        assert!(QueueFilter::from_params(&p).is_err());
        let p = QueueParams {
            q: Some("x".repeat(301)),
            ..Default::default()
        };
        assert!(QueueFilter::from_params(&p).is_err());
    }

    #[test]
    fn empty_fields_mean_any() {
        let p = QueueParams {
            class: Some(String::new()),
            state: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(
            QueueFilter::from_params(&p).unwrap(),
            QueueFilter::default()
        );
    }
}
