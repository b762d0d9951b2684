//! Inventory pages: the customer list with search, one customer (contacts, prefixes, domains
//! with their validity periods, its cases and its repeat-offender count) and the import of an
//! inventory file (CSV or JSON, the desk's formats: `warden_desk::inventory`) by upload.
//!
//! Reading is for every role (analysts need to know whom a case belongs to); importing is for
//! admins only, because it changes who gets blamed for which address. A refused import lists
//! every bad CSV line (`InventoryDoc::from_csv_lines`) and changes nothing.

use crate::error::UiError;
use crate::extract::{Allowed, LoggedIn, Need};
use crate::layout::html_page;
use crate::layout::{self, Viewer};
use crate::need;
use crate::state::{Shared, Ui};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use warden_desk::customers::{self, CustomerRow, CustomerView, Holding};
use warden_desk::inventory::{self, ImportSummary, InventoryDoc, LineError};
use warden_desk::tokens::Role;

/// Customers per list page.
pub const PAGE_SIZE: i64 = 100;
/// Cases listed on a customer page (newest first; the queue filtered by customer has the rest).
pub const CASES_SHOWN: i64 = 50;
/// Largest inventory file accepted by upload. The desk accepts 64 MiB from the command line
/// (`warden inventory import`); a browser upload of that size would tie up a request for long.
pub const MAX_UPLOAD_BYTES: usize = 16 << 20;
/// Longest search text.
const MAX_SEARCH: usize = 200;
/// The repeat-offender window, as on the case page.
const REPEAT_DAYS: i64 = 90;

/// The routes of these pages (merged into the UI router).
pub(crate) fn routes() -> Router<Arc<Ui>> {
    Router::new()
        .route("/ui/inventory", get(list_page))
        .route(
            "/ui/inventory/import",
            get(import_page)
                .post(import)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)),
        )
        .route("/ui/inventory/{id}", get(customer_page))
}

/// The list's query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// Part of a customer id or name.
    pub q: Option<String>,
    /// Keyset cursor: the last customer id of the previous page.
    pub after: Option<String>,
}

fn bounded<'a>(what: &str, v: &'a Option<String>) -> Result<&'a str, UiError> {
    let v = v.as_deref().map(str::trim).unwrap_or("");
    if v.len() > MAX_SEARCH {
        return Err(UiError::bad(
            what,
            format!("longer than {MAX_SEARCH} characters"),
        ));
    }
    Ok(v)
}

async fn list_page(
    State(ui): Shared,
    Query(p): Query<ListParams>,
    LoggedIn(s): LoggedIn,
) -> Result<Response, UiError> {
    let q = bounded("search", &p.q)?;
    let after = bounded("page cursor", &p.after)?;
    let (rows, next) = customers::search(ui.desk.store(), q, after, PAGE_SIZE).await?;
    Ok(html_page(render_list(
        &s.viewer(),
        s.role >= Role::Admin,
        q,
        !after.is_empty(),
        &rows,
        next.as_deref(),
    )))
}

/// The customer list.
pub fn render_list(
    viewer: &Viewer<'_>,
    is_admin: bool,
    q: &str,
    paged: bool,
    rows: &[CustomerRow],
    next: Option<&str>,
) -> Markup {
    let qs = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .finish();
    let body = html! {
        h1 { "Customers" }
        @if is_admin { p { a href="/ui/inventory/import" { "Import an inventory file" } } }
        form.filters method="get" action="/ui/inventory" role="search" {
            label for="inv-q" { "Customer id or name" }
            input #inv-q type="search" name="q" value=(q) maxlength="200" size="28";
            button type="submit" { "Search" }
        }
        table.inventory {
            caption.visually-hidden { "Customers" }
            thead { tr { th scope="col" { "Customer" } th scope="col" { "Name" } } }
            tbody {
                @for c in rows {
                    tr data-customer=(c.id) {
                        td.mono { a href={ "/ui/inventory/" (urlencode_path(&c.id)) } { (c.id) } }
                        td { (c.name) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="2" .muted { "No customer matches." } } }
            }
        }
        div.pager {
            @if paged { a href={ "/ui/inventory?" (qs) } { "« First" } }
            @if let Some(n) = next {
                a rel="next" href={ "/ui/inventory?" (qs) "&after=" (urlencode(n)) } { "Next »" }
            }
        }
    };
    layout::page("Customers", Some(viewer), body)
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A customer id as one path segment (`/` and everything else outside unreserved escaped).
fn urlencode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn customer_page(
    State(ui): Shared,
    Path(id): Path<String>,
    LoggedIn(s): LoggedIn,
) -> Result<Response, UiError> {
    if id.is_empty() || id.len() > 200 {
        return Err(UiError::bad("customer id", "must be 1 to 200 characters"));
    }
    let now = Utc::now();
    let v = customers::view(ui.desk.store(), &id, CASES_SHOWN, REPEAT_DAYS, now).await?;
    Ok(html_page(render_customer(&s.viewer(), &v, now)))
}

fn period(h: &Holding, now: DateTime<Utc>) -> Markup {
    html! {
        @if h.valid_from == DateTime::<Utc>::UNIX_EPOCH { "always" } @else { (layout::when(h.valid_from)) } " – "
        @match h.valid_to {
            Some(t) => { (layout::when(t)) @if t <= now { " " span.muted { "(ended)" } } }
            None => { "open" }
        }
    }
}

/// The customer page.
pub fn render_customer(viewer: &Viewer<'_>, v: &CustomerView, now: DateTime<Utc>) -> Markup {
    let c = &v.customer;
    let queue_link = format!(
        "/ui/cases?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("customer", &c.id)
            .finish()
    );
    let body = html! {
        p { a href="/ui/inventory" { "« Customers" } }
        h1 { (c.name) " " span.muted.mono { "(" (c.id) ")" } }
        dl.facts {
            dt { "Repeat offender" }
            dd data-repeat=(v.repeat) {
                (v.repeat) " case(s) opened in the last " (REPEAT_DAYS) " days"
                @if v.repeat >= 3 { " " span.overdue { "REPEAT OFFENDER" } }
            }
        }
        h2 { "Contacts" }
        @if c.contacts.is_empty() { p.muted { "No contact: notifications for this customer cannot be sent." } }
        ul { @for ct in &c.contacts { li { (format!("{:?}", ct.role).to_lowercase()) ": " span.mono { (ct.email) } } } }
        h2 { "Address blocks" }
        table {
            caption.visually-hidden { "Address blocks" }
            thead { tr { th scope="col" { "Prefix" } th scope="col" { "Kind" } th scope="col" { "Valid" } } }
            tbody {
                @for p in &v.prefixes {
                    tr {
                        td.mono { (p.value) }
                        td {
                            @if p.inside { "inside (behind CGN)" }
                            @else if p.shared { "shared (CGN pool)" }
                            @else { "public" }
                        }
                        td { (period(p, now)) }
                    }
                }
                @if v.prefixes.is_empty() { tr { td colspan="3" .muted { "None." } } }
            }
        }
        h2 { "Subscriber ids" }
        table {
            caption.visually-hidden { "Subscriber ids" }
            thead { tr { th scope="col" { "Subscriber id (NAT logs, RADIUS)" } th scope="col" { "Valid" } } }
            tbody {
                @for s in &v.subscribers { tr.subscriber { td.mono { (s.value) } td { (period(s, now)) } } }
                @if v.subscribers.is_empty() { tr { td colspan="2" .muted { "None." } } }
            }
        }
        h2 { "Domains" }
        table {
            caption.visually-hidden { "Domains" }
            thead { tr { th scope="col" { "Domain" } th scope="col" { "Valid" } } }
            tbody {
                @for d in &v.domains { tr { td.mono { (d.value) } td { (period(d, now)) } } }
                @if v.domains.is_empty() { tr { td colspan="2" .muted { "None." } } }
            }
        }
        h2 { "Cases" }
        p { a href=(queue_link) { "All of this customer's cases in the queue" } }
        table {
            caption.visually-hidden { "Newest cases" }
            thead { tr { th scope="col" { "Case" } th scope="col" { "Class" } th scope="col" { "Subject" } th scope="col" { "State" } th scope="col" { "Opened" } } }
            tbody {
                @for k in &v.cases {
                    tr data-case=(k.id) {
                        td.mono { a href={ "/ui/cases/" (k.id) } { "…" (k.id.get(k.id.len().saturating_sub(12)..).unwrap_or(&k.id)) } }
                        td { (k.class) } td.subject { (k.subject) }
                        td { span class={ "state state-" (k.state.as_str()) } { (k.state.as_str()) } }
                        td { (layout::when(k.opened_at)) }
                    }
                }
                @if v.cases.is_empty() { tr { td colspan="5" .muted { "No case." } } }
            }
        }
    };
    layout::page(&format!("Customer {}", c.id), Some(viewer), body)
}

need!(ImportInventory, Admin, "import the inventory");

async fn import_page(Allowed(s, _): Allowed<ImportInventory>) -> Response {
    html_page(render_import(&s.viewer(), None))
}

/// What an import attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Written.
    Done(ImportSummary),
    /// Refused, nothing written: every reason (line 0 = the file as a whole).
    Refused(Vec<LineError>),
}

/// The import form, with the outcome of the last attempt.
pub fn render_import(viewer: &Viewer<'_>, outcome: Option<&ImportOutcome>) -> Markup {
    let body = html! {
        p { a href="/ui/inventory" { "« Customers" } }
        h1 { "Import an inventory file" }
        @match outcome {
            Some(ImportOutcome::Done(s)) => {
                p.banner role="status" {
                    "Imported " (s.customers) " customer(s), " (s.contacts) " contact(s), "
                    (s.prefixes) " prefix holding(s), " (s.domains) " domain holding(s)."
                }
            }
            Some(ImportOutcome::Refused(errs)) => {
                div.error role="alert" {
                    p { "The file was refused; nothing was imported. Fix these and upload it again:" }
                    ul.import-errors {
                        @for e in errs {
                            li { @if e.line == 0 { "file: " } @else { "line " (e.line) ": " } (e.reason) }
                        }
                    }
                }
            }
            None => {}
        }
        p {
            "CSV columns: " code { "customer,name,kind,value,valid_from,valid_to" } "; kind is "
            code { "prefix" } ", " code { "shared_prefix" } " (CGN pool), " code { "domain" } ", "
            code { "abuse" } " or " code { "technical" } " (contact address). Dates are RFC 3339 or "
            code { "YYYY-MM-DD" } " (UTC), empty for open. JSON: " code { "{\"customers\": [...]}" }
            " as for " code { "warden inventory import" } ". Re-importing the same file changes nothing."
        }
        form.import method="post" action="/ui/inventory/import" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            p {
                label for="inv-file" { "Inventory file (at most " (MAX_UPLOAD_BYTES >> 20) " MiB)" }
                input #inv-file type="file" name="file" accept=".csv,.json,text/csv,application/json" required;
            }
            p {
                label for="inv-format" { "Format" }
                select #inv-format name="format" {
                    option value="auto" { "from the file name" }
                    option value="csv" { "CSV" }
                    option value="json" { "JSON" }
                }
            }
            button type="submit" { "Import" }
        }
    };
    layout::page("Import inventory", Some(viewer), body)
}

/// Parses an uploaded inventory: `format` is `csv`, `json` or `auto` (JSON when the file name
/// ends in `.json` or the content starts with `{`).
pub fn parse_upload(
    bytes: &[u8],
    file_name: &str,
    format: &str,
) -> Result<InventoryDoc, Vec<LineError>> {
    let whole = |reason: String| vec![LineError { line: 0, reason }];
    let json = match format {
        "json" => true,
        "csv" => false,
        "auto" | "" => {
            file_name.to_ascii_lowercase().ends_with(".json")
                || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        }
        other => {
            return Err(whole(format!(
                "format {:?}: use csv, json or auto",
                other.chars().take(20).collect::<String>()
            )));
        }
    };
    if bytes.is_empty() {
        return Err(whole("the file is empty".into()));
    }
    if json {
        InventoryDoc::from_json(bytes).map_err(|e| whole(e.to_string()))
    } else {
        InventoryDoc::from_csv_lines(bytes)
    }
}

async fn import(
    State(ui): Shared,
    LoggedIn(s): LoggedIn,
    mut form: Multipart,
) -> Result<Response, UiError> {
    let (mut csrf, mut format, mut file_name) = (String::new(), String::new(), String::new());
    let mut bytes: Option<Vec<u8>> = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        UiError::bad("upload", format!("{} ({})", e.body_text(), e.status()))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(bad)?.chars().take(100).collect(),
            "format" => format = field.text().await.map_err(bad)?.chars().take(20).collect(),
            "file" => {
                file_name = field.file_name().unwrap_or("").chars().take(200).collect();
                let b = field.bytes().await.map_err(bad)?;
                if b.len() > MAX_UPLOAD_BYTES {
                    return Err(UiError::bad(
                        "inventory file",
                        format!("{} bytes; at most {MAX_UPLOAD_BYTES}", b.len()),
                    ));
                }
                bytes = Some(b.to_vec());
            }
            _ => {}
        }
    }
    // A multipart form: the token is read with the file, so it is checked here, not by
    // `CsrfForm` (URL-encoded forms only).
    s.check_csrf(&csrf)?;
    ImportInventory::check(&s)?;
    let Some(bytes) = bytes else {
        return Err(UiError::bad("inventory file", "no file in the form"));
    };
    let outcome = match parse_upload(&bytes, &file_name, format.trim()) {
        Err(errs) => ImportOutcome::Refused(errs),
        Ok(doc) => match inventory::import(ui.desk.store(), &doc, Utc::now()).await {
            Ok(sum) => {
                tracing::info!(actor = %s.user, customers = sum.customers, "inventory imported from the web UI");
                ImportOutcome::Done(sum)
            }
            Err(e @ warden_desk::DeskError::Invalid { .. }) => {
                ImportOutcome::Refused(vec![LineError {
                    line: 0,
                    reason: e.to_string(),
                }])
            }
            Err(e) => return Err(e.into()),
        },
    };
    let status = match outcome {
        ImportOutcome::Done(_) => axum::http::StatusCode::OK,
        ImportOutcome::Refused(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    };
    let mut resp = html_page(render_import(&s.viewer(), Some(&outcome)));
    *resp.status_mut() = status;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Viewer<'static> {
        Viewer {
            user: "a",
            role: "admin",
            csrf: "tok",
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(urlencode_path("a/b c"), "a%2Fb%20c");
        assert_eq!(urlencode_path("acme-1.x"), "acme-1.x");
    }

    #[test]
    fn uploads_pick_their_format_and_list_every_bad_line() {
        let csv = b"customer,kind,value\nc1,prefix,300.0.0.0/8\nc1,abuse,nope\n";
        let errs = parse_upload(csv, "inv.csv", "auto").unwrap_err();
        assert_eq!(errs.iter().map(|e| e.line).collect::<Vec<_>>(), vec![2, 3]);
        let json = br#"{"customers":[{"id":"c1","name":"C","contacts":[{"role":"abuse","email":"a@c1.example"}]}]}"#;
        assert_eq!(
            parse_upload(json, "x.txt", "auto").unwrap().customers.len(),
            1
        );
        let errs = parse_upload(b"{", "x.json", "auto").unwrap_err();
        assert_eq!(errs[0].line, 0);
        assert!(parse_upload(b"", "x.csv", "csv").is_err());
        assert!(parse_upload(b"a", "x.csv", "xml").is_err());
    }

    #[test]
    fn import_errors_render_escaped() {
        let out = render_import(
            &v(),
            Some(&ImportOutcome::Refused(vec![LineError {
                line: 7,
                reason: "\"<script>x</script>\" is not a domain name".into(),
            }])),
        )
        .into_string();
        assert!(out.contains("line 7: "));
        assert!(out.contains("&lt;script&gt;"));
        assert!(!out.contains("<script>x"));
        for id in ["inv-file", "inv-format"] {
            assert!(out.contains(&format!("for=\"{id}\"")), "{id} has no label");
        }
    }

    #[test]
    fn customer_page_escapes_names_and_marks_repeat_offenders() {
        let view = CustomerView {
            customer: inventory::Customer {
                id: "c<1>".into(),
                name: "<img src=x onerror=alert(1)>".into(),
                contacts: vec![],
                prefixes: vec![],
                domains: vec![],
                subscribers: vec![],
            },
            prefixes: vec![Holding {
                value: "192.0.2.0/24".into(),
                shared: true,
                inside: false,
                valid_from: Utc::now() - chrono::Duration::days(10),
                valid_to: Some(Utc::now() - chrono::Duration::days(1)),
            }],
            domains: vec![],
            subscribers: vec![],
            cases: vec![],
            repeat: 4,
        };
        let out = render_customer(&v(), &view, Utc::now()).into_string();
        assert!(!out.contains("<img src=x"));
        assert!(out.contains("REPEAT OFFENDER"));
        assert!(out.contains("(ended)"));
        assert!(out.contains("customer=c%3C1%3E"));
    }

    /// The page over a real (SQLite) store: an inventory imported with an inside prefix and
    /// subscriber ids shows both, the inside block marked, the ids escaped.
    #[tokio::test]
    async fn customer_page_shows_inside_prefixes_and_subscribers() {
        let dir = std::env::temp_dir().join(format!("warden-webui-inv-{}", uuid::Uuid::new_v4()));
        let store = warden_desk::Store::open_sqlite_dir(&dir).await.unwrap();
        let csv = "customer,kind,value\n\
                   cgn1,abuse,abuse@cgn1.example\n\
                   cgn1,shared_prefix,198.51.100.0/24\n\
                   cgn1,inside_prefix,100.64.0.7/32\n\
                   cgn1,subscriber,user7@isp<script>x</script>\n\
                   cgn1,subscriber,00:11:22:33:44:55\n";
        let doc = parse_upload(csv.as_bytes(), "inv.csv", "csv").unwrap();
        inventory::import(&store, &doc, Utc::now()).await.unwrap();
        let now = Utc::now();
        let view = customers::view(&store, "cgn1", CASES_SHOWN, REPEAT_DAYS, now)
            .await
            .unwrap();
        assert_eq!(view.subscribers.len(), 2);
        assert!(
            view.prefixes
                .iter()
                .any(|p| p.inside && p.value == "100.64.0.7/32")
        );
        let out = render_customer(&v(), &view, now).into_string();
        assert!(out.contains("100.64.0.7/32</td><td>inside (behind CGN)</td>"));
        assert!(out.contains("198.51.100.0/24</td><td>shared (CGN pool)</td>"));
        assert_eq!(out.matches("<tr class=\"subscriber\">").count(), 2);
        assert!(out.contains("user7@isp&lt;script&gt;x&lt;/script&gt;"));
        assert!(!out.contains("<script>x"));
        assert!(out.contains("00:11:22:33:44:55"));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
