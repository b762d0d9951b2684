//! Test harness: a desk over SQLite in a temporary directory, filled with a few cases (one of
//! them carrying hostile markup in its evidence), and the web UI served on loopback.

#![allow(dead_code)]

use chrono::Utc;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use warden_desk::inventory::{self, InventoryDoc};
use warden_desk::tokens::{self, Role};
use warden_desk::{Channel, Desk, InventoryAttributor, Policy, RawStore, Store};

pub const ANALYST: &str = "webui-analyst-token-0123456789";
pub const READER: &str = "webui-reader-token-0123456789";

pub const INVENTORY: &[u8] = b"customer,name,kind,value
acme,Acme Hosting,prefix,192.0.2.0/24
acme,,abuse,abuse@acme.example
acme,,domain,acme.example
beta,Beta Cloud,prefix,198.51.100.0/24
beta,,abuse,abuse@beta.example
";

pub const HOSTILE_REPORT: &[u8] = include_bytes!("../data/reports/hostile.txt");

/// A fresh temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    warden_test_support::tempdir(&format!("webui-{tag}"))
}

/// The shared report stub (warden-test-support): `TESTREPORT reporter` then
/// `class subject [port] [time]` lines; each line is an event whose evidence excerpt is the
/// whole line.
pub use warden_test_support::reports::line_format;

/// A desk with an analyst and a read-only token, the inventory above, and four cases:
/// spam from acme, phishing on an unattributed domain, port scan from beta, and malware from
/// acme whose evidence carries `<script>` and `onerror=`.
pub async fn desk(dir: &std::path::Path) -> Desk {
    desk_with(dir, line_format).await
}

/// [`desk`] with another report parser (quarantine tests swap in one that can be "fixed").
pub async fn desk_with(dir: &std::path::Path, parse: warden_desk::intake::ParseFn) -> Desk {
    desk_on(Store::open_sqlite_dir(dir).await.unwrap(), dir, parse).await
}

pub use warden_test_support::pg::PgSchema;

/// A store on `backend` (`sqlite` in `dir`, or `postgres` in a fresh schema), migrated, with
/// the schema's guard (`None` for SQLite): keep it while the store is used, its drop drops the
/// schema.
pub async fn store(backend: &str, dir: &std::path::Path) -> (Store, Option<PgSchema>) {
    if backend == "sqlite" {
        return (Store::open_sqlite_dir(dir).await.unwrap(), None);
    }
    let schema = PgSchema::create("webui").await;
    let store = Store::connect(&schema.url()).await.unwrap();
    (store, Some(schema))
}

/// The desk of [`desk`] over `store`, with `parse`.
pub async fn desk_on(
    store: Store,
    dir: &std::path::Path,
    parse: warden_desk::intake::ParseFn,
) -> Desk {
    let now = Utc::now();
    tokens::register(&store, ANALYST, "alice", Role::Analyst, now)
        .await
        .unwrap();
    tokens::register(&store, READER, "rita", Role::ReadOnly, now)
        .await
        .unwrap();
    let doc = InventoryDoc::from_csv(INVENTORY).unwrap();
    inventory::import(&store, &doc, now).await.unwrap();
    let desk = Desk::new(
        store.clone(),
        RawStore::open(dir.join("raw")).unwrap(),
        Policy::default(),
        Arc::new(InventoryAttributor::new(store)),
        parse,
    );
    let reports: [&[u8]; 4] = [
        b"TESTREPORT trap@spamtrap.example\nspam 192.0.2.10\nspam 192.0.2.10\n",
        b"TESTREPORT phish@reporter.example\nphishing login-verify.example\n",
        b"TESTREPORT ids@reporter.example\nport_scan 198.51.100.7\n",
        HOSTILE_REPORT,
    ];
    for r in reports {
        desk.ingest(r.to_vec(), Channel::Http, None, now)
            .await
            .unwrap();
    }
    desk
}

/// Serves the UI for `desk` on a free loopback port.
pub async fn serve(desk: Desk) -> SocketAddr {
    let app = warden_webui::router(desk, warden_webui::WebUiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

// webui-a: helpers for the dashboard and self-help tests.
pub mod selfhelp;
