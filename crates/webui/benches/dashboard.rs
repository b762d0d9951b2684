//! Dashboard aggregates at a million cases and a million events over SQLite: one
//! `dashboard::compute` (the five charts' SQL, uncached). Cases are opened over the last 40
//! days, so the 30-day and 90-day windows hold most of the table: the worst case for range
//! scans. Tables are filled by recursive-CTE inserts, so the bench measures the aggregates.
//!
//! Run: `cargo bench -p warden-webui --bench dashboard`

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;
use warden_desk::Store;

const ROWS: i64 = 1_000_000;

async fn fill() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("warden-webui-dash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    let now = warden_desk::store::to_ms(Utc::now());
    let last = ROWS - 1;
    // 40 days = 3,456,000,000 ms over 1,000,000 cases: one case every 3.456 s.
    let cases = format!(
        "INSERT INTO cases (id, customer_id, class, subject, state, severity, opened_at, updated_at, deadline_at,
            first_event_at, last_event_at, event_count, notified_at, closed_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256),
            CASE i % 7 WHEN 0 THEN 'open' WHEN 1 THEN 'notified' WHEN 2 THEN 'escalated' ELSE 'closed' END,
            'medium', {now} - i * 3456, {now}, {now} - i * 3456 + 86400000, {now}, {now}, 1,
            CASE WHEN i % 7 = 0 THEN NULL ELSE {now} - i * 3456 + (i % 1000) * 60000 END,
            CASE WHEN i % 7 >= 3 THEN {now} - i * 3456 + 86400000 ELSE NULL END
         FROM n"
    );
    sqlx::query(&cases).execute(store.pool()).await.unwrap();
    let events = format!(
        "INSERT INTO events (id, report_id, seq, case_id, customer_id, class, subject, at, event_json,
            attribution_json, reporter, received_at)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last})
         SELECT 'e' || i, 'r' || i, 0, printf('%08x-0000-7000-8000-%012x', i, i), 'c' || (i % 5000),
            CASE i % 4 WHEN 0 THEN 'spam' WHEN 1 THEN 'phishing' WHEN 2 THEN 'port_scan' ELSE 'malware' END,
            '10.0.0.1', {now} - i * 3456, '{{}}', '{{}}', 'feed' || (i % 500) || '@reporter.example',
            {now} - i * 3456
         FROM n"
    );
    sqlx::query(&events).execute(store.pool()).await.unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    (store, dir)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (store, dir) = rt.block_on(fill());
    let now = Utc::now();
    let d = rt
        .block_on(warden_webui::dashboard::compute(&store, now))
        .unwrap();
    eprintln!(
        "sanity: {} events in 30 days, {} open cases, offenders {:?}",
        d.per_day.values().flatten().sum::<i64>(),
        d.open_by_age.iter().sum::<i64>(),
        d.offenders.first()
    );
    let mut g = c.benchmark_group("dashboard_1m_cases_1m_events");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("compute (all five charts, uncached)", |b| {
        b.iter(|| {
            rt.block_on(warden_webui::dashboard::compute(&store, now))
                .unwrap()
        })
    });
    g.finish();
    rt.block_on(store.close());
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, bench);
criterion_main!(benches);
