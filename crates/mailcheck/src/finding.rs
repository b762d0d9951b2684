//! The unit of every audit result. Domain checks, the SMTP/TLS probe and the message lint all
//! produce [`Finding`]s, so one renderer (text, JSON, HTML) and one scoring rule serve them all.

use serde::{Deserialize, Serialize};

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Meets the practice.
    Pass,
    /// Works, but falls short of the practice (weak key, p=none, no MTA-STS).
    Warn,
    /// Breaks the practice or the standard.
    Fail,
    /// Context only; not scored.
    Info,
}

/// The practice a finding belongs to; reports group and score by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Practice {
    /// SPF, DKIM, DMARC (Sender BCP: authenticate all mail).
    Authentication,
    /// MX, PTR, forward-confirmed reverse DNS (Sender BCP: consistent identity).
    Identity,
    /// STARTTLS, protocol versions, certificates (TLS for Mail).
    Transport,
    /// MTA-STS, TLS-RPT, DANE, BIMI: the standards that harden transport and identity.
    Hardening,
    /// RFC 2142 role addresses (postmaster@, abuse@).
    RoleAddresses,
    /// One message's conformance (List-Unsubscribe, alignment, required headers).
    Message,
}

/// One check's result with the evidence behind it and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable dotted id, e.g. `spf.lookups`, `tls.protocol.tls1_0`. Documented in docs/.
    pub id: String,
    /// Which practice it belongs to.
    pub practice: Practice,
    /// The outcome.
    pub status: Status,
    /// One line for a person: what was found.
    pub summary: String,
    /// What was seen: records, server answers, certificate fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// How to fix it, citing the standard (e.g. "RFC 7208 section 4.6.4: ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with no evidence and no fix yet.
    pub fn new(id: &str, practice: Practice, status: Status, summary: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            practice,
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    /// Adds a line of evidence.
    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    /// Sets the fix hint.
    pub fn fix(mut self, hint: impl Into<String>) -> Self {
        self.fix = Some(hint.into());
        self
    }
}
