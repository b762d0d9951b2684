//! The dashboard: what the desk is receiving and how fast it answers, as charts drawn on the
//! server as SVG (no script library; the CSP allows none): events reported per day by class
//! (stacked bars, 30 days), open cases by age, time to first action (with median and p90),
//! the top repeat offenders (90 days) and the reporters by volume (30 days).
//!
//! Every chart has a `<title>` and `<desc>` for screen readers and a table with the same
//! numbers under it. Class, customer and reporter names come from reports, so they are
//! attacker-controlled: maud escapes them in the tables, the SVG text and the titles alike.
//!
//! The figures are the desk's ([`warden_desk::dashboard`], one SQL statement per chart over an
//! index). They are computed at most every [`CACHE_TTL`] per server: a dashboard may be a few
//! seconds old, a queue page may not.

use crate::error::UiError;
use crate::extract::LoggedIn;
use crate::layout::{self, Viewer};
use crate::session::Sessions;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use maud::{Markup, html};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;
use warden_desk::Store;
pub use warden_desk::dashboard::{
    ACTION_BUCKETS, AGE_BUCKETS, DAYS, Dashboard, OFFENDER_DAYS, TOP, compute,
};

/// How long computed figures are reused.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The bucket label holding the `q`-quantile (0..1) of `counts`, or `None` without data. The
/// buckets are what is stored, so the answer is a range, not a point.
pub fn quantile_bucket(counts: &[i64], q: f64) -> Option<usize> {
    let total: i64 = counts.iter().sum();
    if total <= 0 {
        return None;
    }
    // The smallest bucket whose cumulative count reaches ceil(q * total).
    let rank = ((q * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    counts.iter().position(|n| {
        seen += n;
        seen >= rank
    })
}

/// Colours for the classes, in order of first appearance; chosen for contrast on white.
const PALETTE: [&str; 10] = [
    "#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207", "#be185d",
    "#4b5563", "#1e3a8a",
];

fn nice_max(v: i64) -> i64 {
    let v = v.max(1);
    let mag = 10_i64.pow(v.ilog10());
    for m in [1, 2, 5, 10] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10 * mag
}

/// The segments of day `i`'s bar: class, count, colour, top and bottom (cumulative counts).
fn stack<'a>(
    classes: &[(&'a String, &Vec<i64>, &'a str)],
    i: usize,
) -> Vec<(&'a String, i64, &'a str, i64, i64)> {
    let mut acc = 0;
    classes
        .iter()
        .filter(|(_, v, _)| v[i] > 0)
        .map(|(c, v, colour)| {
            let bottom = acc;
            acc += v[i];
            (*c, v[i], *colour, acc, bottom)
        })
        .collect()
}

/// Stacked bars: events per day by class.
fn per_day_chart(d: &Dashboard) -> Markup {
    let (w, h, left, bottom, top) = (760.0, 260.0, 48.0, 28.0, 10.0);
    let plot_h = h - bottom - top;
    let totals: Vec<i64> = (0..d.days.len())
        .map(|i| d.per_day.values().map(|v| v[i]).sum())
        .collect();
    let max = nice_max(totals.iter().copied().max().unwrap_or(0));
    let bar_w = (w - left - 10.0) / d.days.len().max(1) as f64;
    let y = |v: i64| top + plot_h - plot_h * v as f64 / max as f64;
    let total: i64 = totals.iter().sum();
    let classes: Vec<(&String, &Vec<i64>, &str)> = d
        .per_day
        .iter()
        .enumerate()
        .map(|(i, (c, v))| (c, v, PALETTE[i % PALETTE.len()]))
        .collect();
    let desc = format!(
        "{total} events over {} days, {} class(es); busiest day {} events. The table below has the numbers.",
        d.days.len(),
        classes.len(),
        totals.iter().max().unwrap_or(&0)
    );
    html! {
        svg.chart #chart-per-day role="img" aria-labelledby="per-day-title per-day-desc"
            viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) xmlns="http://www.w3.org/2000/svg" {
            title #per-day-title { "Events reported per day by class, last " (d.days.len()) " days" }
            desc #per-day-desc { (desc) }
            @for t in [0, max / 2, max] {
                line x1=(left) x2=(w - 10.0) y1=(y(t)) y2=(y(t)) stroke="#d0d7de" {}
                text x=(left - 6.0) y=(y(t) + 4.0) text-anchor="end" font-size="11" fill="#333" { (t) }
            }
            @for (i, day) in d.days.iter().enumerate() {
                @let x = left + i as f64 * bar_w;
                g {
                    title { (day.format("%Y-%m-%d")) ": " (totals[i]) " events" }
                    @for (class, n, colour, y1, y0) in stack(&classes, i) {
                        rect x=(format!("{:.1}", x + 1.0)) y=(format!("{:.1}", y(y1)))
                            width=(format!("{:.1}", (bar_w - 2.0).max(1.0)))
                            height=(format!("{:.1}", y(y0) - y(y1))) fill=(colour) {
                            title { (class) " on " (day.format("%Y-%m-%d")) ": " (n) }
                        }
                    }
                }
                @if i % 5 == 0 || i + 1 == d.days.len() {
                    text x=(format!("{:.1}", x + bar_w / 2.0)) y=(h - 10.0) text-anchor="middle" font-size="11" fill="#333" {
                        (day.format("%m-%d"))
                    }
                }
            }
        }
        ul.legend {
            @for (class, _, colour) in &classes {
                li {
                    svg width="12" height="12" aria-hidden="true" { rect width="12" height="12" fill=(colour) {} }
                    " " (class)
                }
            }
        }
        details {
            summary { "Table: events per day by class" }
            table.data {
                thead { tr { th scope="col" { "Day" } @for (class, _, _) in &classes { th scope="col" { (class) } } th scope="col" { "Total" } } }
                tbody {
                    @for (i, day) in d.days.iter().enumerate() {
                        tr { th scope="row" { (day.format("%Y-%m-%d")) } @for (_, v, _) in &classes { td { (v[i]) } } td { (totals[i]) } }
                    }
                }
            }
        }
    }
}

/// Horizontal bars with labels (histograms and top lists): `id` names the chart for ARIA.
fn bar_chart(id: &str, title: &str, desc: &str, col: &str, rows: &[(String, i64)]) -> Markup {
    let (w, label_w, row_h) = (760.0, 260.0, 24.0);
    let h = row_h * rows.len().max(1) as f64 + 8.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let bar = |n: i64| (w - label_w - 70.0) * n as f64 / max as f64;
    let shown = |s: &str| -> String {
        let mut t: String = s.chars().take(36).collect();
        if s.chars().count() > 36 {
            t.push('…');
        }
        t
    };
    html! {
        svg.chart id=(format!("chart-{id}")) role="img" aria-labelledby=(format!("{id}-title {id}-desc"))
            viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) xmlns="http://www.w3.org/2000/svg" {
            title id=(format!("{id}-title")) { (title) }
            desc id=(format!("{id}-desc")) { (desc) }
            @if rows.is_empty() {
                text x="8" y="20" font-size="13" fill="#555" { "No data yet." }
            }
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = 4.0 + i as f64 * row_h;
                g {
                    title { (label) ": " (n) }
                    text x=(label_w - 8.0) y=(y + 16.0) text-anchor="end" font-size="12" fill="#222" { (shown(label)) }
                    rect x=(label_w) y=(y + 3.0) width=(format!("{:.1}", bar(*n).max(if *n > 0 { 1.0 } else { 0.0 }))) height=(row_h - 6.0) fill="#1f5fa8" {}
                    text x=(format!("{:.1}", label_w + bar(*n) + 6.0)) y=(y + 16.0) font-size="12" fill="#222" { (n) }
                }
            }
        }
        details {
            summary { "Table: " (title) }
            table.data {
                thead { tr { th scope="col" { (col) } th scope="col" { "Count" } } }
                tbody { @for (label, n) in rows { tr { th scope="row" { (label) } td { (n) } } } }
            }
        }
    }
}

/// The dashboard page.
pub fn render(viewer: &Viewer<'_>, d: &Dashboard) -> Markup {
    let ages: Vec<(String, i64)> = AGE_BUCKETS
        .iter()
        .zip(&d.open_by_age)
        .map(|((l, _), n)| ((*l).to_owned(), *n))
        .collect();
    let open_total: i64 = d.open_by_age.iter().sum();
    let acts: Vec<(String, i64)> = ACTION_BUCKETS
        .iter()
        .zip(&d.first_action)
        .map(|((l, _), n)| ((*l).to_owned(), *n))
        .collect();
    let acted: i64 = d.first_action.iter().sum();
    let median = quantile_bucket(&d.first_action, 0.5).map(|i| ACTION_BUCKETS[i].0);
    let p90 = quantile_bucket(&d.first_action, 0.9).map(|i| ACTION_BUCKETS[i].0);
    let offenders: Vec<(String, i64)> = d
        .offenders
        .iter()
        .map(|(id, name, n)| {
            let label = if name.is_empty() || name == id {
                id.clone()
            } else {
                format!("{name} ({id})")
            };
            (label, *n)
        })
        .collect();
    let reporters: Vec<(String, i64)> = d
        .reporters
        .iter()
        .map(|(r, n)| {
            let r = if r.is_empty() {
                "(not given)".to_owned()
            } else {
                r.clone()
            };
            (r, *n)
        })
        .collect();
    let body = html! {
        h1 { "Dashboard" }
        p.muted { "Figures as of " (layout::when(d.at)) " (recomputed at most every " (CACHE_TTL.as_secs()) " s)." }
        section.panel aria-labelledby="h-per-day" {
            h2 #h-per-day { "Events reported per day by class" }
            (per_day_chart(d))
        }
        section.panel aria-labelledby="h-age" {
            h2 #h-age { "Open cases by age" }
            (bar_chart("age", "Open cases by age",
                &format!("{open_total} active cases (open, notified, customer replied, escalated) by time since opening."),
                "Age", &ages))
        }
        section.panel aria-labelledby="h-first" {
            h2 #h-first { "Time to first action" }
            p #first-action-summary {
                "Cases opened in the last " (DAYS) " days: " (acted) " acted on, " (d.no_action_yet) " not yet. "
                @match (median, p90) {
                    (Some(m), Some(p)) => { "Median " strong { (m) } ", 90th percentile " strong { (p) } "." }
                    _ => { "No actions yet." }
                }
            }
            (bar_chart("first", "Time to first action",
                "Delay from opening to the first notice, escalation, resolution or closing, for cases opened in the last 30 days.",
                "Delay", &acts))
        }
        section.panel aria-labelledby="h-offenders" {
            h2 #h-offenders { "Top repeat offenders (" (OFFENDER_DAYS) " days)" }
            (bar_chart("offenders", "Customers with the most cases",
                &format!("The {} customers with the most cases opened in the last {OFFENDER_DAYS} days.", offenders.len()),
                "Customer", &offenders))
        }
        section.panel aria-labelledby="h-reporters" {
            h2 #h-reporters { "Reporters by volume (" (DAYS) " days)" }
            (bar_chart("reporters", "Reporters by volume",
                &format!("The {} reporters with the most events received in the last {DAYS} days.", reporters.len()),
                "Reporter", &reporters))
        }
    };
    layout::page("Dashboard", Some(viewer), body)
}

/// The dashboard's routes and state.
struct DashUi {
    store: Store,
    sessions: Sessions,
    cache: Mutex<Option<(Instant, Arc<Dashboard>)>>,
}

/// `GET /ui/dashboard` for any logged-in session, merged into the UI's router.
pub fn router(store: Store, sessions: Sessions) -> Router {
    let ui = Arc::new(DashUi {
        store,
        sessions,
        cache: Mutex::new(None),
    });
    Router::new()
        .route("/ui/dashboard", get(page))
        .with_state(ui)
}

/// Lets the session extractor find the sessions in the dashboard's state.
impl FromRef<Arc<DashUi>> for Sessions {
    fn from_ref(ui: &Arc<DashUi>) -> Sessions {
        ui.sessions.clone()
    }
}

async fn page(State(ui): State<Arc<DashUi>>, LoggedIn(s): LoggedIn) -> Result<Response, UiError> {
    let d = {
        // Holding the lock while computing makes concurrent requests wait for one computation
        // instead of running the aggregates several times at once.
        let mut cache = ui.cache.lock().await;
        match &*cache {
            Some((t, d)) if t.elapsed() < CACHE_TTL => d.clone(),
            _ => {
                let d = Arc::new(compute(&ui.store, Utc::now()).await?);
                *cache = Some((Instant::now(), d.clone()));
                d
            }
        }
    };
    Ok(layout::html_page(render(&s.viewer(), &d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate, TimeZone};
    use std::collections::BTreeMap;

    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=\"window.pwned=1\">";

    fn sample() -> Dashboard {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        let days: Vec<NaiveDate> = (0..DAYS as i64)
            .map(|i| now.date_naive() - Duration::days(DAYS as i64 - 1 - i))
            .collect();
        let mut per_day = BTreeMap::new();
        per_day.insert(format!("spam{HOSTILE}"), vec![3; DAYS]);
        per_day.insert("phishing".to_owned(), vec![1; DAYS]);
        Dashboard {
            at: now,
            days,
            per_day,
            open_by_age: vec![1, 2, 3, 0, 0, 4],
            first_action: vec![5, 3, 1, 1, 0, 0, 0],
            no_action_yet: 2,
            offenders: vec![("acme".into(), format!("Acme {HOSTILE}"), 7)],
            reporters: vec![(format!("x@y.example{HOSTILE}"), 9), (String::new(), 1)],
        }
    }

    #[test]
    fn hostile_names_render_inert_in_svg_and_tables() {
        let v = Viewer {
            user: "alice",
            role: "analyst",
            csrf: "t",
        };
        let out = render(&v, &sample()).into_string();
        // The only script element is the UI's own.
        assert_eq!(out.matches("<script").count(), 1, "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("onerror=\""), "{out}");
        // The payload is present, as text: in the SVG titles, the legend and the tables.
        assert!(out.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count() >= 4);
        // Every chart is labelled for assistive technology and has a table.
        assert_eq!(out.matches("role=\"img\"").count(), 5);
        assert_eq!(out.matches("<desc ").count(), 5);
        assert_eq!(out.matches("<details>").count(), 5);
        assert!(out.contains("(not given)"));
    }

    #[test]
    fn quantiles_pick_the_bucket() {
        assert_eq!(quantile_bucket(&[5, 3, 1, 1], 0.5), Some(0));
        assert_eq!(quantile_bucket(&[5, 3, 1, 1], 0.9), Some(2));
        assert_eq!(quantile_bucket(&[0, 0, 2], 0.5), Some(2));
        assert_eq!(quantile_bucket(&[0, 0], 0.5), None);
        let v = Viewer {
            user: "a",
            role: "analyst",
            csrf: "t",
        };
        let out = render(&v, &sample()).into_string();
        assert!(
            out.contains(
                "Median <strong>&lt; 15 min</strong>, 90th percentile <strong>1–4 h</strong>"
            ),
            "{out}"
        );
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(13), 20);
        assert_eq!(nice_max(480), 500);
        assert_eq!(nice_max(1000), 1000);
    }
}
