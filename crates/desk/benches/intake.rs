//! Intake-to-case throughput: many generated ARF reports through `Desk::ingest` (durable store,
//! parse, attribute, case, outbox) on SQLite or PostgreSQL.
//!
//! ```text
//! cargo bench -p warden-desk --bench intake -- [--backend sqlite|postgres] [--reports N] [--concurrency C] [--writers N]
//! ```
//! Prints reports/s and events/s. A bench command rather than criterion: one run writes
//! thousands of fsynced files and rows, which is the thing being measured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::Utc;
use std::sync::Arc;
use std::time::Instant;
use warden_desk::{
    Channel, Desk, InventoryAttributor, Policy, RawStore, ReportStatus, Store, demo, inventory,
};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let backend = arg("--backend", "sqlite");
    let n: usize = arg("--reports", "5000").parse().expect("--reports N");
    let conc: usize = arg("--concurrency", "16").parse().expect("--concurrency C");
    let dir = std::env::temp_dir().join(format!("warden-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = if backend == "postgres" {
        let url = std::env::var("WARDEN_BENCH_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        sqlx::any::install_default_drivers();
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::AnyPool::connect(&url).await.expect("postgres");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("schema");
        Store::connect(&format!("{url}?options=-c%20search_path%3D{schema}"))
            .await
            .expect("postgres store")
    } else {
        Store::open_sqlite_dir(&dir).await.expect("sqlite store")
    };
    let now = Utc::now();
    inventory::import(&store, &demo::inventory(500), now)
        .await
        .expect("inventory");
    let mut rng = demo::Rng::new(42);
    let reports: Vec<Vec<u8>> = (0..n as u64)
        .map(|i| {
            let c = rng.below(500);
            let ip = format!("198.{}.{}.{}", 18 + c / 256, c % 256, 1 + rng.below(254));
            let port = Some(1024 + rng.below(60_000) as u16);
            demo::arf_mail(
                i,
                &ip,
                port,
                now - chrono::Duration::seconds(rng.below(86_400) as i64),
            )
            .into_bytes()
        })
        .collect();
    let bytes: usize = reports.iter().map(Vec::len).sum();
    let desk = Desk::new(
        store.clone(),
        RawStore::open(dir.join("raw")).expect("raw"),
        Policy::default(),
        Arc::new(InventoryAttributor::new(store.clone())),
        warden_reports::parse,
    );
    // `--writers N`: group-commit writer tasks (default: the backend's).
    let desk = match arg("--writers", "").parse::<usize>() {
        Ok(n) => desk.with_intake_writers(n),
        Err(_) => desk,
    };
    let queue = Arc::new(std::sync::Mutex::new(reports));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (desk, queue) = (desk.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let (mut events, mut quarantined) = (0usize, 0usize);
            loop {
                let Some(r) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let receipt = desk
                    .ingest(r, Channel::Demo, None, Utc::now())
                    .await
                    .expect("ingest");
                events += receipt.events.len();
                quarantined += usize::from(receipt.status == ReportStatus::Quarantined);
            }
            (events, quarantined)
        }));
    }
    let (mut events, mut quarantined) = (0, 0);
    for t in tasks {
        let (e, q) = t.await.expect("task");
        events += e;
        quarantined += q;
    }
    let secs = start.elapsed().as_secs_f64();
    let cases: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM cases")
            .fetch_one(warden_desk::testing::pool(&store))
            .await
            .expect("count")
            .try_get(0)
            .expect("count")
    };
    println!(
        "intake {backend}: {n} ARF reports ({:.1} MiB) in {secs:.2} s = {:.0} reports/s, {:.0} events/s; {events} events, {cases} cases, {quarantined} quarantined; concurrency {conc}",
        bytes as f64 / (1 << 20) as f64,
        n as f64 / secs,
        events as f64 / secs
    );
    let _ = std::fs::remove_dir_all(&dir);
}
