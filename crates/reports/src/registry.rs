//! The one place where formats are registered, and the dispatcher that picks one.
//!
//! Each format offers a cheap `sniff` over the raw bytes (a score 0..=100, 0 meaning "not mine")
//! and a pure `parse`. [`detect`] picks the highest score; ties go to the earlier entry, so the
//! order of [`FORMATS`] runs from the most specific format to the most general (free-form mail
//! last).

use crate::formats;
use crate::formats::shadowserver::{self, Mapping};
use crate::{Limits, ParseError, ParseErrorKind, Record};

/// A registered report format.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// Stable name, used in errors, summaries and `--format`.
    pub name: &'static str,
    /// How sure this format is that `input` is its own: 0 = not mine, 100 = certain.
    pub sniff: fn(input: &[u8]) -> u8,
    /// Parses `input` into records. Pure: no I/O, no clock.
    pub parse: fn(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError>,
}

/// Every format, most specific first. Add a format here and nowhere else.
pub static FORMATS: &[Format] = &[
    formats::compressed::FORMAT,
    formats::dmarc::FORMAT,
    formats::tlsrpt::FORMAT,
    formats::xarf::FORMAT,
    formats::xarf_legacy::FORMAT,
    formats::arf::FORMAT,
    formats::spamcop::FORMAT,
    formats::shadowserver::FORMAT,
    formats::freeform::FORMAT,
];

/// The format that claims `input` most strongly, if any does.
pub fn detect(input: &[u8]) -> Option<&'static Format> {
    let mut best: Option<(&'static Format, u8)> = None;
    for f in FORMATS {
        let score = (f.sniff)(input);
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((f, score));
        }
    }
    best.map(|(f, _)| f)
}

/// Looks a format up by name (for `--format` and re-runs from quarantine).
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

/// Parses one input with default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Vec<Record>, ParseError> {
    parse_with(input, &Limits::default())
}

/// What a caller may know about an input beyond its bytes, and the Shadowserver mapping to use.
///
/// The file name matters for Shadowserver feeds: `2026-03-24-scan_imap-….csv` and
/// `…-scan_pop3-….csv` have identical columns, and only the name tells them apart. Zip members
/// and mail attachments carry their own names, which [`parse_with_options`] passes on.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// Size and depth limits.
    pub limits: &'a Limits,
    /// The input's file name (a path is fine), when known.
    pub file_name: Option<&'a str>,
    /// The Shadowserver mapping: [`Mapping::builtin`], or one built over a newer schema file
    /// with [`Mapping::with_schema`] (`[reports] shadowserver_schema = FILE`).
    pub shadowserver: &'a Mapping,
}

impl<'a> ParseOptions<'a> {
    /// Options with the built-in Shadowserver mapping and no file name.
    pub fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            file_name: None,
            shadowserver: Mapping::builtin(),
        }
    }

    /// The same options for an input named `name`.
    pub fn named(self, name: Option<&'a str>) -> Self {
        Self {
            file_name: name,
            ..self
        }
    }
}

/// Parses one input named `file_name` with default [`Limits`] and the built-in mapping.
pub fn parse_named(input: &[u8], file_name: Option<&str>) -> Result<Vec<Record>, ParseError> {
    let limits = Limits::default();
    parse_with_options(input, &ParseOptions::new(&limits).named(file_name))
}

/// Parses one input with what the caller knows about it: a Shadowserver file name decides the
/// format and the report type before any sniffing, containers hand their members' names on,
/// and Shadowserver inputs use `options.shadowserver`.
pub fn parse_with_options(
    input: &[u8],
    options: &ParseOptions<'_>,
) -> Result<Vec<Record>, ParseError> {
    let limits = options.limits;
    check_size(input, limits)?;
    let named_feed = options
        .file_name
        .and_then(shadowserver::type_from_file_name)
        .is_some();
    if named_feed && formats::compressed::Container::detect(input).is_none() {
        return shadowserver::parse_in(input, options.file_name, options.shadowserver, limits);
    }
    let format = detect(input).ok_or_else(unknown_format)?;
    match format.name {
        "compressed" => formats::compressed::parse_with_options(input, options),
        "shadowserver" => {
            shadowserver::parse_in(input, options.file_name, options.shadowserver, limits)
        }
        _ => (format.parse)(input, limits),
    }
}

fn check_size(input: &[u8], limits: &Limits) -> Result<(), ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            "detect",
            format!(
                "input is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    Ok(())
}

fn unknown_format() -> ParseError {
    ParseError::new(
        ParseErrorKind::UnknownFormat,
        "detect",
        "no known report format recognised this input (not a mail, CSV feed, X-ARF JSON, \
         DMARC or TLS-RPT report)",
    )
}

/// Parses one input: checks the size limit, detects the format and runs its parser.
pub fn parse_with(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    check_size(input, limits)?;
    let format = detect(input).ok_or_else(unknown_format)?;
    (format.parse)(input, limits)
}
