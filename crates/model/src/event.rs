//! The normalized abuse event and its parts. The JSON form is documented in
//! `docs/event-schema.md`; keep the two in step.

use crate::{AbuseClass, ObservedTime, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The longest evidence excerpt an event carries, in bytes. The raw report is kept whole elsewhere
/// (content-addressed); the excerpt only has to let an analyst recognise it.
pub const EXCERPT_MAX: usize = 2048;

/// Which parser produced an event. Stable names: they appear in JSON and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// RFC 5965 Abuse Reporting Format, including feedback loops.
    Arf,
    /// X-ARF version 4 (JSON).
    Xarf,
    /// X-ARF 0.1/0.2 (YAML report part).
    XarfLegacy,
    /// Shadowserver CSV report.
    Shadowserver,
    /// SpamCop report mail.
    Spamcop,
    /// Free-form mail written by a person or a log-mailing script.
    FreeForm,
}

impl SourceFormat {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arf => "arf",
            Self::Xarf => "xarf",
            Self::XarfLegacy => "xarf_legacy",
            Self::Shadowserver => "shadowserver",
            Self::Spamcop => "spamcop",
            Self::FreeForm => "free_form",
        }
    }
}

/// Who sent the report, as far as the report says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    /// Organisation or display name (`Reported-From` org, X-ARF `Reporter.Org`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Contact address to acknowledge or ask for more (the mail's From or X-ARF `ReporterContact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The reporting domain, used to pick per-reporter policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The transport protocol of the reported activity, when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
}

impl Protocol {
    /// Parses common spellings (`tcp`, `TCP`, `6`, `udp`, `17`, `icmp`, `1`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" | "6" => Some(Self::Tcp),
            "udp" | "17" => Some(Self::Udp),
            "icmp" | "1" | "icmpv6" | "58" => Some(Self::Icmp),
            _ => None,
        }
    }
}

/// What the report is about: the thing a provider must map to a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The offending address (source of spam, scanner, infected host, hosting server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The source port at the subject's side; needed behind CGN (RFC 6302).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The transport protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// A URL (phishing page, malware download, spamvertised site).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A domain name (from the URL, or reported directly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// An e-mail address (the abusive sender or reply-to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The autonomous system, when the reporter gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
}

/// What attribution will need but the report does not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingField {
    /// No IP address at all.
    Ip,
    /// No source port: an address behind CGN cannot be narrowed to one subscriber.
    SourcePort,
    /// No observation time.
    Time,
    /// A time without zone or offset.
    TimeZone,
    /// A time without seconds.
    Seconds,
}

/// Evidence that ties an event to the raw report it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// SHA-256 of the whole raw report, lower-case hex: the key of the content-addressed store.
    pub sha256: String,
    /// A short excerpt (at most [`EXCERPT_MAX`] bytes, on a char boundary) that shows the offence:
    /// the log line, the CSV row, the original headers.
    pub excerpt: String,
}

impl Evidence {
    /// Builds evidence for `raw` with an excerpt cut to [`EXCERPT_MAX`] bytes.
    pub fn new(raw: &[u8], excerpt: &str) -> Self {
        Self {
            sha256: sha256_hex(raw),
            excerpt: truncate(excerpt, EXCERPT_MAX).to_owned(),
        }
    }

    /// Builds evidence from an already computed hash, so a parser hashing a large file once can
    /// reuse it for every row.
    pub fn with_hash(sha256: &str, excerpt: &str) -> Self {
        Self {
            sha256: sha256.to_owned(),
            excerpt: truncate(excerpt, EXCERPT_MAX).to_owned(),
        }
    }
}

fn serialize_confidence<S: serde::Serializer>(c: &f32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*c) * 1000.0).round() / 1000.0)
}

/// SHA-256 of `raw` as lower-case hex.
pub fn sha256_hex(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One normalized abuse event: the unit the desk groups into cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbuseEvent {
    /// Which parser read it.
    pub source_format: SourceFormat,
    /// Who reported it.
    pub reporter: Reporter,
    /// When the report was received or written, from the report itself (its Date header, the
    /// feed's timestamp). Parsers read no clock; intake adds arrival time separately.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<DateTime<Utc>>,
    /// The abuse class.
    pub class: AbuseClass,
    /// Severity when the source says or the mapping implies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// What the report is about.
    pub subject: Subject,
    /// When the activity was observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<ObservedTime>,
    /// The tie back to the raw report.
    pub evidence: Evidence,
    /// What attribution will need that the report lacks. Computed by [`AbuseEvent::finish`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingField>,
    /// How sure the parser is of this event, 0.0 to 1.0: 1.0 for structured formats, lower for
    /// items extracted from prose. Serialised rounded to three decimals so JSON shows `0.74`,
    /// not the f32 widening artefact `0.7400000095367432`.
    #[serde(serialize_with = "serialize_confidence")]
    pub confidence: f32,
    /// Format-specific fields worth keeping (feedback type, Shadowserver report type and tag,
    /// X-ARF type) under stable keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

impl AbuseEvent {
    /// A new event with the given format, class and evidence; everything else empty and
    /// confidence 1.0. Fill the rest, then call [`AbuseEvent::finish`].
    pub fn new(source_format: SourceFormat, class: AbuseClass, evidence: Evidence) -> Self {
        Self {
            source_format,
            reporter: Reporter::default(),
            received: None,
            class,
            severity: None,
            subject: Subject::default(),
            observed: None,
            evidence,
            missing: Vec::new(),
            confidence: 1.0,
            extra: BTreeMap::new(),
        }
    }

    /// Recomputes [`AbuseEvent::missing`] from the subject and time. Every parser calls this last,
    /// so the rule lives in one place.
    ///
    /// A source port is only reported missing for address-based events: a phishing URL report
    /// with no IP needs no port.
    pub fn finish(mut self) -> Self {
        let mut missing = Vec::new();
        if self.subject.ip.is_none() {
            if self.subject.url.is_none()
                && self.subject.domain.is_none()
                && self.subject.email.is_none()
            {
                missing.push(MissingField::Ip);
            }
        } else if self.subject.port.is_none() {
            missing.push(MissingField::SourcePort);
        }
        match &self.observed {
            None => missing.push(MissingField::Time),
            Some(t) => {
                if !t.zone_given {
                    missing.push(MissingField::TimeZone);
                }
                if t.precision < crate::TimePrecision::Second {
                    missing.push(MissingField::Seconds);
                }
            }
        }
        self.missing = missing;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimePrecision;
    use chrono::TimeZone;

    #[test]
    fn missing_is_derived() {
        let mut e = AbuseEvent::new(
            SourceFormat::Arf,
            AbuseClass::Spam,
            Evidence::new(b"x", "x"),
        );
        e.subject.ip = Some("192.0.2.1".parse().unwrap());
        e.observed = Some(ObservedTime::assumed_utc(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 0).unwrap(),
            TimePrecision::Minute,
        ));
        let e = e.finish();
        assert_eq!(
            e.missing,
            vec![
                MissingField::SourcePort,
                MissingField::TimeZone,
                MissingField::Seconds
            ]
        );
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            json.contains("\"missing\":[\"source_port\",\"time_zone\",\"seconds\"]"),
            "{json}"
        );
    }

    #[test]
    fn excerpt_cut_on_char_boundary() {
        let s = "ä".repeat(EXCERPT_MAX);
        let ev = Evidence::new(b"", &s);
        assert!(ev.excerpt.len() <= EXCERPT_MAX);
        assert_eq!(ev.sha256.len(), 64);
    }
}
