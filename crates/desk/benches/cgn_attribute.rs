//! Cost of CGN attribution per event: `CgnAttributor::attribute` (inventory lookup, NAT store
//! stab on the blocking pool, evidence lines read back, candidates mapped to customers) over
//! the demo CGN's store, for reports with port and time and for reports without a port.
//!
//! ```text
//! cargo bench -p warden-desk --bench cgn_attribute -- [--events N] [--concurrency C]
//! ```
//! Prints p50/p99 latency of sequential calls and events/s with C calls in flight.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Instant;
use warden_desk::{Attributor, CgnAttributor, NatConfig, NatResolver, Store, demo, inventory};
use warden_model::{AbuseClass, AbuseEvent, Evidence, ObservedTime, SourceFormat, TimePrecision};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn event(ip: std::net::IpAddr, port: Option<u16>, at: DateTime<Utc>) -> AbuseEvent {
    let mut e = AbuseEvent::new(
        SourceFormat::FreeForm,
        AbuseClass::Spam,
        Evidence::new(b"bench", "bench"),
    );
    e.subject.ip = Some(ip);
    e.subject.port = port;
    e.observed = Some(ObservedTime::zoned(at, TimePrecision::Second));
    e.finish()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

async fn run(label: &str, a: &Arc<CgnAttributor>, events: &[AbuseEvent], conc: usize) {
    let now = Utc::now();
    let mut lat = Vec::with_capacity(events.len());
    let mut attributed = 0usize;
    for e in events {
        let t = Instant::now();
        let r = a.attribute(e, now).await.expect("attribute");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        attributed += usize::from(r.customer().is_some());
    }
    let (p50, p99) = (pct(&mut lat, 0.50), pct(&mut lat, 0.99));
    let t = Instant::now();
    let chunks: Vec<Vec<AbuseEvent>> = events
        .chunks(events.len().div_ceil(conc))
        .map(<[AbuseEvent]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            for e in &chunk {
                a.attribute(e, now).await.expect("attribute");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let rate = events.len() as f64 / t.elapsed().as_secs_f64();
    println!(
        "{label}: {} events, {attributed} attributed; sequential p50 {p50:.3} ms, p99 {p99:.3} ms; {rate:.0} events/s with {conc} in flight",
        events.len()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = arg("--events", "2000").parse().expect("--events N");
    let conc: usize = arg("--concurrency", "16").parse().expect("--concurrency C");
    let dir = std::env::temp_dir().join(format!(
        "warden-bench-cgn-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let store = Store::open_sqlite_dir(&dir).await.expect("sqlite store");
    let now = Utc::now();
    inventory::import(&store, &demo::inventory(50), now)
        .await
        .expect("inventory");
    let natdir = dir.join("nat");
    let (nat_store, truth) = tokio::task::spawn_blocking(move || demo::nat_store(&natdir, now))
        .await
        .expect("task")
        .expect("NAT store");
    let cfg = NatConfig::for_store(nat_store);
    let resolver = NatResolver::load(&cfg).expect("resolver");
    let a = Arc::new(CgnAttributor::new(store.clone(), Arc::new(resolver)));
    let clean: Vec<_> = truth
        .iter()
        .filter(|x| x.alloc_logged && x.release_logged && x.end_ms - x.start_ms > 20_000)
        .collect();
    let mut rng = demo::Rng::new(5);
    let mut with_port = Vec::with_capacity(n);
    let mut no_port = Vec::with_capacity(n);
    for _ in 0..n {
        let x = clean[rng.below(clean.len() as u64) as usize];
        let t = x.start_ms + 10_000 + rng.below((x.end_ms - x.start_ms - 20_000) as u64) as i64;
        let at = DateTime::<Utc>::from_timestamp_millis(t).expect("time");
        let port = x.port_lo + rng.below(u64::from(x.port_hi - x.port_lo) + 1) as u16;
        let ip = std::net::IpAddr::V4(x.outside_ip);
        with_port.push(event(ip, Some(port), at));
        no_port.push(event(ip, None, at));
    }
    println!(
        "NAT store: {} true holdings from the demo generator",
        truth.len()
    );
    run("port and time", &a, &with_port, conc).await;
    run("no port", &a, &no_port, conc).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
