//! Retention: drops whole day partitions. Retention periods for connection records are set in
//! days or months by national law (research notes, section 4), so the day partition is the unit:
//! nothing is rewritten, segments of old days simply leave the manifest and are deleted after the
//! manifest rename, so a crash in between leaves only unreferenced files.

use super::StoreError;
use super::manifest::{Manifest, sync_dir};
use std::fs::{self, File};
use std::path::Path;

/// What a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetentionOutcome {
    /// Day partitions dropped.
    pub days: Vec<String>,
    /// Segments dropped.
    pub segments: usize,
    /// Intervals dropped.
    pub rows: u64,
}

/// Drops every partition of a UTC day before `first_kept_day` (`YYYY-MM-DD`).
pub fn drop_partitions_before(
    dir: &Path,
    first_kept_day: &str,
) -> Result<RetentionOutcome, StoreError> {
    if chrono::NaiveDate::parse_from_str(first_kept_day, "%Y-%m-%d").is_err() {
        return Err(StoreError::corrupt(
            "retention day",
            &format!("{first_kept_day:?} is not a YYYY-MM-DD date"),
        ));
    }
    let lock_path = dir.join("LOCK");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::io(&lock_path, e))?;
    lock.try_lock()
        .map_err(|_| StoreError::Locked(dir.to_owned()))?;
    let mut m = Manifest::load(dir)?;
    let (drop, keep): (Vec<_>, Vec<_>) = m
        .segments
        .drain(..)
        .partition(|s| s.day.as_str() < first_kept_day);
    m.segments = keep;
    let mut out = RetentionOutcome {
        segments: drop.len(),
        rows: drop.iter().map(|s| s.rows).sum(),
        ..Default::default()
    };
    out.days = drop.iter().map(|s| s.day.clone()).collect();
    out.days.sort();
    out.days.dedup();
    if drop.is_empty() {
        return Ok(out);
    }
    m.generation += 1;
    m.retained_from_day = Some(first_kept_day.to_owned());
    m.commit(dir)?;
    for s in &drop {
        let _ = fs::remove_file(dir.join(&s.path));
    }
    for d in &out.days {
        let _ = fs::remove_dir(dir.join(format!("day={d}")));
    }
    sync_dir(dir)?;
    Ok(out)
}
