//! CGN log events: the normalized event every vendor parser produces.

mod event;
pub mod pair;

pub use event::{EventKind, NatEvent, RawRef, TsOrigin, TsPrecision};
