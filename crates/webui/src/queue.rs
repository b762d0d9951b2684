//! The case queue page: the filter form (class, state, customer, reporter, assignee, overdue,
//! search, sort) read into the desk's [`QueueFilter`] and written back as links, and the page.
//!
//! The query itself (keyset pages in four orders) is the desk's: [`warden_desk::queue`].

use crate::error::UiError;
use crate::layout::{self, Viewer};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use warden_desk::DeskError;
use warden_desk::cases::CaseState;
use warden_desk::queue::{Cursor, Sort};
pub use warden_desk::queue::{PAGE_SIZE, QueueFilter, QueueRow, Search, is_case_id, parse_search};
use warden_model::AbuseClass;

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
    /// Keyset cursor: where the previous page ended (`warden_desk::queue::Cursor`).
    pub after: Option<String>,
    /// Sort order (`warden_desk::queue::Sort`; webui-b).
    pub sort: Option<String>,
    /// Bulk-close outcome, for the banner.
    pub closed: Option<u32>,
    /// Bulk-close failures, for the banner.
    pub failed: Option<u32>,
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

/// A refused sort or cursor as the form's input error (400, naming the field), like every other
/// refused filter value.
fn form_input(e: DeskError) -> UiError {
    match e {
        DeskError::Invalid { what, reason } => UiError::BadInput { what, reason },
        e => UiError::Desk(e),
    }
}

/// Validates the form's values into the desk's filter, naming the field and the reason on
/// refusal.
pub fn filter_from_params(p: &QueueParams) -> Result<QueueFilter, UiError> {
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
    let sort = Sort::parse(nonempty(&p.sort).unwrap_or("")).map_err(form_input)?;
    let after = nonempty(&p.after)
        .map(|a| {
            Cursor::parse(sort, bounded("page cursor", a)?)
                .map(|c| c.encode())
                .map_err(form_input)
        })
        .transpose()?;
    Ok(QueueFilter {
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
pub fn query_string(f: &QueueFilter) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(c) = f.class {
        s.append_pair("class", c.as_str());
    }
    if let Some(st) = f.state {
        s.append_pair("state", st.as_str());
    }
    if let Some(c) = &f.customer {
        s.append_pair("customer", c);
    }
    if let Some(r) = &f.reporter {
        s.append_pair("reporter", r);
    }
    if let Some(a) = &f.assignee {
        s.append_pair("assignee", if a.is_empty() { "-" } else { a });
    }
    if f.overdue {
        s.append_pair("overdue", "on");
    }
    match &f.search {
        Some(Search::CaseId(id)) | Some(Search::Subject(id)) => {
            s.append_pair("q", id);
        }
        None => {}
    }
    if f.sort != Sort::Received {
        s.append_pair("sort", f.sort.as_str());
    }
    s.finish()
}

/// The queue page. `bulk` is the bulk-action controls (`crate::bulk::controls`), given only
/// when the viewer may act on cases: then the rows get their check boxes too.
pub fn render(
    viewer: &Viewer<'_>,
    bulk: Option<Markup>,
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
    let qs = query_string(f);
    let can_act = bulk.is_some();
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
            @if let Some(controls) = bulk.filter(|_| !rows.is_empty()) {
                (controls)
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
        let e = filter_from_params(&p).unwrap_err().to_string();
        assert!(e.contains("nonsense"), "{e}");
        let p = QueueParams {
            after: Some("1 OR 1=1".into()),
            ..Default::default()
        };
        assert!(filter_from_params(&p).is_err());
        let p = QueueParams {
            q: Some("x".repeat(301)),
            ..Default::default()
        };
        assert!(filter_from_params(&p).is_err());
    }

    #[test]
    fn empty_fields_mean_any() {
        let p = QueueParams {
            class: Some(String::new()),
            state: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(filter_from_params(&p).unwrap(), QueueFilter::default());
    }
}
