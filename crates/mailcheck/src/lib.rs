//! `warden-mailcheck`: a domain and its mail servers against the M3AAWG Sender BCP and TLS for
//! Mail (SPF, DKIM, DMARC, MX, PTR, MTA-STS, TLS-RPT, DANE, STARTTLS probe, message lint).

pub mod audit;
pub mod domain;
pub mod finding;
pub mod message;
pub mod report;
pub mod resolver;
pub mod smtp;

pub use finding::{Finding, Practice, Status};
pub use report::Report;
