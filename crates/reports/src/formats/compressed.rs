//! Placeholder: this format's parser is being written.

use crate::registry::Format;
use crate::{Limits, ParseError, ParseErrorKind, Record};

/// Registry entry.
pub const FORMAT: Format = Format { name: "compressed", sniff, parse };

fn sniff(_input: &[u8]) -> u8 {
    0
}

fn parse(_input: &[u8], _limits: &Limits) -> Result<Vec<Record>, ParseError> {
    Err(ParseError::new(ParseErrorKind::Unsupported, "compressed", "not implemented yet"))
}
