//! Parse errors: what went wrong with which input, in words an operator can act on.

use thiserror::Error;

/// Why an input could not be parsed. Stable, matchable kinds; the message carries the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParseErrorKind {
    /// No registered format recognised the input.
    UnknownFormat,
    /// The format was recognised but the content is broken (bad MIME, bad JSON, bad CSV).
    Malformed,
    /// A required field is absent (an ARF report with no Source-IP and no original message).
    MissingField,
    /// A size, depth or line-length limit was hit: the input is too large or nested too deep.
    LimitExceeded,
    /// A format we recognise but deliberately do not turn into events.
    Unsupported,
}

/// A parse failure. Parsers never panic on input; they return this.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{format}: {message}")]
pub struct ParseError {
    /// The machine-readable reason.
    pub kind: ParseErrorKind,
    /// The format that was being parsed (`"arf"`, `"shadowserver"`, or `"detect"`).
    pub format: &'static str,
    /// What was wrong, for a person.
    pub message: String,
}

impl ParseError {
    /// Builds an error of `kind` for `format`.
    pub fn new(kind: ParseErrorKind, format: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            format,
            message: message.into(),
        }
    }

    /// Shorthand for [`ParseErrorKind::Malformed`].
    pub fn malformed(format: &'static str, message: impl Into<String>) -> Self {
        Self::new(ParseErrorKind::Malformed, format, message)
    }

    /// Shorthand for [`ParseErrorKind::LimitExceeded`].
    pub fn limit(format: &'static str, message: impl Into<String>) -> Self {
        Self::new(ParseErrorKind::LimitExceeded, format, message)
    }

    /// Shorthand for [`ParseErrorKind::MissingField`].
    pub fn missing(format: &'static str, message: impl Into<String>) -> Self {
        Self::new(ParseErrorKind::MissingField, format, message)
    }
}
