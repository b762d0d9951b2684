//! The one place where formats are registered, and the dispatcher that picks one.
//!
//! Each format offers a cheap `sniff` over the raw bytes (a score 0..=100, 0 meaning "not mine")
//! and a pure `parse`. [`detect`] picks the highest score; ties go to the earlier entry, so the
//! order of [`FORMATS`] runs from the most specific format to the most general (free-form mail
//! last).

use crate::formats;
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

/// Parses one input: checks the size limit, detects the format and runs its parser.
pub fn parse_with(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
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
    let format = detect(input).ok_or_else(|| {
        ParseError::new(
            ParseErrorKind::UnknownFormat,
            "detect",
            "no known report format recognised this input (not a mail, CSV feed, X-ARF JSON, \
             DMARC or TLS-RPT report)",
        )
    })?;
    (format.parse)(input, limits)
}
