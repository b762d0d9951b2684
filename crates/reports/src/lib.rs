//! `warden-reports`: every real abuse report format becomes normalized records.
//!
//! The contract (DESIGN.md rule 2): parsing is pure. Every parser is a function
//! `&[u8] -> Result<Vec<Record>, ParseError>` with no I/O, no clock and no globals, so it can be
//! tested, fuzzed and benchmarked alone. Formats are registered in one place,
//! [`registry::FORMATS`]; adding a format is one module plus one line there.
//!
//! Input is attacker-controlled. Every parser honours [`Limits`] (message size, decompressed
//! size, MIME nesting depth, line length) and returns a [`ParseError`] naming the reason instead
//! of panicking.

pub mod container;
pub mod error;
pub mod failed_part;
pub mod formats;
pub mod limits;
pub mod record;
pub mod registry;

pub use error::{ParseError, ParseErrorKind};
pub use failed_part::FailedPart;
pub use limits::Limits;
pub use record::Record;
pub use registry::{
    Format, ParseOptions, detect, parse, parse_named, parse_with, parse_with_options,
};
