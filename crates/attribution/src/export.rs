//! Parquet export: the store's intervals as an open columnar data set that ClickHouse, DuckDB,
//! Trino or Spark query directly (DESIGN.md, Storage), for data beyond one machine.
//!
//! Layout: Hive-style day partitions, `DIR/day=YYYY-MM-DD/part-0.parquet`, rows sorted by
//! (outside VRF, outside IP as a number, first port, start) like the segments, so that the
//! row-group and page min/max statistics of `outside_ip_int` and `port_lo` let an engine skip
//! almost everything for a stabbing query. Times are UTC milliseconds since the epoch (INT64),
//! addresses are text for people plus `outside_ip_int` for range pruning. Intervals still open at
//! the end of the data are exported too, with `end_kind = 'open'` and their inferred bound as end.
//!
//! Written with the `parquet` crate's column writers (no Arrow), ZSTD-compressed, each file
//! written to a temporary name and renamed into place.

use crate::natlog::pair::{EndKind, NatInterval, RecordKind, StartKind};
use crate::store::writer::Merge;
use crate::store::{NatStore, Segment, StoreError, day_name, day_of};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

/// Rows per row group: large enough for good compression, small enough that min/max statistics
/// prune well.
const ROW_GROUP_ROWS: usize = 128 * 1024;

const SCHEMA: &str = "message nat_interval {
  REQUIRED INT32 outside_vrf;
  REQUIRED BYTE_ARRAY outside_ip (STRING);
  REQUIRED INT64 outside_ip_int;
  REQUIRED INT32 port_lo;
  REQUIRED INT32 port_hi;
  OPTIONAL INT32 proto;
  REQUIRED INT64 start_ms;
  REQUIRED INT64 end_ms;
  REQUIRED BYTE_ARRAY start_kind (STRING);
  REQUIRED BYTE_ARRAY end_kind (STRING);
  REQUIRED BYTE_ARRAY record (STRING);
  REQUIRED BYTE_ARRAY inside_ip (STRING);
  OPTIONAL BYTE_ARRAY b4_ipv6 (STRING);
  OPTIONAL BYTE_ARRAY subscriber_id (STRING);
  REQUIRED BYTE_ARRAY open_file (STRING);
  REQUIRED INT64 open_line;
  OPTIONAL BYTE_ARRAY close_file (STRING);
  OPTIONAL INT64 close_line;
}";

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    NatStore(#[from] StoreError),
    /// Writing Parquet failed.
    #[error("writing {path}: {source}")]
    Parquet {
        /// The output file.
        path: String,
        /// Why.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A file or directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
}

fn start_name(k: StartKind) -> &'static str {
    match k {
        StartKind::Logged => "logged",
        StartKind::Interim => "interim",
    }
}

/// The snake_case name of an end kind, as in JSON and Parquet.
pub fn end_name(k: EndKind) -> &'static str {
    match k {
        EndKind::Released => "released",
        EndKind::NextAlloc => "next_alloc",
        EndKind::InterimExpired => "interim_expired",
        EndKind::MaxLifetime => "max_lifetime",
        EndKind::ForeignRelease => "foreign_release",
        EndKind::Open => "open",
    }
}

fn record_name(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Session => "session",
        RecordKind::Mapping => "mapping",
        RecordKind::Block => "block",
        RecordKind::Address => "address",
    }
}

/// Exports every stored and pending interval of `store` to `out`.
pub fn export_parquet(store: &NatStore, out: &Path) -> Result<ExportSummary, ExportError> {
    let io = |p: &Path, e| ExportError::Io {
        path: p.display().to_string(),
        source: e,
    };
    fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let mut by_day: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (m, _) in store.segments() {
        by_day
            .entry(m.day.clone())
            .or_default()
            .push(m.path.as_str());
    }
    let mut pending_by_day: HashMap<String, Vec<NatInterval>> = HashMap::new();
    for p in store.pending() {
        let iv = p.interval.clone();
        let d = day_name(day_of(iv.start_ms));
        by_day.entry(d.clone()).or_default();
        pending_by_day.entry(d).or_default().push(iv);
    }
    let paths: HashMap<u32, String> = store
        .manifest()
        .files
        .iter()
        .map(|f| (f.id, f.path.clone()))
        .collect();
    let schema = Arc::new(
        parse_message_type(SCHEMA).map_err(|e| ExportError::Parquet {
            path: "schema".into(),
            source: e,
        })?,
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build(),
    );
    let mut summary = ExportSummary::default();
    for (day, segs) in by_day {
        let segments = segs
            .iter()
            .map(|rel| Segment::open(&store.dir().join(rel)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut extra = pending_by_day.remove(&day).unwrap_or_default();
        extra.sort_by(crate::store::segment::row_order);
        let mut merge = Merge::new(segments, extra)?;
        let dir = out.join(format!("day={day}"));
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let rel = format!("day={day}/part-0.parquet");
        let tmp = dir.join(".part-0.parquet.tmp");
        let pq = |e| ExportError::Parquet {
            path: tmp.display().to_string(),
            source: e,
        };
        let file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        let mut w = SerializedFileWriter::new(file, schema.clone(), props.clone()).map_err(pq)?;
        let mut batch = Vec::with_capacity(ROW_GROUP_ROWS);
        loop {
            batch.clear();
            while batch.len() < ROW_GROUP_ROWS {
                match merge.next_row()? {
                    Some(r) => batch.push(r),
                    None => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            summary.rows += batch.len() as u64;
            write_group(&mut w, &batch, &paths).map_err(pq)?;
        }
        let f = w.into_inner().map_err(pq)?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        let dst = out.join(&rel);
        fs::rename(&tmp, &dst).map_err(|e| io(&dst, e))?;
        summary.bytes += fs::metadata(&dst).map(|m| m.len()).unwrap_or(0);
        summary.files.push(rel);
    }
    Ok(summary)
}

fn bytes(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

fn write_group(
    w: &mut SerializedFileWriter<File>,
    rows: &[NatInterval],
    paths: &HashMap<u32, String>,
) -> parquet::errors::Result<()> {
    let path_of = |id: u32| {
        paths
            .get(&id)
            .map_or_else(|| format!("#{id}"), String::clone)
    };
    let mut rg = w.next_row_group()?;
    let mut col = 0usize;
    while let Some(mut c) = rg.next_column()? {
        match col {
            0 => i32s(&mut c, rows.iter().map(|r| r.outside_vrf as i32))?,
            1 => strs(&mut c, rows.iter().map(|r| Some(r.outside_ip.to_string())))?,
            2 => i64s(
                &mut c,
                rows.iter()
                    .map(|r| Some(i64::from(u32::from(r.outside_ip)))),
            )?,
            3 => i32s(&mut c, rows.iter().map(|r| i32::from(r.port_lo)))?,
            4 => i32s(&mut c, rows.iter().map(|r| i32::from(r.port_hi)))?,
            5 => opt_i32s(&mut c, rows.iter().map(|r| r.proto.map(i32::from)))?,
            6 => i64s(&mut c, rows.iter().map(|r| Some(r.start_ms)))?,
            7 => i64s(&mut c, rows.iter().map(|r| Some(r.end_ms)))?,
            8 => strs(
                &mut c,
                rows.iter()
                    .map(|r| Some(start_name(r.start_kind).to_owned())),
            )?,
            9 => strs(
                &mut c,
                rows.iter().map(|r| Some(end_name(r.end_kind).to_owned())),
            )?,
            10 => strs(
                &mut c,
                rows.iter().map(|r| Some(record_name(r.record).to_owned())),
            )?,
            11 => strs(&mut c, rows.iter().map(|r| Some(r.inside_ip.to_string())))?,
            12 => strs(
                &mut c,
                rows.iter().map(|r| r.b4_ipv6.map(|a| a.to_string())),
            )?,
            13 => strs(&mut c, rows.iter().map(|r| r.subscriber_id.clone()))?,
            14 => strs(&mut c, rows.iter().map(|r| Some(path_of(r.open_ref.file))))?,
            15 => i64s(&mut c, rows.iter().map(|r| Some(r.open_ref.line as i64)))?,
            16 => strs(
                &mut c,
                rows.iter().map(|r| r.close_ref.map(|c| path_of(c.file))),
            )?,
            17 => i64s(
                &mut c,
                rows.iter().map(|r| r.close_ref.map(|c| c.line as i64)),
            )?,
            _ => {}
        }
        c.close()?;
        col += 1;
    }
    rg.close()?;
    Ok(())
}

type Col<'a, 'b> = parquet::file::writer::SerializedColumnWriter<'b>;

fn i32s(c: &mut Col<'_, '_>, v: impl Iterator<Item = i32>) -> parquet::errors::Result<()> {
    let v: Vec<i32> = v.collect();
    c.typed::<Int32Type>()
        .write_batch(&v, None, None)
        .map(|_| ())
}

fn opt_i32s(
    c: &mut Col<'_, '_>,
    v: impl Iterator<Item = Option<i32>>,
) -> parquet::errors::Result<()> {
    let (mut vals, mut defs) = (Vec::new(), Vec::new());
    for x in v {
        defs.push(i16::from(x.is_some()));
        vals.extend(x);
    }
    c.typed::<Int32Type>()
        .write_batch(&vals, Some(&defs), None)
        .map(|_| ())
}

/// Writes INT64 values; a column whose schema is REQUIRED always gets `Some`.
fn i64s(c: &mut Col<'_, '_>, v: impl Iterator<Item = Option<i64>>) -> parquet::errors::Result<()> {
    let optional = c.typed::<Int64Type>().get_descriptor().max_def_level() > 0;
    let (mut vals, mut defs) = (Vec::new(), Vec::new());
    for x in v {
        defs.push(i16::from(x.is_some()));
        vals.extend(x);
    }
    let defs = optional.then_some(defs.as_slice());
    c.typed::<Int64Type>()
        .write_batch(&vals, defs, None)
        .map(|_| ())
}

fn strs(
    c: &mut Col<'_, '_>,
    v: impl Iterator<Item = Option<String>>,
) -> parquet::errors::Result<()> {
    let optional = c.typed::<ByteArrayType>().get_descriptor().max_def_level() > 0;
    let (mut vals, mut defs) = (Vec::new(), Vec::new());
    for x in v {
        defs.push(i16::from(x.is_some()));
        if let Some(s) = x {
            vals.push(bytes(&s));
        }
    }
    let defs = optional.then_some(defs.as_slice());
    c.typed::<ByteArrayType>()
        .write_batch(&vals, defs, None)
        .map(|_| ())
}
