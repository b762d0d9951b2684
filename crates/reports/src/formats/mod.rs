//! One module per report format, each exposing `FORMAT` for the registry. Shared helpers used by
//! more than one format live in `mail` (MIME access with limits) and `datetime` (date styles).

pub mod arf;
pub mod compressed;
pub mod datetime;
pub mod dmarc;
mod dmarc_prepare;
pub mod freeform;
pub mod mail;
pub mod shadowserver;
pub mod spamcop;
pub mod tlsrpt;
pub mod xarf;
pub mod xarf_legacy;
