//! Shadowserver CSV samples (tests/data/shadowserver, see its README for each file's quirk):
//! per sample the recognised report type, IP, port, UTC time, class and severity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{TimeZone, Utc};
use std::net::IpAddr;
use warden_model::{AbuseClass, AbuseEvent, MissingField, Protocol, Severity};
use warden_reports::formats::shadowserver::{self, Mapping};
use warden_reports::{Limits, ParseErrorKind, Record, registry};

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/data/shadowserver/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn events(name: &str) -> Vec<AbuseEvent> {
    let input = sample(name);
    assert_eq!(
        registry::detect(&input).map(|f| f.name),
        Some("shadowserver"),
        "{name}"
    );
    warden_reports::parse(&input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| match r {
            Record::Event(e) => *e,
            other => panic!("{name}: not an event: {other:?}"),
        })
        .collect()
}

struct Want {
    file: &'static str,
    report: &'static str,
    rows: usize,
    ip: &'static str,
    port: Option<u16>,
    time: (u32, u32, u32, u32), // day, hour, minute, second in 2026-11
    class: AbuseClass,
    severity: Severity,
}

#[rustfmt::skip]
const WANT: &[Want] = &[
    Want { file: "scan_rdp.csv", report: "scan_rdp", rows: 2, ip: "192.0.2.10", port: Some(3389), time: (20, 3, 14, 15), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "scan_smb.csv", report: "scan_smb", rows: 2, ip: "2001:db8:10::5", port: Some(445), time: (20, 4, 0, 0), class: AbuseClass::VulnerableService, severity: Severity::Critical },
    Want { file: "scan_telnet.csv", report: "scan_telnet", rows: 2, ip: "203.0.113.30", port: Some(23), time: (20, 5, 1, 2), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "scan_ssh.csv", report: "scan_ssh", rows: 2, ip: "192.0.2.40", port: Some(22), time: (20, 6, 30, 0), class: AbuseClass::VulnerableService, severity: Severity::Low },
    Want { file: "scan_http_vulnerable.csv", report: "scan_http_vulnerable", rows: 2, ip: "198.51.100.50", port: Some(443), time: (21, 7, 45, 12), class: AbuseClass::VulnerableService, severity: Severity::Critical },
    Want { file: "scan_dns.csv", report: "scan_dns", rows: 2, ip: "192.0.2.53", port: Some(53), time: (20, 8, 0, 0), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "scan_ntp.csv", report: "scan_ntp", rows: 2, ip: "203.0.113.123", port: Some(123), time: (20, 9, 10, 11), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "scan_elasticsearch.csv", report: "scan_elasticsearch", rows: 2, ip: "198.51.100.92", port: Some(9200), time: (20, 10, 0, 0), class: AbuseClass::VulnerableService, severity: Severity::High },
    Want { file: "scan_redis.csv", report: "scan_redis", rows: 2, ip: "192.0.2.79", port: Some(6379), time: (20, 11, 11, 11), class: AbuseClass::VulnerableService, severity: Severity::High },
    Want { file: "scan_snmp.csv", report: "scan_snmp", rows: 1, ip: "203.0.113.161", port: Some(161), time: (20, 12, 0, 0), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "event4_sinkhole.csv", report: "event4_sinkhole", rows: 3, ip: "100.64.12.34", port: Some(51234), time: (20, 13, 5, 44), class: AbuseClass::InfectedHost, severity: Severity::High },
    Want { file: "event4_sinkhole_http.csv", report: "event4_sinkhole_http", rows: 1, ip: "192.0.2.66", port: Some(49152), time: (20, 14, 0, 0), class: AbuseClass::InfectedHost, severity: Severity::High },
    Want { file: "event4_honeypot_brute_force.csv", report: "event4_honeypot_brute_force", rows: 1, ip: "198.51.100.77", port: Some(53211), time: (20, 15, 0, 0), class: AbuseClass::LoginAttack, severity: Severity::High },
    Want { file: "compromised_website.csv", report: "compromised_website", rows: 1, ip: "192.0.2.180", port: Some(443), time: (20, 16, 0, 0), class: AbuseClass::CompromisedServer, severity: Severity::High },
    Want { file: "blocklist.csv", report: "blocklist", rows: 1, ip: "203.0.113.9", port: None, time: (20, 17, 0, 0), class: AbuseClass::Blocklisting, severity: Severity::Medium },
    Want { file: "scan_chargen.csv", report: "scan_chargen", rows: 1, ip: "192.0.2.19", port: Some(19), time: (20, 18, 0, 0), class: AbuseClass::VulnerableService, severity: Severity::Medium },
    Want { file: "device_id.csv", report: "device_id", rows: 1, ip: "198.51.100.8", port: Some(8080), time: (20, 19, 0, 0), class: AbuseClass::Other, severity: Severity::Info },
];

#[test]
fn every_sample_parses_to_the_expected_first_event() {
    for w in WANT {
        let evs = events(w.file);
        assert_eq!(evs.len(), w.rows, "{}", w.file);
        let e = &evs[0];
        assert_eq!(
            e.extra.get("report_type").map(String::as_str),
            Some(w.report),
            "{}",
            w.file
        );
        assert_eq!(
            e.subject.ip,
            Some(w.ip.parse::<IpAddr>().unwrap()),
            "{}",
            w.file
        );
        assert_eq!(e.subject.port, w.port, "{}", w.file);
        let (d, h, m, s) = w.time;
        let t = e.observed.expect(w.file);
        assert_eq!(
            t.utc.with_nanosecond_zero(),
            Utc.with_ymd_and_hms(2026, 11, d, h, m, s).unwrap(),
            "{}",
            w.file
        );
        assert!(
            t.zone_given,
            "{}: Shadowserver times are UTC by definition",
            w.file
        );
        assert_eq!(e.class, w.class, "{}", w.file);
        assert_eq!(e.severity, Some(w.severity), "{}", w.file);
        assert_eq!(e.confidence, 1.0, "{}", w.file);
        assert_eq!(e.reporter.domain.as_deref(), Some("shadowserver.org"));
        assert_eq!(e.evidence.sha256.len(), 64);
        assert!(
            e.evidence.excerpt.contains(w.ip),
            "{}: excerpt {:?}",
            w.file,
            e.evidence.excerpt
        );
    }
}

trait NanoZero {
    fn with_nanosecond_zero(self) -> Self;
}
impl NanoZero for chrono::DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap()
    }
}

#[test]
fn at_least_twelve_report_types_are_covered() {
    let types: std::collections::BTreeSet<_> = WANT.iter().map(|w| w.report).collect();
    assert!(types.len() >= 12);
    assert!(Mapping::builtin().report_types().len() >= 20);
}

#[test]
fn multi_line_quoted_banner_is_one_row() {
    let evs = events("scan_telnet.csv");
    assert_eq!(
        evs[0].extra["banner"],
        "Welcome, \"admin\"\r\nBusyBox v1.19 login:"
    );
    assert_eq!(evs[1].subject.port, Some(2323));
    assert_eq!(evs[0].subject.protocol, Some(Protocol::Tcp));
    assert_eq!(evs[0].subject.domain.as_deref(), Some("cam-30.example.org"));
    assert_eq!(evs[0].subject.asn, Some(64502));
}

#[test]
fn row_severity_overrides_and_empty_falls_back() {
    let smb = events("scan_smb.csv");
    assert_eq!(smb[0].severity, Some(Severity::Critical));
    assert_eq!(smb[1].severity, Some(Severity::Medium));
    assert_eq!(smb[0].extra["smb_implant"], "Y");
    // Redis has no severity column at all: the mapping's default (high) applies.
    assert!(
        events("scan_redis.csv")
            .iter()
            .all(|e| e.severity == Some(Severity::High))
    );
}

#[test]
fn fractional_seconds_keep_their_precision() {
    let ntp = events("scan_ntp.csv");
    let t = ntp[1].observed.unwrap();
    assert_eq!(t.precision, warden_model::TimePrecision::Subsecond);
    assert_eq!(t.utc.timestamp_subsec_millis(), 500);
    let bf = events("event4_honeypot_brute_force.csv");
    assert_eq!(
        bf[0].observed.unwrap().utc.timestamp_subsec_micros(),
        123_456
    );
    assert!(
        !bf[0].extra.contains_key("password"),
        "credentials are not copied"
    );
    assert_eq!(bf[0].extra["client_version"], "SSH-2.0-Go");
}

#[test]
fn bad_row_is_rejected_alone_and_kept() {
    let input = sample("event4_sinkhole.csv");
    let report =
        shadowserver::parse_report(&input, Mapping::builtin(), &Limits::default()).unwrap();
    assert_eq!(report.report_type, "event4_sinkhole");
    assert_eq!(report.events.len(), 2);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].line, 3);
    assert!(
        report.rejected[0].reason.contains("999.64.12.35"),
        "{}",
        report.rejected[0].reason
    );
    assert!(report.rejected[0].excerpt.contains("999.64.12.35"));

    // Through the registry the bad row stays in place as a zero-confidence event.
    let evs = events("event4_sinkhole.csv");
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[1].confidence, 0.0);
    assert_eq!(evs[1].extra["row_line"], "3");
    assert!(evs[1].missing.contains(&MissingField::Ip));
    assert_eq!(evs[2].subject.ip, Some("100.64.12.36".parse().unwrap()));
    assert_eq!(evs[2].extra["infection"], "qakbot");
    assert_eq!(evs[0].extra["dst_ip"], "192.0.2.200");
    assert!(evs[0].missing.is_empty(), "{:?}", evs[0].missing);
}

#[test]
fn sinkhole_request_url_is_not_the_subject() {
    let e = &events("event4_sinkhole_http.csv")[0];
    assert_eq!(e.subject.url, None);
    assert_eq!(e.extra["http_url"], "/gate.php?id=abc");
    assert_eq!(
        e.subject.protocol,
        Some(Protocol::Tcp),
        "default protocol from the mapping"
    );
}

#[test]
fn website_and_blocklist_fields() {
    let w = &events("compromised_website.csv")[0];
    assert_eq!(
        w.subject.url.as_deref(),
        Some("https://shop.example/checkout/")
    );
    assert_eq!(w.subject.domain.as_deref(), Some("shop.example"));
    let b = &events("blocklist.csv")[0];
    assert_eq!(b.missing, vec![MissingField::SourcePort]);
    assert_eq!(b.extra["reason"], "hijacked prefix");
}

/// The acceptance test for "a new report type is mapping data only": a type Warden has never
/// heard of, defined in a mapping text, parsed from a CSV of it.
#[test]
fn new_report_type_from_mapping_text_only() {
    let mapping = format!(
        "{}\n{}",
        shadowserver::BUILTIN_TOML,
        r#"
[[report]]
name = "scan_quantum_toaster"
title = "Accessible Quantum Toaster"
class = "vulnerable_service"
severity = "low"
protocol = "udp"
fields = { port = ["toaster_port"] }
match = { columns = ["toast_level", "crumb_tray"], tags = ["qtoaster"] }
keep = ["toast_level"]
"#
    );
    let mapping = Mapping::from_toml(&mapping).unwrap();
    let csv = b"timestamp,severity,ip,toaster_port,tag,toast_level,crumb_tray\n\
                2026-11-22 01:02:03,,192.0.2.77,4711,qtoaster,11,full\n";
    // The built-in mapping does not know it ...
    let err = shadowserver::parse_report(csv, Mapping::builtin(), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Unsupported);
    assert!(err.message.contains("toast_level"), "{err}");
    // ... the extended one does.
    let records = shadowserver::parse_with_mapping(csv, &mapping, &Limits::default()).unwrap();
    let e = records[0].as_event().unwrap();
    assert_eq!(e.extra["report_type"], "scan_quantum_toaster");
    assert_eq!(e.subject.port, Some(4711));
    assert_eq!(e.subject.protocol, Some(Protocol::Udp));
    assert_eq!(e.severity, Some(Severity::Low));
    assert_eq!(e.extra["toast_level"], "11");
    assert_eq!(
        e.observed.unwrap().utc,
        Utc.with_ymd_and_hms(2026, 11, 22, 1, 2, 3).unwrap()
    );
}

#[test]
fn whole_file_errors() {
    let l = Limits::default();
    let m = Mapping::builtin();
    let all_bad = b"timestamp,ip,port,tag,rdp_protocol\nyesterday,192.0.2.1,3389,rdp,RDP\n";
    let e = shadowserver::parse_report(all_bad, m, &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Malformed);
    assert!(e.message.contains("bad timestamp"), "{e}");
    assert_eq!(
        shadowserver::parse_report(b"", m, &l).unwrap_err().kind,
        ParseErrorKind::Malformed
    );
    let many = "timestamp,ip,port,tag,rdp_protocol\n".to_string()
        + &"2026-11-20 00:00:00,192.0.2.1,3389,rdp,RDP\n".repeat(5);
    let e = shadowserver::parse_report(
        many.as_bytes(),
        m,
        &Limits {
            max_records: 4,
            ..l
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LimitExceeded);
    let long = format!(
        "timestamp,ip,port,tag,rdp_protocol\n2026-11-20 00:00:00,192.0.2.1,3389,rdp,{}\n2026-11-20 00:00:00,192.0.2.2,3389,rdp,RDP\n",
        "x".repeat(5000)
    );
    let r = shadowserver::parse_report(
        long.as_bytes(),
        m,
        &Limits {
            max_line: 4096,
            ..l
        },
    )
    .unwrap();
    assert_eq!((r.events.len(), r.rejected.len()), (1, 1));
    assert!(r.rejected[0].reason.contains("line limit"));
}

#[test]
fn bad_ports_and_short_rows_are_row_errors() {
    let csv = b"timestamp,ip,port,tag,rdp_protocol\n\
        2026-11-20 00:00:00,192.0.2.1,70000,rdp,RDP\n\
        2026-11-20 00:00:00,192.0.2.2,3389\n\
        2026-11-20 00:00:00,192.0.2.3,3389,rdp,RDP\n";
    let r = shadowserver::parse_report(csv, Mapping::builtin(), &Limits::default()).unwrap();
    assert_eq!(r.events.len(), 1);
    assert!(
        r.rejected[0].reason.contains("bad port"),
        "{:?}",
        r.rejected
    );
    assert!(r.rejected[1].reason.contains("fields"), "{:?}", r.rejected);
}

#[test]
fn mailed_report_attachment() {
    let input = sample("mailed_scan_ssh.eml");
    assert_eq!(
        registry::detect(&input).map(|f| f.name),
        Some("shadowserver")
    );
    let recs = warden_reports::parse(&input).unwrap();
    assert_eq!(recs.len(), 2);
    let e = recs[0].as_event().unwrap();
    assert_eq!(e.extra["report_type"], "scan_ssh");
    assert_eq!(e.subject.ip, Some("192.0.2.40".parse().unwrap()));
    assert_eq!(e.subject.port, Some(22));
}
