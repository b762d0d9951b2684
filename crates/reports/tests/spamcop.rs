//! SpamCop corpus (`tests/data/spamcop/`) through the registry.
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
        .join("tests/data/spamcop")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn events(name: &str) -> Vec<AbuseEvent> {
    let records = parse(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    records
        .iter()
        .map(|r| {
            r.as_event()
                .unwrap_or_else(|| panic!("{name}: not an event"))
                .clone()
        })
        .collect()
}

struct Expect {
    file: &'static str,
    ip: Option<&'static str>,
    url: Option<&'static str>,
    observed: Option<&'static str>,
    missing: &'static [MissingField],
}

const fn e(
    file: &'static str,
    ip: Option<&'static str>,
    url: Option<&'static str>,
    observed: Option<&'static str>,
    missing: &'static [MissingField],
) -> Expect {
    Expect {
        file,
        ip,
        url,
        observed,
        missing,
    }
}

use MissingField::*;

const CORPUS: &[Expect] = &[
    e(
        "source-ip-basic.eml",
        Some("192.0.2.31"),
        None,
        Some("2023-01-05T15:00:00Z"),
        &[SourcePort],
    ),
    e(
        "spamvertised-basic.eml",
        Some("203.0.113.7"),
        Some("http://pills.shop.example/"),
        Some("2023-01-05T15:03:11Z"),
        &[SourcePort],
    ),
    e(
        "source-ip-ipv6.eml",
        Some("2001:db8:5::a"),
        None,
        Some("2023-01-06T08:55:30Z"),
        &[SourcePort],
    ),
    e(
        "spamvertised-no-resolution.eml",
        None,
        Some("https://gone.site.example/landing"),
        None,
        &[Time],
    ),
    e(
        "munged-original.eml",
        Some("198.51.100.44"),
        None,
        Some("2023-01-08T11:40:12Z"),
        &[SourcePort],
    ),
    e(
        "gmt-date.eml",
        Some("198.51.100.1"),
        None,
        Some("2023-01-05T15:00:00Z"),
        &[SourcePort],
    ),
    e(
        "quoted-printable-body.eml",
        Some("203.0.113.99"),
        Some(
            "http://very-long-domain-name-for-testing-soft-breaks.shop.example/path/to/landing/page?campaign=123",
        ),
        Some("2023-01-09T09:58:00Z"),
        &[SourcePort],
    ),
    e(
        "forwarded-quoted.eml",
        Some("192.0.2.77"),
        None,
        Some("2023-01-10T12:20:00Z"),
        &[SourcePort],
    ),
    e(
        "multipart-alternative.eml",
        Some("203.0.113.12"),
        None,
        Some("2023-01-11T07:45:00Z"),
        &[SourcePort],
    ),
    e(
        "subject-only.eml",
        Some("192.0.2.250"),
        None,
        None,
        &[SourcePort, Time],
    ),
    e(
        "date-no-seconds-no-zone.eml",
        Some("192.0.2.3"),
        None,
        Some("2023-01-14T10:00:00Z"),
        &[SourcePort, TimeZone, Seconds],
    ),
    e(
        "spamvertised-https-port.eml",
        Some("203.0.113.8"),
        Some("https://shop.example:8443/deal"),
        Some("2023-01-15T09:59:59Z"),
        &[SourcePort],
    ),
];

#[test]
fn corpus_parses_to_expected_events() {
    assert!(CORPUS.len() >= 12);
    for x in CORPUS {
        let evs = events(x.file);
        assert_eq!(evs.len(), 1, "{}", x.file);
        let ev = &evs[0];
        assert_eq!(ev.source_format, SourceFormat::Spamcop, "{}", x.file);
        assert_eq!(ev.class, AbuseClass::Spam, "{}", x.file);
        assert_eq!(
            ev.subject.ip.map(|i| i.to_string()).as_deref(),
            x.ip,
            "{}: ip",
            x.file
        );
        assert_eq!(
            ev.subject.port, None,
            "{}: SpamCop never gives a port",
            x.file
        );
        assert_eq!(ev.subject.url.as_deref(), x.url, "{}: url", x.file);
        let observed = ev
            .observed
            .map(|t| t.utc.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(observed.as_deref(), x.observed, "{}: observed", x.file);
        assert_eq!(ev.missing, x.missing, "{}: missing", x.file);
        assert_eq!(ev.reporter.org.as_deref(), Some("SpamCop"));
    }
}

#[test]
fn details() {
    let ev = &events("source-ip-basic.eml")[0];
    assert_eq!(ev.extra["spamcop_id"], "7148253614");
    assert_eq!(ev.extra["spamcop_kind"], "source");
    assert!(ev.extra["spamcop_link"].starts_with("https://www.spamcop.net/w3m?i="));
    assert_eq!(
        ev.reporter.email.as_deref(),
        Some("7148253614@reports.spamcop.net")
    );
    assert_eq!(ev.reporter.domain.as_deref(), Some("spamcop.net"));
    assert_eq!(
        ev.received.unwrap().to_rfc3339(),
        "2023-01-05T15:10:02+00:00"
    );
    assert!(ev.evidence.excerpt.contains("Email from 192.0.2.31"));
    assert!(
        ev.evidence
            .excerpt
            .contains("Subject: Great deals on watches")
    );
    let munged = &events("munged-original.eml")[0];
    assert_eq!(
        munged.subject.email, None,
        "munged x@x.com must not become the subject"
    );
    let site = &events("spamvertised-https-port.eml")[0];
    assert_eq!(site.subject.domain.as_deref(), Some("shop.example"));
    assert_eq!(site.extra["spamcop_kind"], "spamvertised");
    let subj = &events("subject-only.eml")[0];
    assert!(subj.confidence < 1.0);
    assert_eq!(subj.extra["spamcop_from_subject"], "true");
}

#[test]
fn one_event_per_reported_thing() {
    let evs = events("spamvertised-multiple.eml");
    let got: Vec<(String, String)> = evs
        .iter()
        .map(|e| {
            (
                e.subject.url.clone().unwrap(),
                e.subject.ip.unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "http://a.spam.example/".to_owned(),
                "198.51.100.70".to_owned()
            ),
            (
                "http://b.spam.example/offer".to_owned(),
                "198.51.100.71".to_owned()
            ),
        ]
    );
    assert_eq!(evs[0].evidence.sha256, evs[1].evidence.sha256);
}

#[test]
fn broken_inputs_are_errors_not_panics() {
    for (file, kind) in [
        ("nothing-reportable.eml", ParseErrorKind::MissingField),
        ("email-from-not-ip.eml", ParseErrorKind::Malformed),
        ("subject-tag-junk.eml", ParseErrorKind::MissingField),
    ] {
        let err = parse(&data(&format!("broken/{file}"))).unwrap_err();
        assert_eq!((err.kind, err.format), (kind, "spamcop"), "{file}: {err}");
    }
}

#[test]
fn every_prefix_is_handled() {
    let raw = data("spamvertised-multiple.eml");
    for cut in 0..raw.len() {
        let _ = parse(&raw[..cut]);
    }
}
