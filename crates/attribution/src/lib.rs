//! `warden-attribution`: who held public IP X, port Y at time T.
//!
//! Vendor NAT logs are parsed into [`natlog::NatEvent`]s, paired into intervals, and kept in an
//! embedded store built for the stabbing query (IP, port, time ± window). Deterministic NAT
//! (RFC 7422) is answered by computation; inside addresses join to subscribers through RADIUS
//! accounting. Every answer carries candidates with their evidence, never a guess (DESIGN.md
//! rule 5).

pub mod detnat;
pub mod duration;
pub mod export;
pub mod generator;
pub mod import;
pub mod natlog;
pub mod radius;
pub mod resolve;
pub mod store;
