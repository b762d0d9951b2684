//! The file table's evidence side: how a lookup shows the original log line.
//!
//! Decision: the store does not copy raw log lines. Operators keep their raw logs anyway (they are
//! the legal record), and copying them would cost more than the intervals themselves. Instead each
//! imported file gets a sparse *line index* (the byte offset of every 1,024th line in the
//! decompressed stream), and a lookup reads the line back from the original file: seek to the
//! nearest indexed line (plain files) or decompress up to it (gzip, zstd), then skip at most 1,023
//! lines. The file's size at import is kept, and a changed size is reported rather than trusting a
//! line that may have moved. Standard input cannot be read back, so for `-` the importer keeps a
//! zstd copy of the stream inside the store (`raw/<id>.zst`).

use super::StoreError;
use super::manifest::{Compression, FileEntry};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Lines between two line-index entries.
pub const LINE_INDEX_STRIDE: u64 = 1024;
/// Longest evidence line returned; longer lines are cut (log lines are far shorter).
pub const MAX_EVIDENCE_LINE: usize = 64 * 1024;

/// Collects the line index while a file is read.
#[derive(Debug, Default)]
pub struct LineIndexBuilder {
    offsets: Vec<u64>,
}

impl LineIndexBuilder {
    /// Call for every line with its 1-based number and byte offset.
    #[inline]
    pub fn line(&mut self, line: u64, offset: u64) {
        if (line - 1) % LINE_INDEX_STRIDE == 0 {
            self.offsets.push(offset);
        }
    }

    /// Writes the index (zstd of little-endian u64 deltas), fsynced, to `path`.
    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        let mut raw = Vec::with_capacity(self.offsets.len() * 8);
        let mut prev = 0u64;
        for &o in &self.offsets {
            raw.extend_from_slice(&(o - prev).to_le_bytes());
            prev = o;
        }
        let data = zstd::bulk::compress(&raw, 3).map_err(StoreError::Compress)?;
        let mut f = File::create(path).map_err(|e| StoreError::io(path, e))?;
        f.write_all(&data).map_err(|e| StoreError::io(path, e))?;
        f.sync_all().map_err(|e| StoreError::io(path, e))
    }
}

fn read_index(path: &Path) -> Result<Vec<u64>, StoreError> {
    let data = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let raw = zstd::stream::decode_all(&data[..])
        .map_err(|e| StoreError::corrupt(&path.display().to_string(), &e.to_string()))?;
    let mut out = Vec::with_capacity(raw.len() / 8);
    let mut acc = 0u64;
    for c in raw.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        acc = acc.wrapping_add(u64::from_le_bytes(b));
        out.push(acc);
    }
    Ok(out)
}

/// An original log line, read back as evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceLine {
    /// File path as imported.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start in the decompressed file.
    pub offset: u64,
    /// The line's text (lossy UTF-8, without its line ending).
    pub text: String,
}

/// Opens a file's decompressed stream.
pub fn open_decompressed(path: &Path, c: Compression) -> Result<Box<dyn Read + Send>, StoreError> {
    let f = File::open(path).map_err(|e| StoreError::io(path, e))?;
    Ok(match c {
        Compression::None => Box::new(f),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f))),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(f).map_err(|e| StoreError::io(path, e))?)
        }
    })
}

/// Reads line `line` of `entry` back, from the original file or the store's raw copy.
pub fn read_line(store: &Path, entry: &FileEntry, line: u64) -> Result<EvidenceLine, StoreError> {
    if line == 0 || line > entry.lines {
        return Err(StoreError::Evidence {
            path: entry.path.clone(),
            reason: format!("line {line} is outside the {} lines imported", entry.lines),
        });
    }
    let index = read_index(&store.join(&entry.line_index))?;
    let k = (line - 1) / LINE_INDEX_STRIDE;
    let base = index
        .get(k as usize)
        .copied()
        .ok_or_else(|| StoreError::Evidence {
            path: entry.path.clone(),
            reason: "line index is shorter than the file".into(),
        })?;
    let (src, comp) = match &entry.raw_copy {
        Some(rel) => (store.join(rel), Compression::Zstd),
        None => {
            let p = Path::new(&entry.path).to_owned();
            let size = std::fs::metadata(&p)
                .map_err(|e| StoreError::Evidence {
                    path: entry.path.clone(),
                    reason: format!("original log is gone or unreadable ({e})"),
                })?
                .len();
            if size != entry.size {
                return Err(StoreError::Evidence {
                    path: entry.path.clone(),
                    reason: format!(
                        "file changed since import (size {size}, was {})",
                        entry.size
                    ),
                });
            }
            (p, entry.compression)
        }
    };
    let mut reader: Box<dyn BufRead> = if comp == Compression::None {
        let mut f = File::open(&src).map_err(|e| StoreError::io(&src, e))?;
        f.seek(SeekFrom::Start(base))
            .map_err(|e| StoreError::io(&src, e))?;
        Box::new(BufReader::new(f))
    } else {
        let mut r = open_decompressed(&src, comp)?;
        std::io::copy(&mut (&mut r).take(base), &mut std::io::sink())
            .map_err(|e| StoreError::io(&src, e))?;
        Box::new(BufReader::new(r))
    };
    let mut offset = base;
    let mut cur = k * LINE_INDEX_STRIDE + 1;
    while cur < line {
        let n = reader
            .skip_until(b'\n')
            .map_err(|e| StoreError::io(&src, e))?;
        if n == 0 {
            return Err(StoreError::Evidence {
                path: entry.path.clone(),
                reason: format!("file ends before line {line}"),
            });
        }
        offset += n as u64;
        cur += 1;
    }
    let mut buf = Vec::new();
    (&mut reader)
        .take(MAX_EVIDENCE_LINE as u64)
        .read_until(b'\n', &mut buf)
        .map_err(|e| StoreError::io(&src, e))?;
    while buf.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        buf.pop();
    }
    Ok(EvidenceLine {
        path: entry.path.clone(),
        line,
        offset,
        text: String::from_utf8_lossy(&buf).into_owned(),
    })
}
