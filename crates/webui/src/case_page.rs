//! The case page: facts and deadline (with an overdue mark), the events timeline with each
//! report's evidence rendered inert, attribution candidates, the analyst's actions as POST forms,
//! and the audit log.
//!
//! Evidence is whatever a reporter sent: it is shown only as escaped text inside `<pre>` (maud
//! escapes every interpolation), never as live HTML, and no link in it is made clickable.

use crate::error::UiError;
use crate::layout::{self, Viewer};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde_json::Value;
use warden_desk::audit::AuditEntry;
use warden_desk::cases::{Case, CaseAction};

/// Events shown on one case page (the oldest ones; the count says how many exist).
pub const MAX_EVENTS_SHOWN: i64 = 200;

/// The actions the page offers, with their form value and button label.
pub const ACTIONS: [(CaseAction, &str, &str); 7] = [
    (CaseAction::Notify, "notify", "Notify customer now"),
    (
        CaseAction::CustomerReplied,
        "customer_replied",
        "Customer replied",
    ),
    (CaseAction::Escalate, "escalate", "Escalate"),
    (CaseAction::Suspend, "suspend", "Suspend service"),
    (CaseAction::Resolve, "resolve", "Resolve"),
    (CaseAction::Close, "close", "Close"),
    (CaseAction::Reopen, "reopen", "Reopen"),
];

/// Reads an action form value (`notify`, `escalate`, ..., or `note`).
pub fn parse_action(s: &str) -> Result<CaseAction, UiError> {
    if s == "note" {
        return Ok(CaseAction::Note);
    }
    ACTIONS
        .iter()
        .find(|(_, name, _)| *name == s)
        .map(|(a, _, _)| *a)
        .ok_or_else(|| {
            UiError::bad(
                format!("action {:?}", s.chars().take(40).collect::<String>()),
                "use notify, customer_replied, escalate, suspend, resolve, close, reopen or note",
            )
        })
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

fn event_item(e: &Value) -> Markup {
    let ev = e.get("event").unwrap_or(&Value::Null);
    let observed = text(ev, &["observed", "utc"]).unwrap_or("time not given");
    let reporter = text(ev, &["reporter", "email"])
        .or_else(|| text(ev, &["reporter", "org"]))
        .unwrap_or("unknown reporter");
    let excerpt = text(ev, &["evidence", "excerpt"]).unwrap_or("");
    let sha = text(ev, &["evidence", "sha256"]).unwrap_or("");
    let fmt = text(ev, &["source_format"]).unwrap_or("");
    let att = e.get("attribution").unwrap_or(&Value::Null);
    let candidates = att
        .get("candidates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let ambiguous = att
        .get("ambiguous")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    html! {
        li.event {
            div {
                strong { (observed) } " · " (reporter) " · " span.muted { (fmt) }
                " · report " span.mono { (text(e, &["report_id"]).unwrap_or("")) }
            }
            pre.evidence { (excerpt) }
            div.muted.mono { "evidence sha256 " (sha) }
            div.attribution {
                "Attribution: "
                @if candidates.is_empty() { span.muted { "no candidate" } }
                @for c in candidates {
                    span.candidate {
                        (text(c, &["customer_id"]).unwrap_or("?"))
                        " (" (text(c, &["customer_name"]).unwrap_or("")) ", via "
                        span.mono { (text(c, &["matched"]).unwrap_or("")) } ") "
                    }
                }
                @if ambiguous { strong.overdue { "ambiguous" } }
                @if let Some(n) = text(att, &["note"]) { " — " span.muted { (n) } }
            }
        }
    }
}

/// The case page.
#[allow(clippy::too_many_arguments)]
pub fn render(
    viewer: &Viewer<'_>,
    can_act: bool,
    case: &Case,
    events: &[Value],
    audit: &[AuditEntry],
    repeat_count: i64,
    now: DateTime<Utc>,
    replies: &[warden_desk::selfhelp::CustomerReply],
) -> Markup {
    let overdue = case.overdue(now);
    let body = html! {
        p { a href="/ui/cases" { "« Case queue" } }
        h1 { "Case " span.mono { (case.id) } }
        dl.facts {
            dt { "State" } dd { span class={ "state state-" (case.state.as_str()) } #case-state { (case.state.as_str()) } }
            dt { "Class" } dd { (case.class.as_str()) }
            dt { "Subject" } dd.mono { (case.subject) }
            dt { "Customer" } dd {
                @if case.customer_id.is_empty() { span.muted { "unattributed (see candidates below)" } }
                @else { (case.customer_id) " · " (repeat_count) " case(s) in 90 days" }
            }
            dt { "Severity" } dd { (format!("{:?}", case.severity).to_lowercase()) }
            dt { "Events" } dd { (case.event_count) " (first " (layout::when(case.first_event_at)) ", last " (layout::when(case.last_event_at)) ")" }
            dt { "Opened" } dd { (layout::when(case.opened_at)) }
            dt { "Deadline" } dd #deadline {
                @if overdue { span.overdue { "OVERDUE " } }
                (layout::when(case.deadline_at)) " (" (layout::relative(case.deadline_at, now)) ")"
            }
        }
        h2 { "Actions" }
        @if can_act {
            div.actions {
                @for (action, name, label) in ACTIONS {
                    @if action.next(case.state).is_ok() {
                        form method="post" action={ "/ui/cases/" (case.id) "/action" } {
                            input type="hidden" name="csrf" value=(viewer.csrf);
                            input type="hidden" name="action" value=(name);
                            input type="text" name="note" placeholder="note (optional)" maxlength="2000" aria-label={ "Note for " (label) " (optional)" };
                            button type="submit" name="do" value=(name) { (label) }
                        }
                    }
                }
            }
        } @else {
            p.muted { "Your role is read-only: no actions." }
        }
        (crate::selfhelp::replies_section(replies))
        h2 { "Events timeline" }
        @if case.event_count > events.len() as i64 {
            p.muted { "Showing the first " (events.len()) " of " (case.event_count) " events." }
        }
        ol.timeline { @for e in events { (event_item(e)) } }
        h2 { "Audit log" }
        table.audit {
            thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Detail" } } }
            tbody {
                @for a in audit {
                    tr { td { (layout::when(a.at)) } td { (a.actor) } td { (a.action) } td { (a.detail) } }
                }
            }
        }
    };
    layout::page(&format!("Case {}", case.subject), Some(viewer), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use warden_desk::cases::CaseState;
    use warden_model::{AbuseClass, Severity};

    const HOSTILE: &str =
        "<script>document.title='pwned'</script><img src=x onerror=\"window.pwned=1\">";

    fn case(now: DateTime<Utc>) -> Case {
        Case {
            id: "019a0000-0000-7000-8000-000000000001".into(),
            customer_id: "acme".into(),
            class: AbuseClass::Phishing,
            subject: format!("http://evil.example/{HOSTILE}"),
            state: CaseState::Notified,
            severity: Severity::High,
            opened_at: now - Duration::days(3),
            updated_at: now,
            deadline_at: now - Duration::hours(2),
            first_event_at: now - Duration::days(3),
            last_event_at: now - Duration::days(1),
            event_count: 1,
            notified_at: Some(now),
            escalated_at: None,
            closed_at: None,
        }
    }

    fn render_hostile() -> String {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
        let ev = serde_json::json!({
            "report_id": "r1",
            "event": {
                "source_format": "arf",
                "reporter": { "email": format!("x@y.example{HOSTILE}") },
                "evidence": { "excerpt": format!("Body: {HOSTILE}"), "sha256": "ab" },
            },
            "attribution": { "candidates": [ { "customer_id": "acme", "customer_name": HOSTILE, "matched": "192.0.2.0/24" } ], "ambiguous": false, "note": HOSTILE },
        });
        let audit = vec![AuditEntry {
            at: now,
            case_id: None,
            actor: "intake".into(),
            action: "opened".into(),
            detail: HOSTILE.into(),
        }];
        let v = Viewer {
            user: "alice",
            role: "analyst",
            csrf: "c0ffee",
        };
        render(&v, true, &case(now), &[ev], &audit, 2, now, &[]).into_string()
    }

    #[test]
    fn reporter_markup_renders_inert() {
        let out = render_hostile();
        // Not one live copy of the reporter's markup, anywhere on the page.
        assert!(
            !out.contains("<script>document"),
            "live script tag in output"
        );
        assert!(!out.contains("<img"), "live img tag in output");
        assert!(!out.contains("onerror=\""), "live attribute in output");
        // The text is still there for the analyst to read, escaped.
        assert!(out.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"));
        assert!(out.contains("onerror=&quot;window.pwned=1&quot;"));
        // The only script on the page is the UI's own.
        assert_eq!(out.matches("<script").count(), 1);
        assert!(out.contains("<script src=\"/ui/static/app.js\" defer>"));
    }

    #[test]
    fn evidence_sits_in_pre_and_overdue_is_marked() {
        let out = render_hostile();
        assert!(out.contains("<pre class=\"evidence\">Body: &lt;script&gt;"));
        assert!(out.contains("OVERDUE"));
    }

    #[test]
    fn only_allowed_actions_are_offered_with_csrf() {
        let out = render_hostile();
        // From `notified`: escalate, resolve, close, customer_replied; not notify or reopen.
        assert!(out.contains("value=\"escalate\""));
        assert!(out.contains("value=\"close\""));
        assert!(!out.contains("value=\"notify\""));
        assert!(!out.contains("value=\"reopen\""));
        let forms = out.matches("method=\"post\"").count();
        assert_eq!(out.matches("name=\"csrf\" value=\"c0ffee\"").count(), forms);
    }

    #[test]
    fn actions_parse() {
        assert_eq!(parse_action("escalate").unwrap(), CaseAction::Escalate);
        assert!(parse_action("<b>drop</b>").is_err());
    }
}
