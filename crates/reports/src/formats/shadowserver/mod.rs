//! Shadowserver CSV reports, driven by a mapping (`data/shadowserver.toml`).
//!
//! One row becomes one event. The report type is recognised from the header row (see
//! [`Mapping::recognise`]); its mapping says which columns hold the subject's IP, port, protocol,
//! time, ASN, host name and URL, and which abuse class and default severity the rows get.
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
//! * A header that no report type recognises is an [`ParseErrorKind::Unsupported`] error naming
//!   the columns, so the analyst can add a `[[report]]` table and re-run.

mod mapping;
mod row;

pub use mapping::{
    FieldColumns, Mapping, MappingError, Recognition, ReportType, BUILTIN_TOML, MAX_MAPPING_TEXT,
};

use crate::registry::Format;
use crate::{Limits, ParseError, ParseErrorKind, Record};
use mapping::norm;
use row::ColumnPlan;
use warden_model::{sha256_hex, AbuseEvent, Evidence, Reporter, SourceFormat};

const NAME: &str = "shadowserver";

/// Registry entry (uses the built-in mapping).
pub const FORMAT: Format = Format { name: NAME, sniff, parse };

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

/// Scores `input` as a Shadowserver CSV: a header row with a `timestamp` column and an address
/// column (`ip` or `src_ip`), recognised by the built-in mapping (90) or only CSV-shaped (40).
fn sniff(input: &[u8]) -> u8 {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let window = input.get(..SNIFF_WINDOW).unwrap_or(input);
    let Some(end) = window.iter().position(|&b| b == b'\n') else { return 0 };
    let Ok(line) = std::str::from_utf8(window.get(..end).unwrap_or_default()) else { return 0 };
    let header: Vec<String> = line.split(',').map(|c| norm(c.trim().trim_matches('"'))).collect();
    let has = |n: &str| header.iter().any(|h| h == n);
    if !has("timestamp") || !(has("ip") || has("src_ip")) {
        return 0;
    }
    if Mapping::builtin().recognise(&header, None).is_some() { 90 } else { 40 }
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    parse_with_mapping(input, Mapping::builtin(), limits)
}

/// Parses a feed with `mapping` and returns records the way the registry does: rejected rows
/// become low-confidence events in their place (see the module documentation for why).
pub fn parse_with_mapping(
    input: &[u8],
    mapping: &Mapping,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    let feed = read_feed(input, mapping, limits)?;
    let class = feed.report.class;
    let name = &feed.report.name;
    Ok(feed
        .rows
        .into_iter()
        .map(|row| match row {
            Ok(ev) => Record::from(ev),
            Err(r) => rejected_event(r, &feed.sha256, class, name),
        })
        .collect())
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
    ev.extra.insert("report_type".to_owned(), report_type.to_owned());
    ev.extra.insert("row_error".to_owned(), r.reason);
    ev.extra.insert("row_line".to_owned(), r.line.to_string());
    Record::from(ev.finish())
}

/// Parses a Shadowserver CSV with `mapping`: recognises the report type, then turns each data
/// row into an event or a [`RowError`].
///
/// Errors for the whole file: not CSV-shaped, no header, a header no report type recognises
/// ([`ParseErrorKind::Unsupported`]), more rows than `limits.max_records`, or no good row at all.
pub fn parse_report(input: &[u8], mapping: &Mapping, limits: &Limits) -> Result<FeedReport, ParseError> {
    let feed = read_feed(input, mapping, limits)?;
    let mut events = Vec::with_capacity(feed.rows.len());
    let mut rejected = Vec::new();
    for row in feed.rows {
        match row {
            Ok(ev) => events.push(ev),
            Err(r) => rejected.push(r),
        }
    }
    Ok(FeedReport { report_type: feed.report.name.clone(), events, rejected })
}

/// A read feed: the report type, the file hash and every data row's outcome in file order.
struct ReadFeed<'m> {
    report: &'m ReportType,
    sha256: String,
    rows: Vec<Result<AbuseEvent, RowError>>,
}

fn read_feed<'m>(input: &[u8], mapping: &'m Mapping, limits: &Limits) -> Result<ReadFeed<'m>, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!("feed is {} bytes, over the {} byte limit", input.len(), limits.max_input),
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
    let first_cells: Vec<&str> =
        first.iter().map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    let report = mapping
        .recognise(&header, has_first.then_some(first_cells.as_slice()))
        .ok_or_else(|| {
            ParseError::new(
                ParseErrorKind::Unsupported,
                NAME,
                format!(
                    "no Shadowserver report type in the mapping matches the header columns [{}]; \
                     add a [[report]] table for it to the mapping and re-run",
                    header.join(", ")
                ),
            )
        })?;
    let plan = ColumnPlan::new(report, &header)
        .map_err(|m| ParseError::new(ParseErrorKind::MissingField, NAME, m))?;

    let sha = sha256_hex(input);
    let mut out: Vec<Result<AbuseEvent, RowError>> = Vec::new();
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
                format!("feed has more than {} rows, the record limit", limits.max_records),
            ));
        }
        let raw = raw_row(body, start, end);
        let raw_text = String::from_utf8_lossy(raw);
        let raw_text = raw_text.trim_end_matches(['\r', '\n']);
        let result = if (end - start) as usize > limits.max_line {
            Err(format!("row is {} bytes, over the {} byte line limit", end - start, limits.max_line))
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
                out.push(Ok(ev));
            }
            Err(reason) => {
                bad += 1;
                out.push(Err(RowError {
                    line,
                    reason,
                    excerpt: truncate(raw_text, warden_model::EXCERPT_MAX).to_owned(),
                }));
            }
        }
        start = end;
        have = next(&mut rdr, &mut rec)?;
    }
    if good == 0 && bad > 0 {
        let (line, reason) = out
            .iter()
            .find_map(|r| r.as_ref().err().map(|e| (e.line, e.reason.as_str())))
            .unwrap_or((0, ""));
        return Err(ParseError::malformed(
            NAME,
            format!(
                "all {bad} data rows of this {} report were refused (line {line}: {reason}); the \
                 mapping may not match this file's columns",
                report.name
            ),
        ));
    }
    Ok(ReadFeed { report, sha256: sha, rows: out })
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
        return Err(ParseError::malformed(NAME, "the feed is empty: no header row"));
    }
    if rdr.position().byte() as usize > limits.max_line {
        return Err(ParseError::limit(
            NAME,
            format!("the header row is over the {} byte line limit", limits.max_line),
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
    let e = usize::try_from(end).unwrap_or(usize::MAX).min(body.len()).max(s);
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
