//! What a parser produces: abuse events, or the typed aggregate reports that are not abuse events
//! (DMARC aggregate, TLS-RPT) but that `warden parse` still prints.

use serde::Serialize;
use warden_model::AbuseEvent;

use crate::formats::{dmarc::DmarcReport, tlsrpt::TlsRptReport};

/// One parsed record. Serialised with a `"record"` tag so JSON lines say what they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// A normalized abuse event.
    Event(Box<AbuseEvent>),
    /// A DMARC aggregate report (RFC 7489 appendix C).
    Dmarc(Box<DmarcReport>),
    /// An SMTP TLS report (RFC 8460).
    TlsRpt(Box<TlsRptReport>),
}

impl Record {
    /// The event, when this record is one.
    pub fn as_event(&self) -> Option<&AbuseEvent> {
        match self {
            Record::Event(e) => Some(e),
            _ => None,
        }
    }
}

impl From<AbuseEvent> for Record {
    fn from(e: AbuseEvent) -> Self {
        Record::Event(Box::new(e))
    }
}
