//! The case page: facts and deadline (with an overdue mark), the events timeline with each
//! report's evidence rendered inert, attribution candidates (with, for an address in a shared CGN
//! pool, what the NAT logs say: query, doubts, ambiguity and each candidate's log lines), the
//! analyst's actions as POST forms, and the audit log.
//!
//! Evidence is whatever a reporter sent: it is shown only as escaped text inside `<pre>` (maud
//! escapes every interpolation), never as live HTML, and no link in it is made clickable. NAT log
//! lines and subscriber ids are attacker-influenced too (a subscriber picks its RADIUS user name,
//! a forged log line can be imported) and get the same treatment.

use crate::error::UiError;
use crate::layout::{self, Viewer};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_desk::audit::AuditEntry;
use warden_desk::cases::{Case, CaseAction};
use warden_desk::cgn::{NatAnswer, NatCandidate, NatEvidence};

/// Events shown on one case page (the oldest ones; the count says how many exist).
pub const MAX_EVENTS_SHOWN: i64 = 200;

/// NAT candidates shown per event: the desk keeps up to 100 (and counts the rest), but a page
/// with 200 events of 100 rows each is unreadable; the count says how many are left out.
pub const MAX_NAT_CANDIDATES_SHOWN: usize = 20;

/// Evidence lines shown per NAT candidate (log lines plus RADIUS records); normally two to four.
pub const MAX_NAT_EVIDENCE_SHOWN: usize = 12;

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
            @if let Some(nat) = att.get("nat").filter(|v| !v.is_null()) { (nat_section(nat)) }
        }
    }
}

/// A timestamp to the millisecond: NAT intervals differ by seconds, minutes are too coarse.
fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

/// A duration in milliseconds in the largest whole unit.
fn span(ms: i64) -> String {
    match ms {
        m if m != 0 && m % 3_600_000 == 0 => format!("{} h", m / 3_600_000),
        m if m != 0 && m % 60_000 == 0 => format!("{} min", m / 60_000),
        m if m % 1_000 == 0 => format!("{} s", m / 1_000),
        m => format!("{m} ms"),
    }
}

/// The serde name of a start or end kind (`logged`, `next_alloc`, ...), as the API shows it.
fn kind_name<T: Serialize>(k: &T) -> String {
    match serde_json::to_value(k) {
        Ok(Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

/// One evidence line: `file:line [role] original line`.
fn evidence_line(e: &NatEvidence) -> String {
    let body = match (&e.text, &e.unreadable) {
        (Some(t), _) => t.clone(),
        (None, Some(why)) => format!("(line not readable: {why})"),
        (None, None) => "(line not kept)".to_owned(),
    };
    format!(
        "{}:{} [{}] {}",
        e.path.as_deref().unwrap_or("?"),
        e.line,
        e.role,
        body
    )
}

fn nat_candidate_row(c: &NatCandidate) -> Markup {
    let lines: Vec<&NatEvidence> = c
        .evidence
        .iter()
        .chain(c.subscribers.iter().flat_map(|s| s.evidence.iter()))
        .collect();
    html! {
        tr.nat-candidate {
            td.mono {
                (c.inside_ip)
                @if let Some(b4) = c.b4_ipv6 { br; span.muted { "B4 " (b4) } }
                br; span.muted { (c.outside_ip) ":" (c.port_lo) @if c.port_hi != c.port_lo { "-" (c.port_hi) } }
            }
            td {
                @if let Some(id) = &c.subscriber_id { span.mono { (id) } br; }
                @for s in &c.subscribers {
                    span.mono {
                        (s.user_name.as_deref().unwrap_or("?"))
                        @if let Some(cs) = &s.calling_station_id { " / " (cs) }
                    }
                    span.muted {
                        " RADIUS " (s.session_id.as_deref().unwrap_or("no session id")) ", "
                        (instant(s.start)) @if s.start_uncertain { " (start not seen)" } " – "
                        @match s.end { Some(e) => { (instant(e)) }, None => { "open" } }
                    }
                    br;
                }
                @if c.subscriber_id.is_none() && c.subscribers.is_empty() { span.muted { "none logged" } }
            }
            td {
                @match &c.customer {
                    Some(h) => { (h.customer_id) " (" (h.customer_name) ", via " span.mono { (h.matched) } ")" }
                    None => { span.muted { "no customer in the inventory" } }
                }
            }
            td { (instant(c.start)) " – " (instant(c.end)) br; span.muted { (c.overlap) } }
            td.mono { (kind_name(&c.start_kind)) }
            td.mono { (kind_name(&c.end_kind)) @if c.inferred { " " span.muted { "(inferred)" } } }
            td {
                pre.evidence.nat-evidence {
                    @for e in lines.iter().take(MAX_NAT_EVIDENCE_SHOWN) { (evidence_line(e)) "\n" }
                    @if lines.len() > MAX_NAT_EVIDENCE_SHOWN { "… and " (lines.len() - MAX_NAT_EVIDENCE_SHOWN) " more line(s)" }
                }
            }
        }
    }
}

/// What the NAT logs say about one event (the `nat` object of its attribution).
fn nat_section(nat: &Value) -> Markup {
    let a = match NatAnswer::deserialize(nat) {
        Ok(a) => a,
        Err(e) => {
            return html! {
                div.nat { "NAT logs: " span.overdue { "the stored answer cannot be read (" (e) "); look it up by hand" } }
            };
        }
    };
    let q = &a.query;
    let shown = a.candidates.len().min(MAX_NAT_CANDIDATES_SHOWN);
    let total = a.candidates_total.max(a.candidates.len());
    html! {
        div.nat data-nat-ambiguous=(a.ambiguous) {
            div {
                strong { "NAT logs" } " "
                @if a.ambiguous { strong.overdue.nat-ambiguous { "AMBIGUOUS" } " " }
                span.muted {
                    "asked for " span.mono { (q.ip) @if let Some(p) = q.port { ":" (p) } @else { " (no port)" } }
                    @if let Some(p) = q.proto { " proto " (p) }
                    " at " (instant(q.time)) " ± " (span(q.window_ms))
                }
                @if let Some(w) = &q.widened { " " span.muted { "(window widened: " (w) ")" } }
            }
            @if let Some(err) = &a.error { p.overdue { "Lookup failed: " (err) } }
            @if !a.doubts.is_empty() {
                ul.nat-doubts {
                    @for d in &a.doubts { li { span.mono { (d.kind) } ": " (d.explanation) } }
                }
            }
            p.muted { (total) " candidate(s) in the logs" }
            @if shown > 0 {
                table.nat-candidates {
                    caption.visually-hidden { "NAT candidates" }
                    thead { tr {
                        th scope="col" { "Inside address" } th scope="col" { "Subscriber" }
                        th scope="col" { "Customer" } th scope="col" { "Interval" }
                        th scope="col" { "Start" } th scope="col" { "End" } th scope="col" { "Evidence" }
                    } }
                    tbody { @for c in a.candidates.iter().take(shown) { (nat_candidate_row(c)) } }
                }
            }
            @if total > shown { p.muted.nat-more { "… and " (total - shown) " more candidate(s) not shown." } }
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

    /// A NAT candidate built from the desk's real types, so the test breaks if the shape moves.
    fn nat_candidate(i: u8, hostile: &str) -> warden_desk::cgn::NatCandidate {
        use warden_desk::cgn::{NatCandidate, NatEvidence, NatSubscriber};
        let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
        let ev = |role: &str, line: u64| NatEvidence {
            role: role.into(),
            path: Some(format!("/var/log/cgn/{hostile}.log")),
            line,
            text: Some(format!(
                "NAT44 {role} 100.64.0.{i} -> 198.51.100.7:4000 {hostile}"
            )),
            unreadable: None,
        };
        NatCandidate {
            source: "log".into(),
            config: None,
            inside_ip: format!("100.64.0.{i}").parse().unwrap(),
            b4_ipv6: None,
            subscriber_id: Some(format!("sub-{i}{hostile}")),
            subscribers: vec![NatSubscriber {
                user_name: Some(format!("user{i}{hostile}")),
                calling_station_id: None,
                session_id: Some("s1".into()),
                start: t0,
                end: None,
                start_uncertain: true,
                evidence: vec![ev("accounting", 9)],
            }],
            outside_ip: "198.51.100.7".parse().unwrap(),
            port_lo: 4000,
            port_hi: 4063,
            proto: Some(6),
            start: t0,
            end: t0 + Duration::minutes(30),
            start_kind: serde_json::from_value(serde_json::json!("logged")).unwrap(),
            end_kind: serde_json::from_value(serde_json::json!("next_alloc")).unwrap(),
            overlap: "contains".into(),
            inferred: true,
            evidence: vec![ev("open", u64::from(i) * 10), ev("close", 1_000)],
            customer: Some(warden_desk::inventory::Holder {
                customer_id: format!("cust-{i}"),
                customer_name: format!("Customer {i}{hostile}"),
                matched: format!("100.64.0.{i}/32"),
                valid_from: t0 - Duration::days(100),
                valid_to: None,
                shared: false,
            }),
        }
    }

    /// An event JSON as the desk stores it: a real `Attribution` carrying a real `NatAnswer`.
    fn nat_event(ambiguous: bool, candidates: usize, total: usize, hostile: &str) -> Value {
        use warden_desk::cgn::{NatAnswer, NatDoubt, NatQuery};
        let nat = NatAnswer {
            query: NatQuery {
                ip: "198.51.100.7".parse().unwrap(),
                port: None,
                proto: Some(6),
                time: Utc.with_ymd_and_hms(2026, 11, 20, 10, 5, 0).unwrap(),
                window_ms: 3_600_000,
                widened: Some(format!("the report gives no time zone{hostile}")),
            },
            ambiguous,
            doubts: vec![NatDoubt {
                kind: "no_port".into(),
                explanation: format!("the report names no source port{hostile}"),
            }],
            candidates_total: total,
            candidates: (1..=candidates)
                .map(|i| nat_candidate(u8::try_from(i).unwrap(), hostile))
                .collect(),
            error: None,
        };
        let att = warden_desk::Attribution {
            candidates: vec![],
            ambiguous,
            needs: vec![],
            note: "shared pool".into(),
            nat: Some(nat),
        };
        serde_json::json!({
            "report_id": "r-nat",
            "event": { "source_format": "arf", "evidence": { "excerpt": "x", "sha256": "ab" } },
            "attribution": serde_json::to_value(&att).unwrap(),
        })
    }

    fn render_events(events: &[Value]) -> String {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
        let v = Viewer {
            user: "alice",
            role: "analyst",
            csrf: "c0ffee",
        };
        render(&v, true, &case(now), events, &[], 0, now, &[]).into_string()
    }

    #[test]
    fn nat_evidence_and_subscribers_render_inert() {
        let out = render_events(&[nat_event(false, 1, 1, HOSTILE)]);
        assert!(
            !out.contains("<script>document"),
            "live script tag in output"
        );
        assert!(!out.contains("<img"), "live img tag in output");
        assert!(!out.contains("onerror=\""), "live attribute in output");
        assert_eq!(out.matches("<script").count(), 1);
        // The log line is there, escaped, inside the evidence <pre>, with file and line number.
        assert!(out.contains(
            "<pre class=\"evidence nat-evidence\">/var/log/cgn/&lt;script&gt;document.title='pwned'&lt;/script&gt;"
        ));
        assert!(
            out.contains(":10 [open] NAT44 open 100.64.0.1 -&gt; 198.51.100.7:4000 &lt;script&gt;")
        );
        assert!(out.contains("[accounting]"));
        assert!(out.contains("sub-1&lt;script&gt;"));
        assert!(out.contains("user1&lt;script&gt;"));
        assert!(out.contains("onerror=&quot;window.pwned=1&quot;"));
        assert!(out.contains("the report names no source port&lt;script&gt;"));
        // A clean answer carries no ambiguity mark.
        assert!(!out.contains("AMBIGUOUS"));
    }

    #[test]
    fn ambiguous_nat_answer_is_marked_and_lists_every_candidate() {
        let out = render_events(&[nat_event(true, 3, 3, "")]);
        assert!(out.contains("class=\"overdue nat-ambiguous\">AMBIGUOUS<"));
        assert_eq!(out.matches("<tr class=\"nat-candidate\">").count(), 3);
        for i in 1..=3 {
            assert!(out.contains(&format!(">100.64.0.{i}<")), "candidate {i}");
            assert!(out.contains(&format!("cust-{i} (Customer {i}, via")));
        }
        assert!(out.contains("198.51.100.7 (no port)"));
        assert!(out.contains("± 1 h"));
        assert!(out.contains("(window widened: the report gives no time zone)"));
        assert!(out.contains("no_port</span>: the report names no source port"));
        assert!(out.contains(">logged<"));
        assert!(out.contains(">next_alloc "));
        assert!(out.contains("3 candidate(s) in the logs"));
        assert!(!out.contains("more candidate(s) not shown"));
    }

    #[test]
    fn nat_candidates_are_capped_with_a_count() {
        let out = render_events(&[nat_event(true, 30, 250, "")]);
        assert_eq!(
            out.matches("<tr class=\"nat-candidate\">").count(),
            MAX_NAT_CANDIDATES_SHOWN
        );
        assert!(out.contains("250 candidate(s) in the logs"));
        assert!(out.contains("… and 230 more candidate(s) not shown."));
    }

    #[test]
    fn unreadable_nat_answer_says_so() {
        let mut ev = nat_event(false, 1, 1, "");
        ev["attribution"]["nat"]["query"] = serde_json::json!("<b>bad</b>");
        let out = render_events(&[ev]);
        assert!(out.contains("the stored answer cannot be read"));
        assert!(!out.contains("<b>bad"));
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!(span(3_600_000), "1 h");
        assert_eq!(span(90_000), "90 s");
        assert_eq!(span(120_000), "2 min");
        assert_eq!(span(0), "0 s");
        assert_eq!(span(1_500), "1500 ms");
    }

    #[test]
    fn actions_parse() {
        assert_eq!(parse_action("escalate").unwrap(), CaseAction::Escalate);
        assert!(parse_action("<b>drop</b>").is_err());
    }
}
