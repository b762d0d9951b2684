//! The customer self-help page, opened from the signed, expiring link in a customer notice
//! (`warden_desk::selfhelp`): no login; the link is the credential, scoped to one case and
//! its customer. The page shows the case and its evidence, redacted as configured, the
//! customer's earlier messages, a reply box and a "resolved" button with a note.
//!
//! * Expired, tampered or unknown links get a 403 page that says so and how to get help
//!   (reply to the notice), without telling a tamperer which part was wrong.
//! * POSTs need the link (in the path) and a form token that must match a `SameSite=Strict`,
//!   `HttpOnly` cookie set with the page (double submit): another site cannot post for the
//!   customer even if it learnt the link.
//! * Rate limits: per client address, all self-help requests (bad links included); per case,
//!   the messages a customer may send.
//! * Evidence is reporter-written: redacted, then escaped by maud, inside `<pre>`.

use crate::layout;
use crate::queue;
use crate::session;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Path, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use warden_desk::Desk;
use warden_desk::cases::{self, Case, CaseState};
use warden_desk::selfhelp::{self, CustomerReply, LinkError, ReplyKind};

/// The cookie carrying the self-help form token.
pub const FORM_COOKIE: &str = "warden_help_form";
/// Events shown on the page.
pub const MAX_EVENTS_SHOWN: i64 = 50;
/// Requests per client address per window (pages, posts and refused links together).
pub const PER_CLIENT: u32 = 120;
/// Messages (replies and "resolved") per case per window.
pub const PER_CASE: u32 = 10;
/// The rate-limit window.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Largest form body (a 10,000-character reply in UTF-8, URL-encoded, fits).
const MAX_FORM_BYTES: usize = 128 * 1024;

/// Fixed-window counters, bounded: when full, expired windows are dropped, and if still full
/// new keys are refused (an attacker filling the table locks out only new clients for one
/// window, never lets anyone past the limit).
#[derive(Debug)]
pub struct Limiter {
    max_keys: usize,
    inner: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// A limiter holding at most `max_keys` keys.
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys,
            inner: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit for `key`; false when the key has reached `limit` in this window.
    pub async fn hit(&self, key: &str, limit: u32, window: Duration) -> bool {
        let now = Instant::now();
        let mut map = self.inner.lock().await;
        if !map.contains_key(key) && map.len() >= self.max_keys {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
            if map.len() >= self.max_keys {
                return false;
            }
        }
        let e = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(e.0) >= window {
            *e = (now, 0);
        }
        if e.1 >= limit {
            return false;
        }
        e.1 += 1;
        true
    }
}

struct HelpUi {
    desk: Desk,
    secure_cookies: bool,
    clients: Limiter,
    cases: Limiter,
}

type Shared = State<Arc<HelpUi>>;

/// The self-help routes (`/ui/help/...`), merged into the UI's router.
pub fn router(desk: Desk, secure_cookies: bool) -> Router {
    let ui = Arc::new(HelpUi {
        desk,
        secure_cookies,
        clients: Limiter::new(100_000),
        cases: Limiter::new(100_000),
    });
    Router::new()
        .route("/ui/help/{case}/{exp}/{mac}", get(page))
        .route("/ui/help/{case}/{exp}/{mac}/reply", post(reply))
        .route("/ui/help/{case}/{exp}/{mac}/resolved", post(resolved))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(ui)
}

fn answer(status: StatusCode, title: &str, body: Markup) -> Response {
    (
        status,
        layout::secure_headers(),
        layout::page(title, None, body),
    )
        .into_response()
}

fn refused(e: LinkError) -> Response {
    let (title, msg) = match e {
        LinkError::Expired => (
            "Link expired",
            "This self-help link has expired. Reply to the abuse notice you received, keeping the case reference in the subject, and the abuse desk will answer.",
        ),
        LinkError::Malformed | LinkError::Invalid => (
            "Link not valid",
            "This self-help link is not valid: it may have been changed or cut off. Open the link exactly as it appears in the abuse notice, or reply to the notice.",
        ),
    };
    answer(
        StatusCode::FORBIDDEN,
        title,
        html! { h1 { (title) } p.error #refusal role="alert" { (msg) } },
    )
}

fn too_many() -> Response {
    let mut r = answer(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        html! { h1 { "Too many requests" } p.error role="alert" { "Too many requests from here or for this case. Wait a few minutes and try again." } },
    );
    if let Ok(v) = WINDOW.as_secs().to_string().parse() {
        r.headers_mut().insert(RETRY_AFTER, v);
    }
    r
}

fn plain_error(status: StatusCode, msg: &str) -> Response {
    answer(
        status,
        status.canonical_reason().unwrap_or("Error"),
        html! { h1 { (status.canonical_reason().unwrap_or("Error")) } p.error role="alert" { (msg) } },
    )
}

/// The client's address when the server passes it (`into_make_service_with_connect_info`).
fn client(ext: &Extensions) -> String {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Checks the link and loads its case: `Err` is the page to answer with.
async fn open_case(
    ui: &HelpUi,
    ext: &Extensions,
    case_id: &str,
    exp: &str,
    mac: &str,
) -> Result<Case, Response> {
    if !ui.clients.hit(&client(ext), PER_CLIENT, WINDOW).await {
        return Err(too_many());
    }
    let Some(sh) = ui.desk.self_help() else {
        return Err(plain_error(
            StatusCode::NOT_FOUND,
            "Self-help links are not enabled on this abuse desk.",
        ));
    };
    if !queue::is_case_id(case_id) {
        return Err(refused(LinkError::Malformed));
    }
    let case = match cases::get(ui.desk.store(), case_id).await {
        Ok(c) => c,
        // An unknown case looks like any other bad link.
        Err(warden_desk::DeskError::NotFound { .. }) => return Err(refused(LinkError::Invalid)),
        Err(e) => {
            tracing::warn!(error = %e, "self-help page failed");
            return Err(plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The abuse desk could not load this case; try again later.",
            ));
        }
    };
    sh.verify(case_id, &case.customer_id, exp, mac, Utc::now())
        .map_err(refused)?;
    Ok(case)
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

/// The page body (public for tests of redaction and escaping).
#[allow(clippy::too_many_arguments)]
pub fn render(
    case: &Case,
    events: &[Value],
    replies: &[CustomerReply],
    redaction: &selfhelp::Redaction,
    link_path: &str,
    form_token: &str,
    sent: Option<&str>,
    now: DateTime<Utc>,
) -> Markup {
    let open = !matches!(case.state, CaseState::Closed);
    let body = html! {
        h1 { "Abuse case " span.mono { (case.id) } }
        @match sent {
            Some("reply") => { p.banner #sent role="status" { "Thank you: your reply was sent to the abuse desk." } }
            Some("resolved") => { p.banner #sent role="status" { "Thank you: the case is marked as resolved. The abuse desk will check and close it." } }
            _ => {}
        }
        p { "We received reports of abuse involving a resource you hold with us. Please look at the evidence below, stop the activity, and tell us what you found and did." }
        dl.facts {
            dt { "Type" } dd { (case.class.as_str()) }
            dt { "Concerns" } dd.mono { (case.subject) }
            dt { "State" } dd { span class={ "state state-" (case.state.as_str()) } #case-state { (case.state.as_str()) } }
            dt { "Reports" } dd { (case.event_count) }
            dt { "Opened" } dd { (layout::when(case.opened_at)) }
            dt { "Please act by" } dd {
                @if case.overdue(now) { span.overdue { "OVERDUE " } }
                (layout::when(case.deadline_at))
            }
        }
        h2 { "What was reported" }
        @if case.event_count > events.len() as i64 {
            p.muted { "Showing the first " (events.len()) " of " (case.event_count) " reports." }
        }
        ol.timeline {
            @for e in events {
                @let ev = e.get("event").unwrap_or(&Value::Null);
                li.event {
                    div {
                        strong { (text(ev, &["observed", "utc"]).unwrap_or("time not given")) }
                        @if !redaction.hide_reporter {
                            " · reported by "
                            (text(ev, &["reporter", "email"]).or_else(|| text(ev, &["reporter", "org"])).unwrap_or("unknown"))
                        }
                    }
                    pre.evidence { (selfhelp::redact(text(ev, &["evidence", "excerpt"]).unwrap_or(""), &case.subject, redaction)) }
                }
            }
        }
        @if !replies.is_empty() {
            h2 { "Your messages" }
            ol.replies #replies {
                @for r in replies {
                    li {
                        strong { (layout::when(r.at)) }
                        @if r.kind == ReplyKind::Resolved { " · marked resolved" }
                        pre.reply { (r.body) }
                    }
                }
            }
        }
        @if open {
            h2 { "Answer the abuse desk" }
            form.selfhelp method="post" action={ (link_path) "/reply" } {
                input type="hidden" name="form" value=(form_token);
                label for="reply-body" { "Your reply" }
                textarea #reply-body name="body" rows="6" required maxlength=(selfhelp::MAX_REPLY_CHARS) {}
                button type="submit" #send-reply { "Send reply" }
            }
            @if case.state.is_active() {
                form.selfhelp method="post" action={ (link_path) "/resolved" } {
                    input type="hidden" name="form" value=(form_token);
                    label for="resolved-note" { "What did you do? (optional)" }
                    input #resolved-note type="text" name="note" maxlength=(selfhelp::MAX_REPLY_CHARS);
                    button type="submit" #mark-resolved { "The problem is resolved" }
                }
            }
        } @else {
            p.muted { "This case is closed. To tell us more, reply to the abuse notice." }
        }
    };
    layout::page(&format!("Abuse case {}", case.subject), None, body)
}

#[derive(Deserialize)]
struct PageQuery {
    sent: Option<String>,
}

async fn page(
    State(ui): Shared,
    ext: Extensions,
    headers: HeaderMap,
    Path((case_id, exp, mac)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let case = match open_case(&ui, &ext, &case_id, &exp, &mac).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let store = ui.desk.store();
    let loaded = async {
        Ok::<_, warden_desk::DeskError>((
            cases::events(store, &case_id, MAX_EVENTS_SHOWN).await?,
            selfhelp::replies(store, &case_id).await?,
        ))
    }
    .await;
    let (events, replies) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "self-help page failed");
            return plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The abuse desk could not load this case; try again later.",
            );
        }
    };
    let redaction = ui.desk.self_help().map(|s| s.redaction).unwrap_or_default();
    // Keep the browser's form token if it has a sane one (several tabs stay valid).
    let token = session::cookie(&headers, FORM_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(session::random_token, str::to_owned);
    // The path parts were checked: the case id has the UUID shape, exp is digits, mac is hex.
    let page = render(
        &case,
        &events,
        &replies,
        &redaction,
        &format!("/ui/help/{case_id}/{exp}/{mac}"),
        &token,
        q.sent.as_deref(),
        Utc::now(),
    );
    let cookie = session::set_cookie(FORM_COOKIE, &token, 3600 * 24, ui.secure_cookies);
    ([(SET_COOKIE, cookie)], layout::secure_headers(), page).into_response()
}

#[derive(Deserialize)]
struct ReplyForm {
    form: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    note: String,
}

async fn reply(
    state: Shared,
    ext: Extensions,
    headers: HeaderMap,
    path: Path<(String, String, String)>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let body = f.body.clone();
    post_message(state, ext, headers, path, f, ReplyKind::Reply, body).await
}

async fn resolved(
    state: Shared,
    ext: Extensions,
    headers: HeaderMap,
    path: Path<(String, String, String)>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let note = f.note.clone();
    post_message(state, ext, headers, path, f, ReplyKind::Resolved, note).await
}

async fn post_message(
    State(ui): Shared,
    ext: Extensions,
    headers: HeaderMap,
    Path((case_id, exp, mac)): Path<(String, String, String)>,
    f: ReplyForm,
    kind: ReplyKind,
    text: String,
) -> Response {
    let case = match open_case(&ui, &ext, &case_id, &exp, &mac).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let expected = session::cookie(&headers, FORM_COOKIE).unwrap_or("");
    if expected.is_empty() || !session::same_secret(expected, &f.form) {
        return plain_error(
            StatusCode::FORBIDDEN,
            "The form token is missing or stale: open the link from the notice again and resend.",
        );
    }
    if !ui.cases.hit(&case_id, PER_CASE, WINDOW).await {
        return too_many();
    }
    match selfhelp::record_reply(
        ui.desk.store(),
        ui.desk.policy(),
        &case_id,
        &case.customer_id,
        kind,
        &text,
        Utc::now(),
    )
    .await
    {
        Ok(_) => (
            StatusCode::SEE_OTHER,
            [(
                LOCATION,
                format!(
                    "/ui/help/{case_id}/{exp}/{mac}?sent={}",
                    match kind {
                        ReplyKind::Reply => "reply",
                        ReplyKind::Resolved => "resolved",
                    }
                ),
            )],
        )
            .into_response(),
        Err(
            e @ (warden_desk::DeskError::Invalid { .. } | warden_desk::DeskError::TooLarge { .. }),
        ) => plain_error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, "self-help reply failed");
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Your message could not be stored; try again later.",
            )
        }
    }
}

/// The customer's messages as the analyst's case page shows them.
pub fn replies_section(replies: &[CustomerReply]) -> Markup {
    html! {
        @if !replies.is_empty() {
            h2 { "Customer replies (self-help)" }
            ol.replies #customer-replies {
                @for r in replies {
                    li {
                        strong { (layout::when(r.at)) } " · customer " span.mono { (r.customer_id) }
                        @if r.kind == ReplyKind::Resolved { " · " strong { "marked resolved" } }
                        pre.reply { (r.body) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration as CDuration, TimeZone};
    use warden_model::{AbuseClass, Severity};

    const HOSTILE: &str = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=1\">";

    fn case(now: DateTime<Utc>) -> Case {
        Case {
            id: "0193a1b2-0000-7000-8000-000000000001".into(),
            customer_id: "acme".into(),
            class: AbuseClass::Spam,
            subject: "192.0.2.10".into(),
            state: CaseState::Notified,
            severity: Severity::Medium,
            opened_at: now - CDuration::hours(3),
            updated_at: now,
            deadline_at: now + CDuration::hours(69),
            first_event_at: now,
            last_event_at: now,
            event_count: 1,
            notified_at: Some(now),
            escalated_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn evidence_is_redacted_and_inert() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let ev = serde_json::json!({"event": {
            "reporter": {"email": "secret-reporter@trap.example"},
            "evidence": {"excerpt": format!("spam from 192.0.2.10 to victim@mail.example via 198.51.100.9 {HOSTILE}")},
        }});
        let replies = vec![CustomerReply {
            at: now,
            customer_id: "acme".into(),
            kind: ReplyKind::Reply,
            body: format!("fixed {HOSTILE}"),
        }];
        let out = render(
            &case(now),
            std::slice::from_ref(&ev),
            &replies,
            &selfhelp::Redaction::default(),
            "/ui/help/x/1/ab",
            "tok",
            Some("reply"),
            now,
        )
        .into_string();
        assert!(!out.contains("secret-reporter"), "{out}");
        assert!(!out.contains("victim@") && out.contains("[hidden]@mail.example"));
        assert!(!out.contains("198.51.100.9") && out.contains("192.0.2.10"));
        assert_eq!(
            out.matches("<script").count(),
            1,
            "only the UI's own script"
        );
        assert!(!out.contains("<img"));
        assert!(out.contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"));
        assert!(out.contains("your reply was sent"));
        // Both forms, each with the form token; an unknown `sent` value shows nothing.
        assert_eq!(out.matches("name=\"form\" value=\"tok\"").count(), 2);
        let plain = render(
            &case(now),
            &[ev],
            &[],
            &selfhelp::Redaction {
                hide_reporter: false,
                mask_email_local_parts: false,
                hide_other_addresses: false,
            },
            "/ui/help/x/1/ab",
            "tok",
            Some("<b>x</b>"),
            now,
        )
        .into_string();
        assert!(plain.contains("secret-reporter@trap.example") && plain.contains("198.51.100.9"));
        assert!(!plain.contains("<b>x</b>") && !plain.contains("&lt;b&gt;x"));
    }

    #[test]
    fn closed_cases_offer_no_forms() {
        let now = Utc::now();
        let mut c = case(now);
        c.state = CaseState::Closed;
        let out = render(
            &c,
            &[],
            &[],
            &Default::default(),
            "/ui/help/x/1/ab",
            "tok",
            None,
            now,
        )
        .into_string();
        assert!(!out.contains("<form class=\"selfhelp\""), "{out}");
        assert!(out.contains("This case is closed"));
    }

    #[test]
    fn replies_on_the_case_page_are_escaped() {
        let out = replies_section(&[CustomerReply {
            at: Utc::now(),
            customer_id: format!("acme{HOSTILE}"),
            kind: ReplyKind::Resolved,
            body: HOSTILE.into(),
        }])
        .into_string();
        assert!(!out.contains("<script") && !out.contains("<img"), "{out}");
        assert!(out.contains("marked resolved"));
    }

    #[tokio::test]
    async fn limiter_counts_per_key_and_window() {
        let l = Limiter::new(2);
        for _ in 0..3 {
            assert!(l.hit("a", 3, Duration::from_secs(60)).await);
        }
        assert!(!l.hit("a", 3, Duration::from_secs(60)).await);
        assert!(l.hit("b", 3, Duration::from_secs(60)).await);
        // Table full with live windows: a third key is refused, not let through.
        assert!(!l.hit("c", 3, Duration::from_secs(60)).await);
        // Expired windows start over and make room.
        assert!(l.hit("a", 3, Duration::from_millis(0)).await);
        let l = Limiter::new(1);
        assert!(l.hit("x", 1, Duration::from_millis(0)).await);
        assert!(l.hit("y", 1, Duration::from_millis(0)).await);
    }
}
