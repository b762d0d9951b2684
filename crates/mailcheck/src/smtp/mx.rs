//! The probe as the domain audit's [`MxProbe`]: the audit resolves the MX hosts with its own
//! resolver layer and hands each host name and address here; the findings come back with the
//! presented chain so that the DANE check can match TLSA records against it (RFC 7671).
//! This is the only adapter between the two; `audit::SmtpMxProbe` names the same type.

use std::net::{IpAddr, SocketAddr};

use super::{ProbeOptions, findings, probe_addr};
use crate::audit::{MxProbe, ProbeOutcome};

/// Probes each MX on `port` (25 for MTA-to-MTA) with the same options: one [`probe_addr`] per
/// MX, judged by [`findings`], with the presented chain passed on to DANE matching.
#[derive(Debug, Clone)]
pub struct MxProber {
    /// Options for every probe (trust anchors, timeouts, legacy protocols, role addresses).
    pub options: ProbeOptions,
    /// Port to dial: 25 for MX hosts (RFC 5321 section 4.5.4.2); tests use a free one.
    pub port: u16,
}

impl MxProber {
    /// An MX prober on port 25 with `options`.
    pub fn new(options: ProbeOptions) -> Self {
        Self { options, port: 25 }
    }
}

impl MxProbe for MxProber {
    async fn probe(&self, host: &str, addr: IpAddr) -> ProbeOutcome {
        let record = probe_addr(host, SocketAddr::new(addr, self.port), &self.options).await;
        let chain_der = (!record.chain_der.is_empty()).then(|| record.chain_der.clone());
        ProbeOutcome {
            findings: findings(&record),
            chain_der,
        }
    }
}
