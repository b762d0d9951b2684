//! The page frame (header, navigation, log-out form), the security headers every page carries,
//! and small formatting helpers shared by the pages.

use axum::http::{HeaderName, StatusCode, header};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The stylesheet, served at `/ui/static/style.css`.
pub const STYLE_CSS: &str = include_str!("../assets/style.css");
/// The progressive-enhancement script, served at `/ui/static/app.js`. Pages work without it.
pub const APP_JS: &str = include_str!("../assets/app.js");

/// The CSP: only this UI's own stylesheet and script, no inline script, no framing, forms post
/// only here. Escaping is the first defence against reporter-supplied markup; this is the second.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers on every HTML answer: CSP, no MIME sniffing, no referrer (case ids in URLs must not
/// leak to other sites), no caching of pages that hold evidence.
pub fn secure_headers() -> [(HeaderName, &'static str); 5] {
    [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ]
}

/// An HTML page answer with the [`secure_headers`].
pub fn html_page(m: Markup) -> axum::response::Response {
    use axum::response::IntoResponse;
    (secure_headers(), m).into_response()
}

/// Who is logged in, as the frame shows it.
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    /// The token's name.
    pub user: &'a str,
    /// The role's stable name.
    pub role: &'static str,
    /// The session's CSRF token, for the log-out form.
    pub csrf: &'a str,
}

/// A full page: `title`, the frame for `viewer` (none on the login page), then `body`.
pub fn page(title: &str, viewer: Option<&Viewer<'_>>, body: Markup) -> Markup {
    // Operator chrome (crate::overrides): trusted files from the operator's disk, never report
    // text, so they are inserted as markup.
    let chrome = crate::overrides::current();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Warden" }
                link rel="stylesheet" href="/ui/static/style.css";
                @if chrome.css.is_some() { link rel="stylesheet" href="/ui/static/custom.css"; }
                script src="/ui/static/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                @if let Some(h) = &chrome.header_html { div.operator-header { (PreEscaped(h)) } }
                header.top {
                    a.brand href="/ui/cases" { "Warden abuse desk" }
                    @if let Some(v) = viewer {
                        nav {
                            a href="/ui/cases" { "Case queue" }
                            a href="/ui/dashboard" { "Dashboard" }
                            // webui-b: quarantine and inventory pages.
                            @if v.role != "read_only" { a href="/ui/quarantine" { "Quarantine" } }
                            a href="/ui/inventory" { "Customers" }
                        }
                        form.logout method="post" action="/ui/logout" {
                            span.who { (v.user) " (" (v.role) ")" }
                            input type="hidden" name="csrf" value=(v.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
                @if let Some(f) = &chrome.footer_html { footer.operator-footer { (PreEscaped(f)) } }
            }
        }
    }
}

/// The page for a failed request: the reason, escaped like everything else.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    page(
        status.canonical_reason().unwrap_or("Error"),
        None,
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
            p.error { (message) }
            p { a href="/ui/cases" { "Back to the case queue" } }
        },
    )
}

/// A timestamp as analysts read it: UTC, to the minute.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// How far `t` lies from `now`, roughly ("in 3h", "2d ago"), for deadlines.
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = t - now;
    let (mins, future) = if d.num_minutes() >= 0 {
        (d.num_minutes(), true)
    } else {
        (-d.num_minutes(), false)
    };
    let span = if mins < 60 {
        format!("{mins}m")
    } else if mins < 48 * 60 {
        format!("{}h", mins / 60)
    } else {
        format!("{}d", mins / (24 * 60))
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn relative_times() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
        assert_eq!(relative(now + Duration::minutes(5), now), "in 5m");
        assert_eq!(relative(now - Duration::hours(3), now), "3h ago");
        assert_eq!(relative(now + Duration::days(4), now), "in 4d");
    }

    #[test]
    fn page_escapes_the_title_and_user() {
        let v = Viewer {
            user: "<b>x</b>",
            role: "analyst",
            csrf: "\"><script>",
        };
        let out = page("<i>t</i>", Some(&v), html! {}).into_string();
        assert!(out.contains("&lt;i&gt;t&lt;/i&gt;"));
        assert!(out.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(!out.contains("\"><script>"));
    }
}
