//! HTTP intake latency under an open-loop load: `POST /api/v1/reports` at a fixed rate
//! (default 1,000 requests/s for 10 s) with distinct generated ARF reports, against a server on
//! loopback over SQLite (or PostgreSQL with `--backend postgres`).
//!
//! ```text
//! cargo bench -p warden-server --bench http_intake -- [--rate 1000] [--seconds 10] [--backend sqlite|postgres] [--writers N]
//! ```
//! Latency is measured from each request's *scheduled* send time, so a stalled server is not
//! hidden by the load generator slowing down (coordinated omission).
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
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warden_desk::notify::{HttpWebhook, PickupDirMailer, Templates};
use warden_desk::tokens::{self, Role};
use warden_desk::{Desk, InventoryAttributor, Policy, RawStore, Store, demo, inventory};
use warden_server::ServerConfig;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

const TOKEN: &str = "bench-token-0123456789abcdef";

async fn post(addr: std::net::SocketAddr, body: &[u8]) -> std::io::Result<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rate: u64 = arg("--rate", "1000").parse().expect("--rate N");
    let seconds: u64 = arg("--seconds", "10").parse().expect("--seconds N");
    let backend = arg("--backend", "sqlite");
    let dir = std::env::temp_dir().join(format!(
        "warden-httpbench-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let store = if backend == "postgres" {
        let url = "postgres://postgres@127.0.0.1:5432/test";
        warden_desk::testing::pg_schema_store(url, "bench")
            .await
            .expect("postgres store in a fresh schema")
    } else {
        Store::open_sqlite_dir(&dir).await.expect("store")
    };
    let now = Utc::now();
    inventory::import(&store, &demo::inventory(500), now)
        .await
        .expect("inventory");
    tokens::register(&store, TOKEN, "bench", Role::Analyst, now)
        .await
        .expect("token");
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
    let cfg = ServerConfig {
        http_listen: ([127, 0, 0, 1], 0).into(),
        rate_per_sec: 0,
        tick: Duration::from_secs(3600),
        ..ServerConfig::default()
    };
    let srv = warden_server::start(
        desk,
        cfg,
        Templates::default(),
        Arc::new(PickupDirMailer::new(dir.join("out")).expect("out")),
        Arc::new(HttpWebhook::default()),
    )
    .await
    .expect("server");
    let addr = srv.http_addr;
    let total = rate * seconds;
    let mut rng = demo::Rng::new(9);
    let bodies: Vec<Arc<Vec<u8>>> = (0..total)
        .map(|i| {
            let c = rng.below(500);
            let ip = format!("198.{}.{}.{}", 18 + c / 256, c % 256, 1 + rng.below(254));
            Arc::new(demo::arf_mail(i, &ip, Some(1024 + (i % 60000) as u16), now).into_bytes())
        })
        .collect();
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(total as usize);
    for (i, body) in bodies.into_iter().enumerate() {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        handles.push(tokio::spawn(async move {
            let status = post(addr, &body).await.unwrap_or(0);
            (status, due.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(handles.len());
    let mut errors = 0;
    for h in handles {
        let (status, d) = h.await.expect("task");
        if status != 202 {
            errors += 1;
        }
        lat.push(d);
    }
    let wall = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "http intake {backend}: {total} requests offered at {rate}/s over {seconds} s; completed in {wall:.2} s; non-202: {errors}; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    srv.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
