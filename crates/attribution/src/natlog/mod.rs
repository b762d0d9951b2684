//! CGN log events: the normalized event every vendor parser produces.

mod event;

pub use event::{EventKind, NatEvent, RawRef, TsOrigin, TsPrecision};
