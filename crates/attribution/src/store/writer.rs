//! Appending to the store: one [`ImportTxn`] per import.
//!
//! Intervals are buffered and, when the buffer is full, sorted and spilled as temporary segments
//! (one per UTC day) under `tmp-<generation>/`, so import memory stays bounded whatever the input
//! size. [`ImportTxn::commit`] merges each day's runs into one final segment, fsyncs it, renames
//! it into `day=YYYY-MM-DD/`, and only then publishes everything with one manifest rename. A crash
//! at any point before that rename leaves the old manifest in charge: the store stays readable and
//! the half-written files are unreferenced garbage, removed by the next import.

use super::manifest::{FileEntry, Manifest, sync_dir};
use super::segment::{Segment, SegmentMeta, SegmentWriter, row_order};
use super::{PENDING_PREFIX, StoreError, day_of};
use crate::natlog::pair::{MAX_GAPS_KEPT, NatInterval, PendingInterval, SeqGap};
use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Default number of intervals buffered before a spill (about 150 MB of memory).
pub const DEFAULT_SPILL_ROWS: usize = 1 << 20;

/// An import in progress; holds the store's writer lock until dropped.
#[derive(Debug)]
pub struct ImportTxn {
    dir: PathBuf,
    tmp: PathBuf,
    _lock: File,
    manifest: Manifest,
    generation: u64,
    buf: Vec<NatInterval>,
    spill_rows: usize,
    runs: BTreeMap<String, Vec<PathBuf>>,
    run_seq: u64,
    new_files: Vec<FileEntry>,
    pending: Option<Vec<PendingInterval>>,
    gaps: Vec<SeqGap>,
    rows: u64,
}

impl ImportTxn {
    /// Starts an import into `dir` (created if missing). Fails if another import holds the lock.
    pub fn begin(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io(&lock_path, e))?;
        lock.try_lock()
            .map_err(|_| StoreError::Locked(dir.to_owned()))?;
        let manifest = Manifest::load(dir)?;
        collect_garbage(dir, &manifest)?;
        let generation = manifest.generation + 1;
        let tmp = dir.join(format!("tmp-{generation}"));
        fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        for sub in ["files", "raw"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(|e| StoreError::io(&p, e))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            tmp,
            _lock: lock,
            manifest,
            generation,
            buf: Vec::new(),
            spill_rows: DEFAULT_SPILL_ROWS,
            runs: BTreeMap::new(),
            run_seq: 0,
            new_files: Vec::new(),
            pending: None,
            gaps: Vec::new(),
            rows: 0,
        })
    }

    /// Sets how many intervals are buffered before a spill (tests use small values).
    pub fn set_spill_rows(&mut self, rows: usize) {
        self.spill_rows = rows.max(1);
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This import's generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The manifest as it was when the import began.
    pub fn base(&self) -> &Manifest {
        &self.manifest
    }

    /// Hands out the next file id.
    pub fn next_file_id(&mut self) -> u32 {
        let id = self.manifest.next_file_id;
        self.manifest.next_file_id = id.saturating_add(1);
        id
    }

    /// Records an imported file (its line index and raw copy must already be written).
    pub fn add_file(&mut self, entry: FileEntry) {
        self.new_files.push(entry);
    }

    /// Intervals left open by earlier imports, for the pairer to resume.
    pub fn load_pending(&self) -> Result<Vec<PendingInterval>, StoreError> {
        match &self.manifest.pending {
            None => Ok(Vec::new()),
            Some(rel) => super::read_pending(&self.dir.join(rel)),
        }
    }

    /// Sets the intervals still open after this import (they replace the previous pending set).
    pub fn set_pending(&mut self, pending: Vec<PendingInterval>) {
        self.pending = Some(pending);
    }

    /// Adds sequence gaps found by this import.
    pub fn add_gaps(&mut self, gaps: &[SeqGap]) {
        self.gaps.extend_from_slice(gaps);
    }

    /// Intervals added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds closed intervals; spills to disk when the buffer is full.
    pub fn add(&mut self, rows: &mut Vec<NatInterval>) -> Result<(), StoreError> {
        self.rows += rows.len() as u64;
        self.buf.append(rows);
        if self.buf.len() >= self.spill_rows {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.sort_unstable_by(|a, b| {
            day_of(a.start_ms)
                .cmp(&day_of(b.start_ms))
                .then_with(|| row_order(a, b))
        });
        // Keyed by day number: formatting the day's name per row cost 9% of an import.
        let mut w: Option<(i64, SegmentWriter)> = None;
        for r in buf {
            let day_no = day_of(r.start_ms);
            if w.as_ref().is_none_or(|(d, _)| *d != day_no) {
                if let Some((_, sw)) = w.take() {
                    sw.finish()?;
                }
                let day = super::day_name(day_no);
                self.run_seq += 1;
                let path = self.tmp.join(format!("run-{}.wseg", self.run_seq));
                self.runs.entry(day.clone()).or_default().push(path.clone());
                w = Some((day_no, SegmentWriter::create(&path, String::new(), day)?));
            }
            if let Some((_, sw)) = w.as_mut() {
                sw.push(r)?;
            }
        }
        if let Some((_, sw)) = w {
            sw.finish()?;
        }
        Ok(())
    }

    /// Merges, publishes and returns the new manifest. Nothing is visible before this returns.
    pub fn commit(mut self) -> Result<Manifest, StoreError> {
        self.spill()?;
        let mut metas = Vec::new();
        let runs = std::mem::take(&mut self.runs);
        for (n, (day, paths)) in runs.into_iter().enumerate() {
            let dir_name = format!("day={day}");
            let day_dir = self.dir.join(&dir_name);
            fs::create_dir_all(&day_dir).map_err(|e| StoreError::io(&day_dir, e))?;
            let name = format!("seg-{}-{n}.wseg", self.generation);
            let rel = format!("{dir_name}/{name}");
            let staged = self.tmp.join(&name);
            let meta = merge_runs(&paths, &staged, rel.clone(), day)?;
            let dst = self.dir.join(&rel);
            fs::rename(&staged, &dst).map_err(|e| StoreError::io(&dst, e))?;
            sync_dir(&day_dir)?;
            metas.push(meta);
        }
        let mut m = self.manifest.clone();
        m.generation = self.generation;
        m.segments.extend(metas);
        m.files.append(&mut self.new_files);
        let old_pending = m.pending.clone();
        if let Some(p) = self.pending.take() {
            m.pending = if p.is_empty() {
                None
            } else {
                let rel = format!("{PENDING_PREFIX}{}.json.zst", self.generation);
                write_pending(&self.dir.join(&rel), &p)?;
                Some(rel)
            };
        }
        m.gaps.append(&mut self.gaps);
        m.gaps.truncate(MAX_GAPS_KEPT);
        sync_dir(&self.dir)?;
        m.commit(&self.dir)?;
        // Published. What follows is tidying; a crash here leaves only garbage.
        if old_pending != m.pending
            && let Some(rel) = old_pending
        {
            let _ = fs::remove_file(self.dir.join(rel));
        }
        let _ = fs::remove_dir_all(&self.tmp);
        Ok(m)
    }
}

/// Writes pending intervals as zstd-compressed JSON, fsynced.
fn write_pending(path: &Path, p: &[PendingInterval]) -> Result<(), StoreError> {
    let json = serde_json::to_vec(p).map_err(|e| StoreError::corrupt("pending", &e.to_string()))?;
    let data = zstd::bulk::compress(&json, 3).map_err(StoreError::Compress)?;
    let mut f = File::create(path).map_err(|e| StoreError::io(path, e))?;
    f.write_all(&data).map_err(|e| StoreError::io(path, e))?;
    f.sync_all().map_err(|e| StoreError::io(path, e))
}

struct RunCursor {
    seg: Option<Segment>,
    next_block: usize,
    rows: VecDeque<NatInterval>,
}

impl RunCursor {
    fn next(&mut self) -> Result<Option<NatInterval>, StoreError> {
        if let Some(seg) = &self.seg {
            while self.rows.is_empty() && self.next_block < seg.blocks() {
                self.rows = seg.block(self.next_block)?.into();
                self.next_block += 1;
            }
        }
        Ok(self.rows.pop_front())
    }
}

struct HeapItem(NatInterval, usize);

impl PartialEq for HeapItem {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: reverse for a k-way min merge.
        row_order(&other.0, &self.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// k-way merge of sorted segments (and sorted in-memory rows) in [`row_order`], one block of each
/// in memory at a time.
pub struct Merge {
    cursors: Vec<RunCursor>,
    heap: BinaryHeap<HeapItem>,
}

impl Merge {
    /// Merges `segments` and the already sorted `extra` rows.
    pub fn new(segments: Vec<Segment>, extra: Vec<NatInterval>) -> Result<Self, StoreError> {
        let mut cursors: Vec<RunCursor> = segments
            .into_iter()
            .map(|seg| RunCursor {
                seg: Some(seg),
                next_block: 0,
                rows: VecDeque::new(),
            })
            .collect();
        cursors.push(RunCursor {
            seg: None,
            next_block: 0,
            rows: extra.into(),
        });
        let mut heap = BinaryHeap::with_capacity(cursors.len());
        for (i, c) in cursors.iter_mut().enumerate() {
            if let Some(r) = c.next()? {
                heap.push(HeapItem(r, i));
            }
        }
        Ok(Self { cursors, heap })
    }

    /// The next row in order.
    pub fn next_row(&mut self) -> Result<Option<NatInterval>, StoreError> {
        let Some(HeapItem(r, i)) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(c) = self.cursors.get_mut(i)
            && let Some(next) = c.next()?
        {
            self.heap.push(HeapItem(next, i));
        }
        Ok(Some(r))
    }
}

/// k-way merges sorted runs into one segment at `out`.
pub(crate) fn merge_runs(
    runs: &[PathBuf],
    out: &Path,
    name: String,
    day: String,
) -> Result<SegmentMeta, StoreError> {
    let mut w = SegmentWriter::create(out, name, day)?;
    let segs = runs
        .iter()
        .map(|p| Segment::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut m = Merge::new(segs, Vec::new())?;
    while let Some(r) = m.next_row()? {
        w.push(r)?;
    }
    w.finish()
}

/// Removes what crashed imports left behind: `tmp-*` directories, segment files and pending files
/// the manifest does not name. Runs under the writer lock, so no import is writing them.
fn collect_garbage(dir: &Path, m: &Manifest) -> Result<(), StoreError> {
    let live: HashSet<&str> = m
        .segments
        .iter()
        .map(|s| s.path.as_str())
        .chain(m.pending.iter().map(String::as_str))
        .collect();
    let live_files: HashSet<String> = m
        .files
        .iter()
        .flat_map(|f| std::iter::once(f.line_index.clone()).chain(f.raw_copy.clone()))
        .collect();
    let entries = fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with("tmp-") {
            let _ = fs::remove_dir_all(&path);
        } else if name.starts_with(PENDING_PREFIX) && !live.contains(name.as_str()) {
            let _ = fs::remove_file(&path);
        } else if name.starts_with("day=") && path.is_dir() {
            for s in fs::read_dir(&path)
                .map_err(|e| StoreError::io(&path, e))?
                .flatten()
            {
                let rel = format!("{name}/{}", s.file_name().to_string_lossy());
                if !live.contains(rel.as_str()) {
                    let _ = fs::remove_file(s.path());
                }
            }
        } else if (name == "files" || name == "raw") && path.is_dir() {
            for s in fs::read_dir(&path)
                .map_err(|e| StoreError::io(&path, e))?
                .flatten()
            {
                let rel = format!("{name}/{}", s.file_name().to_string_lossy());
                if !live_files.contains(&rel) {
                    let _ = fs::remove_file(s.path());
                }
            }
        }
    }
    Ok(())
}
