//! `warden-mailcheck`: a domain and its mail servers against the M3AAWG Sender BCP and TLS for
//! Mail (SPF, DKIM, DMARC, MX, PTR, MTA-STS, TLS-RPT, DANE, STARTTLS probe, message lint).

pub mod finding;

pub use finding::{Finding, Practice, Status};
pub mod smtp;
