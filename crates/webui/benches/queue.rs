//! Case queue page at a million cases: first page, a deep keyset page, filtered pages and every
//! sort order (migration 0005 indexes), over
//! SQLite. The table is filled in one recursive-CTE statement (ids keep the UUID v7 shape and
//! order), so the bench measures the page query, not the filling.
//!
//! Then the case page (all the handler reads, and the render) on a busy case over the same store
//! with a million events and audit rows.
//!
//! Run: `cargo bench -p warden-webui --bench queue`

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;
use warden_desk::{Store, audit, cases};
use warden_webui::case_page;
use warden_webui::layout::Viewer;
use warden_webui::queue::{self, QueueFilter, Search};
use warden_webui::queue_sort::Sort;

const CASES: i64 = 1_000_000;

fn id(i: i64) -> String {
    format!("{i:08x}-0000-7000-8000-{i:012x}")
}

async fn fill() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("warden-webui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let now = warden_desk::store::to_ms(Utc::now());
    let sql = format!(
        "INSERT INTO cases (id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at,
            first_event_at, last_event_at, event_count, reporter, assignee)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            CASE i % 7 WHEN 0 THEN 'open' WHEN 1 THEN 'notified' WHEN 2 THEN 'escalated' ELSE 'closed' END,
            CASE i % 5 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low' ELSE 'info' END,
            {now} - (1000000 - i) * 1000, {now} - ((i * 7919) % 1000000) * 1000,
            {now} - (1000000 - i) * 1000 + 86400000 * (1 + i % 3),
            {now}, {now}, 1, 'r' || (i % 1000) || '@reporter.example',
            CASE i % 10 WHEN 0 THEN 'alice' ELSE '' END
         FROM n",
        last = CASES - 1
    );
    sqlx::query(&sql).execute(store.pool()).await.unwrap();
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
            b.iter(|| rt.block_on(queue::fetch(&store, f, now)).unwrap())
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
    let now = warden_desk::store::to_ms(Utc::now());
    let events = format!(
        "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at, event_json,
            attribution_json, reporter, received_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('r%064x:0', i), printf('r%064x', i), 0,
            printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000), 'spam',
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            {now} - (1000000 - i) * 1000, $1, $2, 'r' || (i % 1000) || '@reporter.example', {now}
         FROM n",
        last = CASES - 1
    );
    sqlx::query(&events)
        .bind(&event_json)
        .bind(&attribution)
        .execute(store.pool())
        .await
        .unwrap();
    let audit = format!(
        "INSERT INTO audit_log (id, at, case_id, actor, action, detail)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('a%012x', i), {now} - (1000000 - i) * 1000,
            printf('%08x-0000-7000-8000-%012x', i, i), 'intake', 'opened', 'case opened by report'
         FROM n",
        last = CASES - 1
    );
    sqlx::query(&audit).execute(store.pool()).await.unwrap();
    let busy = id(BUSY_CASE);
    for k in 1..50 {
        sqlx::query(
            "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at,
                event_json, attribution_json, reporter, received_at)
             VALUES ($1, $2, 0, $3, 'c0', 'spam', '10.7.161.32', $4, $5, $6, 'r1@reporter.example', $4)",
        )
        .bind(format!("busy{k}:0"))
        .bind(format!("busy{k}"))
        .bind(&busy)
        .bind(now + k)
        .bind(&event_json)
        .bind(&attribution)
        .execute(store.pool())
        .await
        .unwrap();
    }
    for k in 1..12 {
        sqlx::query(
            "INSERT INTO audit_log (id, at, case_id, actor, action, detail) VALUES ($1, $2, $3, 'alice', 'note', 'looked at it')",
        )
        .bind(format!("busy-audit-{k}"))
        .bind(now + k)
        .bind(&busy)
        .execute(store.pool())
        .await
        .unwrap();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
