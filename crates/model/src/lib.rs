//! `warden-model`: the vocabulary every Warden crate shares.
//!
//! A report in any format (ARF, X-ARF, Shadowserver, SpamCop, free-form mail) becomes one or more
//! [`AbuseEvent`]s. The event is deliberately honest about what the reporter did *not* say: the
//! observation time records whether a zone was given and how precise it was, and
//! [`AbuseEvent::missing`] lists what attribution behind carrier-grade NAT will need but the report
//! lacks (M3AAWG Large Scale NAT logging BCP; RFC 6302).
//!
//! Architecture invariant: this crate does no I/O, reads no clock and has no global state. It is
//! data plus the small pure functions that keep that data consistent.

mod class;
mod event;
mod time;

pub use class::{AbuseClass, Severity};
pub use event::{
    AbuseEvent, EXCERPT_MAX, Evidence, MissingField, Protocol, Reporter, SourceFormat, Subject,
    sha256_hex,
};
pub use time::{ObservedTime, TimePrecision};
