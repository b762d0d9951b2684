//! Shared test set-up: one fresh store per backend per test, and a tiny line-based report
//! format so engine tests do not depend on which real parsers have landed.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use warden_desk::{Desk, InventoryAttributor, Policy, RawStore, Store};
use warden_model::{AbuseClass, AbuseEvent, Evidence, ObservedTime, SourceFormat, TimePrecision};
use warden_reports::{ParseError, Record};

/// The PostgreSQL every machine runs (trust auth).
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("warden-desk-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh SQLite store and a fresh PostgreSQL schema, each migrated.
pub async fn stores(tag: &str) -> Vec<(&'static str, Store, PathBuf)> {
    let dir = tempdir(tag);
    let sqlite = Store::open_sqlite_dir(&dir).await.unwrap();
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    {
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(PG_URL).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
        admin.close().await;
    }
    let pg = Store::connect(&format!("{PG_URL}?options=-c%20search_path%3D{schema}")).await.unwrap();
    let pgdir = tempdir(tag);
    vec![("sqlite", sqlite, dir), ("postgres", pg, pgdir)]
}

/// Builds a desk over `store` with the line format parser.
pub fn desk(store: Store, dir: &std::path::Path, policy: Policy) -> Desk {
    let raw = RawStore::open(dir.join("raw")).unwrap();
    Desk::new(store.clone(), raw, policy, Arc::new(InventoryAttributor::new(store)), line_format)
}

/// 2026-11-24 00:00 UTC plus `h` hours.
pub fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
}

/// Test format: first line `TESTREPORT reporter@x`, then one event per line:
/// `class ip-or-domain [port] [rfc3339-time|-]`. Anything else is refused like a real parser
/// refuses an unknown format.
pub fn line_format(raw: &[u8]) -> Result<Vec<Record>, ParseError> {
    let text = std::str::from_utf8(raw).map_err(|_| ParseError::malformed("test", "not UTF-8"))?;
    let mut lines = text.lines();
    let head = lines.next().unwrap_or("");
    let Some(reporter) = head.strip_prefix("TESTREPORT ") else {
        return Err(ParseError::new(warden_reports::ParseErrorKind::UnknownFormat, "detect", "no known report format"));
    };
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let class: AbuseClass = f.first().unwrap_or(&"other").parse().map_err(|e: String| ParseError::malformed("test", e))?;
        let mut e = AbuseEvent::new(SourceFormat::FreeForm, class, Evidence::new(raw, line));
        e.reporter.email = Some(reporter.trim().to_owned());
        match f.get(1).map(|s| s.parse::<std::net::IpAddr>()) {
            Some(Ok(ip)) => e.subject.ip = Some(ip),
            Some(Err(_)) => e.subject.domain = f.get(1).map(|s| s.to_string()),
            None => {}
        }
        e.subject.port = f.get(2).and_then(|p| p.parse().ok());
        if let Some(ts) = f.get(3).and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
            e.observed = Some(ObservedTime::zoned(ts.with_timezone(&Utc), TimePrecision::Second));
        }
        out.push(Record::from(e.finish()));
    }
    Ok(out)
}
