//! Placeholder: this format's parser is being written.

use crate::registry::Format;
use crate::{Limits, ParseError, ParseErrorKind, Record};

/// Registry entry.
pub const FORMAT: Format = Format { name: "tlsrpt", sniff, parse };

fn sniff(_input: &[u8]) -> u8 {
    0
}

fn parse(_input: &[u8], _limits: &Limits) -> Result<Vec<Record>, ParseError> {
    Err(ParseError::new(ParseErrorKind::Unsupported, "tlsrpt", "not implemented yet"))
}

/// A TLS-RPT report (placeholder until the parser lands).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TlsRptReport {}
