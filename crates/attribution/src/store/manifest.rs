//! The manifest: the one file that says what the store contains. Everything else in the data
//! directory is immutable; an import or a retention run becomes visible in one `rename(2)` of
//! `MANIFEST.tmp` over `MANIFEST` (POSIX rename is atomic), so a reader sees either the old store
//! or the new one, never half of an import.

use super::StoreError;
use super::segment::SegmentMeta;
use crate::natlog::pair::{Millis, SeqGap};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Name of the manifest file in the store directory.
pub const MANIFEST: &str = "MANIFEST";
/// Current manifest format.
pub const FORMAT: u32 = 1;
/// Largest manifest accepted (it lists files and segments, not intervals).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// How an imported file was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (possibly multi-member, as logrotate writes).
    Gzip,
    /// Zstandard.
    Zstd,
}

/// One imported log file: where evidence lines can be read back from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Id used by every [`crate::natlog::pair::LineRef`].
    pub id: u32,
    /// The path given at import (`-` for standard input), made absolute when possible.
    pub path: String,
    /// Compression of the file on disk.
    pub compression: Compression,
    /// Size on disk at import; a different size at read-back means the file changed.
    pub size: u64,
    /// Lines read.
    pub lines: u64,
    /// Oldest and newest event time in the file: the time coverage it gives.
    pub first_ms: Option<Millis>,
    /// Newest event time.
    pub last_ms: Option<Millis>,
    /// Line index side file (relative to the store): byte offsets every
    /// [`super::files::LINE_INDEX_STRIDE`] lines.
    pub line_index: String,
    /// Zstd copy of the raw input kept in the store (relative), for standard input, which cannot
    /// be read back later.
    pub raw_copy: Option<String>,
    /// Import generation that added the file.
    pub generation: u64,
}

/// The store's table of contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// Increases with every committed change.
    pub generation: u64,
    /// Next file id to hand out.
    pub next_file_id: u32,
    /// Imported files.
    pub files: Vec<FileEntry>,
    /// Visible segments.
    pub segments: Vec<SegmentMeta>,
    /// Intervals still open at the end of the data (relative path of a zstd JSON file).
    pub pending: Option<String>,
    /// Sequence gaps: possible log loss.
    pub gaps: Vec<SeqGap>,
    /// Partitions before this UTC day were dropped by retention.
    pub retained_from_day: Option<String>,
}

impl Default for Manifest {
    fn default() -> Self {
        Self {
            format: FORMAT,
            generation: 0,
            next_file_id: 0,
            files: Vec::new(),
            segments: Vec::new(),
            pending: None,
            gaps: Vec::new(),
            retained_from_day: None,
        }
    }
}

impl Manifest {
    /// Reads the manifest of `dir`; an empty store when there is none yet.
    pub fn load(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(MANIFEST);
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(StoreError::corrupt(
                &path.display().to_string(),
                "manifest over 256 MiB",
            ));
        }
        let bytes = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        let m: Self = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::corrupt(&path.display().to_string(), &e.to_string()))?;
        if m.format != FORMAT {
            return Err(StoreError::corrupt(
                &path.display().to_string(),
                &format!("manifest format {} (this build reads {FORMAT})", m.format),
            ));
        }
        Ok(m)
    }

    /// Writes the manifest atomically: temp file, fsync, rename, fsync of the directory.
    pub fn commit(&self, dir: &Path) -> Result<(), StoreError> {
        let tmp = dir.join("MANIFEST.tmp");
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| StoreError::corrupt("manifest", &e.to_string()))?;
        let mut f = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(&bytes).map_err(|e| StoreError::io(&tmp, e))?;
        f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        drop(f);
        let path = dir.join(MANIFEST);
        fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        sync_dir(dir)
    }
}

/// fsyncs a directory so a rename in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}
