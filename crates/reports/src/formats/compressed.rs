//! Containers: gzip (RFC 1952) and zip files, and mails that carry a report as an attachment.
//!
//! Reports arrive packed: DMARC aggregate reports as `.xml.gz` or `.zip` (RFC 7489 §7.2.1.1),
//! TLS-RPT as `application/tlsrpt+gzip` (RFC 8460 §5.3), Shadowserver downloads as zip. This
//! module unpacks and hands each member back to the registry ([`crate::registry::parse_with`]),
//! so any format can arrive in any container.
//!
//! Unpacking is the classic place to be attacked (zip bombs, nested archives), so every path here
//! is bounded:
//!
//! * output is read in [`CHUNK`]-sized pieces and the buffer never grows past the remaining
//!   [`Limits::max_decompressed`] budget, whatever the headers claim;
//! * the budget is shared by everything unpacked from one input, nested levels included;
//! * each container level spends one unit of [`Limits::max_depth`];
//! * a zip may hold at most [`MAX_ZIP_ENTRIES`] entries.

use std::io::{Cursor, Read};

use crate::registry::Format;
use crate::{Limits, ParseError, ParseErrorKind, Record};

const NAME: &str = "compressed";

/// Registry entry.
pub const FORMAT: Format = Format {
    name: NAME,
    sniff,
    parse,
};

/// Bytes read from a decompressor at a time.
pub const CHUNK: usize = 64 * 1024;

/// Most entries accepted in one zip file. Real report zips hold one to a few dozen files; a
/// directory of thousands is an attack on time (each entry costs a parse).
pub const MAX_ZIP_ENTRIES: usize = 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZIP_LOCAL: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY: &[u8] = b"PK\x05\x06";

/// The kind of container, by magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// gzip (RFC 1952), possibly several members concatenated.
    Gzip,
    /// zip (PKWARE APPNOTE).
    Zip,
}

impl Container {
    /// The container `input` starts with, if any.
    pub fn detect(input: &[u8]) -> Option<Container> {
        if input.starts_with(GZIP_MAGIC) {
            Some(Container::Gzip)
        } else if input.starts_with(ZIP_LOCAL) || input.starts_with(ZIP_EMPTY) {
            Some(Container::Zip)
        } else {
            None
        }
    }
}

/// One unpacked member: its name inside the container (zip entry, gzip FNAME, mail attachment
/// file name) when known, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Name inside the container, for error messages and for picking a parser.
    pub name: Option<String>,
    /// The uncompressed bytes.
    pub data: Vec<u8>,
    /// Something tolerated while unpacking it (bytes after the gzip data), for the records'
    /// warnings.
    pub note: Option<String>,
}

fn sniff(input: &[u8]) -> u8 {
    // Magic numbers are certain; nothing else in the registry starts with these bytes.
    if Container::detect(input).is_some() {
        100
    } else {
        0
    }
}

/// Unpacks `input` and parses every member through the registry, within `limits`.
fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    parse_with_options(input, &crate::ParseOptions::new(limits))
}

/// Unpacks `input` and parses every member through the registry, passing the member's name on
/// (a Shadowserver zip's CSVs are named `2026-03-24-<type>-….csv`). A member that fails does
/// not sink the others: it becomes a [`crate::FailedPart`] record in its place. Only when every
/// member fails is the container an error (the first member's).
pub fn parse_with_options(
    input: &[u8],
    options: &crate::ParseOptions<'_>,
) -> Result<Vec<Record>, ParseError> {
    let limits = options.limits;
    let members = unpack(input, limits)?;
    let used: usize = members.iter().map(|m| m.data.len()).sum();
    let inner = inner_limits(limits, used)?;
    // A gzip member without FNAME is the outer file minus `.gz`.
    let outer = options
        .file_name
        .map(|n| n.strip_suffix(".gz").unwrap_or(n));
    let mut out = Vec::new();
    let mut failed = Vec::new();
    let mut good = 0usize;
    for m in &members {
        let name = m.name.as_deref().or(outer);
        let member_options = crate::ParseOptions {
            limits: &inner,
            file_name: name,
            shadowserver: options.shadowserver,
        };
        match crate::registry::parse_with_options(&m.data, &member_options) {
            Ok(mut records) => {
                good += 1;
                if let Some(note) = &m.note {
                    for r in &mut records {
                        add_warning(r, note);
                    }
                }
                if out.len() + records.len() > limits.max_records {
                    return Err(ParseError::limit(
                        NAME,
                        format!(
                            "more than {} records from one container",
                            limits.max_records
                        ),
                    ));
                }
                out.append(&mut records);
            }
            Err(e) => {
                let what = name.unwrap_or("the compressed content");
                failed.push(crate::FailedPart {
                    part: what.to_owned(),
                    error: ParseError::new(e.kind, e.format, format!("in {what}: {}", e.message)),
                });
            }
        }
    }
    debug_assert!(good > 0 || out.is_empty());
    finish_parts(input, out, failed, || {
        ParseError::missing(NAME, "the container holds no report")
    })
}

/// Puts a container note on a record: DMARC and TLS reports carry `warnings`, events
/// `extra.container_note`.
fn add_warning(record: &mut Record, note: &str) {
    match record {
        Record::Dmarc(d) => d.warnings.push(note.to_owned()),
        Record::TlsRpt(t) => t.warnings.push(note.to_owned()),
        Record::Event(e) => {
            e.extra.insert("container_note".to_owned(), note.to_owned());
        }
    }
}

/// The limits for content found inside a container: one level less of depth, the decompression
/// budget minus what this level used, and an input size bounded by that budget (the content is
/// already in memory, so the outer `max_input` does not apply to it).
pub fn inner_limits(limits: &Limits, used: usize) -> Result<Limits, ParseError> {
    let max_depth = limits.max_depth.checked_sub(1).ok_or_else(|| {
        ParseError::limit(NAME, "containers are nested deeper than the depth limit")
    })?;
    let max_decompressed = limits.max_decompressed.saturating_sub(used);
    Ok(Limits {
        max_depth,
        max_decompressed,
        max_input: limits.max_input.max(used),
        ..*limits
    })
}

/// Unpacks a gzip or zip container into its members, within `limits.max_decompressed` and
/// [`MAX_ZIP_ENTRIES`]. Costs one level of `limits.max_depth`.
pub fn unpack(input: &[u8], limits: &Limits) -> Result<Vec<Member>, ParseError> {
    if limits.max_depth == 0 {
        return Err(ParseError::limit(
            NAME,
            "containers are nested deeper than the depth limit",
        ));
    }
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!(
                "input is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    match Container::detect(input) {
        Some(Container::Gzip) => Ok(vec![gunzip_noted(input, limits.max_decompressed)?]),
        Some(Container::Zip) => unzip(input, limits.max_decompressed),
        None => Err(ParseError::malformed(
            NAME,
            "not a gzip or zip file (no magic number)",
        )),
    }
}

/// Decompresses a gzip stream (all concatenated members, as RFC 1952 §2.2 allows) into at most
/// `max_out` bytes. Returns the first member's original file name (FNAME) when present.
pub fn gunzip(input: &[u8], max_out: usize) -> Result<(Option<String>, Vec<u8>), ParseError> {
    gunzip_noted(input, max_out).map(|m| (m.name, m.data))
}

/// [`gunzip`], tolerating bytes after the last complete member: mail gateways and web forms
/// append a CRLF or padding to `.gz` attachments, and the report inside is whole. Such bytes are
/// ignored and [`Member::note`] says so. Bytes that start like another member but are broken
/// are still an error.
pub fn gunzip_noted(input: &[u8], max_out: usize) -> Result<Member, ParseError> {
    let mut rest = input;
    let mut data = Vec::new();
    let mut name = None;
    let mut first = true;
    loop {
        let mut dec = flate2::bufread::GzDecoder::new(rest);
        let piece = read_bounded(&mut dec, max_out.saturating_sub(data.len()), "gzip")?;
        if first {
            name = dec
                .header()
                .and_then(|h| h.filename())
                .map(|n| String::from_utf8_lossy(n).into_owned());
            first = false;
        }
        if data.is_empty() {
            data = piece;
        } else {
            data.extend_from_slice(&piece);
        }
        rest = dec.into_inner();
        if rest.is_empty() {
            return Ok(Member {
                name,
                data,
                note: None,
            });
        }
        if !rest.starts_with(GZIP_MAGIC) {
            let note = format!(
                "{} byte(s) after the end of the gzip data were ignored",
                rest.len()
            );
            return Ok(Member {
                name,
                data,
                note: Some(note),
            });
        }
    }
}

/// Unpacks every file of a zip archive; directories and macOS resource forks (`__MACOSX/`) are
/// skipped. The total output is at most `max_total` bytes.
pub fn unzip(input: &[u8], max_total: usize) -> Result<Vec<Member>, ParseError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(input))
        .map_err(|e| ParseError::malformed(NAME, format!("not a readable zip file: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(ParseError::limit(
            NAME,
            format!(
                "zip has {} entries, over the limit of {MAX_ZIP_ENTRIES}",
                archive.len()
            ),
        ));
    }
    let mut members = Vec::new();
    let mut used = 0usize;
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| {
            ParseError::malformed(NAME, format!("zip entry {i} cannot be read: {e}"))
        })?;
        let name = file.name().to_owned();
        if file.is_dir() || name.starts_with("__MACOSX/") {
            continue;
        }
        if file.encrypted() {
            return Err(ParseError::new(
                ParseErrorKind::Unsupported,
                NAME,
                format!("zip entry {name:?} is encrypted"),
            ));
        }
        let budget = max_total.saturating_sub(used);
        let data = read_bounded(&mut file, budget, "zip").map_err(|e| {
            ParseError::new(e.kind, NAME, format!("zip entry {name:?}: {}", e.message))
        })?;
        used += data.len();
        members.push(Member {
            name: Some(name),
            data,
            note: None,
        });
    }
    if members.is_empty() {
        return Err(ParseError::malformed(NAME, "the zip file holds no files"));
    }
    Ok(members)
}

/// Reads `reader` to the end into a buffer that never exceeds `max` bytes, failing with
/// [`ParseErrorKind::LimitExceeded`] as soon as the content would pass it. The buffer grows by
/// doubling but is capped at `max`, so a bomb costs at most `max` bytes of memory.
pub fn read_bounded(reader: &mut impl Read, max: usize, what: &str) -> Result<Vec<u8>, ParseError> {
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(ParseError::malformed(
                    NAME,
                    format!("{what} data is corrupt: {e}"),
                ));
            }
        };
        let Some(piece) = chunk.get(..n) else { break };
        if out.len() + n > max {
            return Err(ParseError::limit(
                NAME,
                format!(
                    "{what} content is over the {max} byte decompression limit (a compression bomb?)"
                ),
            ));
        }
        if out.capacity() < out.len() + n {
            let want = (out.capacity() * 2).max(out.len() + n).max(CHUNK).min(max);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(piece);
    }
    Ok(out)
}
/// Parses every attachment of a report mail that starts with `opening` (`<` for DMARC XML, `{`
/// for TLS-RPT JSON) with `parse_one`. Reporters batch several reports in one mail, so each
/// becomes a record, and an attachment that fails (corrupt gzip, broken XML) does not sink the
/// others: it becomes a [`crate::FailedPart`] record naming it and the reason. When none parses,
/// the first failure (named) is returned, or `none_attached` when there was nothing of that
/// kind.
pub(crate) fn parse_attached_reports(
    input: &[u8],
    limits: &Limits,
    format: &'static str,
    opening: u8,
    parse_one: impl Fn(&[u8]) -> Result<Record, ParseError>,
    none_attached: &str,
) -> Result<Vec<Record>, ParseError> {
    let mut out = Vec::new();
    let attached = mail_attachments(input, limits)?;
    let mut failed = attached.failed;
    for m in attached.members {
        if super::dmarc::skip_bom_ws(&m.data).first() != Some(&opening) {
            continue;
        }
        match parse_one(&m.data) {
            Ok(r) => out.push(r),
            Err(e) => {
                let what = m.name.unwrap_or_else(|| "the attachment".into());
                failed.push(crate::FailedPart {
                    error: ParseError::new(e.kind, format, format!("{what}: {}", e.message)),
                    part: what,
                });
            }
        }
    }
    finish_parts(input, out, failed, || {
        ParseError::missing(format, none_attached)
    })
}

/// The records of a multi-part input: the good parts' records followed by one
/// [`crate::FailedPart`] record per bad part; when no part was good, the first failure, or
/// `nothing` when there was no part at all.
pub(crate) fn finish_parts(
    input: &[u8],
    mut out: Vec<Record>,
    failed: Vec<crate::FailedPart>,
    nothing: impl FnOnce() -> ParseError,
) -> Result<Vec<Record>, ParseError> {
    if out.is_empty() {
        return Err(failed.into_iter().next().map_or_else(nothing, |f| f.error));
    }
    if !failed.is_empty() {
        let sha = warden_model::sha256_hex(input);
        out.extend(failed.into_iter().map(|f| f.into_record(&sha)));
    }
    Ok(out)
}

/// A mail's report attachments: the ones unpacked, and the ones that could not be.
#[derive(Debug, Default)]
pub struct Attachments {
    /// Attachments (and members of packed attachments) that were read.
    pub members: Vec<Member>,
    /// Packed attachments that could not be unpacked, with the reason.
    pub failed: Vec<crate::FailedPart>,
}

/// The attachments of a mail that look like a packed or plain report (`.xml`, `.json`, `.csv`,
/// `.gz`, `.zip`, or the matching media types), unpacked, within `limits`. This is how DMARC and
/// TLS-RPT reports usually travel (RFC 7489 §7.2.1.1, RFC 8460 §5.3): a mail is the third
/// container. Costs one level of depth for the mail and one per compressed attachment.
/// A packed attachment that cannot be unpacked (a corrupt zip beside a good one) is listed in
/// [`Attachments::failed`] rather than failing the mail; a mail that is not readable at all, or
/// over a limit, is an error.
pub fn mail_attachments(input: &[u8], limits: &Limits) -> Result<Attachments, ParseError> {
    use mail_parser::{MimeHeaders, PartType};

    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!(
                "mail is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    let inner = inner_limits(limits, 0)?;
    let msg = super::mail::parse_mime(input)
        .ok_or_else(|| ParseError::malformed(NAME, "not a readable mail message"))?;
    let mut out = Vec::new();
    let mut failed = Vec::new();
    let mut used = 0usize;
    for part in msg.parts.iter().take(MAX_ZIP_ENTRIES) {
        let body: &[u8] = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
            PartType::Text(t) => t.as_bytes(),
            _ => continue,
        };
        let name = part.attachment_name().map(str::to_owned);
        let ctype = part
            .content_type()
            .map(|c| {
                format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()).to_ascii_lowercase()
            })
            .unwrap_or_default();
        let lname = name.as_deref().unwrap_or_default().to_ascii_lowercase();
        let packed = Container::detect(body).is_some();
        let plain_report = ctype.ends_with("/xml")
            || ctype == "application/tlsrpt+json"
            || ctype == "text/csv"
            || lname.ends_with(".xml")
            || lname.ends_with(".json")
            || lname.ends_with(".csv");
        if !packed && !plain_report {
            continue;
        }
        // A text/xml body part of a mail that is not an attachment is still a report when it
        // is one (some reporters inline it), so no attachment-disposition check here.
        let budget = Limits {
            max_decompressed: inner.max_decompressed.saturating_sub(used),
            ..inner
        };
        if packed {
            let members = match unpack(body, &budget) {
                Ok(members) => members,
                // Over the shared budget: the mail as a whole is too big, not one bad part.
                Err(e) if e.kind == ParseErrorKind::LimitExceeded => return Err(e),
                Err(e) => {
                    let what = name
                        .clone()
                        .unwrap_or_else(|| format!("attachment {ctype}"));
                    failed.push(crate::FailedPart {
                        error: ParseError::new(e.kind, e.format, format!("{what}: {}", e.message)),
                        part: what,
                    });
                    continue;
                }
            };
            for m in members {
                used += m.data.len();
                out.push(Member {
                    name: m.name.or_else(|| name.clone()),
                    data: m.data,
                    note: m.note,
                });
            }
        } else {
            out.push(Member {
                name: name.clone(),
                data: body.to_vec(),
                note: None,
            });
        }
    }
    Ok(Attachments {
        members: out,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_round_trip_and_limit() {
        let (_, d) = gunzip(&gz(b"hello"), 5).unwrap();
        assert_eq!(d, b"hello");
        let e = gunzip(&gz(b"hello!"), 5).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::LimitExceeded);
    }

    #[test]
    fn corrupt_gzip_is_malformed() {
        let mut g = gz(&[7u8; 1000]);
        let n = g.len();
        g.truncate(n / 2);
        assert_eq!(
            gunzip(&g, 1 << 20).unwrap_err().kind,
            ParseErrorKind::Malformed
        );
    }

    #[test]
    fn depth_zero_is_refused() {
        let l = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        assert_eq!(
            unpack(&gz(b"x"), &l).unwrap_err().kind,
            ParseErrorKind::LimitExceeded
        );
    }

    #[test]
    fn read_bounded_never_over_allocates() {
        let data = vec![1u8; 300_000];
        let out = read_bounded(&mut data.as_slice(), 300_000, "t").unwrap();
        assert!(out.capacity() <= 300_000);
    }
}
