//! Shared test set-up: one fresh store per backend per test (the PostgreSQL schema dropped
//! when the test is done), and the line-format report stub of warden-test-support, so engine
//! tests do not depend on which real parsers have landed.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use warden_desk::{Desk, InventoryAttributor, Policy, RawStore, Store};
pub use warden_test_support::pg::PgSchema;
pub use warden_test_support::reports::line_format;

/// A fresh temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    warden_test_support::tempdir(&format!("desk-{tag}"))
}

/// A fresh SQLite store and a fresh PostgreSQL schema, each migrated. Keep the fourth element
/// (the schema's guard, `None` for SQLite) for as long as the store is used: dropping it drops
/// the schema.
pub async fn stores(tag: &str) -> Vec<(&'static str, Store, PathBuf, Option<PgSchema>)> {
    let dir = tempdir(tag);
    let sqlite = Store::open_sqlite_dir(&dir).await.unwrap();
    let schema = PgSchema::create("t").await;
    let pg = Store::connect(&schema.url()).await.unwrap();
    let pgdir = tempdir(tag);
    vec![
        ("sqlite", sqlite, dir, None),
        ("postgres", pg, pgdir, Some(schema)),
    ]
}

/// Builds a desk over `store` with the line format parser.
pub fn desk(store: Store, dir: &std::path::Path, policy: Policy) -> Desk {
    let raw = RawStore::open(dir.join("raw")).unwrap();
    Desk::new(
        store.clone(),
        raw,
        policy,
        Arc::new(InventoryAttributor::new(store)),
        line_format,
    )
}

/// 2026-11-24 00:00 UTC plus `h` hours.
pub fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
}
