//! CGN log events: the normalized event every vendor parser produces.

mod event;
pub mod ipfix;
pub mod pair;
pub mod parse;
pub mod syslog;
mod vendors;

pub use event::{EventKind, Label, NatEvent, RawRef, TsOrigin, TsPrecision};
pub use parse::{
    ExporterProfile, LineError, LineErrorReason, ParseContext, Vendor, parse_line, parse_line_vec,
};
