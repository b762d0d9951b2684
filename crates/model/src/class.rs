//! The abuse taxonomy: one list that covers the M3AAWG Hosting & Cloud BCP's abuse types and
//! X-ARF v4's categories and types, so that every parser maps into the same words.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of abuse a report describes.
///
/// The set is closed on purpose: policy (severity, deadlines, escalation) is written per class,
/// and a class nobody wrote policy for would silently get none. Parsers that cannot tell use
/// [`AbuseClass::Other`] and keep the reporter's own words in the event's `extra` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbuseClass {
    /// Unsolicited mail (X-ARF `abuse/spam`, ARF `abuse`).
    Spam,
    /// Bulk mail that is not spam in law but is complained about (ARF feedback loops).
    BulkMail,
    /// Credential phishing sites or mails (X-ARF `fraud/phishing`).
    Phishing,
    /// Malware hosting or distribution (X-ARF `vulnerability|malware/*`).
    Malware,
    /// Fraud other than phishing: advance-fee, fake shops, scams.
    Fraud,
    /// Child sexual abuse material. Always urgent; evidence handling is special.
    Csam,
    /// Copyright or trademark infringement (X-ARF `copyright/*`).
    Copyright,
    /// Denial-of-service traffic sent from the subject (X-ARF `activity/ddos`).
    Ddos,
    /// Port or vulnerability scanning (X-ARF `activity/portscan`).
    PortScan,
    /// Brute-force logins: SSH, RDP, SMTP AUTH, web forms (X-ARF `activity/login-attack`).
    LoginAttack,
    /// An end host infected with malware, seen by a sinkhole or honeypot (X-ARF `infected/bot`).
    InfectedHost,
    /// A botnet command-and-control server.
    BotnetC2,
    /// A server that was broken into: defaced or compromised websites, web shells.
    CompromisedServer,
    /// A service that is open or vulnerable and can be abused: open resolvers, amplifiers,
    /// exposed databases (Shadowserver scan reports).
    VulnerableService,
    /// The subject is listed on a blocklist.
    Blocklisting,
    /// None of the above, or the report did not say.
    Other,
}

impl AbuseClass {
    /// Every class, in declaration order (for summaries and policy files).
    pub const ALL: [AbuseClass; 16] = [
        Self::Spam,
        Self::BulkMail,
        Self::Phishing,
        Self::Malware,
        Self::Fraud,
        Self::Csam,
        Self::Copyright,
        Self::Ddos,
        Self::PortScan,
        Self::LoginAttack,
        Self::InfectedHost,
        Self::BotnetC2,
        Self::CompromisedServer,
        Self::VulnerableService,
        Self::Blocklisting,
        Self::Other,
    ];

    /// The stable snake_case name used in JSON, TOML policy and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::BulkMail => "bulk_mail",
            Self::Phishing => "phishing",
            Self::Malware => "malware",
            Self::Fraud => "fraud",
            Self::Csam => "csam",
            Self::Copyright => "copyright",
            Self::Ddos => "ddos",
            Self::PortScan => "port_scan",
            Self::LoginAttack => "login_attack",
            Self::InfectedHost => "infected_host",
            Self::BotnetC2 => "botnet_c2",
            Self::CompromisedServer => "compromised_server",
            Self::VulnerableService => "vulnerable_service",
            Self::Blocklisting => "blocklisting",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for AbuseClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AbuseClass {
    type Err = String;

    /// Accepts the snake_case names and the common spellings in data files (`port-scan`,
    /// `PortScan`), so that mapping files can be written by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().replace('_', "") == norm)
            .ok_or_else(|| format!("unknown abuse class {s:?}"))
    }
}

/// How bad an event is, before policy adds context. Mirrors Shadowserver's severity scale,
/// which is the most widely used one in feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational: worth knowing, no action expected.
    Info,
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk: act within the normal deadline.
    High,
    /// Critical: act now.
    Critical,
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Self::Info),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            other => Err(format!("unknown severity {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in AbuseClass::ALL {
            assert_eq!(c.as_str().parse::<AbuseClass>().unwrap(), c);
        }
        assert_eq!(
            "port-scan".parse::<AbuseClass>().unwrap(),
            AbuseClass::PortScan
        );
        assert_eq!(
            "BotnetC2".parse::<AbuseClass>().unwrap(),
            AbuseClass::BotnetC2
        );
        assert!("nonsense".parse::<AbuseClass>().is_err());
    }
}
