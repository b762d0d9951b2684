//! Free-form mail samples: every sample in `tests/data/freeform/` (see its README for the quirk
//! each reproduces) parsed, with the subject, port, UTC time, class, confidence and missing fields
//! asserted. Property tests make sure no input panics the extractor.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use std::net::IpAddr;
use warden_model::{AbuseClass, AbuseEvent, MissingField, Protocol, SourceFormat};
use warden_reports::formats::freeform::{self, extract, times};
use warden_reports::{Limits, ParseErrorKind, Record};

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/freeform/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(name: &str) -> Vec<AbuseEvent> {
    let raw = sample(name);
    let records =
        freeform::parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    records
        .into_iter()
        .map(|r| match r {
            Record::Event(e) => *e,
            other => panic!("{name}: unexpected record {other:?}"),
        })
        .collect()
}

fn one(name: &str) -> AbuseEvent {
    let mut v = events(name);
    assert_eq!(v.len(), 1, "{name}: {v:#?}");
    v.remove(0)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn in_range(e: &AbuseEvent, lo: f32, hi: f32) {
    assert!(
        (lo..=hi).contains(&e.confidence),
        "confidence {} not in {lo}..={hi}: {:?}",
        e.confidence,
        e.extra.get("confidence_reason")
    );
}

#[test]
fn fail2ban_whois_and_syslog_without_year() {
    let e = one("fail2ban-sshd.eml");
    assert_eq!(e.source_format, SourceFormat::FreeForm);
    assert_eq!(e.subject.ip, ip("198.51.100.2"));
    assert_eq!(e.subject.port, Some(40112));
    assert_eq!(e.subject.protocol, Some(Protocol::Tcp));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 3, 14, 15));
    assert!(!t.zone_given);
    assert_eq!(e.missing, vec![MissingField::TimeZone]);
    assert!(e.extra["time_note"].contains("inferred"));
    assert_eq!(
        e.extra["observations"], "8",
        "subject line, 3 prose lines, 4 log lines"
    );
    assert_eq!(
        e.reporter.email.as_deref(),
        Some("fail2ban@host.reporter.example")
    );
    assert_eq!(e.received, Some(utc(2026, 11, 24, 5, 2, 11)));
    in_range(&e, 0.75, 0.95);
}

#[test]
fn denyhosts_bare_addresses_without_time() {
    let v = events("denyhosts.eml");
    let ips: Vec<_> = v.iter().map(|e| e.subject.ip).collect();
    assert_eq!(ips, vec![ip("198.51.100.23"), ip("203.0.113.77")]);
    for e in &v {
        assert_eq!(e.class, AbuseClass::LoginAttack);
        assert!(e.observed.is_none());
        assert_eq!(
            e.missing,
            vec![MissingField::SourcePort, MissingField::Time]
        );
        assert!(e.extra["skipped_ips"].contains("10.20.30.40"));
        in_range(e, 0.5, 0.8);
    }
}

#[test]
fn csf_iptables_source_port_and_victim() {
    let e = one("csf-lfd-portscan.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.44"));
    assert_eq!(e.subject.port, Some(51234));
    assert_eq!(e.class, AbuseClass::PortScan);
    assert_eq!(e.extra["destination_ips"], "203.0.113.10");
    // The log line (with the port) has no zone; it is not silently given the Time: line's zone.
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 3, 14, 10));
    assert!(!t.zone_given);
    assert_eq!(e.extra["first_seen"], "2026-11-20T02:14:15+00:00");
}

#[test]
fn german_mez_quoted_printable_latin1() {
    let e = one("german-mez-qp-latin1.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.2"));
    assert_eq!(e.subject.port, Some(40112));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 2, 14, 15));
    assert!(t.zone_given);
    assert!(e.missing.is_empty(), "{:?}", e.missing);
    assert_eq!(e.reporter.org.as_deref(), Some("Abuse-Team Müller"));
    assert_eq!(
        e.reporter.email.as_deref(),
        Some("noc@beispiel.example"),
        "Reply-To wins"
    );
    assert_eq!(e.reporter.domain.as_deref(), Some("beispiel.example"));
    assert!(e.extra["class_cues"].contains("brute-force"));
    assert_eq!(e.extra["destination_ips"], "203.0.113.5");
    in_range(&e, 0.75, 0.95);
}

#[test]
fn french_base64() {
    let e = one("french-base64.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.8"));
    assert_eq!(e.subject.port, Some(51000));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 20, 2, 14, 15));
    assert!(e.missing.is_empty());
}

#[test]
fn spanish_prose_and_iso_log() {
    let e = one("spanish-iso-log.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.9"));
    assert_eq!(e.subject.port, Some(40555));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 3, 14, 15));
    assert!(t.zone_given);
    assert!(e.extra["class_cues"].contains("intentos de acceso"));
    assert_eq!(e.extra["observations"], "3");
    in_range(&e, 0.8, 0.95);
}

#[test]
fn portuguese_iptables_with_negative_offset() {
    let e = one("portuguese-iptables.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.81"));
    // The earliest line with both time and port: its own port, not the other line's.
    assert_eq!(e.subject.port, Some(52811));
    assert_eq!(e.subject.protocol, Some(Protocol::Tcp));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 6, 14, 15));
    assert!(t.zone_given);
    assert!(e.missing.is_empty());
    assert_eq!(e.extra["destination_ips"], "203.0.113.33");
    assert_eq!(e.extra["last_seen"], "2026-11-20T06:14:19+00:00");
    assert!(e.extra["class_cues"].contains("força bruta"));
}

#[test]
fn russian_spam() {
    let e = one("russian-spam.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.30"));
    assert_eq!(e.class, AbuseClass::Spam);
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 20, 0, 14, 15));
    assert_eq!(e.missing, vec![MissingField::SourcePort]);
}

#[test]
fn html_only_table_rows() {
    let v = events("html-only-table.eml");
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(
        (v[0].subject.ip, v[0].subject.port),
        (ip("198.51.100.61"), Some(50001))
    );
    assert_eq!(
        (v[1].subject.ip, v[1].subject.port),
        (ip("198.51.100.62"), Some(50002))
    );
    assert_eq!(v[0].observed.unwrap().utc, utc(2026, 11, 20, 3, 14, 15));
    assert_eq!(v[1].observed.unwrap().utc, utc(2026, 11, 20, 3, 15, 16));
    assert!(
        v.iter()
            .all(|e| e.class == AbuseClass::LoginAttack && e.missing.is_empty())
    );
    assert!(v[0].extra["subject_cue"].contains("Source IP"));
}

#[test]
fn zone_only_in_the_column_heading() {
    let v = events("text-table-zone-in-heading.eml");
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(
        (v[0].subject.ip, v[0].subject.port),
        (ip("198.51.100.71"), Some(50071))
    );
    assert_eq!(
        (v[1].subject.ip, v[1].subject.port),
        (ip("198.51.100.72"), Some(50072))
    );
    let t = v[0].observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 2, 14, 15));
    assert!(t.zone_given);
    assert!(v[0].extra["time_note"].contains("Zeit (MEZ)"));
    assert_eq!(v[0].class, AbuseClass::PortScan);
    assert!(v.iter().all(|e| e.missing.is_empty()));
    assert_eq!(v[0].extra["destination_ips"], "203.0.113.60");
}

#[test]
fn victim_is_not_a_subject() {
    let e = one("victim-and-attacker.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.77"));
    assert_eq!(e.subject.port, Some(50112));
    assert_eq!(e.extra["destination_ips"], "203.0.113.5");
    assert!(e.extra["skipped_ips"].contains("10.0.0.5"));
}

#[test]
fn defanged_phishing_urls() {
    let v = events("phishing-defanged.eml");
    assert_eq!(v.len(), 2, "{v:#?}");
    assert_eq!(
        v[0].subject.url.as_deref(),
        Some("https://secure-login.bank-example.com/account/verify.php")
    );
    assert_eq!(
        v[0].subject.domain.as_deref(),
        Some("secure-login.bank-example.com")
    );
    assert_eq!(
        v[1].subject.url.as_deref(),
        Some("http://198.51.100.66/paypal/signin/")
    );
    assert_eq!(v[1].subject.ip, ip("198.51.100.66"));
    for e in &v {
        assert_eq!(e.class, AbuseClass::Phishing);
        assert_eq!(e.extra["defanged"], "true");
        assert!(e.missing.contains(&MissingField::Time));
        in_range(e, 0.6, 0.9);
    }
    assert!(v.iter().all(|e| {
        e.subject
            .url
            .as_deref()
            .is_some_and(|u| !u.contains("cert.example"))
    }));
}

#[test]
fn december_log_in_january_mail() {
    let e = one("syslog-december-in-january.eml");
    assert_eq!(e.observed.unwrap().utc, utc(2026, 12, 31, 23, 59, 58));
    assert!(e.extra["time_note"].contains("2026"));
}

#[test]
fn us_ambiguous_date_is_reported() {
    let e = one("us-ambiguous-date.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.12"));
    assert_eq!(e.class, AbuseClass::PortScan);
    // 5 November (closer to the 24 November report than 11 May), 3:14:15 PM EST.
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 5, 20, 14, 15));
    assert!(e.extra["time_note"].contains("ambiguous"));
    assert_eq!(e.missing, vec![MissingField::SourcePort]);
}

#[test]
fn key_value_block() {
    let e = one("keyvalue-ddos.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.50"));
    assert_eq!(e.subject.port, Some(123));
    assert_eq!(e.class, AbuseClass::Ddos);
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 20, 3, 14, 15));
    assert_eq!(e.extra["time_from"], "same paragraph");
    assert_eq!(e.extra["destination_ips"], "203.0.113.9");
    assert_eq!(e.reporter.org.as_deref(), Some("Example Abuse Team"));
}

#[test]
fn dutch_ipv6_with_port() {
    let e = one("dutch-ipv6.eml");
    assert_eq!(e.subject.ip, ip("2001:db8:dead:beef::25"));
    assert_eq!(e.subject.port, Some(41000));
    assert_eq!(e.class, AbuseClass::LoginAttack);
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 20, 2, 14, 15));
    assert!(e.missing.is_empty());
}

#[test]
fn version_numbers_and_url_paths_are_not_addresses() {
    let e = one("version-numbers.eml");
    assert_eq!(e.subject.ip, ip("198.51.100.99"));
    assert_eq!(e.class, AbuseClass::PortScan);
    assert!(e.extra["urls"].contains("198.51.100.200"));
}

#[test]
fn address_only_in_the_subject_line() {
    let mail = b"From: root@fw.reporter.example\nDate: Tue, 24 Nov 2026 06:00:00 +0000\n\
Subject: lfd: (PS_LIMIT) Port Scan detected from 198.51.100.45\n\nSee subject.\n";
    let records = freeform::parse(mail, &Limits::default()).unwrap();
    let e = records[0].as_event().unwrap();
    assert_eq!(e.subject.ip, ip("198.51.100.45"));
    assert_eq!(e.class, AbuseClass::PortScan);
    assert_eq!(e.extra["subject_role"], "source");
}

#[test]
fn forwarded_spam_attachment_uses_the_received_chain() {
    let e = one("forwarded-spam-attachment.eml");
    // Not the private top hop, not the forgeable bottom hop, not the address in the spam's body.
    assert_eq!(e.subject.ip, ip("198.51.100.5"));
    assert_eq!(e.class, AbuseClass::Spam);
    let t = e.observed.unwrap();
    assert_eq!(t.utc, utc(2026, 11, 20, 2, 14, 15));
    assert!(t.zone_given);
    assert_eq!(e.extra["time_from"], "Received header");
    assert!(e.extra["urls"].contains("http://pills.example/buy?id=7"));
    assert!(e.evidence.excerpt.contains("198.51.100.5"));
    assert_eq!(e.missing, vec![MissingField::SourcePort]);
    // A guessed class (no cue word) keeps the confidence low.
    in_range(&e, 0.3, 0.6);
}

#[test]
fn quoted_reply_text() {
    let v = events("reply-with-quoted-report.eml");
    let by_ip = |s: &str| v.iter().find(|e| e.subject.ip == ip(s)).unwrap();
    // The reporter's own new words win over the quote for the same address.
    let e = by_ip("198.51.100.77");
    assert_eq!(e.subject.port, Some(50200));
    assert_eq!(e.observed.unwrap().utc, utc(2026, 11, 25, 7, 55, 1));
    assert!(!e.extra.contains_key("quoted_only"));
    // A doubly quoted DenyHosts line: the leading `>` is quoting, not an arrow to a victim.
    let q = by_ip("198.51.100.88");
    assert_eq!(q.extra["subject_role"], "source");
    assert_eq!(q.extra["quoted_only"], "true");
    assert!(q.confidence < e.confidence);
}

#[test]
fn nothing_to_act_on_is_an_error() {
    let err = freeform::parse(&sample("nothing-to-act-on.eml"), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::MissingField);
    assert!(err.message.contains("please stop"), "{err}");
}

#[test]
fn sniff_claims_mail_weakly_and_nothing_else() {
    assert_eq!(
        freeform::sniff(&sample("fail2ban-sshd.eml")),
        freeform::SNIFF_SCORE
    );
    const { assert!(freeform::SNIFF_SCORE > 0 && freeform::SNIFF_SCORE < 50) };
    assert_eq!(freeform::sniff(b"ip,port,time\n198.51.100.2,1,2\n"), 0);
    assert_eq!(freeform::sniff(b"{\"a\": 1}"), 0);
    assert_eq!(freeform::sniff(b""), 0);
    let mbox =
        b"From x@example.org Tue Nov 24 04:35:00 2026\nFrom: a@example.org\nSubject: s\n\nb\n";
    assert_eq!(freeform::sniff(mbox), freeform::SNIFF_SCORE);
}

#[test]
fn limits_are_honoured() {
    let raw = sample("fail2ban-sshd.eml");
    let small = Limits {
        max_input: 100,
        ..Limits::default()
    };
    assert_eq!(
        freeform::parse(&raw, &small).unwrap_err().kind,
        ParseErrorKind::LimitExceeded
    );
    // One source per line over many lines: events are capped by max_records.
    let mut mail = String::from(
        "From: a@reporter.example\nSubject: brute force\nDate: Tue, 24 Nov 2026 06:00:00 +0000\n\n",
    );
    for i in 0..300u32 {
        mail.push_str(&format!(
            "attack from 198.51.{}.{} port 40000\n",
            i / 200,
            i % 200 + 1
        ));
    }
    let capped = Limits {
        max_records: 50,
        ..Limits::default()
    };
    let records = freeform::parse(mail.as_bytes(), &capped).unwrap();
    assert_eq!(records.len(), 50);
    let first = records[0].as_event().unwrap();
    assert!(first.extra["limits"].contains("300 addresses"));
    // A huge paragraph of addresses without times, and a line packed with addresses: bounded
    // work (the paragraph search is windowed, items per line are capped).
    let mut mail = String::from("From: a@reporter.example\nSubject: scan\n\n");
    for i in 0..3_000u32 {
        mail.push_str(&format!("scan from 198.51.{}.{}\n", i / 250, i % 250 + 1));
    }
    mail.push_str("Time: 2026-11-20 03:14:15 UTC\n");
    mail.push_str(&"203.0.113.1 ".repeat(1000));
    mail.push('\n');
    let start = std::time::Instant::now();
    let records = freeform::parse(mail.as_bytes(), &capped).unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(records.len(), 50);
    let first = records[0].as_event().unwrap();
    assert!(
        first.extra["limits"].contains("partly read"),
        "{:?}",
        first.extra
    );
    // Long lines are cut, not scanned whole.
    let long = format!(
        "From: a@reporter.example\nSubject: x\n\nfrom 198.51.100.2 {}\n",
        "A".repeat(100_000)
    );
    let records = freeform::parse(long.as_bytes(), &Limits::default()).unwrap();
    assert!(records[0].as_event().unwrap().extra["limits"].contains("cut"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scan_line_never_panics(s in any::<String>()) {
        let _ = extract::scan_line(&s, None);
        if let Some(h) = extract::table_header(&s) {
            let _ = extract::scan_line(&s, Some(&h));
        }
    }

    #[test]
    fn scan_line_never_panics_on_address_like_text(
        s in r"([0-9a-fA-F:.\[\]#/ >-]|port |from |SRC=|hxxp://|\[\.\]|é|ü){0,60}"
    ) {
        let _ = extract::scan_line(&s, None);
    }

    #[test]
    fn find_times_never_panics(s in r"([0-9:./ -]|Nov|MEZ|UTC|[+-]|PM|T|Z|г\.|в |à|h){0,40}") {
        let ctx = times::TimeContext { reference: Some(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap()) };
        for t in times::find_times(&s, &ctx) {
            prop_assert!(t.start <= t.end && t.end <= s.len());
        }
    }

    #[test]
    fn parse_never_panics(body in any::<String>(), subject in "[ -~]{0,40}") {
        let mail = format!("From: a@reporter.example\nSubject: {subject}\nDate: Tue, 24 Nov 2026 06:00:00 +0000\n\n{body}");
        let _ = freeform::parse(mail.as_bytes(), &Limits::default());
    }

    #[test]
    fn parse_never_panics_on_bytes(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = freeform::sniff(&raw);
        let _ = freeform::parse(&raw, &Limits::default());
    }
}

#[test]
fn detection_picks_freeform_for_every_sample_and_nothing_more_specific() {
    let dir = format!("{}/tests/data/freeform", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let raw = std::fs::read(&path).unwrap();
            let format = warden_reports::detect(&raw).map(|f| f.name);
            assert_eq!(format, Some("freeform"), "{}", path.display());
        }
    }
    // A more specific mail format wins over the fallback when it recognises its own.
    for specific in ["arf", "xarf", "xarf_legacy", "spamcop"] {
        let dir = format!("{}/tests/data/{specific}", env!("CARGO_MANIFEST_DIR"));
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&path).unwrap();
                let name = warden_reports::detect(&raw).map(|f| f.name);
                assert_ne!(name, Some("freeform"), "{}", path.display());
            }
        }
    }
}
