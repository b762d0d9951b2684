//! Bulk actions on the ticked cases of the queue, beyond close (which stays at
//! `/ui/cases/bulk-close`): assign to an analyst, change state through any legal transition,
//! and notify the customer now (the notice goes through the desk outbox, like every mail).
//!
//! Each case is acted on separately, in its own desk transaction: one case in a state where the
//! action is illegal must not stop the others, and the analyst gets a page that says, case by
//! case, what happened and why not.

use crate::error::UiError;
use crate::extract::{LoggedIn, Need};
use crate::layout::html_page;
use crate::layout::{self, Viewer};
use crate::need;
use crate::queue::{self, QueueParams};
use crate::state::{Shared, Ui};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::post;
use chrono::Utc;
use maud::{Markup, html};
use std::sync::Arc;
use warden_desk::cases::{self, CaseAction};
use warden_desk::{DeskError, tokens};

/// Most cases one bulk form may name (two full queue pages and then some).
pub const MAX_BULK: usize = 500;

/// The routes (merged into the UI router).
pub(crate) fn routes() -> Router<Arc<Ui>> {
    Router::new().route("/ui/cases/bulk", post(bulk))
}

/// What to do to every ticked case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOp {
    /// Assign to this analyst (empty: unassign).
    Assign(String),
    /// Apply this state-changing action.
    Act(CaseAction),
    /// Notify the customer now.
    Notify,
}

/// The bulk form, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkForm {
    /// The session's CSRF token as sent.
    pub csrf: String,
    /// The queue filters to go back to.
    pub back: String,
    /// Case ids.
    pub ids: Vec<String>,
    /// The operation.
    pub op: BulkOp,
}

/// The state-changing actions offered in bulk (notes are per case; close has its own button).
pub const STATE_ACTIONS: [(&str, CaseAction); 6] = [
    ("customer_replied", CaseAction::CustomerReplied),
    ("resolve", CaseAction::Resolve),
    ("escalate", CaseAction::Escalate),
    ("suspend", CaseAction::Suspend),
    ("close", CaseAction::Close),
    ("reopen", CaseAction::Reopen),
];

/// Reads the urlencoded bulk form (repeated `ids`), naming the field and reason on refusal.
pub fn parse_form(body: &str) -> Result<BulkForm, UiError> {
    let (mut csrf, mut back, mut op, mut assignee, mut action) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    let mut ids = Vec::new();
    for (k, v) in form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "back" => back = v.into_owned(),
            "op" => op = v.into_owned(),
            "assignee" => assignee = v.trim().to_owned(),
            "action" => action = v.into_owned(),
            "ids" => ids.push(v.into_owned()),
            _ => {}
        }
    }
    if ids.is_empty() {
        return Err(UiError::bad("bulk action", "no case ticked"));
    }
    if ids.len() > MAX_BULK {
        return Err(UiError::bad(
            "bulk action",
            format!("{} cases named; at most {MAX_BULK} at once", ids.len()),
        ));
    }
    if let Some(bad) = ids.iter().find(|i| !queue::is_case_id(i)) {
        return Err(UiError::bad(
            format!("case id {:?}", bad.chars().take(40).collect::<String>()),
            "not a case id",
        ));
    }
    let op = match op.as_str() {
        "assign" => {
            if assignee.len() > 200 {
                return Err(UiError::bad("assignee", "longer than 200 characters"));
            }
            BulkOp::Assign(assignee)
        }
        "notify" => BulkOp::Notify,
        "state" => STATE_ACTIONS
            .iter()
            .find(|(n, _)| *n == action)
            .map(|(_, a)| BulkOp::Act(*a))
            .ok_or_else(|| {
                UiError::bad(
                    format!("action {:?}", action.chars().take(40).collect::<String>()),
                    "use customer_replied, resolve, escalate, suspend, close or reopen",
                )
            })?,
        other => {
            return Err(UiError::bad(
                format!(
                    "bulk operation {:?}",
                    other.chars().take(40).collect::<String>()
                ),
                "use assign, state or notify",
            ));
        }
    };
    Ok(BulkForm {
        csrf,
        back,
        ids,
        op,
    })
}

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Case id.
    pub id: String,
    /// `None`: done; `Some(reason)`: refused.
    pub refused: Option<String>,
}

fn describe(op: &BulkOp) -> String {
    match op {
        BulkOp::Assign(a) if a.is_empty() => "Unassign".into(),
        BulkOp::Assign(a) => format!("Assign to {a}"),
        BulkOp::Act(a) => format!("{a:?}"),
        BulkOp::Notify => "Notify the customer".into(),
    }
}

need!(ActOnCases, Analyst, "act on cases");

/// The bulk form repeats `ids`, which `serde_urlencoded` (under `Form`) cannot collect, so the
/// body is parsed here and its CSRF token checked by hand.
async fn bulk(State(ui): Shared, LoggedIn(s): LoggedIn, body: String) -> Result<Response, UiError> {
    let f = parse_form(&body)?;
    s.check_csrf(&f.csrf)?;
    ActOnCases::check(&s)?;
    let store = ui.desk.store();
    if let BulkOp::Assign(a) = &f.op
        && !a.is_empty()
        && !tokens::workers(store).await?.iter().any(|w| w == a)
    {
        return Err(UiError::bad(
            format!("assignee {:?}", a.chars().take(60).collect::<String>()),
            "not the name of an analyst or admin token",
        ));
    }
    // Filters to go back to, re-validated so the link carries only our canonical query string.
    let back_params: QueueParams = Query::try_from_uri(
        &format!("/?{}", f.back)
            .parse()
            .map_err(|_| UiError::bad("back", "not a query string"))?,
    )
    .map(|Query(p)| p)
    .unwrap_or_default();
    let back_qs = queue::filter_from_params(&back_params)
        .map(|f| queue::query_string(&f))
        .unwrap_or_default();
    let note = format!("bulk action from the queue by {}", s.user);
    let mut out = Vec::with_capacity(f.ids.len());
    for id in &f.ids {
        let now = Utc::now();
        let r = match &f.op {
            BulkOp::Assign(a) => cases::assign(store, id, a, &s.user, now).await,
            BulkOp::Act(a) => cases::apply(store, ui.desk.policy(), id, *a, &s.user, &note, now)
                .await
                .map(|_| ()),
            BulkOp::Notify => cases::notify_now(store, ui.desk.policy(), id, &s.user, &note, now)
                .await
                .map(|_| ()),
        };
        let refused = match r {
            Ok(()) => None,
            Err(
                e @ (DeskError::Transition { .. }
                | DeskError::NotFound { .. }
                | DeskError::Invalid { .. }),
            ) => Some(e.to_string()),
            Err(e) => return Err(e.into()),
        };
        out.push(Outcome {
            id: id.clone(),
            refused,
        });
    }
    tracing::info!(actor = %s.user, op = %describe(&f.op), cases = out.len(), "bulk action");
    Ok(html_page(render(&s.viewer(), &f.op, &out, &back_qs)))
}

/// The outcome page: one line per case.
pub fn render(viewer: &Viewer<'_>, op: &BulkOp, out: &[Outcome], back_qs: &str) -> Markup {
    let done = out.iter().filter(|o| o.refused.is_none()).count();
    let body = html! {
        h1 { "Bulk action: " (describe(op)) }
        p.banner role="status" data-done=(done) data-refused=(out.len() - done) {
            (done) " of " (out.len()) " case(s) done"
            @if done < out.len() { "; " (out.len() - done) " refused (see below)" } "."
        }
        table.bulk-outcome {
            caption.visually-hidden { "Outcome per case" }
            thead { tr { th scope="col" { "Case" } th scope="col" { "Outcome" } } }
            tbody {
                @for o in out {
                    tr data-case=(o.id) {
                        td.mono { a href={ "/ui/cases/" (o.id) } { (o.id) } }
                        td {
                            @match &o.refused {
                                None => { span.state.state-resolved { "done" } }
                                Some(r) => { span.overdue { "refused: " } (r) }
                            }
                        }
                    }
                }
            }
        }
        p { a href={ "/ui/cases" @if !back_qs.is_empty() { "?" (back_qs) } } { "Back to the case queue" } }
    };
    layout::page("Bulk action", Some(viewer), body)
}

/// The bulk controls under the queue table (part of the queue's bulk form).
pub fn controls() -> Markup {
    html! {
        fieldset.bulk-actions {
            legend { "With the selected cases" }
            span.bulk-actions {
                label for="bulk-assignee" { "Assign to (token name; empty to unassign)" }
                input #bulk-assignee type="text" name="assignee" maxlength="200" size="14";
                button type="submit" name="op" value="assign" formaction="/ui/cases/bulk" { "Assign" }
            }
            span.bulk-actions {
                label for="bulk-action" { "Change state" }
                select #bulk-action name="action" {
                    @for (n, _) in STATE_ACTIONS { option value=(n) { (n) } }
                }
                button type="submit" name="op" value="state" formaction="/ui/cases/bulk" { "Apply" }
            }
            button type="submit" name="op" value="notify" formaction="/ui/cases/bulk" { "Notify customers now" }
            button.danger type="submit" formaction="/ui/cases/bulk-close" data-confirm="Close the selected cases?" { "Close selected" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019a0000-0000-7000-8000-000000000001";

    #[test]
    fn forms_are_validated() {
        let f = parse_form(&format!("csrf=x&op=state&action=resolve&ids={ID}&ids={ID}")).unwrap();
        assert_eq!(f.op, BulkOp::Act(CaseAction::Resolve));
        assert_eq!(f.ids.len(), 2);
        let f = parse_form(&format!("csrf=x&op=assign&assignee=+bob+&ids={ID}")).unwrap();
        assert_eq!(f.op, BulkOp::Assign("bob".into()));
        assert_eq!(
            parse_form(&format!("op=notify&ids={ID}")).unwrap().op,
            BulkOp::Notify
        );
        for (body, needle) in [
            ("op=notify".to_owned(), "no case ticked"),
            (format!("op=state&action=note&ids={ID}"), "\"note\""),
            (format!("op=drop&ids={ID}"), "\"drop\""),
            ("op=notify&ids=1%20OR%201=1".to_owned(), "not a case id"),
            (
                format!("op=notify{}", format!("&ids={ID}").repeat(MAX_BULK + 1)),
                "at most",
            ),
        ] {
            let e = parse_form(&body).unwrap_err().to_string();
            assert!(e.contains(needle), "{body:.60}: {e}");
        }
    }

    #[test]
    fn outcome_page_escapes_reasons() {
        let v = Viewer {
            user: "a",
            role: "analyst",
            csrf: "t",
        };
        let out = render(
            &v,
            &BulkOp::Assign("<b>".into()),
            &[
                Outcome {
                    id: ID.into(),
                    refused: None,
                },
                Outcome {
                    id: ID.into(),
                    refused: Some("<script>x</script>".into()),
                },
            ],
            "class=spam",
        )
        .into_string();
        assert!(out.contains("1 of 2 case(s) done"));
        assert!(out.contains("&lt;script&gt;") && !out.contains("<script>x"));
        assert!(out.contains("Assign to &lt;b&gt;"));
        assert!(out.contains("href=\"/ui/cases?class=spam\""));
    }

    #[test]
    fn controls_label_every_input() {
        let c = controls().into_string();
        for id in ["bulk-assignee", "bulk-action"] {
            assert!(c.contains(&format!("for=\"{id}\"")) && c.contains(&format!("id=\"{id}\"")));
        }
    }
}
