//! ARF: the Abuse Reporting Format (RFC 5965), as mailbox-provider feedback loops (RFC 6449) and
//! abuse reporters really send it.
//!
//! A report is `multipart/report; report-type=feedback-report` with three parts (RFC 5965 §2):
//! a human-readable text, a `message/feedback-report` header block, and the original message
//! (`message/rfc822`) or its headers (`text/rfc822-headers`). Real reports deviate, and each
//! deviation below has a sample under `tests/data/arf/`:
//!
//! * the human-readable first part is missing or broken: it is never needed;
//! * `Arrival-Date` is spelt `Received-Date` (drafts before RFC 5965), in any date style that
//!   [`super::datetime`] reads;
//! * `Source-IP` comes bracketed, IPv6, IPv4-mapped or with a host name after it
//!   (`192.0.2.1 (mx.example)`);
//! * `Source-IP` is missing: the address is taken from the original's first `Received` header
//!   added outside the reporter (skipping internal hops and private addresses), the event says
//!   so in `extra["source_ip_origin"]` and its confidence drops to 0.6;
//! * `Source-Port` (RFC 6692) is rare; its absence is listed in `missing` for CGN attribution;
//! * RFC 6591 `auth-failure` reports carry DKIM/SPF details, kept in `extra`.
//!
//! Feedback types map to [`AbuseClass`] like this (RFC 5965 §7.3 registry, RFC 6591):
//!
//! | Feedback-Type | class | why |
//! |---|---|---|
//! | `abuse` from a mailbox-provider feedback loop | `bulk_mail` | one recipient pressed "this is spam"; RFC 6449 §3.3 asks senders to treat it as an unsubscribe, not as proof of spam |
//! | `abuse` otherwise (traps, people, abuse desks) | `spam` | a reporter judged the mail unsolicited |
//! | `fraud` | `phishing` | the registry says "fraud or phishing"; reports filed with it are mostly spoofed brands, and the stricter policy is the safer error |
//! | `virus` | `malware` | |
//! | `auth-failure` | `other` | SPF/DKIM/DMARC failures are often forwarding accidents, not abuse by the source |
//! | `not-spam`, `other`, unknown | `other` | severity `info` for `not-spam` |
//!
//! A feedback loop is recognised by its `User-Agent` or reporter domain (a list of the big
//! mailbox providers' FBLs) or by the word "feedback loop"/"fbl" in them; the decision is kept in
//! `extra["fbl"]`.

use std::net::IpAddr;

use warden_model::{
    AbuseClass, AbuseEvent, Evidence, ObservedTime, Reporter, Severity, SourceFormat,
};

use super::datetime::parse_datetime;
use super::mail::{
    FieldBlock, Mail, MessageView, Part, addr_spec, contains_ci, domain_of, ip_from_text,
    received_from_ip, url_host,
};
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

/// Registry entry.
pub const FORMAT: Format = Format {
    name: "arf",
    sniff,
    parse,
};

const NAME: &str = "arf";

/// Confidence of an event whose address came from a `Received` header instead of `Source-IP`.
pub const RECEIVED_CONFIDENCE: f32 = 0.6;

/// User-Agent or reporter-domain fragments of the big mailbox providers' feedback loops
/// (lower-case). Matching any makes an `abuse` report a `bulk_mail` complaint.
const FBL_MARKERS: [&str; 20] = [
    "feedback loop",
    "feedbackloop",
    "fbl",
    "scomp",
    "jmrp",
    "yahoo",
    "aol.com",
    "aol ",
    "comcast",
    "hotmail",
    "outlook.com",
    "microsoft",
    "cox.net",
    "rr.com",
    "gmx",
    "web.de",
    "mail.ru",
    "yandex",
    "zoho",
    "fastmail",
];

/// `message/feedback-report` in a multipart report is certain; a Microsoft JMRP complaint
/// (no feedback part, an `X-HmXmrOriginalRecipient` header on the original) is likely.
fn sniff(input: &[u8]) -> u8 {
    let head = &input[..input.len().min(256 * 1024)];
    if contains_ci(head, b"message/feedback-report") {
        90
    } else if contains_ci(head, b"report-type=feedback-report")
        || contains_ci(head, b"report-type=\"feedback-report\"")
    {
        85
    } else if contains_ci(head, b"X-HmXmrOriginalRecipient") {
        60
    } else {
        0
    }
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    let mail = Mail::parse(input, limits, NAME)?;
    let view = mail.view();
    let leaves = view.leaves();
    let feedback_idx = leaves
        .iter()
        .position(|p| p.content_type() == "message/feedback-report");
    let (fields, jmrp) = match feedback_idx {
        Some(i) => {
            let part = leaves.get(i).map(Part::bytes).unwrap_or_default();
            (FieldBlock::parse_all(part, limits, NAME)?, false)
        }
        None if contains_ci(input, b"X-HmXmrOriginalRecipient") => (FieldBlock::default(), true),
        None => {
            return Err(ParseError::missing(
                NAME,
                "no message/feedback-report part (RFC 5965 §2 requires it as the second part)",
            ));
        }
    };
    let feedback_type = if jmrp {
        "abuse".to_owned()
    } else {
        fields
            .get("Feedback-Type")
            .map(|t| {
                t.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            })
            .ok_or_else(|| {
                ParseError::missing(
                    NAME,
                    "the feedback-report part has no Feedback-Type field (RFC 5965 §3.1)",
                )
            })?
    };
    if feedback_type == "xarf" {
        return super::xarf::parse_mail(input, &view, limits);
    }
    let original = original_part(&leaves, feedback_idx);
    let original_head = match &original {
        Some(p) => FieldBlock::parse_head(p.bytes(), limits, NAME)?,
        None => FieldBlock::default(),
    };
    let report = FeedbackReport {
        view: &view,
        fields: &fields,
        original: &original_head,
        jmrp,
    };
    Ok(vec![report.event(input, &feedback_type).into()])
}

/// The original message or its headers: the first `message/rfc822` or `text/rfc822-headers`
/// leaf after the feedback part (or anywhere, when the order is broken).
fn original_part<'m>(leaves: &[Part<'m>], feedback_idx: Option<usize>) -> Option<Part<'m>> {
    let is_original = |p: &&Part<'m>| {
        matches!(
            p.content_type().as_str(),
            "message/rfc822"
                | "text/rfc822-headers"
                | "message/rfc822-headers"
                | "text/rfc822-header"
                | "message/global"
                | "message/global-headers"
        )
    };
    let after = feedback_idx.map(|i| i + 1).unwrap_or(0);
    leaves
        .get(after..)
        .and_then(|rest| rest.iter().find(is_original))
        .or_else(|| leaves.iter().find(is_original))
        .copied()
}

/// The pieces of one feedback report, read.
struct FeedbackReport<'a, 'm> {
    view: &'a MessageView<'m>,
    fields: &'a FieldBlock,
    original: &'a FieldBlock,
    jmrp: bool,
}

impl FeedbackReport<'_, '_> {
    fn event(&self, input: &[u8], feedback_type: &str) -> AbuseEvent {
        let reporter = mail_reporter(self.view, self.fields.get("User-Agent"));
        let fbl = self.jmrp || is_feedback_loop(self.fields.get("User-Agent"), &reporter);
        let (class, severity) = class_of(feedback_type, fbl);
        let mut ev = AbuseEvent::new(
            SourceFormat::Arf,
            class,
            Evidence::new(input, &self.excerpt()),
        );
        ev.reporter = reporter;
        ev.severity = severity;
        ev.received = self.view.date().map(|t| t.utc);
        ev.extra
            .insert("feedback_type".into(), feedback_type.to_owned());
        ev.extra.insert("fbl".into(), fbl.to_string());
        if self.jmrp {
            ev.extra.insert("arf_variant".into(), "jmrp".into());
        }
        self.copy_extra(&mut ev);
        self.subject(&mut ev);
        self.observed(&mut ev);
        ev.finish()
    }

    /// Fields kept verbatim under stable snake_case keys.
    fn copy_extra(&self, ev: &mut AbuseEvent) {
        const KEEP: [(&str, &str); 16] = [
            ("User-Agent", "user_agent"),
            ("Version", "arf_version"),
            ("Reported-Domain", "reported_domain"),
            ("Original-Rcpt-To", "original_rcpt_to"),
            ("Original-Mail-From", "original_mail_from"),
            ("Original-Envelope-Id", "original_envelope_id"),
            ("Reporting-MTA", "reporting_mta"),
            ("Incidents", "incidents"),
            ("Authentication-Results", "authentication_results"),
            ("Auth-Failure", "auth_failure"),
            ("Delivery-Result", "delivery_result"),
            ("DKIM-Domain", "dkim_domain"),
            ("DKIM-Selector", "dkim_selector"),
            ("DKIM-Identity", "dkim_identity"),
            ("SPF-DNS", "spf_dns"),
            ("Identity-Alignment", "identity_alignment"),
        ];
        for (field, key) in KEEP {
            if let Some(v) = self.fields.get(field) {
                ev.extra.insert(key.into(), v.to_owned());
            }
        }
        // JMRP puts the complaining recipient on the attached original.
        if let Some(rcpt) = self.original.get("X-HmXmrOriginalRecipient") {
            ev.extra.insert("original_rcpt_to".into(), rcpt.to_owned());
        }
        let uris: Vec<&str> = self.fields.get_all("Reported-URI").collect();
        if !uris.is_empty() {
            ev.extra.insert("reported_uri".into(), uris.join(" "));
        }
    }

    /// Source address and port, reported URI, domain and sender.
    fn subject(&self, ev: &mut AbuseEvent) {
        if let Some(text) = self.fields.get("Source-IP") {
            match ip_from_text(text) {
                Some(ip) => {
                    ev.subject.ip = Some(ip);
                    ev.extra
                        .insert("source_ip_origin".into(), "source_ip_field".into());
                }
                None => {
                    ev.extra
                        .insert("source_ip_unreadable".into(), text.to_owned());
                }
            }
        }
        if ev.subject.ip.is_none()
            && let Some((ip, hop)) = self.received_source(&ev.reporter)
        {
            ev.subject.ip = Some(ip);
            ev.confidence = RECEIVED_CONFIDENCE;
            ev.extra.insert(
                "source_ip_origin".into(),
                format!("original_received_header_{hop}"),
            );
        }
        if let Some(port) = self.fields.get("Source-Port") {
            match port
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok())
            {
                Some(p) if p > 0 => ev.subject.port = Some(p),
                _ => {
                    ev.extra
                        .insert("source_port_unreadable".into(), port.to_owned());
                }
            }
        }
        if let Some(uri) = self.fields.get("Reported-URI") {
            let uri = uri.trim_matches(|c| matches!(c, '<' | '>'));
            ev.subject.domain = url_host(uri);
            ev.subject.url = Some(uri.to_owned());
        }
        if ev.subject.domain.is_none()
            && let Some(d) = self.fields.get("Reported-Domain")
        {
            ev.subject.domain = Some(d.trim_end_matches('.').to_ascii_lowercase());
        }
        ev.subject.email = self
            .fields
            .get("Original-Mail-From")
            .and_then(addr_spec)
            .or_else(|| self.original.get("Return-Path").and_then(addr_spec))
            .or_else(|| self.original.get("From").and_then(addr_spec));
    }

    /// The first `Received` header of the original that was added outside the reporter: hops
    /// from private or internal addresses, or from hosts in the reporter's own domain, are the
    /// reporter's relays and are skipped. Returns the address and the hop number (1 = topmost).
    fn received_source(&self, reporter: &Reporter) -> Option<(IpAddr, usize)> {
        let own = reporter.domain.as_deref().map(registrable);
        for (i, value) in self.original.get_all("Received").enumerate() {
            let Some(ip) = received_from_ip(value) else {
                continue;
            };
            if is_internal(ip) {
                continue;
            }
            let from_host = value
                .split_whitespace()
                .nth(1)
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
                .unwrap_or_default();
            if let Some(own) = &own
                && (from_host == *own || from_host.ends_with(&format!(".{own}")))
            {
                continue;
            }
            return Some((ip, i + 1));
        }
        None
    }

    /// Arrival-Date (or the older Received-Date); when absent or unreadable, the date stamped by
    /// the topmost `Received` of the original, which is the reporter's own receipt.
    fn observed(&self, ev: &mut AbuseEvent) {
        for field in ["Arrival-Date", "Received-Date"] {
            if let Some(text) = self.fields.get(field) {
                match parse_datetime(text) {
                    Ok(t) => {
                        ev.observed = Some(t);
                        ev.extra
                            .insert("observed_from".into(), field.to_ascii_lowercase());
                        return;
                    }
                    Err(e) => {
                        ev.extra
                            .insert("arrival_date_unreadable".into(), e.to_string());
                    }
                }
            }
        }
        if let Some(t) = self.original.get("Received").and_then(received_date) {
            ev.observed = Some(t);
            ev.extra
                .insert("observed_from".into(), "original_received_header".into());
        }
    }

    /// The feedback fields plus the original's key headers.
    fn excerpt(&self) -> String {
        let mut out = String::new();
        for (n, v) in self.fields.iter() {
            out.push_str(n);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        }
        out.push('\n');
        for key in [
            "Received",
            "Return-Path",
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
        ] {
            if let Some(v) = self.original.get(key) {
                out.push_str(key);
                out.push_str(": ");
                out.push_str(v);
                out.push('\n');
            }
        }
        out
    }
}

/// The reporter as the mail names it: From's display name (or the User-Agent's product name),
/// From's address, and its domain. Shared by the X-ARF mail wrapper.
pub(crate) fn mail_reporter(view: &MessageView<'_>, user_agent: Option<&str>) -> Reporter {
    let email = view.from_address();
    let domain = email.as_deref().and_then(domain_of).map(str::to_owned);
    let org = view.from_name().or_else(|| {
        user_agent
            .and_then(|ua| ua.split(['/', ' ']).next())
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    });
    Reporter { org, email, domain }
}

fn is_feedback_loop(user_agent: Option<&str>, reporter: &Reporter) -> bool {
    let hay = format!(
        "{} {} {} ",
        user_agent.unwrap_or_default(),
        reporter.domain.as_deref().unwrap_or_default(),
        reporter.email.as_deref().unwrap_or_default()
    )
    .to_ascii_lowercase();
    FBL_MARKERS.iter().any(|m| hay.contains(m))
}

/// See the table in the module documentation.
fn class_of(feedback_type: &str, fbl: bool) -> (AbuseClass, Option<Severity>) {
    match feedback_type {
        "abuse" if fbl => (AbuseClass::BulkMail, Some(Severity::Low)),
        "abuse" => (AbuseClass::Spam, Some(Severity::Medium)),
        "fraud" => (AbuseClass::Phishing, Some(Severity::High)),
        "virus" => (AbuseClass::Malware, Some(Severity::High)),
        "auth-failure" => (AbuseClass::Other, Some(Severity::Low)),
        "not-spam" => (AbuseClass::Other, Some(Severity::Info)),
        _ => (AbuseClass::Other, None),
    }
}

/// The date after the last `;` of a `Received` value (RFC 5321 §4.4).
fn received_date(value: &str) -> Option<ObservedTime> {
    let (_, date) = value.rsplit_once(';')?;
    parse_datetime(date.trim()).ok()
}

/// The last two labels of a domain: close enough to "the reporter's organisation" for skipping
/// its relays (`mta5.am0.yahoodns.net` is not `yahoo.com`, and is then not skipped: the
/// private-address rule still catches most internal hops).
fn registrable(domain: &str) -> String {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    labels[n.saturating_sub(2)..].join(".").to_ascii_lowercase()
}

/// Addresses that cannot be the outside sender: private, loopback, link-local, shared
/// (RFC 6598, used inside providers), unique-local, unspecified.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of("abuse", true).0, AbuseClass::BulkMail);
        assert_eq!(class_of("abuse", false).0, AbuseClass::Spam);
        assert_eq!(class_of("fraud", false).0, AbuseClass::Phishing);
        assert_eq!(class_of("virus", false).0, AbuseClass::Malware);
        assert_eq!(class_of("opt-out", false).0, AbuseClass::Other);
    }

    #[test]
    fn internal_addresses() {
        for ip in [
            "10.1.2.3",
            "192.168.0.1",
            "127.0.0.1",
            "100.64.0.1",
            "fd00::1",
            "fe80::1",
            "::1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["192.0.2.1", "100.128.0.1", "2001:db8::1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn received_dates() {
        let t = received_date("from a ([192.0.2.1]) by b; Thu, 5 Jan 2023 10:00:00 +0000").unwrap();
        assert_eq!(t.utc.to_rfc3339(), "2023-01-05T10:00:00+00:00");
        assert!(received_date("from a by b").is_none());
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"Content-Type: message/feedback-report\n"), 90);
        assert_eq!(sniff(b"Subject: hello\n\nbody"), 0);
    }
}
