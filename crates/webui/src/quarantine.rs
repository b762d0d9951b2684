//! The quarantine page: reports no parser understood, with the parser's reason, a raw view and
//! re-run (one report or all of them), for after a parser or mapping fix.
//!
//! A quarantined report is by definition something we could not make sense of, written by
//! whoever sent it: the raw view shows it as escaped text in `<pre>` (never as HTML or MIME
//! parts), capped at [`RAW_VIEW_BYTES`]; the whole file is only offered as a download
//! (`application/octet-stream`, `Content-Disposition: attachment`, `nosniff`, a sandboxing CSP),
//! so a browser never renders it inline.

use crate::error::UiError;
use crate::extract::{Allowed, CsrfForm, CsrfOnly};
use crate::layout::html_page;
use crate::layout::{self, Viewer};
use crate::need;
use crate::state::{Shared, Ui};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use warden_desk::{DeskError, quarantine};

/// Most quarantined reports listed on the page (newest first).
pub const LIST_LIMIT: i64 = 200;
/// Most bytes of a report shown inline; the rest is in the download.
pub const RAW_VIEW_BYTES: usize = 64 * 1024;
/// Most reports one "re-run all" request processes (the rest on the next press), so that one
/// click cannot hold the desk's write lock for minutes.
pub const RERUN_ALL_BATCH: i64 = 500;

pub use warden_desk::quarantine::QuarantinedReport;

/// Whether `s` has the shape of a report id (64 lower-case hex digits), checked before it
/// reaches the raw store's file paths or SQL.
pub fn is_report_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_report_id(id: &str) -> Result<(), UiError> {
    if is_report_id(id) {
        Ok(())
    } else {
        Err(UiError::bad(
            format!("report id {:?}", id.chars().take(70).collect::<String>()),
            "not a report id (64 hex digits)",
        ))
    }
}

/// The inline view of raw bytes: at most `cap` bytes, invalid UTF-8 replaced, and whether it
/// was cut. The text is escaped by the template like everything else.
pub fn raw_excerpt(bytes: &[u8], cap: usize) -> (String, bool) {
    let cut = bytes.len() > cap;
    let head = &bytes[..bytes.len().min(cap)];
    (String::from_utf8_lossy(head).into_owned(), cut)
}

/// The routes of this page (merged into the UI router).
pub(crate) fn routes() -> Router<Arc<Ui>> {
    Router::new()
        .route("/ui/quarantine", get(list_page))
        .route("/ui/quarantine/rerun-all", post(rerun_all))
        .route("/ui/quarantine/{id}", get(raw_page))
        .route("/ui/quarantine/{id}/raw", get(download))
        .route("/ui/quarantine/{id}/rerun", post(rerun_one))
}

/// Outcome banner parameters after a re-run.
#[derive(Debug, Default, Deserialize)]
pub struct Outcome {
    /// Reports now processed.
    pub processed: Option<u32>,
    /// Reports still quarantined after the re-run.
    pub still: Option<u32>,
    /// Reports that could not be re-run (gone, not quarantined any more, raw file missing).
    pub failed: Option<u32>,
}

need!(SeeQuarantine, Analyst, "see the quarantine");
need!(DownloadReports, Analyst, "download reports");
need!(RerunReports, Analyst, "re-run reports");

async fn list_page(
    State(ui): Shared,
    Query(o): Query<Outcome>,
    Allowed(s, _): Allowed<SeeQuarantine>,
) -> Result<Response, UiError> {
    let (rows, total) = quarantine::list(ui.desk.store(), LIST_LIMIT).await?;
    Ok(html_page(render_list(&s.viewer(), &rows, total, &o)))
}

/// The list page.
pub fn render_list(
    viewer: &Viewer<'_>,
    rows: &[QuarantinedReport],
    total: i64,
    o: &Outcome,
) -> Markup {
    let body = html! {
        h1 { "Quarantine" }
        p.muted { "Reports no parser understood. Fix the parser or the mapping, then re-run them." }
        @if let (Some(p), Some(st), Some(f)) = (o.processed, o.still, o.failed) {
            p.banner role="status" {
                "Re-ran " (p + st + f) " report(s): " (p) " processed, " (st) " still quarantined, " (f) " could not be re-run."
            }
        }
        p { (total) " report(s) in quarantine" @if total > rows.len() as i64 { ", the newest " (rows.len()) " shown" } "." }
        @if !rows.is_empty() {
            form method="post" action="/ui/quarantine/rerun-all" data-confirm="Re-run every quarantined report?" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                button type="submit" { "Re-run all" }
                " " span.muted { "(up to " (RERUN_ALL_BATCH) " per press, oldest first)" }
            }
        }
        table.quarantine {
            caption.visually-hidden { "Quarantined reports" }
            thead { tr {
                th scope="col" { "Received" } th scope="col" { "Channel" } th scope="col" { "Size" }
                th scope="col" { "Reason" } th scope="col" { "Report" } th scope="col" { "Re-run" }
            } }
            tbody {
                @for r in rows {
                    tr data-report=(r.id) {
                        td { (layout::when(r.received_at)) }
                        td { (r.channel) }
                        td { (r.size) " B" }
                        td { span.kind { (r.error_kind) } " " (r.error) }
                        td.mono { a href={ "/ui/quarantine/" (r.id) } { "raw …" (&r.id[..12.min(r.id.len())]) } }
                        td {
                            form method="post" action={ "/ui/quarantine/" (r.id) "/rerun" } {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                button type="submit" aria-label={ "Re-run report " (r.id) } { "Re-run" }
                            }
                        }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { "Nothing in quarantine." } } }
            }
        }
    };
    layout::page("Quarantine", Some(viewer), body)
}

async fn load_raw(ui: &Ui, id: &str) -> Result<Vec<u8>, UiError> {
    // `raw_report` reads the group-committed copy, or the older file store for reports from
    // before it.
    ui.desk.raw_report(id).await.map_err(UiError::from)
}

async fn raw_page(
    State(ui): Shared,
    Path(id): Path<String>,
    Allowed(s, _): Allowed<SeeQuarantine>,
) -> Result<Response, UiError> {
    check_report_id(&id)?;
    let Some((r, status)) = quarantine::report(ui.desk.store(), &id).await? else {
        return Err(DeskError::NotFound {
            what: format!("report {id}"),
        }
        .into());
    };
    let bytes = load_raw(&ui, &id).await?;
    let (text, cut) = raw_excerpt(&bytes, RAW_VIEW_BYTES);
    let v = s.viewer();
    let body = html! {
        p { a href="/ui/quarantine" { "« Quarantine" } }
        h1 { "Report " span.mono { (r.id) } }
        dl.facts {
            dt { "Status" } dd { (status) }
            dt { "Received" } dd { (layout::when(r.received_at)) " via " (r.channel) }
            dt { "Size" } dd { (bytes.len()) " bytes" }
            @if !r.error.is_empty() { dt { "Reason" } dd { span.kind { (r.error_kind) } " " (r.error) } }
        }
        p {
            a href={ "/ui/quarantine/" (r.id) "/raw" } download { "Download the raw report" }
            " (served as a file, never displayed by the browser)"
        }
        @if status == "quarantined" {
            form method="post" action={ "/ui/quarantine/" (r.id) "/rerun" } {
                input type="hidden" name="csrf" value=(v.csrf);
                button type="submit" { "Re-run this report" }
            }
        }
        h2 { "Raw text" }
        @if cut { p.muted { "First " (RAW_VIEW_BYTES) " of " (bytes.len()) " bytes shown; download for the rest." } }
        pre.evidence.raw tabindex="0" aria-label="raw report text" { (text) }
    };
    Ok(html_page(layout::page(
        "Quarantined report",
        Some(&v),
        body,
    )))
}

async fn download(
    State(ui): Shared,
    Path(id): Path<String>,
    _: Allowed<DownloadReports>,
) -> Result<Response, UiError> {
    check_report_id(&id)?;
    if quarantine::report(ui.desk.store(), &id).await?.is_none() {
        return Err(DeskError::NotFound {
            what: format!("report {id}"),
        }
        .into());
    }
    let bytes = load_raw(&ui, &id).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                CONTENT_DISPOSITION,
                // The id is 64 hex digits (checked above): nothing to quote.
                format!("attachment; filename=\"report-{id}.eml\""),
            ),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Re-runs one report; `Ok(true)` when it is processed now, `Ok(false)` when still quarantined,
/// `Err` with a refusal for reports that are not (or no longer) in quarantine.
async fn rerun(ui: &Ui, id: &str) -> Result<bool, DeskError> {
    let receipt = ui.desk.reprocess(id, Utc::now()).await?;
    Ok(receipt.status == warden_desk::ReportStatus::Processed)
}

fn back(processed: u32, still: u32, failed: u32) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            LOCATION,
            format!("/ui/quarantine?processed={processed}&still={still}&failed={failed}"),
        )],
    )
        .into_response()
}

async fn rerun_one(
    State(ui): Shared,
    Path(id): Path<String>,
    CsrfForm { session: s, .. }: CsrfForm<CsrfOnly, RerunReports>,
) -> Result<Response, UiError> {
    check_report_id(&id)?;
    let ok = rerun(&ui, &id).await?;
    tracing::info!(report = %id, actor = %s.user, processed = ok, "quarantine re-run");
    Ok(if ok { back(1, 0, 0) } else { back(0, 1, 0) })
}

async fn rerun_all(
    State(ui): Shared,
    CsrfForm { session: s, .. }: CsrfForm<CsrfOnly, RerunReports>,
) -> Result<Response, UiError> {
    let ids = quarantine::oldest_ids(ui.desk.store(), RERUN_ALL_BATCH).await?;
    let (mut processed, mut still, mut failed) = (0u32, 0u32, 0u32);
    for id in &ids {
        match rerun(&ui, id).await {
            Ok(true) => processed += 1,
            Ok(false) => still += 1,
            // Another analyst re-ran it meanwhile, or its raw file is unreadable: count it,
            // keep going with the others.
            Err(e) => {
                tracing::warn!(report = %id, error = %e, "quarantine re-run failed");
                failed += 1;
            }
        }
    }
    tracing::info!(actor = %s.user, processed, still, failed, "quarantine re-run all");
    Ok(back(processed, still, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Viewer<'static> {
        Viewer {
            user: "a",
            role: "analyst",
            csrf: "tok",
        }
    }

    #[test]
    fn report_ids_are_checked() {
        assert!(is_report_id(&"a".repeat(64)));
        assert!(!is_report_id(&"A".repeat(64)));
        assert!(!is_report_id("../../etc/passwd"));
        assert!(!is_report_id(&"a".repeat(63)));
    }

    #[test]
    fn raw_excerpt_caps_and_replaces() {
        let (t, cut) = raw_excerpt(b"abc\xffdef", 5);
        assert!(cut);
        assert_eq!(t, "abc\u{fffd}d");
        let (t, cut) = raw_excerpt(b"ok", 5);
        assert!(!cut);
        assert_eq!(t, "ok");
    }

    #[test]
    fn hostile_reasons_render_inert() {
        let r = QuarantinedReport {
            id: "b".repeat(64),
            received_at: Utc::now(),
            channel: "smtp".into(),
            size: 10,
            error_kind: "<b>k</b>".into(),
            error: "<script>alert(1)</script><img src=x onerror=alert(2)>".into(),
        };
        let out = render_list(&v(), &[r], 1, &Outcome::default()).into_string();
        assert!(!out.contains("<script>alert"));
        assert!(!out.contains("<img src=x"));
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(out.contains("/ui/quarantine/bbbb"));
        assert!(out.contains("name=\"csrf\" value=\"tok\""));
    }
}
