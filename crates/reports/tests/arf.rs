//! ARF corpus: every sample in `tests/data/arf/` parses through the registry into the expected
//! event; every sample in `tests/data/arf/broken/` gives a `ParseError`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::path::PathBuf;

use warden_model::{AbuseClass, AbuseEvent, MissingField, SourceFormat};
use warden_reports::{ParseErrorKind, parse};

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/arf")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn event(name: &str) -> AbuseEvent {
    let records = parse(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(records.len(), 1, "{name}");
    let ev = records[0]
        .as_event()
        .unwrap_or_else(|| panic!("{name}: not an event"))
        .clone();
    assert_eq!(ev.source_format, SourceFormat::Arf, "{name}");
    assert_eq!(ev.evidence.sha256.len(), 64);
    ev
}

struct Expect {
    file: &'static str,
    ip: Option<&'static str>,
    port: Option<u16>,
    observed: Option<&'static str>,
    class: AbuseClass,
    missing: &'static [MissingField],
}

const fn e(
    file: &'static str,
    ip: Option<&'static str>,
    port: Option<u16>,
    observed: Option<&'static str>,
    class: AbuseClass,
    missing: &'static [MissingField],
) -> Expect {
    Expect {
        file,
        ip,
        port,
        observed,
        class,
        missing,
    }
}

use AbuseClass::*;
use MissingField::*;

const CORPUS: &[Expect] = &[
    e(
        "yahoo-fbl.eml",
        Some("192.0.2.10"),
        None,
        Some("2023-01-05T10:01:55Z"),
        BulkMail,
        &[SourcePort],
    ),
    e(
        "aol-scomp.eml",
        Some("198.51.100.61"),
        None,
        Some("2023-01-05T15:00:00Z"),
        BulkMail,
        &[SourcePort],
    ),
    e(
        "microsoft-jmrp.eml",
        Some("192.0.2.88"),
        None,
        Some("2023-01-06T02:15:01Z"),
        BulkMail,
        &[SourcePort],
    ),
    e(
        "source-port-rfc6692.eml",
        Some("192.0.2.150"),
        Some(40123),
        Some("2023-03-14T07:59:31Z"),
        Spam,
        &[],
    ),
    e(
        "ipv6-bracketed.eml",
        Some("2001:db8:10::25"),
        Some(51514),
        Some("2023-02-15T10:45:10Z"),
        Spam,
        &[],
    ),
    e(
        "source-ip-with-hostname.eml",
        Some("198.51.100.23"),
        None,
        Some("2023-03-05T22:14:00Z"),
        Spam,
        &[SourcePort, TimeZone, Seconds],
    ),
    e(
        "no-first-part.eml",
        Some("203.0.113.77"),
        None,
        Some("2023-04-01T05:58:00Z"),
        Spam,
        &[SourcePort],
    ),
    e(
        "broken-first-part.eml",
        Some("192.0.2.201"),
        None,
        Some("2023-04-02T06:59:59Z"),
        Spam,
        &[SourcePort],
    ),
    e(
        "missing-source-ip.eml",
        Some("192.0.2.77"),
        None,
        Some("2023-04-10T07:55:00Z"),
        Spam,
        &[SourcePort],
    ),
    e(
        "fraud-reported-uri.eml",
        Some("192.0.2.99"),
        None,
        Some("2023-04-11T12:40:00Z"),
        Phishing,
        &[SourcePort],
    ),
    e(
        "virus-us-date.eml",
        Some("198.51.100.140"),
        None,
        Some("2023-01-05T15:00:00Z"),
        Malware,
        &[SourcePort],
    ),
    e(
        "auth-failure-google-style.eml",
        Some("192.0.2.33"),
        None,
        Some("2023-04-12T09:58:11Z"),
        Other,
        &[SourcePort],
    ),
    e(
        "not-spam.eml",
        Some("192.0.2.12"),
        None,
        Some("2023-04-14T08:00:00Z"),
        Other,
        &[SourcePort],
    ),
    e(
        "ipv4-mapped-mesz.eml",
        Some("192.0.2.200"),
        None,
        Some("2023-07-06T10:00:00Z"),
        Spam,
        &[SourcePort],
    ),
    e(
        "crlf-folded-fields.eml",
        Some("192.0.2.45"),
        None,
        Some("2023-04-15T09:15:00Z"),
        Spam,
        &[SourcePort],
    ),
];

#[test]
fn corpus_parses_to_expected_events() {
    assert!(CORPUS.len() >= 12);
    for x in CORPUS {
        let ev = event(x.file);
        assert_eq!(
            ev.subject.ip.map(|i| i.to_string()).as_deref(),
            x.ip,
            "{}: ip",
            x.file
        );
        assert_eq!(ev.subject.port, x.port, "{}: port", x.file);
        let observed = ev
            .observed
            .map(|t| t.utc.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(observed.as_deref(), x.observed, "{}: observed", x.file);
        assert_eq!(ev.class, x.class, "{}: class", x.file);
        assert_eq!(ev.missing, x.missing, "{}: missing", x.file);
        assert!(
            ev.evidence.excerpt.contains("Feedback-Type") || x.file == "microsoft-jmrp.eml",
            "{}",
            x.file
        );
    }
}

#[test]
fn feedback_loop_details() {
    let ev = event("yahoo-fbl.eml");
    assert_eq!(ev.extra["fbl"], "true");
    assert_eq!(ev.extra["feedback_type"], "abuse");
    assert_eq!(ev.extra["user_agent"], "Yahoo!-Mail-Feedback/2.0");
    assert_eq!(ev.extra["observed_from"], "received-date");
    assert_eq!(
        ev.subject.email.as_deref(),
        Some("bounce-4711@news.shop.example")
    );
    assert_eq!(ev.subject.domain.as_deref(), Some("news.shop.example"));
    assert_eq!(
        ev.reporter.email.as_deref(),
        Some("feedbackloop@yahoo-inc.example")
    );
    assert_eq!(
        ev.reporter.org.as_deref(),
        Some("Yahoo! Mail AntiSpam Feedback")
    );
    assert_eq!(
        ev.received.unwrap().to_rfc3339(),
        "2023-01-05T10:07:12+00:00"
    );
    assert!(ev.evidence.excerpt.contains("Subject: Weekly deals"));
    assert_eq!(ev.confidence, 1.0);
}

#[test]
fn address_from_received_is_flagged() {
    let ev = event("missing-source-ip.eml");
    assert_eq!(ev.extra["source_ip_origin"], "original_received_header_3");
    assert!(ev.confidence < 1.0);
    let jmrp = event("microsoft-jmrp.eml");
    assert_eq!(jmrp.extra["arf_variant"], "jmrp");
    assert_eq!(jmrp.extra["original_rcpt_to"], "<redacted@outlook.example>");
    assert_eq!(jmrp.extra["source_ip_origin"], "original_received_header_2");
    assert_eq!(jmrp.extra["observed_from"], "original_received_header");
}

#[test]
fn reported_uri_and_auth_failure() {
    let ev = event("fraud-reported-uri.eml");
    assert_eq!(
        ev.subject.url.as_deref(),
        Some("http://secure-login.bank.example.phish.test/verify?id=1")
    );
    assert_eq!(
        ev.subject.domain.as_deref(),
        Some("secure-login.bank.example.phish.test")
    );
    assert!(ev.extra["reported_uri"].contains("mirror.phish.test"));
    let af = event("auth-failure-google-style.eml");
    assert_eq!(af.extra["auth_failure"], "dkim");
    assert_eq!(af.extra["dkim_domain"], "provider.example");
    assert_eq!(af.extra["delivery_result"], "reject");
    let ns = event("not-spam.eml");
    assert_eq!(ns.severity, Some(warden_model::Severity::Info));
    let trap = event("source-port-rfc6692.eml");
    assert_eq!(trap.extra["incidents"], "3");
    assert_eq!(trap.extra["fbl"], "false");
}

#[test]
fn broken_inputs_are_errors_not_panics() {
    let expect = [
        ("no-feedback-type.eml", ParseErrorKind::MissingField),
        ("no-feedback-part.eml", ParseErrorKind::MissingField),
        ("truncated.eml", ParseErrorKind::MissingField),
    ];
    for (file, kind) in expect {
        let err = parse(&data(&format!("broken/{file}"))).unwrap_err();
        assert_eq!(err.kind, kind, "{file}: {err}");
        assert_eq!(err.format, "arf", "{file}");
    }
    // Garbage that mentions the content type is refused as "not a mail".
    let err = parse(&data("broken/binary-garbage.eml")).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Malformed, "{err}");
}

#[test]
fn every_prefix_of_a_report_is_handled() {
    // Truncation at any byte must give events or an error, never a panic.
    let raw = data("yahoo-fbl.eml");
    for cut in (0..raw.len()).step_by(7) {
        let _ = parse(&raw[..cut]);
    }
}
