//! Shadowserver CSV reports, driven by a mapping (`data/shadowserver.toml`).
//!
//! One row becomes one event. The report type is recognised from Shadowserver's file name when
//! the caller knows it, else from the header row (see [`Mapping::recognise_file`]); the types and
//! their exact columns come from Shadowserver's published schema ([`schema`]), and the mapping
//! says which columns hold the subject's IP, port, protocol, time, ASN, host name, URL and e-mail
//! address, and which abuse class (the reviewed table) and default severity the rows get.
//!
//! A file whose name names a type the mapping does not know is still read: its rows become
//! events through the default columns, class `other`, with `extra.needs_mapping` so an analyst
//! adds the type to the table (and nothing is lost meanwhile).
//!
//! # Bad rows
//!
//! A feed file of a million rows with one broken row must not lose 999,999 findings, and the
//! broken row must not vanish either (DESIGN.md rule 3: nothing is dropped). So:
//!
//! * [`parse_report`] returns a [`FeedReport`] with the good rows' events and each rejected row
//!   (line number and reason) separately. Callers that can keep both (the CLI with a custom
//!   mapping, the desk) use it.
//! * The registry entry (`Result<Vec<Record>, ParseError>`) cannot carry a side list, so it turns
//!   every rejected row into an event of its own: same class and reporter, no subject beyond what
//!   was readable, `confidence` 0.0, and `extra.row_error` / `extra.row_line` saying why. Such an
//!   event has `missing: ["ip", ...]`, so attribution will not act on it, and the analyst sees it.
//! * When *every* data row is bad the file is an error, not a pile of placeholder events: that is
//!   a mapping problem (a renamed column), and the file belongs in quarantine until it is fixed.
//! * A header that no report type recognises, in a file without a Shadowserver name, is an
//!   [`ParseErrorKind::Unsupported`] error naming the columns, so the analyst can add a
//!   `[[report]]` table and re-run.

mod mapping;
mod row;
pub mod schema;

pub use mapping::{
    BUILTIN_TOML, FieldColumns, MAX_MAPPING_TEXT, Mapping, MappingError, Recognised, Recognition,
    ReportType,
};
pub use schema::{Schema, SchemaDiff, SchemaError, TypeChange, type_from_file_name};

use crate::registry::Format;
use crate::{Limits, ParseError, ParseErrorKind, Record};
use mapping::norm;
use row::ColumnPlan;
use warden_model::{AbuseEvent, Evidence, Reporter, SourceFormat, sha256_hex};

const NAME: &str = "shadowserver";

/// Registry entry (uses the built-in mapping).
pub const FORMAT: Format = Format {
    name: NAME,
    sniff,
    parse,
};

/// Most rows reserved for up front; beyond this the output grows by doubling as usual.
const MAX_RESERVE_ROWS: usize = 200_000;

/// How far into the input `sniff` looks for the header row.
const SNIFF_WINDOW: usize = 16 * 1024;

/// The result of one feed file: events for the good rows and the rows that were refused.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedReport {
    /// The recognised report type's name.
    pub report_type: String,
    /// One event per good row, in file order.
    pub events: Vec<AbuseEvent>,
    /// Rows that could not be read, in file order.
    pub rejected: Vec<RowError>,
}

/// A data row that could not become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number of the row in the file (the header is line 1).
    pub line: u64,
    /// Why, for a person.
    pub reason: String,
    /// The raw row (cut to the evidence excerpt size), so the row is not lost.
    pub excerpt: String,
}

/// Scores `input` as a Shadowserver report: a bare CSV (see [`sniff_csv`]) or a mail from
/// Shadowserver carrying one (80).
fn sniff(input: &[u8]) -> u8 {
    let csv = sniff_csv(input);
    if csv > 0 {
        return csv;
    }
    if is_mailed_report(input) { 80 } else { 0 }
}

/// Whether `input` is a mail from Shadowserver with a CSV (or packed CSV) attached: how reports
/// arrive when a subscription is set to e-mail delivery.
fn is_mailed_report(input: &[u8]) -> bool {
    use super::dmarc::{find_ci, looks_like_mail, skip_bom_ws};
    let window = input.get(..SNIFF_WINDOW).unwrap_or(input);
    looks_like_mail(skip_bom_ws(window))
        && find_ci(window, b"shadowserver").is_some()
        && [&b".csv"[..], b"text/csv", b".zip", b"application/zip"]
            .iter()
            .any(|n| find_ci(window, n).is_some())
}

/// Columns that can name a report's subject; a CSV with a `timestamp` and one of these is
/// Shadowserver-shaped.
const SUBJECT_COLUMNS: &[&str] = &["ip", "src_ip", "http_referer_ip", "dst_ip"];

/// Scores a bare CSV: a header row with a `timestamp` column and an address column
/// (`ip`, `src_ip`, ...), recognised by the built-in mapping (90) or only CSV-shaped (40).
/// Headers of schema types without an address (compromised accounts, ransomware victims) are
/// recognised by their exact column set.
pub(crate) fn sniff_csv(input: &[u8]) -> u8 {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let window = input.get(..SNIFF_WINDOW).unwrap_or(input);
    let Some(end) = window.iter().position(|&b| b == b'\n') else {
        return 0;
    };
    let Ok(line) = std::str::from_utf8(window.get(..end).unwrap_or_default()) else {
        return 0;
    };
    let header: Vec<String> = line
        .split(',')
        .map(|c| norm(c.trim().trim_matches('"')))
        .collect();
    let has = |n: &str| header.iter().any(|h| h == n);
    if !has("timestamp") {
        return 0;
    }
    let known = matches!(
        Mapping::builtin().recognise_file(None, &header, None),
        Recognised::Known(_)
    );
    match (known, SUBJECT_COLUMNS.iter().any(|c| has(c))) {
        (true, _) => 90,
        (false, true) => 40,
        (false, false) => 0,
    }
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    parse_in(input, None, Mapping::builtin(), limits)
}

/// Parses a Shadowserver input (a CSV, or a mail carrying CSVs) with `mapping`, knowing the
/// input's file name when the caller has it: the file name is the surest sign of the type.
pub fn parse_in(
    input: &[u8],
    file_name: Option<&str>,
    mapping: &Mapping,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    if sniff_csv(input) == 0 && is_mailed_report(input) {
        return parse_mailed(input, mapping, limits);
    }
    parse_feed(input, file_name, mapping, limits)
}

/// Parses every CSV attached to a Shadowserver mail (zips are unpacked on the way).
pub fn parse_mailed(
    input: &[u8],
    mapping: &Mapping,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    let attached = super::compressed::mail_attachments(input, limits)?;
    let mut out = Vec::new();
    let mut failed = attached.failed;
    let mut found = !failed.is_empty();
    for m in attached.members {
        let named = m.name.as_deref().and_then(type_from_file_name).is_some();
        if sniff_csv(&m.data) == 0 && !named {
            continue;
        }
        found = true;
        let what = m.name.as_deref().unwrap_or("the attachment");
        match parse_feed(&m.data, m.name.as_deref(), mapping, limits) {
            Ok(mut records) => {
                if out.len() + records.len() > limits.max_records {
                    return Err(ParseError::limit(
                        NAME,
                        format!("more than {} records from one mail", limits.max_records),
                    ));
                }
                out.append(&mut records);
            }
            // One broken CSV does not cost the mail its other reports.
            Err(e) => failed.push(crate::FailedPart {
                part: what.to_owned(),
                error: ParseError::new(e.kind, NAME, format!("{what}: {}", e.message)),
            }),
        }
    }
    if !found {
        return Err(ParseError::missing(
            NAME,
            "this Shadowserver mail has no report CSV attached (reports delivered as download \
             links must be fetched first)",
        ));
    }
    super::compressed::finish_parts(input, out, failed, || {
        ParseError::missing(NAME, "this Shadowserver mail has no readable report CSV")
    })
}

/// Parses a feed with `mapping` and returns records the way the registry does: rejected rows
/// become low-confidence events in their place (see the module documentation for why).
pub fn parse_with_mapping(
    input: &[u8],
    mapping: &Mapping,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    parse_feed(input, None, mapping, limits)
}

/// [`parse_with_mapping`] for a file whose name is known (`2026-03-24-scan_rdp-….csv`).
pub fn parse_feed(
    input: &[u8],
    file_name: Option<&str>,
    mapping: &Mapping,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    /// Collects records in file order, rejected rows in place.
    struct Records(Vec<Record>);
    impl RowSink for Records {
        fn reserve(&mut self, rows: usize) {
            self.0.reserve(rows);
        }
        fn row(&mut self, ctx: &RowContext<'_>, row: Result<AbuseEvent, RowError>) {
            self.0.push(match row {
                Ok(ev) => Record::from(ev),
                Err(r) => rejected_event(r, ctx.sha256, ctx.report.class, &ctx.report.name),
            });
        }
    }
    let mut sink = Records(Vec::new());
    read_feed(input, file_name, mapping, limits, &mut sink)?;
    Ok(sink.0)
}

fn rejected_event(
    r: RowError,
    sha: &str,
    class: warden_model::AbuseClass,
    report_type: &str,
) -> Record {
    let mut ev = AbuseEvent::new(
        SourceFormat::Shadowserver,
        class,
        Evidence::with_hash(sha, &r.excerpt),
    );
    ev.reporter = Reporter {
        org: Some("Shadowserver Foundation".to_owned()),
        email: None,
        domain: Some("shadowserver.org".to_owned()),
    };
    ev.confidence = 0.0;
    ev.extra
        .insert("report_type".to_owned(), report_type.to_owned());
    ev.extra.insert("row_error".to_owned(), r.reason);
    ev.extra.insert("row_line".to_owned(), r.line.to_string());
    Record::from(ev.finish())
}

/// Parses a Shadowserver CSV with `mapping`: recognises the report type, then turns each data
/// row into an event or a [`RowError`].
///
/// Errors for the whole file: not CSV-shaped, no header, a header no report type recognises
/// ([`ParseErrorKind::Unsupported`]), more rows than `limits.max_records`, or no good row at all.
pub fn parse_report(
    input: &[u8],
    mapping: &Mapping,
    limits: &Limits,
) -> Result<FeedReport, ParseError> {
    /// Splits rows into events and rejected rows.
    struct Split(Vec<AbuseEvent>, Vec<RowError>);
    impl RowSink for Split {
        fn reserve(&mut self, rows: usize) {
            self.0.reserve(rows);
        }
        fn row(&mut self, _: &RowContext<'_>, row: Result<AbuseEvent, RowError>) {
            match row {
                Ok(ev) => self.0.push(ev),
                Err(r) => self.1.push(r),
            }
        }
    }
    let mut sink = Split(Vec::new(), Vec::new());
    let report_type = read_feed(input, None, mapping, limits, &mut sink)?;
    Ok(FeedReport {
        report_type,
        events: sink.0,
        rejected: sink.1,
    })
}

/// What every row of one file shares.
struct RowContext<'a> {
    report: &'a ReportType,
    sha256: &'a str,
}

/// Where [`read_feed`] puts each row's outcome, so that no caller pays for an intermediate
/// vector of a million events.
trait RowSink {
    /// An estimate of the number of rows to come (from the first row's length).
    fn reserve(&mut self, rows: usize);
    /// One row's outcome, in file order.
    fn row(&mut self, ctx: &RowContext<'_>, row: Result<AbuseEvent, RowError>);
}

/// Reads a feed: recognises its type, then hands every data row's outcome to `sink` in file
/// order. Returns the report type's name.
fn read_feed(
    input: &[u8],
    file_name: Option<&str>,
    mapping: &Mapping,
    limits: &Limits,
    sink: &mut dyn RowSink,
) -> Result<String, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!(
                "feed is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut rec = csv::ByteRecord::new();

    let header = read_header(&mut rdr, &mut rec, limits)?;
    let header_end = rdr.position().byte();

    // Peek at the first data row for recognition (its tag or report_type cell).
    let mut first = csv::ByteRecord::new();
    let has_first = rdr
        .read_byte_record(&mut first)
        .map_err(|e| ParseError::malformed(NAME, format!("cannot read the first data row: {e}")))?;
    let first_cells: Vec<&str> = first
        .iter()
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let unmapped;
    let report = match mapping.recognise_file(
        file_name,
        &header,
        has_first.then_some(first_cells.as_slice()),
    ) {
        Recognised::Known(r) => r,
        Recognised::UnknownName(name) => {
            unmapped = ReportType::unmapped(name, mapping.default_fields());
            &unmapped
        }
        Recognised::Nothing => {
            return Err(ParseError::new(
                ParseErrorKind::Unsupported,
                NAME,
                format!(
                    "no Shadowserver report type in the mapping matches the header columns [{}]; \
                     add a [[report]] table for it to the mapping and re-run",
                    header.join(", ")
                ),
            ));
        }
    };
    let plan = ColumnPlan::new(report, &header)
        .map_err(|m| ParseError::new(ParseErrorKind::MissingField, NAME, m))?;

    let sha = sha256_hex(input);
    let ctx = RowContext {
        report,
        sha256: &sha,
    };
    // Reserve for the rows to come, estimated from the first row's length (a 20 MB file of
    // 200-byte rows is ~100,000 rows), so the output is not reallocated and copied as it grows.
    let first_len = usize::try_from(rdr.position().byte().saturating_sub(header_end)).unwrap_or(0);
    // Capped: a crafted file with a 10-byte first row must not make us reserve for millions.
    if has_first && first_len > 0 {
        sink.reserve(
            (body.len() / first_len)
                .min(limits.max_records)
                .min(MAX_RESERVE_ROWS),
        );
    }
    let mut first_error: Option<(u64, String)> = None;
    let (mut good, mut bad) = (0usize, 0usize);
    let mut rows = 0usize;
    let mut start = header_end;
    let mut have = has_first;
    if have {
        rec = first;
    }
    while have {
        let end = rdr.position().byte();
        let line = rec.position().map_or(0, |p| p.line());
        rows += 1;
        if rows > limits.max_records {
            return Err(ParseError::limit(
                NAME,
                format!(
                    "feed has more than {} rows, the record limit",
                    limits.max_records
                ),
            ));
        }
        let raw = raw_row(body, start, end);
        let raw_text = String::from_utf8_lossy(raw);
        let raw_text = raw_text.trim_end_matches(['\r', '\n']);
        let row_len = usize::try_from(end.saturating_sub(start)).unwrap_or(usize::MAX);
        let result = if row_len > limits.max_line {
            Err(format!(
                "row is {} bytes, over the {} byte line limit",
                row_len, limits.max_line
            ))
        } else if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            // A blank line (often the last one) is not a row.
            start = end;
            rows -= 1;
            have = next(&mut rdr, &mut rec)?;
            continue;
        } else {
            plan.event(&rec, raw_text, &sha)
        };
        match result {
            Ok(ev) => {
                good += 1;
                sink.row(&ctx, Ok(ev));
            }
            Err(reason) => {
                bad += 1;
                if first_error.is_none() {
                    first_error = Some((line, reason.clone()));
                }
                let excerpt = truncate(raw_text, warden_model::EXCERPT_MAX).to_owned();
                sink.row(
                    &ctx,
                    Err(RowError {
                        line,
                        reason,
                        excerpt,
                    }),
                );
            }
        }
        start = end;
        have = next(&mut rdr, &mut rec)?;
    }
    if good == 0 && bad > 0 {
        let (line, reason) = first_error.unwrap_or_default();
        return Err(ParseError::malformed(
            NAME,
            format!(
                "all {bad} data rows of this {} report were refused (line {line}: {reason}); the \
                 mapping may not match this file's columns",
                report.name
            ),
        ));
    }
    Ok(report.name.clone())
}

fn next(rdr: &mut csv::Reader<&[u8]>, rec: &mut csv::ByteRecord) -> Result<bool, ParseError> {
    rdr.read_byte_record(rec)
        .map_err(|e| ParseError::malformed(NAME, format!("cannot read the CSV: {e}")))
}

fn read_header(
    rdr: &mut csv::Reader<&[u8]>,
    rec: &mut csv::ByteRecord,
    limits: &Limits,
) -> Result<Vec<String>, ParseError> {
    let got = next(rdr, rec)?;
    if !got {
        return Err(ParseError::malformed(
            NAME,
            "the feed is empty: no header row",
        ));
    }
    if rdr.position().byte() as usize > limits.max_line {
        return Err(ParseError::limit(
            NAME,
            format!(
                "the header row is over the {} byte line limit",
                limits.max_line
            ),
        ));
    }
    let mut header = Vec::with_capacity(rec.len());
    for c in rec.iter() {
        let s = std::str::from_utf8(c)
            .map_err(|_| ParseError::malformed(NAME, "the header row is not valid UTF-8"))?;
        header.push(norm(s));
    }
    Ok(header)
}

fn raw_row(body: &[u8], start: u64, end: u64) -> &[u8] {
    let s = usize::try_from(start).unwrap_or(usize::MAX).min(body.len());
    let e = usize::try_from(end)
        .unwrap_or(usize::MAX)
        .min(body.len())
        .max(s);
    body.get(s..e).unwrap_or_default()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}
