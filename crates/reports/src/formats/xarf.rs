//! X-ARF version 4 (the JSON format of x-arf.org and Abusix): bare JSON documents, and the JSON
//! part of an ARF-style mail whose feedback part says `Feedback-Type: xarf`.
//!
//! ```json
//! {"Version": "4", "ReporterInfo": {"ReporterOrg": "...", "ReporterOrgEmail": "..."},
//!  "Report": {"ReportClass": "Activity", "ReportType": "LoginAttack", "Date": "...",
//!             "SourceIp": "192.0.2.1", "SourcePort": 52223, ...}}
//! ```
//!
//! Real documents vary, and the parser accepts what senders send: `Version` "3", "4" or
//! "4.0.0"; `SourcePort` as a number or a string; `Source` as an object (`{"IP":..,"Port":..}`)
//! or a string; `Date` as RFC 3339, another date style or a Unix epoch; a top-level array of
//! reports (one event each, bounded by `Limits::max_records`).
//!
//! Classes and types map onto [`AbuseClass`] by the type first (it is the precise word:
//! `Activity/LoginAttack`, `Content/Phishing`), then by the class (`Infected/<anything>` is an
//! infected host, `Vulnerability/<anything>` a vulnerable service). The seven classes of the
//! format (abuse, activity, copyright, fraud, infected, informational, vulnerability) plus the
//! later `content` all have a fallback; see [`class_of`]. The reporter's words stay in
//! `extra["xarf_class"]`/`extra["xarf_type"]`.

use serde_json::{Map, Value};
use warden_model::{
    AbuseClass, AbuseEvent, Evidence, Protocol, Reporter, Severity, SourceFormat, sha256_hex,
};

use super::datetime::parse_datetime;
use super::mail::{Mail, MessageView, addr_spec, contains_ci, domain_of, ip_from_text, url_host};
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

/// Registry entry.
pub const FORMAT: Format = Format {
    name: "xarf",
    sniff,
    parse,
};

const NAME: &str = "xarf";

/// A bare X-ARF JSON document, or a mail that carries one (`Feedback-Type: xarf`).
fn sniff(input: &[u8]) -> u8 {
    let head = &input[..input.len().min(64 * 1024)];
    let trimmed = head
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(head)
        .trim_ascii_start();
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        if contains_ci(head, b"\"ReportClass\"") || contains_ci(head, b"\"ReporterInfo\"") {
            return 95;
        }
        return 0;
    }
    if contains_ci(head, b"Feedback-Type: xarf") {
        return 96;
    }
    if contains_ci(head, b"application/json") && contains_ci(head, b"\"ReportClass\"") {
        return 80;
    }
    0
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            NAME,
            format!(
                "input is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    let body = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    if body.trim_ascii_start().starts_with(b"{") || body.trim_ascii_start().starts_with(b"[") {
        let doc = XarfDocument {
            json: body,
            sha256: sha256_hex(input),
            mail: None,
        };
        return doc.events(limits);
    }
    let mail = Mail::parse(input, limits, NAME)?;
    parse_mail(input, &mail.view(), limits)
}

/// Parses the X-ARF JSON carried by a mail (called by the ARF parser for `Feedback-Type: xarf`).
pub(crate) fn parse_mail(
    input: &[u8],
    view: &MessageView<'_>,
    limits: &Limits,
) -> Result<Vec<Record>, ParseError> {
    let leaves = view.leaves();
    let json_part = leaves
        .iter()
        .find(|p| p.content_type() == "application/json")
        .or_else(|| {
            leaves.iter().find(|p| {
                let b = p.bytes().trim_ascii_start();
                b.starts_with(b"{") && contains_ci(b, b"\"Report\"")
            })
        })
        .ok_or_else(|| {
            ParseError::missing(NAME, "the mail has no X-ARF JSON part (application/json)")
        })?;
    let doc = XarfDocument {
        json: json_part.bytes(),
        sha256: sha256_hex(input),
        mail: Some(view),
    };
    doc.events(limits)
}

struct XarfDocument<'a, 'm> {
    json: &'a [u8],
    sha256: String,
    mail: Option<&'a MessageView<'m>>,
}

impl XarfDocument<'_, '_> {
    fn events(&self, limits: &Limits) -> Result<Vec<Record>, ParseError> {
        let value: Value = serde_json::from_slice(self.json).map_err(|e| {
            ParseError::malformed(NAME, format!("X-ARF JSON is not valid JSON: {e}"))
        })?;
        let docs: Vec<&Value> = match &value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if docs.len() > limits.max_records {
            return Err(ParseError::limit(
                NAME,
                format!(
                    "{} reports, over the {} record limit",
                    docs.len(),
                    limits.max_records
                ),
            ));
        }
        if docs.is_empty() {
            return Err(ParseError::missing(NAME, "the X-ARF JSON array is empty"));
        }
        docs.into_iter()
            .enumerate()
            .map(|(i, d)| self.event(d, i).map(Record::from))
            .collect()
    }

    fn event(&self, doc: &Value, index: usize) -> Result<AbuseEvent, ParseError> {
        let obj = doc.as_object().ok_or_else(|| {
            ParseError::malformed(
                NAME,
                format!("X-ARF report #{} is not a JSON object", index + 1),
            )
        })?;
        let report = get_ci(obj, "Report")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                ParseError::missing(
                    NAME,
                    format!("X-ARF report #{} has no \"Report\" object", index + 1),
                )
            })?;
        let class_word = text(report, "ReportClass").unwrap_or_default();
        let type_word = text(report, "ReportType").unwrap_or_default();
        if class_word.is_empty() && type_word.is_empty() {
            return Err(ParseError::missing(
                NAME,
                format!(
                    "X-ARF report #{} has neither ReportClass nor ReportType",
                    index + 1
                ),
            ));
        }
        let (class, severity) = class_of(&class_word, &type_word);
        let excerpt = String::from_utf8_lossy(self.json);
        let mut ev = AbuseEvent::new(
            SourceFormat::Xarf,
            class,
            Evidence::with_hash(&self.sha256, &excerpt),
        );
        ev.severity = severity;
        ev.extra.insert("xarf_class".into(), class_word);
        ev.extra.insert("xarf_type".into(), type_word);
        if let Some(v) = text(obj, "Version") {
            ev.extra.insert("xarf_version".into(), v);
        }
        if let Some(v) = text(report, "ReportSubType") {
            ev.extra.insert("xarf_subtype".into(), v);
        }
        ev.reporter = self.reporter(obj);
        ev.received = self.mail.and_then(|m| m.date()).map(|t| t.utc);
        fill_subject(report, &mut ev);
        if let Some(date) = report.get("Date").or_else(|| get_ci(report, "Date")) {
            let parsed = match date {
                Value::String(s) => parse_datetime(s).map_err(|e| e.to_string()),
                Value::Number(n) => parse_datetime(&n.to_string()).map_err(|e| e.to_string()),
                other => Err(format!("Date is {other}, not a string")),
            };
            match parsed {
                Ok(t) => ev.observed = Some(t),
                Err(e) => {
                    ev.extra.insert("date_unreadable".into(), e);
                }
            }
        }
        for (key, field) in [
            ("destination_ip", "DestinationIp"),
            ("destination_port", "DestinationPort"),
            ("service", "Service"),
            ("ongoing", "Ongoing"),
            ("count", "Count"),
            ("smtp_mail_from", "SmtpMailFromAddress"),
            ("smtp_rcpt_to", "SmtpRcptToAddress"),
        ] {
            if let Some(v) = text(report, field) {
                ev.extra.insert(key.into(), v);
            }
        }
        if let Some(samples) = get_ci(report, "Samples").and_then(Value::as_array) {
            ev.extra.insert("samples".into(), samples.len().to_string());
        }
        Ok(ev.finish())
    }

    /// ReporterInfo first; the mail's From for what it lacks.
    fn reporter(&self, obj: &Map<String, Value>) -> Reporter {
        let info = get_ci(obj, "ReporterInfo").and_then(Value::as_object);
        let field = |name: &str| info.and_then(|i| text(i, name)).filter(|s| !s.is_empty());
        let email = field("ReporterContactEmail")
            .or_else(|| field("ReporterOrgEmail"))
            .and_then(|e| addr_spec(&e))
            .or_else(|| self.mail.and_then(|m| m.from_address()));
        let domain = field("ReporterOrgDomain")
            .map(|d| d.to_ascii_lowercase())
            .or_else(|| email.as_deref().and_then(domain_of).map(str::to_owned));
        let org = field("ReporterOrg").or_else(|| self.mail.and_then(|m| m.from_name()));
        Reporter { org, email, domain }
    }
}

/// SourceIp/SourcePort, or a `Source` object or string; URLs and domains; the protocol.
fn fill_subject(report: &Map<String, Value>, ev: &mut AbuseEvent) {
    let mut port = get_ci(report, "SourcePort").cloned();
    let mut source_text = text(report, "SourceIp");
    match get_ci(report, "Source") {
        Some(Value::Object(src)) => {
            if source_text.is_none() {
                source_text = text(src, "IP").or_else(|| text(src, "Ip"));
            }
            if port.is_none() {
                port = get_ci(src, "Port").cloned();
            }
        }
        Some(Value::String(s)) if source_text.is_none() => source_text = Some(s.clone()),
        _ => {}
    }
    if let Some(s) = source_text {
        match ip_from_text(&s) {
            Some(ip) => ev.subject.ip = Some(ip),
            None if s.contains("://") => {
                ev.subject.domain = url_host(&s);
                ev.subject.url = Some(s);
            }
            None if s.contains('.') && !s.contains(char::is_whitespace) => {
                ev.subject.domain = Some(s.trim_end_matches('.').to_ascii_lowercase())
            }
            None => {
                ev.extra.insert("source_unreadable".into(), s);
            }
        }
    }
    if let Some(p) = port {
        let parsed = match &p {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.trim().parse::<u16>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n > 0 => ev.subject.port = Some(n),
            _ => {
                ev.extra
                    .insert("source_port_unreadable".into(), p.to_string());
            }
        }
    }
    if let Some(url) = text(report, "SourceUrl").or_else(|| text(report, "Url")) {
        if ev.subject.domain.is_none() {
            ev.subject.domain = url_host(&url);
        }
        ev.subject.url = Some(url);
    }
    if ev.subject.domain.is_none()
        && let Some(d) = text(report, "SourceDomain").or_else(|| text(report, "Domain"))
    {
        ev.subject.domain = Some(d.to_ascii_lowercase());
    }
    if let Some(p) = text(report, "Protocol").or_else(|| text(report, "TransportProtocol")) {
        ev.subject.protocol = Protocol::parse(&p);
    }
    if let Some(from) = text(report, "SmtpMailFromAddress").and_then(|a| addr_spec(&a)) {
        ev.subject.email = Some(from);
    }
}

/// A field as text: strings as they are, numbers and booleans printed.
fn text(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match get_ci(obj, name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Looks a key up exactly, then case-insensitively (`SourceIP`, `sourceip` are seen).
fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Maps an X-ARF class and type onto [`AbuseClass`] (type first, then class).
pub fn class_of(class: &str, report_type: &str) -> (AbuseClass, Option<Severity>) {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let by_type =
        match norm(report_type).as_str() {
            "spam" | "trap" | "spamtrap" | "spamvertised" | "spamvertisedsite"
            | "unsolicitedmail" => Some((AbuseClass::Spam, Severity::Medium)),
            "phishing" | "phish" => Some((AbuseClass::Phishing, Severity::High)),
            "malware"
            | "malwarehosting"
            | "malwaredistribution"
            | "malwareattack"
            | "virus"
            | "ransomware" => Some((AbuseClass::Malware, Severity::High)),
            "ddos" | "dos" | "flood" | "flooding" | "synflood" | "amplification" => {
                Some((AbuseClass::Ddos, Severity::High))
            }
            "portscan" | "scan" | "scanning" | "networkscan" => {
                Some((AbuseClass::PortScan, Severity::Low))
            }
            "loginattack" | "bruteforce" | "loginbruteforce" | "sshbruteforce" | "authattack" => {
                Some((AbuseClass::LoginAttack, Severity::Medium))
            }
            // The source of exploit and hacking attempts is, in practice, a compromised machine.
            "hacking" | "hackattack" | "exploit" | "intrusion" | "webhack" | "compromised"
            | "compromisedserver" | "compromisedwebsite" | "defacement" | "webshell" => {
                Some((AbuseClass::CompromisedServer, Severity::High))
            }
            "bot" | "botnet" | "drone" | "sinkhole" | "infected" | "infectedhost" => {
                Some((AbuseClass::InfectedHost, Severity::Medium))
            }
            "c2" | "cnc" | "cc" | "botnetc2" | "botnetcontroller" | "commandandcontrol" => {
                Some((AbuseClass::BotnetC2, Severity::Critical))
            }
            "copyright" | "dmca" | "trademark" | "infringement" | "piracy" | "filesharing"
            | "p2p" => Some((AbuseClass::Copyright, Severity::Low)),
            "fraud" | "scam" | "fakeshop" | "advancefee" | "419" | "fraudulentshop" => {
                Some((AbuseClass::Fraud, Severity::High))
            }
            "csam" | "childabuse" | "childabusematerial" | "csem" => {
                Some((AbuseClass::Csam, Severity::Critical))
            }
            "openresolver" | "openrelay" | "openproxy" | "openservice" | "vulnerable"
            | "vulnerableservice" | "misconfiguration" | "cve" | "openport" => {
                Some((AbuseClass::VulnerableService, Severity::Medium))
            }
            "blocklist" | "blacklist" | "listing" | "blocklisting" | "blacklisting" => {
                Some((AbuseClass::Blocklisting, Severity::Low))
            }
            _ => None,
        };
    if let Some((c, s)) = by_type {
        return (c, Some(s));
    }
    match norm(class).as_str() {
        "abuse" => (AbuseClass::Spam, Some(Severity::Medium)),
        "activity" => (AbuseClass::Other, Some(Severity::Medium)),
        "copyright" => (AbuseClass::Copyright, Some(Severity::Low)),
        "fraud" => (AbuseClass::Fraud, Some(Severity::High)),
        "infected" => (AbuseClass::InfectedHost, Some(Severity::Medium)),
        // X-ARF 0.2 spells it `info`.
        "informational" | "info" => (AbuseClass::Other, Some(Severity::Info)),
        "vulnerability" => (AbuseClass::VulnerableService, Some(Severity::Medium)),
        "content" => (AbuseClass::Other, Some(Severity::Medium)),
        _ => (AbuseClass::Other, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_type_first() {
        assert_eq!(
            class_of("Activity", "LoginAttack").0,
            AbuseClass::LoginAttack
        );
        assert_eq!(class_of("Activity", "Port-Scan").0, AbuseClass::PortScan);
        assert_eq!(class_of("Fraud", "Phishing").0, AbuseClass::Phishing);
        assert_eq!(class_of("Infected", "Whatever").0, AbuseClass::InfectedHost);
        assert_eq!(
            class_of("Vulnerability", "OpenResolver").0,
            AbuseClass::VulnerableService
        );
        assert_eq!(class_of("Informational", "").1, Some(Severity::Info));
        assert_eq!(class_of("Copyright", "").0, AbuseClass::Copyright);
        assert_eq!(class_of("Nonsense", "Nonsense").0, AbuseClass::Other);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"  {\"Version\":\"4\",\"ReporterInfo\":{}}"), 95);
        assert_eq!(sniff(b"{\"policies\": []}"), 0);
        assert_eq!(
            sniff(b"Content-Type: multipart/report\n\nFeedback-Type: xarf\n"),
            96
        );
    }
}
