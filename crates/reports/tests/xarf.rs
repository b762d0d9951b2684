//! X-ARF corpora: version 4 JSON (`tests/data/xarf/`) and legacy 0.1/0.2 mails
//! (`tests/data/xarf_legacy/`), through the registry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::path::PathBuf;

use warden_model::{AbuseClass, AbuseEvent, MissingField, Protocol, Severity, SourceFormat};
use warden_reports::registry::by_name;
use warden_reports::{Limits, ParseErrorKind, parse};

fn data(dir: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn events(dir: &str, name: &str) -> Vec<AbuseEvent> {
    let records = parse(&data(dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    records
        .iter()
        .map(|r| {
            r.as_event()
                .unwrap_or_else(|| panic!("{name}: not an event"))
                .clone()
        })
        .collect()
}

fn one(dir: &str, name: &str) -> AbuseEvent {
    let mut evs = events(dir, name);
    assert_eq!(evs.len(), 1, "{name}");
    evs.remove(0)
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

const V4: &[Expect] = &[
    e(
        "activity-loginattack.json",
        Some("192.0.2.55"),
        Some(52223),
        Some("2023-05-02T14:17:10Z"),
        LoginAttack,
        &[],
    ),
    e(
        "activity-portscan-offset.json",
        Some("198.51.100.7"),
        None,
        Some("2023-05-03T07:00:00Z"),
        PortScan,
        &[SourcePort],
    ),
    e(
        "activity-ddos-string-port-epoch.json",
        Some("203.0.113.90"),
        Some(123),
        Some("2023-05-03T08:00:00Z"),
        Ddos,
        &[],
    ),
    e(
        "abuse-spam-trap.json",
        Some("192.0.2.61"),
        Some(33012),
        Some("2023-05-04T06:30:12Z"),
        Spam,
        &[],
    ),
    e(
        "fraud-phishing-url.json",
        None,
        None,
        Some("2023-05-05T11:11:11Z"),
        Phishing,
        &[],
    ),
    e(
        "infected-bot-ipv6.json",
        Some("2001:db8:beef::17"),
        Some(40001),
        Some("2023-05-06T00:00:01Z"),
        InfectedHost,
        &[],
    ),
    e(
        "vulnerability-openresolver.json",
        Some("198.51.100.53"),
        None,
        Some("2023-05-07T00:00:00Z"),
        VulnerableService,
        &[SourcePort, TimeZone, Seconds],
    ),
    e(
        "copyright-source-object.json",
        Some("203.0.113.21"),
        Some(6881),
        Some("2023-05-08T10:00:00Z"),
        Copyright,
        &[TimeZone],
    ),
    e(
        "informational-unknown-type.json",
        Some("192.0.2.222"),
        None,
        Some("2023-05-08T12:00:00Z"),
        Other,
        &[SourcePort],
    ),
    e(
        "version3-abusix-style.json",
        Some("192.0.2.55"),
        Some(54321),
        Some("2018-02-05T14:17:10Z"),
        Spam,
        &[],
    ),
    e(
        "bom-lowercase-keys.json",
        Some("198.51.100.77"),
        None,
        Some("2023-05-10T10:10:10Z"),
        PortScan,
        &[SourcePort],
    ),
    e(
        "content-malware-url.json",
        Some("203.0.113.80"),
        None,
        Some("2023-05-11T12:00:00Z"),
        Malware,
        &[SourcePort],
    ),
    e(
        "arf-wrapped.eml",
        Some("192.0.2.99"),
        Some(60022),
        Some("2023-05-12T07:55:00Z"),
        LoginAttack,
        &[],
    ),
];

const LEGACY: &[Expect] = &[
    e(
        "fail2ban-login-attack.eml",
        Some("192.0.2.44"),
        None,
        Some("2023-01-05T09:00:00Z"),
        LoginAttack,
        &[SourcePort],
    ),
    e(
        "sshcure-xxarf-plain.eml",
        Some("198.51.100.19"),
        None,
        Some("2023-01-06T11:58:20Z"),
        LoginAttack,
        &[SourcePort],
    ),
    e(
        "pyxarf-quoted-printable.eml",
        Some("203.0.113.26"),
        None,
        Some("2014-02-03T01:13:35Z"),
        LoginAttack,
        &[SourcePort],
    ),
    e(
        "ddos-ipv6.eml",
        Some("2001:db8:aaaa::80"),
        None,
        Some("2023-01-07T02:45:00Z"),
        Ddos,
        &[SourcePort],
    ),
    e(
        "phishing-uri.eml",
        None,
        None,
        Some("2023-01-08T07:30:00Z"),
        Phishing,
        &[],
    ),
    e(
        "portscan-german-date.eml",
        Some("198.51.100.99"),
        None,
        Some("2023-01-09T12:45:12Z"),
        PortScan,
        &[SourcePort],
    ),
    e(
        "malware-attack-no-zone.eml",
        Some("203.0.113.45"),
        None,
        Some("2023-01-10T09:12:44Z"),
        Malware,
        &[SourcePort, TimeZone],
    ),
    e(
        "yaml-document-markers.eml",
        Some("192.0.2.130"),
        None,
        Some("2023-01-11T10:59:00Z"),
        LoginAttack,
        &[SourcePort],
    ),
    e(
        "spam-source-port.eml",
        Some("192.0.2.140"),
        Some(48211),
        Some("2023-01-12T11:58:00Z"),
        Spam,
        &[],
    ),
    e(
        "crlf-base64-report.eml",
        Some("198.51.100.33"),
        None,
        Some("2023-01-13T12:30:00Z"),
        LoginAttack,
        &[SourcePort],
    ),
    e(
        "info-blacklisting.eml",
        Some("203.0.113.250"),
        None,
        Some("2023-01-13T23:59:59Z"),
        Blocklisting,
        &[SourcePort],
    ),
    e(
        "no-date-tlp.eml",
        Some("192.0.2.66"),
        None,
        None,
        InfectedHost,
        &[SourcePort, Time],
    ),
];

fn check(dir: &str, corpus: &[Expect], format: SourceFormat) {
    assert!(corpus.len() >= 12);
    for x in corpus {
        let ev = one(dir, x.file);
        assert_eq!(ev.source_format, format, "{}", x.file);
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
        assert!(!ev.extra["xarf_class"].is_empty() || !ev.extra["xarf_type"].is_empty());
    }
}

#[test]
fn xarf_v4_corpus() {
    check("xarf", V4, SourceFormat::Xarf);
}

#[test]
fn xarf_legacy_corpus() {
    check("xarf_legacy", LEGACY, SourceFormat::XarfLegacy);
}

#[test]
fn xarf_v4_details() {
    let ev = one("xarf", "activity-loginattack.json");
    assert_eq!(ev.reporter.org.as_deref(), Some("Honeynet Example"));
    assert_eq!(ev.reporter.email.as_deref(), Some("soc@honeynet.example"));
    assert_eq!(ev.reporter.domain.as_deref(), Some("honeynet.example"));
    assert_eq!(ev.extra["destination_port"], "22");
    assert_eq!(ev.extra["service"], "ssh");
    let ddos = one("xarf", "activity-ddos-string-port-epoch.json");
    assert_eq!(ddos.subject.protocol, Some(Protocol::Udp));
    let phish = one("xarf", "fraud-phishing-url.json");
    assert_eq!(
        phish.subject.domain.as_deref(),
        Some("login-bank.phish.test")
    );
    assert_eq!(phish.severity, Some(Severity::High));
    let lc = one("xarf", "bom-lowercase-keys.json");
    assert_eq!(lc.extra["source_port_unreadable"], "0");
    let info = one("xarf", "informational-unknown-type.json");
    assert_eq!(info.severity, Some(Severity::Info));
    let wrapped = one("xarf", "arf-wrapped.eml");
    assert_eq!(
        wrapped.reporter.email.as_deref(),
        Some("xarf@reporter.example")
    );
    assert_eq!(
        wrapped.received.unwrap().to_rfc3339(),
        "2023-05-12T08:00:00+00:00"
    );
    let snake = one("xarf", "snake-case-2025.json");
    assert_eq!(snake.extra["xarf_variant"], "snake_case");
    assert_eq!(
        snake.reporter.email.as_deref(),
        Some("abuse@security.example")
    );
    assert_eq!(snake.reporter.org.as_deref(), Some("Example Security"));
    assert_eq!(snake.subject.protocol, Some(Protocol::Tcp));
    let spam = one("xarf", "abuse-spam-trap.json");
    assert_eq!(spam.subject.email.as_deref(), Some("bulk@sender.example"));
    assert_eq!(spam.extra["samples"], "1");
}

#[test]
fn xarf_v4_batch_gives_one_event_per_report() {
    let evs = events("xarf", "array-two-reports.json");
    let ips: Vec<String> = evs
        .iter()
        .map(|e| e.subject.ip.unwrap().to_string())
        .collect();
    assert_eq!(ips, ["192.0.2.1", "192.0.2.2"]);
    assert_eq!(evs[1].subject.port, Some(2222));
}

#[test]
fn xarf_legacy_details() {
    let ev = one("xarf_legacy", "fail2ban-login-attack.eml");
    // `Port` is the attacked service's port, never the subject's source port.
    assert_eq!(ev.extra["destination_port"], "22");
    assert_eq!(ev.subject.port, None);
    assert_eq!(
        ev.reporter.email.as_deref(),
        Some("fail2ban@server1.hoster.example")
    );
    assert!(ev.evidence.excerpt.contains("Failed password for root"));
    assert_eq!(ev.extra["occurrences"], "6");
    let py = one("xarf_legacy", "pyxarf-quoted-printable.eml");
    assert_eq!(py.extra["report_id"], "1234567");
    assert_eq!(py.received, None);
    let phish = one("xarf_legacy", "phishing-uri.eml");
    assert_eq!(
        phish.subject.url.as_deref(),
        Some("http://paypal.account-check.phish.test/login.php")
    );
    assert_eq!(
        phish.subject.domain.as_deref(),
        Some("paypal.account-check.phish.test")
    );
    let nd = one("xarf_legacy", "no-date-tlp.eml");
    assert_eq!(nd.reporter.email.as_deref(), Some("cert@cert.example"));
    assert_eq!(nd.extra["tlp"], "amber");
    let y = one("xarf_legacy", "yaml-document-markers.eml");
    assert_eq!(y.extra["report_id"], "abc-123");
}

#[test]
fn broken_inputs_are_errors_not_panics() {
    let xarf = by_name("xarf").unwrap();
    for (file, kind) in [
        ("truncated.json", ParseErrorKind::Malformed),
        ("no-report.json", ParseErrorKind::MissingField),
        ("report-not-object.json", ParseErrorKind::MissingField),
        ("no-class-no-type.json", ParseErrorKind::MissingField),
        ("array-of-numbers.json", ParseErrorKind::Malformed),
    ] {
        // Through the X-ARF parser itself: detection may (rightly) not even claim some of these.
        let raw = data("xarf/broken", file);
        let err = (xarf.parse)(&raw, &Limits::default()).unwrap_err();
        assert_eq!((err.kind, err.format), (kind, "xarf"), "{file}: {err}");
        assert!(parse(&raw).is_err(), "{file}");
    }
    for (file, kind) in [
        ("no-report-part.eml", ParseErrorKind::MissingField),
        ("not-a-mail.eml", ParseErrorKind::MissingField),
        ("truncated.eml", ParseErrorKind::MissingField),
    ] {
        let err = parse(&data("xarf_legacy/broken", file)).unwrap_err();
        assert_eq!(
            (err.kind, err.format),
            (kind, "xarf_legacy"),
            "{file}: {err}"
        );
    }
}

#[test]
fn every_prefix_is_handled() {
    for (dir, file) in [
        ("xarf", "activity-loginattack.json"),
        ("xarf_legacy", "fail2ban-login-attack.eml"),
    ] {
        let raw = data(dir, file);
        for cut in (0..raw.len()).step_by(5) {
            let _ = parse(&raw[..cut]);
        }
    }
}
