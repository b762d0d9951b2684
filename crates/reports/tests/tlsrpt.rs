//! TLS-RPT samples (tests/data/tlsrpt, see its README for each file's trait): typed fields
//! through detection, gzip and mail.
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
use warden_reports::formats::tlsrpt::{PolicyType, TlsRptReport};
use warden_reports::{ParseErrorKind, Record, registry};

fn sample(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/tlsrpt/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn one(name: &str, format: &str) -> TlsRptReport {
    let input = sample(name);
    assert_eq!(
        registry::detect(&input).map(|f| f.name),
        Some(format),
        "{name}"
    );
    let mut v: Vec<TlsRptReport> = warden_reports::parse(&input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| match r {
            Record::TlsRpt(t) => *t,
            other => panic!("{name}: not a TLS report: {other:?}"),
        })
        .collect();
    assert_eq!(v.len(), 1, "{name}");
    v.remove(0)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn check_google(r: &TlsRptReport) {
    assert_eq!(r.organization_name.as_deref(), Some("Google Inc."));
    assert_eq!(
        r.contact_info.as_deref(),
        Some("smtp-tls-reporting@google.com")
    );
    assert_eq!(r.report_id, "2025-11-20T00:00:00Z_example.org");
    assert_eq!(
        r.begin,
        Some(Utc.with_ymd_and_hms(2025, 11, 20, 0, 0, 0).unwrap())
    );
    assert_eq!(
        r.end,
        Some(Utc.with_ymd_and_hms(2025, 11, 20, 23, 59, 59).unwrap())
    );
    let p = &r.policies[0];
    assert_eq!(p.policy_type, PolicyType::Sts);
    assert_eq!(p.policy_domain, "example.org");
    assert_eq!(p.policy_strings[1], "mode: enforce");
    assert_eq!(p.mx_hosts, ["mx1.example.org", "mx2.example.org"]);
    assert_eq!((r.total_successful, r.total_failed), (1520, 0));
    assert!(p.failures.is_empty());
}

#[test]
fn google_plain_gzip_and_mailed() {
    check_google(&one("google.json", "tlsrpt"));
    check_google(&one(
        "google.com!example.org!1763596800!1763683199!001.json.gz",
        "compressed",
    ));
    check_google(&one("mailed_google_gz.eml", "tlsrpt"));
}

#[test]
fn microsoft_style() {
    let r = one("microsoft.json", "tlsrpt");
    assert_eq!(r.report_id, "133763847000000000+example.org");
    let f = &r.policies[0].failures[0];
    assert_eq!(f.result_type, "certificate-host-mismatch");
    assert_eq!(f.sending_mta_ip, ip("203.0.113.17"));
    assert_eq!(f.receiving_ip, ip("192.0.2.112"));
    assert_eq!(
        f.failure_reason_code.as_deref(),
        Some("TLS-CERT-NAME-MISMATCH")
    );
    assert_eq!(f.failed_sessions, 4);
    assert_eq!(r.policies[0].mx_hosts, ["*.example.org"]);
}

fn check_sts_failures(r: &TlsRptReport) {
    let p = &r.policies[0];
    assert_eq!((p.successful_sessions, p.failed_sessions), (0, 37));
    assert_eq!(p.failures[0].result_type, "sts-policy-fetch-error");
    assert_eq!(
        p.failures[0].additional_information.as_deref(),
        Some("https://mail-sender.example/tls/why?id=1")
    );
    assert_eq!(p.failures[1].result_type, "certificate-expired");
    assert_eq!(
        p.failures[1].receiving_mx_helo.as_deref(),
        Some("mx1.example.org")
    );
    assert_eq!(p.failures[1].failed_sessions, 7);
}

#[test]
fn sts_failures_plain_and_mailed_json() {
    check_sts_failures(&one("sts_failures.json", "tlsrpt"));
    check_sts_failures(&one("mailed_json.eml", "tlsrpt"));
}

#[test]
fn dane() {
    let r = one("dane_tlsa.json", "tlsrpt");
    let p = &r.policies[0];
    assert_eq!(p.policy_type, PolicyType::Tlsa);
    assert!(p.policy_strings[0].starts_with("3 1 1 "));
    let kinds: Vec<_> = p.failures.iter().map(|f| f.result_type).collect();
    assert_eq!(kinds, ["tlsa-invalid", "dnssec-invalid"]);
}

#[test]
fn no_policy_found_and_bom() {
    for (name, format) in [("no_policy_found.json", "tlsrpt"), ("bom.json", "tlsrpt")] {
        let r = one(name, format);
        assert_eq!(
            r.policies[0].policy_type,
            PolicyType::NoPolicyFound,
            "{name}"
        );
        assert_eq!(
            r.policies[0].failures[0].result_type,
            "starttls-not-supported"
        );
        assert_eq!(
            r.policies[0].failures[0].receiving_mx_hostname.as_deref(),
            Some("mail.example.com")
        );
    }
}

#[test]
fn ipv6_addresses() {
    let f = &one("ipv6.json", "tlsrpt").policies[0].failures[0];
    assert_eq!(f.sending_mta_ip, ip("2001:db8:5::25"));
    assert_eq!(f.receiving_ip, ip("2001:db8:1::111"));
    assert_eq!(f.result_type, "certificate-not-trusted");
}

#[test]
fn totals_across_policies() {
    let r = one("multi_policy.json", "tlsrpt");
    assert_eq!(r.policies.len(), 2);
    assert_eq!((r.total_successful, r.total_failed), (150, 5));
    assert_eq!(r.policies[1].failures[0].result_type, "validation-failure");
}

#[test]
fn unknown_result_type_is_other() {
    let r = one("unknown_result_type.json", "tlsrpt");
    assert_eq!(r.policies[0].failures[0].result_type, "other");
    assert_eq!(r.total_failed, 2);
}

#[test]
fn optional_fields_missing() {
    let r = one("missing_optional.json", "tlsrpt");
    assert_eq!(r.organization_name, None);
    assert_eq!(r.contact_info, None);
    assert_eq!((r.total_successful, r.total_failed), (12, 0));
    let v = serde_json::to_value(&r).unwrap();
    assert!(v.get("organization_name").is_none());
    assert_eq!(v["policies"][0]["policy_type"], "sts");
}

#[test]
fn unreadable_date_is_unknown_not_1970() {
    let r = one("bad_date.json", "tlsrpt");
    assert_eq!(r.begin, None);
    assert!(r.end.is_some());
}

#[test]
fn truncated_is_a_clear_error() {
    let e = warden_reports::parse(&sample("truncated.json")).unwrap_err();
    assert_eq!((e.format, e.kind), ("tlsrpt", ParseErrorKind::Malformed));
    assert!(e.message.contains("RFC 8460"), "{e}");
}

/// `mx_host_string.json`: `mx-host` as a string, `policy-type` `STS` and a capitalised
/// `result-type` (seen from several senders); before, the report was refused.
#[test]
fn mx_host_string_and_enumerated_case() {
    let r = one("mx_host_string.json", "tlsrpt");
    let p = &r.policies[0];
    assert_eq!(p.mx_hosts, ["*.example.org"]);
    assert_eq!(p.policy_type, PolicyType::Sts);
    assert_eq!(p.failures[0].result_type, "certificate-host-mismatch");
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    // The regular sample needs no repair and says nothing.
    assert!(one("microsoft.json", "tlsrpt").warnings.is_empty());
}

/// `latin1_org_name.json`: a Latin-1 byte in `organization-name`: read, with a warning.
#[test]
fn invalid_utf8_is_tolerated_with_a_warning() {
    let r = one("latin1_org_name.json", "tlsrpt");
    assert!(
        r.organization_name.as_deref().unwrap().starts_with("Soci"),
        "{:?}",
        r.organization_name
    );
    assert_eq!(r.policies.len(), 1);
    assert!(r.warnings[0].contains("UTF-8"), "{:?}", r.warnings);
}
