//! Domain checks: one module per standard, each a pure parser plus an async `check` that asks
//! its questions through [`crate::resolver::Resolve`] and returns [`crate::Finding`]s.

pub mod bimi;
pub mod dane;
pub mod dkim;
pub mod dmarc;
pub mod mtasts;
pub mod mx;
pub mod ptr;
pub mod spf;
pub mod spf_record;
pub mod tags;
pub mod tlsrpt;
