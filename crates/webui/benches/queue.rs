//! Case queue page at a million cases: first page, a deep keyset page, filtered pages and every
//! sort order (migration 0005 indexes), over
//! SQLite. The table is filled in one recursive-CTE statement (ids keep the UUID v7 shape and
//! order), so the bench measures the page query, not the filling.
//!
//! Then the case page (all the handler reads, and the render) on a busy case over the same store
//! with a million events and audit rows.
//!
//! Run: `cargo bench -p warden-webui --bench queue`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;
use warden_desk::queue::Sort;
use warden_desk::{Store, audit, cases};
use warden_webui::case_page;
use warden_webui::layout::Viewer;
use warden_webui::queue::{QueueFilter, Search};

const CASES: i64 = 1_000_000;

fn id(i: i64) -> String {
    warden_desk::testing::seeded_case_id(i)
}

async fn fill() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("warden-webui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    warden_desk::testing::seed_queue_cases(&store, CASES, Utc::now())
        .await
        .unwrap();
    (store, dir)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (store, dir) = rt.block_on(fill());
    let now = Utc::now();
    let now_ms = warden_desk::store::to_ms(now);
    let cases: [(&str, QueueFilter); 15] = [
        ("first page, no filter", QueueFilter::default()),
        (
            "deep page (after the 900,000th newest)",
            QueueFilter {
                after: Some(id(CASES - 900_000)),
                ..Default::default()
            },
        ),
        (
            "class=malware",
            QueueFilter {
                class: Some(warden_model::AbuseClass::Malware),
                ..Default::default()
            },
        ),
        (
            "customer=c42 (200 matches)",
            QueueFilter {
                customer: Some("c42".into()),
                ..Default::default()
            },
        ),
        (
            "search by subject 10.1.2.3",
            QueueFilter {
                search: Some(Search::Subject("10.1.2.3".into())),
                ..Default::default()
            },
        ),
        (
            "reporter=r42@reporter.example (1,000 matches)",
            QueueFilter {
                reporter: Some("r42@reporter.example".into()),
                ..Default::default()
            },
        ),
        (
            "assignee=alice (100,000 matches)",
            QueueFilter {
                assignee: Some("alice".into()),
                ..Default::default()
            },
        ),
        (
            "sort=updated, first page",
            QueueFilter {
                sort: Sort::Updated,
                ..Default::default()
            },
        ),
        (
            "sort=deadline, deep page",
            QueueFilter {
                sort: Sort::Deadline,
                after: Some(format!("{}_{}", now_ms + 86_400_000, id(500_000))),
                ..Default::default()
            },
        ),
        (
            "sort=severity, first page",
            QueueFilter {
                sort: Sort::Severity,
                ..Default::default()
            },
        ),
        (
            "sort=severity, cursor at the end of a level (crosses to the next)",
            QueueFilter {
                sort: Sort::Severity,
                after: Some(format!("high_{}", id(21))),
                ..Default::default()
            },
        ),
        (
            "sort=updated, deep page",
            QueueFilter {
                sort: Sort::Updated,
                after: Some(format!("{}_{}", now_ms - 500_000_000, id(500_000))),
                ..Default::default()
            },
        ),
        (
            "sort=severity + state=escalated",
            QueueFilter {
                sort: Sort::Severity,
                state: Some(warden_desk::cases::CaseState::Escalated),
                ..Default::default()
            },
        ),
        (
            "rare: sort=deadline + class=ddos (0 matches, worst case)",
            QueueFilter {
                sort: Sort::Deadline,
                class: Some(warden_model::AbuseClass::Ddos),
                ..Default::default()
            },
        ),
        (
            "sort=deadline + class=malware",
            QueueFilter {
                sort: Sort::Deadline,
                class: Some(warden_model::AbuseClass::Malware),
                ..Default::default()
            },
        ),
    ];
    let mut g = c.benchmark_group("queue_page_1m_cases");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for (name, f) in &cases {
        g.bench_function(*name, |b| {
            b.iter(|| {
                rt.block_on(warden_desk::queue::page(&store, f, now))
                    .unwrap()
            })
        });
    }
    g.finish();

    // The case page over the same million cases, with one event and one audit row per case
    // (a million of each) and a busy case of 50 events and 12 audit entries: everything the
    // handler reads (case, events, audit log, repeat count, customer replies) and the render.
    rt.block_on(fill_case_detail(&store));
    let busy = id(BUSY_CASE);
    let viewer = Viewer {
        user: "alice",
        role: "analyst",
        csrf: "c0ffee",
    };
    let page = || async {
        let case = cases::get(&store, &busy).await.unwrap();
        let events = cases::events(&store, &busy, case_page::MAX_EVENTS_SHOWN)
            .await
            .unwrap();
        let log = audit::for_case(&store, &busy).await.unwrap();
        let repeat = cases::repeat_count(&store, &case.customer_id, now, 90)
            .await
            .unwrap();
        let replies = warden_desk::selfhelp::replies(&store, &busy).await.unwrap();
        assert_eq!(events.len(), 50);
        case_page::render(&viewer, true, &case, &events, &log, repeat, now, &replies)
            .into_string()
            .len()
    };
    let mut g = c.benchmark_group("case_page_1m_cases");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("case with 50 events, 12 audit entries", |b| {
        b.iter(|| rt.block_on(page()))
    });
    g.finish();
    rt.block_on(store.close());
    std::fs::remove_dir_all(dir).ok();
}

/// The case the case-page bench opens.
const BUSY_CASE: i64 = 500_000;

/// One realistic event (a real ARF report through the real parser) and one audit row for every
/// case, plus 49 more events and 11 more audit rows on [`BUSY_CASE`].
async fn fill_case_detail(store: &Store) {
    let arf = include_bytes!("../../reports/tests/data/arf/aol-scomp.eml");
    let records = warden_reports::parse(arf).expect("ARF sample parses");
    let event = records.iter().find_map(|r| r.as_event()).expect("an event");
    let event_json = serde_json::to_string(event).unwrap();
    let attribution = serde_json::json!({
        "candidates": [{ "customer_id": "c0", "customer_name": "Customer 0", "matched": "10.0.0.0/8" }],
        "ambiguous": false,
    })
    .to_string();
    let detail = warden_desk::testing::CaseDetail {
        event_json: &event_json,
        attribution_json: &attribution,
        busy: BUSY_CASE,
        extra_events: 49,
        extra_audit: 11,
    };
    warden_desk::testing::seed_case_detail(store, CASES, detail, Utc::now())
        .await
        .unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
