//! The embedded CGN interval store: a data directory of immutable, compressed, day-partitioned
//! segments built for one query, the stabbing query "who held (VRF, IP, port) during
//! [T - δ, T + δ]".
//!
//! ```text
//! DIR/MANIFEST                      what is visible (replaced atomically by rename)
//! DIR/LOCK                          writer lock (one import or retention run at a time)
//! DIR/day=2026-11-24/seg-7-0.wseg   segments, sorted by (VRF, IP, port, start)
//! DIR/files/<id>.lidx               line index of each imported file (evidence read-back)
//! DIR/raw/<id>.zst                  raw copy of standard-input imports only
//! DIR/pending-7.json.zst            intervals still open at the end of the data
//! ```
//!
//! Readers take no lock: they read the manifest once and open the segments it names.

mod block;
pub mod files;
pub mod manifest;
mod retention;
pub mod segment;
pub mod writer;

pub use files::{EvidenceLine, LineIndexBuilder, read_line};
pub use manifest::{Compression, FileEntry, Manifest};
pub use retention::{RetentionOutcome, drop_partitions_before};
pub use segment::{Segment, SegmentMeta};
pub use writer::ImportTxn;

use crate::natlog::pair::{Millis, NatInterval, PendingInterval};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// File-name prefix of the pending-interval files.
pub(crate) const PENDING_PREFIX: &str = "pending-";

/// Largest pending file accepted (decompressed).
const MAX_PENDING_BYTES: usize = 4 << 30;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A store file is damaged or not what it should be.
    #[error("{what} is corrupt: {reason}")]
    Corrupt {
        /// The file or structure.
        what: String,
        /// Why.
        reason: String,
    },
    /// Compression failed.
    #[error("zstd compression failed: {0}")]
    Compress(#[source] std::io::Error),
    /// Rows reached a segment writer out of order (a bug, reported rather than stored).
    #[error("{0}: rows pushed out of sort order")]
    Unsorted(PathBuf),
    /// Another import or retention run holds the store.
    #[error("{0}: another import or retention run is using this store; try again when it ends")]
    Locked(PathBuf),
    /// An evidence line could not be read back.
    #[error("evidence from {path}: {reason}")]
    Evidence {
        /// The original file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn corrupt(what: &str, reason: &str) -> Self {
        Self::Corrupt {
            what: what.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// UTC day number (days since 1970-01-01) of a time: the partition key.
pub fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_name(day: i64) -> String {
    let date = i32::try_from(day)
        .ok()
        .and_then(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d.checked_add(719_163)?));
    match date {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("day{day}"),
    }
}

pub(crate) fn read_pending(path: &Path) -> Result<Vec<PendingInterval>, StoreError> {
    let data = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let json = zstd::bulk::decompress(&data, MAX_PENDING_BYTES)
        .map_err(|e| StoreError::corrupt(&path.display().to_string(), &e.to_string()))?;
    serde_json::from_slice(&json)
        .map_err(|e| StoreError::corrupt(&path.display().to_string(), &e.to_string()))
}

/// A read-only view of the store as of one manifest.
#[derive(Debug)]
pub struct NatStore {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<(SegmentMeta, Segment)>,
    pending: Vec<PendingInterval>,
    max_span: u16,
}

/// Default cap on rows returned for an address without a port.
pub const MAX_IP_ROWS: usize = 1000;

impl NatStore {
    /// Opens the store in `dir` (an empty store if `dir` has no manifest yet).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let manifest = Manifest::load(dir)?;
        let mut segments = Vec::with_capacity(manifest.segments.len());
        let mut max_span = 0;
        for m in &manifest.segments {
            let seg = Segment::open(&dir.join(&m.path))?;
            if seg.rows() != m.rows {
                return Err(StoreError::corrupt(
                    &m.path,
                    &format!("holds {} rows, manifest says {}", seg.rows(), m.rows),
                ));
            }
            max_span = max_span.max(m.max_span);
            segments.push((m.clone(), seg));
        }
        let pending = match &manifest.pending {
            Some(rel) => read_pending(&dir.join(rel))?,
            None => Vec::new(),
        };
        Ok(Self {
            dir: dir.to_owned(),
            manifest,
            segments,
            pending,
            max_span,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest this view was opened at.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Open segments with their metadata.
    pub fn segments(&self) -> &[(SegmentMeta, Segment)] {
        &self.segments
    }

    /// Intervals still open at the end of the data.
    pub fn pending(&self) -> &[PendingInterval] {
        &self.pending
    }

    /// Every stored or pending interval on (`vrf`, `ip`) that covers `port` (any port when
    /// `None`, at most [`MAX_IP_ROWS`]) and overlaps `[from, to]`, matching `proto` when both
    /// the query and the row name one.
    pub fn stab(
        &self,
        vrf: u32,
        ip: Ipv4Addr,
        port: Option<u16>,
        proto: Option<u8>,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<NatInterval>, StoreError> {
        let mut out = Vec::new();
        for (m, seg) in &self.segments {
            if m.min_start_ms > to || m.max_end_ms < from {
                continue;
            }
            match port {
                Some(p) => seg.scan(
                    vrf,
                    ip,
                    p.saturating_sub(m.max_span)..=p,
                    from,
                    to,
                    &mut out,
                )?,
                None => seg.scan_ip(vrf, ip, from, to, MAX_IP_ROWS, &mut out)?,
            }
        }
        out.extend(
            self.pending
                .iter()
                .map(|p| &p.interval)
                .filter(|r| {
                    r.outside_vrf == vrf
                        && r.outside_ip == ip
                        && r.start_ms <= to
                        && r.end_ms >= from
                })
                .cloned(),
        );
        out.retain(|r| {
            port.is_none_or(|p| r.port_lo <= p && p <= r.port_hi)
                && (proto.is_none() || r.proto.is_none() || r.proto == proto)
        });
        out.sort_by(segment::row_order);
        out.truncate(if port.is_none() {
            MAX_IP_ROWS
        } else {
            usize::MAX
        });
        Ok(out)
    }

    /// The widest port block stored (how far below a port a block may start).
    pub fn max_span(&self) -> u16 {
        self.max_span
    }

    /// Total stored intervals.
    pub fn rows(&self) -> u64 {
        self.manifest.segments.iter().map(|s| s.rows).sum()
    }

    /// Total segment bytes.
    pub fn bytes(&self) -> u64 {
        self.manifest.segments.iter().map(|s| s.bytes).sum()
    }

    /// Reads an evidence line back.
    pub fn evidence(&self, file: u32, line: u64) -> Result<EvidenceLine, StoreError> {
        let entry = self
            .manifest
            .files
            .iter()
            .find(|f| f.id == file)
            .ok_or_else(|| StoreError::Evidence {
                path: format!("file #{file}"),
                reason: "not in the store's file table".into(),
            })?;
        read_line(&self.dir, entry, line)
    }
}
