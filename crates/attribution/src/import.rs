//! Import: log files (plain, gzip, zstd, or standard input) -> line parser -> pairing -> store,
//! in one transaction, with a summary an operator can act on (what was read, what was rejected
//! and where, what looks lost).
//!
//! The parser is a trait ([`LineParser`]) so that the vendor parsers, a test parser or a
//! pre-configured exporter table all plug in the same way. Compression is recognised by the
//! stream's magic bytes, not the file name (rotated logs are often renamed).

use crate::natlog::pair::{Millis, PairConfig, PairStats, Pairer, SeqGap, ns_to_ms};
use crate::natlog::{NatEvent, RawRef};
use crate::store::manifest::{Compression, FileEntry};
use crate::store::{ImportTxn, LineIndexBuilder, StoreError};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Longest line read; longer lines are rejected (and skipped without buffering them).
pub const MAX_LINE_LEN: usize = 64 * 1024;
/// Rejected lines kept verbatim in the summary (line numbers and reasons); the rest are counted.
pub const MAX_REJECT_SAMPLES: usize = 100;

/// Why a line gave no event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Short reason, also the key the summary counts by.
    pub reason: String,
    /// True when the line is simply not a NAT record (other syslog traffic), not a broken one.
    pub not_nat: bool,
}

/// Turns one line into events. Implementations must not panic on any input.
pub trait LineParser {
    /// Appends the line's events to `out`; on error appends nothing.
    fn parse(&mut self, line: &[u8], raw: RawRef, out: &mut Vec<NatEvent>)
    -> Result<usize, Reject>;
}

impl<F> LineParser for F
where
    F: FnMut(&[u8], RawRef, &mut Vec<NatEvent>) -> Result<usize, Reject>,
{
    fn parse(
        &mut self,
        line: &[u8],
        raw: RawRef,
        out: &mut Vec<NatEvent>,
    ) -> Result<usize, Reject> {
        self(line, raw, out)
    }
}

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file on disk.
    Path(PathBuf),
    /// Standard input (a raw copy is kept in the store for evidence).
    Stdin,
}

impl Input {
    /// `-` means standard input.
    pub fn from_arg(s: &str) -> Self {
        if s == "-" {
            Self::Stdin
        } else {
            Self::Path(PathBuf::from(s))
        }
    }

    fn display(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Stdin => "-".into(),
        }
    }
}

/// Import settings.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Pairing bounds.
    pub pair: PairConfig,
    /// Intervals buffered before a spill to disk.
    pub spill_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            pair: PairConfig::default(),
            spill_rows: crate::store::writer::DEFAULT_SPILL_ROWS,
        }
    }
}

/// A rejected line, kept for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectSample {
    /// The file.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// Per-file figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// The file.
    pub path: String,
    /// Its id in the store.
    pub id: u32,
    /// Lines read.
    pub lines: u64,
    /// Events parsed.
    pub events: u64,
    /// Malformed NAT lines.
    pub rejects: u64,
    /// Lines that are not NAT records at all.
    pub not_nat: u64,
    /// Oldest event time.
    pub first_ms: Option<Millis>,
    /// Newest event time.
    pub last_ms: Option<Millis>,
    /// A read error that ended the file early (truncated gzip, I/O error).
    pub read_error: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// NatStore generation the import became.
    pub generation: u64,
    /// Per file.
    pub files: Vec<FileSummary>,
    /// Lines read.
    pub lines: u64,
    /// Events parsed.
    pub events: u64,
    /// Closed intervals stored.
    pub intervals: u64,
    /// Intervals still open, carried to the next import.
    pub pending: u64,
    /// Malformed NAT lines.
    pub rejects: u64,
    /// Non-NAT lines skipped.
    pub not_nat: u64,
    /// Rejects counted by reason.
    pub reject_reasons: BTreeMap<String, u64>,
    /// The first rejected lines.
    pub reject_samples: Vec<RejectSample>,
    /// Pairing counters (orphan releases, inferred ends).
    pub pairing: PairStats,
    /// Sequence gaps: possible log loss.
    pub gaps: Vec<SeqGap>,
}

/// Errors that stop an import (nothing of it becomes visible).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// An input could not be opened.
    #[error("cannot read {path}: {source}")]
    Open {
        /// The input.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    NatStore(#[from] StoreError),
}

/// Counts bytes read from the underlying (compressed) stream, for progress. The counter is
/// shared because the reader ends up boxed under the decoders.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

type RawCopy = Rc<RefCell<Option<zstd::stream::write::Encoder<'static, File>>>>;

/// Copies what passes through into a zstd stream (the raw copy of standard input).
struct Tee<R> {
    inner: R,
    copy: RawCopy,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(enc) = self.copy.borrow_mut().as_mut() {
            enc.write_all(buf.get(..n).unwrap_or(&[]))?;
        }
        Ok(n)
    }
}

fn sniff_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Reads one line into `buf` (without cutting it: lines over [`MAX_LINE_LEN`] are drained and
/// flagged). Returns bytes consumed (0 at end of input) and whether the line was too long.
fn next_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    buf.clear();
    let mut consumed = 0usize;
    let mut too_long = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((consumed, too_long));
        }
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            let room = (MAX_LINE_LEN + 2).saturating_sub(buf.len());
            if take > room {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(avail.get(..take).unwrap_or(&[]));
            }
        }
        r.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

/// Imports `inputs` into the store at `dir`. `progress` is called with the number of input bytes
/// read since its last call.
pub fn import(
    dir: &Path,
    inputs: &[Input],
    parser: &mut dyn LineParser,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let mut txn = ImportTxn::begin(dir)?;
    txn.set_spill_rows(opts.spill_rows);
    let mut pairer = Pairer::new(opts.pair);
    pairer.resume(txn.load_pending()?);
    let mut summary = ImportSummary {
        generation: txn.generation(),
        ..Default::default()
    };
    let mut events: Vec<NatEvent> = Vec::with_capacity(16);
    let mut closed = Vec::with_capacity(1 << 16);
    let mut line = Vec::with_capacity(1024);
    for input in inputs {
        let id = txn.next_file_id();
        let name = input.display();
        let (under, size, path_str): (Box<dyn Read>, u64, String) = match input {
            Input::Path(p) => {
                let f = File::open(p).map_err(|source| ImportError::Open {
                    path: name.clone(),
                    source,
                })?;
                let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                (Box::new(f), size, abs.display().to_string())
            }
            Input::Stdin => (Box::new(io::stdin()), 0, "-".to_owned()),
        };
        let counter = Rc::new(Cell::new(0u64));
        let mut counting = BufReader::with_capacity(
            1 << 20,
            Counting {
                inner: under,
                count: counter.clone(),
            },
        );
        let head = counting.fill_buf().map_err(|source| ImportError::Open {
            path: name.clone(),
            source,
        })?;
        let compression = sniff_compression(head);
        let decompressed: Box<dyn Read> = match compression {
            Compression::None => Box::new(counting),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counting)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(counting).map_err(|source| {
                    ImportError::Open {
                        path: name.clone(),
                        source,
                    }
                })?,
            ),
        };
        let raw_copy = matches!(input, Input::Stdin).then(|| format!("raw/{id}.zst"));
        let copy: RawCopy = Rc::new(RefCell::new(None));
        let mut reader: BufReader<Box<dyn Read>> = match &raw_copy {
            None => BufReader::with_capacity(1 << 20, decompressed),
            Some(rel) => {
                let p = dir.join(rel);
                let f = File::create(&p).map_err(|e| StoreError::io(&p, e))?;
                let enc = zstd::stream::write::Encoder::new(f, 3).map_err(StoreError::Compress)?;
                *copy.borrow_mut() = Some(enc);
                BufReader::with_capacity(
                    1 << 20,
                    Box::new(Tee {
                        inner: decompressed,
                        copy: copy.clone(),
                    }),
                )
            }
        };
        let mut fs = FileSummary {
            path: path_str.clone(),
            id,
            ..Default::default()
        };
        let mut lidx = LineIndexBuilder::default();
        let mut offset = 0u64;
        let mut lines = 0u64;
        loop {
            let (n, too_long) = match next_line(&mut reader, &mut line) {
                Ok(v) => v,
                Err(e) => {
                    fs.read_error = Some(format!("read error after line {lines}: {e}"));
                    break;
                }
            };
            if n == 0 {
                break;
            }
            lines += 1;
            lidx.line(lines, offset);
            let raw = RawRef {
                file: id,
                line: lines,
                offset,
            };
            offset += n as u64;
            let res = if too_long {
                Err(Reject {
                    reason: format!("line longer than {MAX_LINE_LEN} bytes"),
                    not_nat: false,
                })
            } else {
                events.clear();
                parser.parse(&line, raw, &mut events)
            };
            match res {
                Ok(_) => {
                    for ev in &events {
                        let t = ns_to_ms(ev.ts_utc_ns);
                        fs.first_ms = Some(fs.first_ms.map_or(t, |f| f.min(t)));
                        fs.last_ms = Some(fs.last_ms.map_or(t, |l| l.max(t)));
                        pairer.push(ev, &mut closed);
                    }
                    fs.events += events.len() as u64;
                }
                Err(r) if r.not_nat => fs.not_nat += 1,
                Err(r) => {
                    fs.rejects += 1;
                    if summary.reject_samples.len() < MAX_REJECT_SAMPLES {
                        summary.reject_samples.push(RejectSample {
                            path: path_str.clone(),
                            line: lines,
                            reason: r.reason.clone(),
                        });
                    }
                    *summary.reject_reasons.entry(r.reason).or_default() += 1;
                }
            }
            if closed.len() >= 1 << 16 {
                txn.add(&mut closed)?;
            }
            if lines.is_multiple_of(4096) {
                progress(counter.replace(0));
            }
        }
        progress(counter.replace(0));
        drop(reader);
        // Finish and fsync the raw copy before the file table names it.
        if let Some(enc) = copy.borrow_mut().take() {
            let p = dir.join(raw_copy.as_deref().unwrap_or("raw"));
            let f = enc.finish().map_err(|e| StoreError::io(&p, e))?;
            f.sync_all().map_err(|e| StoreError::io(&p, e))?;
        }
        let lidx_rel = format!("files/{id}.lidx");
        lidx.write(&dir.join(&lidx_rel))?;
        fs.lines = lines;
        summary.lines += lines;
        summary.events += fs.events;
        summary.rejects += fs.rejects;
        summary.not_nat += fs.not_nat;
        txn.add_file(FileEntry {
            id,
            path: path_str,
            compression,
            size,
            lines,
            first_ms: fs.first_ms,
            last_ms: fs.last_ms,
            line_index: lidx_rel,
            raw_copy,
            generation: txn.generation(),
        });
        summary.files.push(fs);
    }
    txn.add(&mut closed)?;
    let outcome = pairer.finish(&mut closed);
    txn.add(&mut closed)?;
    summary.intervals = txn.rows();
    summary.pending = outcome.pending.len() as u64;
    summary.pairing = outcome.stats;
    summary.gaps = outcome.gaps.clone();
    txn.set_pending(outcome.pending);
    txn.add_gaps(&outcome.gaps);
    txn.commit()?;
    Ok(summary)
}

/// The vendor parsers ([`crate::natlog::parse_line`]) as a [`LineParser`].
#[derive(Debug)]
pub struct VendorParser {
    /// Vendor, zones and year reference.
    pub ctx: crate::natlog::ParseContext,
}

impl LineParser for VendorParser {
    fn parse(
        &mut self,
        line: &[u8],
        raw: RawRef,
        out: &mut Vec<NatEvent>,
    ) -> Result<usize, Reject> {
        crate::natlog::parse_line(line, raw, &self.ctx, out).map_err(|e| Reject {
            reason: match e.vendor {
                Some(v) => format!("{v}: {}", e.reason),
                None => e.reason.to_string(),
            },
            not_nat: e.is_not_nat(),
        })
    }
}
