//! Dashboard aggregates at a million cases and a million events over SQLite: one
//! `dashboard::compute` (the five charts' SQL, uncached). Cases are opened over the last 40
//! days, so the 30-day and 90-day windows hold most of the table: the worst case for range
//! scans. Tables are filled by recursive-CTE inserts, so the bench measures the aggregates.
//!
//! Run: `cargo bench -p warden-webui --bench dashboard`
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
use warden_desk::Store;

const ROWS: i64 = 1_000_000;

async fn fill() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("warden-webui-dash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite_dir(&dir).await.unwrap();
    warden_desk::testing::seed_dashboard(&store, ROWS, Utc::now())
        .await
        .unwrap();
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
