//! A segment: one immutable file of intervals sorted by (outside VRF, outside IP, first port,
//! start), cut into compressed blocks, with a block index at the end.
//!
//! Layout: `magic | block 0 | block 1 | ... | index | footer`. The magic's last byte is the
//! block format (1 or 2, see `block`); a segment of an unknown format is refused with an error
//! that says so. The index holds, per block, the first and last (VRF, IP, port) key, the
//! smallest start and largest end, so a stabbing query binary-searches the index, skips blocks
//! whose time span misses the window, and reads only the one or two blocks that can hold the
//! answer. The footer's CRC-32 covers the index; each block is a zstd frame with its own
//! checksum.

use super::StoreError;
use super::block::{self, BLOCK_ROWS};
use crate::natlog::pair::{Millis, NatInterval};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Segment magic: the last byte is the block format ([`block::FORMAT`]).
const MAGIC: &[u8; 8] = b"WNSEG\0\0\x02";
/// The first seven bytes of every segment's magic, whatever its format.
const MAGIC_PREFIX: &[u8; 7] = b"WNSEG\0\0";
const END_MAGIC: &[u8; 8] = b"WNSEGEND";
const FOOTER_LEN: u64 = 32;
const ENTRY_LEN: usize = 52;

/// The sort key of a row: (outside VRF, outside IP, first port).
pub type RowKey = (u32, u32, u16);

/// Sort order of rows in a segment; also the merge order.
pub fn row_order(a: &NatInterval, b: &NatInterval) -> std::cmp::Ordering {
    (
        a.outside_vrf,
        a.outside_ip,
        a.port_lo,
        a.start_ms,
        a.port_hi,
        a.proto,
    )
        .cmp(&(
            b.outside_vrf,
            b.outside_ip,
            b.port_lo,
            b.start_ms,
            b.port_hi,
            b.proto,
        ))
}

fn key_of(r: &NatInterval) -> RowKey {
    (r.outside_vrf, u32::from(r.outside_ip), r.port_lo)
}

/// What the manifest records about a segment, enough to skip it without opening it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// File name relative to the store directory.
    pub path: String,
    /// Partition (UTC day, `YYYY-MM-DD`) of the rows' starts.
    pub day: String,
    /// Number of rows.
    pub rows: u64,
    /// Smallest start.
    pub min_start_ms: Millis,
    /// Largest start.
    pub max_start_ms: Millis,
    /// Largest end.
    pub max_end_ms: Millis,
    /// Widest port range minus one (0 for per-session data): how far below a port to search.
    pub max_span: u16,
    /// File size in bytes.
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    first: RowKey,
    last: RowKey,
    min_start: Millis,
    max_end: Millis,
    offset: u64,
    len: u32,
    rows: u32,
}

impl IndexEntry {
    fn write(&self, out: &mut Vec<u8>) {
        for k in [self.first, self.last] {
            out.extend_from_slice(&k.0.to_le_bytes());
            out.extend_from_slice(&k.1.to_le_bytes());
            out.extend_from_slice(&k.2.to_le_bytes());
        }
        out.extend_from_slice(&self.min_start.to_le_bytes());
        out.extend_from_slice(&self.max_end.to_le_bytes());
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.rows.to_le_bytes());
    }

    fn read(b: &[u8]) -> Option<Self> {
        let u32_at = |i: usize| {
            b.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let u16_at = |i: usize| {
            b.get(i..i + 2)
                .and_then(|s| s.try_into().ok())
                .map(u16::from_le_bytes)
        };
        let u64_at = |i: usize| {
            b.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
        };
        Some(Self {
            first: (u32_at(0)?, u32_at(4)?, u16_at(8)?),
            last: (u32_at(10)?, u32_at(14)?, u16_at(18)?),
            min_start: u64_at(20)? as i64,
            max_end: u64_at(28)? as i64,
            offset: u64_at(36)?,
            len: u32_at(44)?,
            rows: u32_at(48)?,
        })
    }
}

/// Writes a segment from rows pushed in [`row_order`].
pub struct SegmentWriter {
    path: PathBuf,
    out: BufWriter<File>,
    pos: u64,
    buf: Vec<NatInterval>,
    index: Vec<IndexEntry>,
    meta: SegmentMeta,
    last: Option<NatInterval>,
}

impl SegmentWriter {
    /// Creates the file at `path` (which must not be visible to readers yet: the caller renames
    /// it into place after [`SegmentWriter::finish`]).
    pub fn create(path: &Path, name: String, day: String) -> Result<Self, StoreError> {
        let f = File::create(path).map_err(|e| StoreError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        out.write_all(MAGIC).map_err(|e| StoreError::io(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            out,
            pos: MAGIC.len() as u64,
            buf: Vec::with_capacity(BLOCK_ROWS),
            index: Vec::new(),
            meta: SegmentMeta {
                path: name,
                day,
                rows: 0,
                min_start_ms: Millis::MAX,
                max_start_ms: Millis::MIN,
                max_end_ms: Millis::MIN,
                max_span: 0,
                bytes: 0,
            },
            last: None,
        })
    }

    /// Adds one row; rows must come in [`row_order`].
    pub fn push(&mut self, r: NatInterval) -> Result<(), StoreError> {
        if let Some(prev) = &self.last
            && row_order(prev, &r) == std::cmp::Ordering::Greater
        {
            return Err(StoreError::Unsorted(self.path.clone()));
        }
        let m = &mut self.meta;
        m.rows += 1;
        m.min_start_ms = m.min_start_ms.min(r.start_ms);
        m.max_start_ms = m.max_start_ms.max(r.start_ms);
        m.max_end_ms = m.max_end_ms.max(r.end_ms);
        m.max_span = m.max_span.max(r.port_hi.saturating_sub(r.port_lo));
        self.last = Some(r.clone());
        self.buf.push(r);
        if self.buf.len() >= BLOCK_ROWS {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<(), StoreError> {
        let (Some(first), Some(last)) = (self.buf.first(), self.buf.last()) else {
            return Ok(());
        };
        let data = block::encode(&self.buf)?;
        let len =
            u32::try_from(data.len()).map_err(|_| StoreError::corrupt("block", "over 4 GiB"))?;
        self.index.push(IndexEntry {
            first: key_of(first),
            last: key_of(last),
            min_start: self.buf.iter().map(|r| r.start_ms).min().unwrap_or(0),
            max_end: self.buf.iter().map(|r| r.end_ms).max().unwrap_or(0),
            offset: self.pos,
            len,
            rows: self.buf.len() as u32,
        });
        self.out
            .write_all(&data)
            .map_err(|e| StoreError::io(&self.path, e))?;
        self.pos += u64::from(len);
        self.buf.clear();
        Ok(())
    }

    /// Writes the index and footer, fsyncs, and returns the segment's metadata.
    pub fn finish(mut self) -> Result<SegmentMeta, StoreError> {
        self.flush_block()?;
        let mut idx = Vec::with_capacity(self.index.len() * ENTRY_LEN + FOOTER_LEN as usize);
        for e in &self.index {
            e.write(&mut idx);
        }
        let crc = crc32fast::hash(&idx);
        let index_offset = self.pos;
        idx.extend_from_slice(&index_offset.to_le_bytes());
        idx.extend_from_slice(&(self.index.len() as u32).to_le_bytes());
        idx.extend_from_slice(&crc.to_le_bytes());
        idx.extend_from_slice(&self.meta.rows.to_le_bytes());
        idx.extend_from_slice(END_MAGIC);
        self.out
            .write_all(&idx)
            .map_err(|e| StoreError::io(&self.path, e))?;
        let f = self
            .out
            .into_inner()
            .map_err(|e| StoreError::io(&self.path, e.into_error()))?;
        f.sync_all().map_err(|e| StoreError::io(&self.path, e))?;
        self.meta.bytes = self.pos + idx.len() as u64;
        Ok(self.meta)
    }
}

/// Buffers a lookup reuses from one block read to the next (per thread, so a lookup allocates
/// nothing for reading and decompressing a block).
#[derive(Default)]
struct Scratch {
    comp: Vec<u8>,
    raw: Vec<u8>,
    dctx: Option<zstd::bulk::Decompressor<'static>>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// An open segment: its index in memory, its blocks read on demand (the page cache keeps hot
/// blocks warm).
#[derive(Debug)]
pub struct Segment {
    path: PathBuf,
    file: File,
    index: Vec<IndexEntry>,
    rows: u64,
    /// Block format (from the magic).
    version: u8,
}

impl Segment {
    /// Opens and checks a segment's footer and index.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
        let size = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        let bad = |why: &str| StoreError::corrupt(&path.display().to_string(), why);
        if size < MAGIC.len() as u64 + FOOTER_LEN {
            return Err(bad("shorter than a header and footer"));
        }
        let mut head = [0u8; 8];
        file.read_exact_at(&mut head, 0)
            .map_err(|e| StoreError::io(path, e))?;
        if &head[..7] != MAGIC_PREFIX {
            return Err(bad("not a warden segment (bad magic)"));
        }
        let version = head[7];
        if !(block::FORMAT_V1..=block::FORMAT).contains(&version) {
            return Err(bad(&format!(
                "unknown segment format {version} (this build reads formats 1 to {}); \
                 a newer warden wrote it: upgrade, or re-import the logs",
                block::FORMAT
            )));
        }
        let mut foot = [0u8; FOOTER_LEN as usize];
        file.read_exact_at(&mut foot, size - FOOTER_LEN)
            .map_err(|e| StoreError::io(path, e))?;
        if &foot[24..32] != END_MAGIC {
            return Err(bad("no footer: the segment was not finished"));
        }
        let rd = |r: std::ops::Range<usize>| foot.get(r).unwrap_or(&[]).to_vec();
        let index_offset = u64::from_le_bytes(rd(0..8).try_into().map_err(|_| bad("footer"))?);
        let count = u32::from_le_bytes(rd(8..12).try_into().map_err(|_| bad("footer"))?) as u64;
        let crc = u32::from_le_bytes(rd(12..16).try_into().map_err(|_| bad("footer"))?);
        let rows = u64::from_le_bytes(rd(16..24).try_into().map_err(|_| bad("footer"))?);
        let idx_len = count
            .checked_mul(ENTRY_LEN as u64)
            .filter(|&l| index_offset.checked_add(l) == Some(size - FOOTER_LEN))
            .ok_or_else(|| bad("index size does not match the file size"))?;
        let mut idx = vec![0u8; usize::try_from(idx_len).map_err(|_| bad("index too large"))?];
        file.read_exact_at(&mut idx, index_offset)
            .map_err(|e| StoreError::io(path, e))?;
        if crc32fast::hash(&idx) != crc {
            return Err(bad("index checksum mismatch"));
        }
        let mut index = Vec::with_capacity(count as usize);
        for chunk in idx.chunks_exact(ENTRY_LEN) {
            let e = IndexEntry::read(chunk).ok_or_else(|| bad("index entry"))?;
            if e.offset.saturating_add(u64::from(e.len)) > index_offset {
                return Err(bad("block points past the index"));
            }
            index.push(e);
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            index,
            rows,
            version,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.index.len()
    }

    fn read_block(&self, i: usize, out: &mut Vec<NatInterval>) -> Result<(), StoreError> {
        let Some(e) = self.index.get(i) else {
            return Ok(());
        };
        let mut data = vec![0u8; e.len as usize];
        self.file
            .read_exact_at(&mut data, e.offset)
            .map_err(|err| StoreError::io(&self.path, err))?;
        block::decode(&data, self.version, out)
            .map_err(|err| StoreError::corrupt(&self.path.display().to_string(), &err.to_string()))
    }

    /// Decodes block `i` (for full scans: merge, export, verification).
    pub fn block(&self, i: usize) -> Result<Vec<NatInterval>, StoreError> {
        let mut v = Vec::new();
        self.read_block(i, &mut v)?;
        Ok(v)
    }

    /// Rows of `vrf`/`ip` whose first port lies in `port_lo..=port_hi_bound` and whose
    /// `[start, end]` meets `[from, to]`. Callers filter on the row's own last port.
    pub fn scan(
        &self,
        vrf: u32,
        ip: Ipv4Addr,
        ports: std::ops::RangeInclusive<u16>,
        from: Millis,
        to: Millis,
        out: &mut Vec<NatInterval>,
    ) -> Result<(), StoreError> {
        let lo: RowKey = (vrf, u32::from(ip), *ports.start());
        let hi: RowKey = (vrf, u32::from(ip), *ports.end());
        let first = self.index.partition_point(|e| e.last < lo);
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let Scratch { comp, raw, dctx } = &mut *guard;
            for i in first..self.index.len() {
                let Some(e) = self.index.get(i) else { break };
                if e.first > hi {
                    break;
                }
                if e.min_start > to || e.max_end < from {
                    continue;
                }
                comp.resize(e.len as usize, 0);
                self.file
                    .read_exact_at(comp, e.offset)
                    .map_err(|err| StoreError::io(&self.path, err))?;
                let dctx = match dctx {
                    Some(d) => d,
                    None => {
                        dctx.insert(zstd::bulk::Decompressor::new().map_err(StoreError::Compress)?)
                    }
                };
                block::decompress_into(comp, dctx, raw)
                    .and_then(|()| block::scan_raw(raw, self.version, lo, hi, from, to, out))
                    .map_err(|err| {
                        StoreError::corrupt(&self.path.display().to_string(), &err.to_string())
                    })?;
            }
            Ok(())
        })
    }

    /// Rows of `vrf`/`ip` overlapping `[from, to]`, all ports, at most `limit` of them.
    pub fn scan_ip(
        &self,
        vrf: u32,
        ip: Ipv4Addr,
        from: Millis,
        to: Millis,
        limit: usize,
        out: &mut Vec<NatInterval>,
    ) -> Result<(), StoreError> {
        let mut v = Vec::new();
        self.scan(vrf, ip, 0..=u16::MAX, from, to, &mut v)?;
        out.extend(v.into_iter().take(limit));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::natlog::pair::{EndKind, LineRef, RecordKind, StartKind};

    fn row(ip: u32, port: u16, start: Millis) -> NatInterval {
        NatInterval {
            outside_vrf: 0,
            outside_ip: Ipv4Addr::from(ip),
            port_lo: port,
            port_hi: port,
            proto: Some(6),
            start_ms: start,
            end_ms: start + 1000,
            start_kind: StartKind::Logged,
            end_kind: EndKind::Released,
            record: RecordKind::Session,
            inside_ip: std::net::IpAddr::from([10, 0, 0, 1]),
            b4_ipv6: None,
            subscriber_id: None,
            open_ref: LineRef { file: 0, line: 1 },
            close_ref: None,
        }
    }

    #[test]
    fn write_open_scan() {
        let dir = std::env::temp_dir().join(format!("wseg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.wseg");
        let mut w = SegmentWriter::create(&p, "s.wseg".into(), "d".into()).unwrap();
        let mut rows = Vec::new();
        for ip in 0..3u32 {
            for port in 0..3000u16 {
                rows.push(row(ip, port, i64::from(port) * 10));
            }
        }
        for r in &rows {
            w.push(r.clone()).unwrap();
        }
        let meta = w.finish().unwrap();
        assert_eq!(meta.rows, rows.len() as u64);
        let seg = Segment::open(&p).unwrap();
        assert!(seg.blocks() > 2);
        let mut out = Vec::new();
        seg.scan(0, Ipv4Addr::from(1), 2500..=2500, 0, i64::MAX, &mut out)
            .unwrap();
        assert_eq!(out, vec![row(1, 2500, 25_000)]);
        out.clear();
        seg.scan(0, Ipv4Addr::from(1), 2500..=2500, 0, 1000, &mut out)
            .unwrap();
        assert!(out.is_empty());
        // out-of-order rows are refused
        let mut w = SegmentWriter::create(&dir.join("b.wseg"), "b".into(), "d".into()).unwrap();
        w.push(row(2, 0, 0)).unwrap();
        assert!(w.push(row(1, 0, 0)).is_err());
        // a segment of an unknown (newer) format is refused with a clear error
        let mut newer = std::fs::read(&p).unwrap();
        newer[7] = block::FORMAT + 1;
        std::fs::write(dir.join("n.wseg"), &newer).unwrap();
        let err = Segment::open(&dir.join("n.wseg")).unwrap_err().to_string();
        assert!(err.contains("unknown segment format"), "{err}");
        // a truncated segment is an error
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(dir.join("t.wseg"), &bytes[..bytes.len() - 10]).unwrap();
        assert!(Segment::open(&dir.join("t.wseg")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
