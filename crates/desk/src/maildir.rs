//! Maildir import: every message in `new/` and `cur/` of a Maildir goes through intake, so a
//! desk can take over an existing abuse mailbox (or a mailbox another MTA delivers into).

use crate::error::{DeskError, Result};
use crate::intake::{Channel, Desk, ReportStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MaildirSummary {
    /// Messages read.
    pub messages: usize,
    /// New reports processed into cases.
    pub processed: usize,
    /// New reports quarantined.
    pub quarantined: usize,
    /// Messages already received before (resends or a second import).
    pub duplicates: usize,
    /// Messages refused (too large, unreadable), with the error logged.
    pub refused: usize,
}

/// Imports every message of the Maildir at `dir`.
pub async fn import(desk: &Desk, dir: &Path, now: DateTime<Utc>) -> Result<MaildirSummary> {
    let mut sum = MaildirSummary::default();
    let mut found_any = false;
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        found_any = true;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
        paths.sort();
        for p in paths {
            sum.messages += 1;
            let meta = std::fs::metadata(&p).map_err(DeskError::io(&p))?;
            if meta.len() > desk.max_report_bytes() as u64 {
                tracing::warn!(path = %p.display(), "maildir message over the size limit, skipped");
                sum.refused += 1;
                continue;
            }
            let bytes = std::fs::read(&p).map_err(DeskError::io(&p))?;
            match desk.ingest(bytes, Channel::Maildir, None, now).await {
                Ok(r) if r.duplicate => sum.duplicates += 1,
                Ok(r) if r.status == ReportStatus::Quarantined => sum.quarantined += 1,
                Ok(_) => sum.processed += 1,
                Err(e @ (DeskError::TooLarge { .. } | DeskError::Invalid { .. })) => {
                    tracing::warn!(path = %p.display(), error = %e, "maildir message refused");
                    sum.refused += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
    if !found_any {
        return Err(DeskError::invalid(dir.display().to_string(), "not a Maildir (no new/ or cur/ directory)"));
    }
    Ok(sum)
}
