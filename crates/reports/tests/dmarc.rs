//! DMARC aggregate report samples (tests/data/dmarc, see its README for each file's quirk):
//! typed fields through detection, containers and mail.
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
use warden_reports::formats::dmarc::{Alignment, Disposition, DmarcReport, Policy, Verdict};
use warden_reports::{ParseErrorKind, Record, registry};

fn sample(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/dmarc/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Parses a sample through the registry and returns its DMARC reports, checking the detected
/// format on the way.
fn reports(name: &str, format: &str) -> Vec<DmarcReport> {
    let input = sample(name);
    assert_eq!(
        registry::detect(&input).map(|f| f.name),
        Some(format),
        "{name}"
    );
    warden_reports::parse(&input)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| match r {
            Record::Dmarc(d) => *d,
            other => panic!("{name}: not a DMARC report: {other:?}"),
        })
        .collect()
}

fn one(name: &str, format: &str) -> DmarcReport {
    let mut v = reports(name, format);
    assert_eq!(v.len(), 1, "{name}");
    v.remove(0)
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn check_period(r: &DmarcReport) {
    assert_eq!(
        r.begin,
        Some(Utc.with_ymd_and_hms(2025, 11, 20, 0, 0, 0).unwrap())
    );
    assert_eq!(
        r.end,
        Some(Utc.with_ymd_and_hms(2025, 11, 20, 23, 59, 59).unwrap())
    );
}

fn check_google(r: &DmarcReport) {
    assert_eq!(r.org_name, "google.com");
    assert_eq!(r.email, "noreply-dmarc-support@google.com");
    assert_eq!(
        r.extra_contact_info.as_deref(),
        Some("https://support.google.com/a/answer/2466580")
    );
    assert_eq!(r.report_id, "9391651994964116463");
    check_period(r);
    let p = &r.policy_published;
    assert_eq!(p.domain, "example.org");
    assert_eq!(
        (p.adkim, p.aspf),
        (Some(Alignment::Relaxed), Some(Alignment::Relaxed))
    );
    assert_eq!(
        (p.p, p.sp, p.np),
        (
            Some(Policy::Reject),
            Some(Policy::Reject),
            Some(Policy::Reject)
        )
    );
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.message_count, 15);
    let good = &r.records[0];
    assert_eq!(good.source_ip, ip("192.0.2.25"));
    assert_eq!(good.count, 12);
    assert_eq!(
        (good.dkim, good.spf),
        (Some(Verdict::Pass), Some(Verdict::Pass))
    );
    assert_eq!(good.dkim_results[0].selector.as_deref(), Some("sel2025"));
    assert_eq!(good.spf_results[0].scope, None);
    let spoof = &r.records[1];
    assert_eq!(spoof.disposition, Some(Disposition::Reject));
    assert_eq!(spoof.envelope_from.as_deref(), Some("spoof.example"));
    assert_eq!(spoof.spf_results[0].result, "softfail");
    assert!(spoof.dkim_results.is_empty());
}

#[test]
fn google_plain() {
    check_google(&one("google.xml", "dmarc"));
}

#[test]
fn google_gzip_file() {
    check_google(&one(
        "google.com!example.org!1763596800!1763683199.xml.gz",
        "compressed",
    ));
}

#[test]
fn google_mailed_gzip() {
    check_google(&one("mailed_google_gz.eml", "dmarc"));
}

fn check_outlook(r: &DmarcReport) {
    assert_eq!(r.org_name, "Enterprise Outlook");
    assert_eq!(r.report_id, "a3f1c2e4b5d6478899aabbccddeeff00");
    let p = &r.policy_published;
    assert_eq!(
        (p.adkim, p.aspf),
        (Some(Alignment::Strict), Some(Alignment::Strict))
    );
    assert_eq!(p.p, Some(Policy::Quarantine));
    assert_eq!(p.fo.as_deref(), Some("1"));
    let q = &r.records[0];
    assert_eq!(q.source_ip, ip("203.0.113.44"));
    assert_eq!(q.disposition, Some(Disposition::Quarantine));
    assert_eq!(q.envelope_to.as_deref(), Some("outlook.com"));
    assert_eq!(q.spf_results[0].scope, Some("mfrom"));
    assert_eq!(q.dkim_results[0].result, "fail");
    assert_eq!(r.message_count, 41);
}

#[test]
fn outlook_plain_and_mailed_zip() {
    check_outlook(&one("outlook.xml", "dmarc"));
    check_outlook(&one("mailed_outlook_zip.eml", "dmarc"));
}

fn check_yahoo(r: &DmarcReport) {
    assert_eq!(r.org_name, "Yahoo");
    assert_eq!(r.extra_contact_info, None);
    let p = &r.policy_published;
    assert_eq!(
        (p.adkim, p.aspf, p.sp),
        (None, None, None),
        "absent stays absent"
    );
    assert_eq!(p.p, Some(Policy::None));
    let rec = &r.records[0];
    assert_eq!(rec.envelope_from, None);
    assert_eq!(rec.dkim_results[0].selector, None);
    assert_eq!(rec.spf, Some(Verdict::Fail));
    assert_eq!(rec.spf_results[0].result, "none");
}

#[test]
fn yahoo_missing_fields() {
    check_yahoo(&one("yahoo.xml", "dmarc"));
}

#[test]
fn macos_zip_skips_resource_forks() {
    check_yahoo(&one("macos_folder.zip", "compressed"));
}

fn check_ipv6(r: &DmarcReport) {
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.records[0].source_ip, ip("2001:db8::25"));
    assert_eq!(r.records[1].source_ip, ip("2001:db8:ffff::1"));
    assert_eq!(r.records[1].disposition, Some(Disposition::Reject));
}

#[test]
fn ipv6_plain_and_zip() {
    check_ipv6(&one("ipv6.xml", "dmarc"));
    check_ipv6(&one("ipv6.zip", "compressed"));
}

#[test]
fn many_records_add_up() {
    let r = one("many_records.xml", "dmarc");
    assert_eq!(r.records.len(), 50);
    assert_eq!(r.message_count, (1..=50).sum::<u64>());
    assert_eq!(r.records[49].source_ip, ip("198.51.100.50"));
    assert_eq!(
        r.records
            .iter()
            .filter(|x| x.dkim == Some(Verdict::Fail))
            .count(),
        17
    );
}

#[test]
fn override_reasons() {
    let r = one("override_reasons.xml", "dmarc");
    let reasons = &r.records[0].override_reasons;
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].kind, "mailing_list");
    assert_eq!(
        reasons[0].comment.as_deref(),
        Some("list.example.com rewrote the message")
    );
    assert_eq!(reasons[1].comment, None);
}

#[test]
fn dmarcbis_namespace_and_tags() {
    let r = one("dmarcbis.xml", "dmarc");
    let p = &r.policy_published;
    assert_eq!(p.np, Some(Policy::Reject));
    assert_eq!(p.sp, Some(Policy::Quarantine));
    assert!(p.testing);
    assert_eq!(r.records[0].disposition, Some(Disposition::Pass));
}

#[test]
fn bom_and_blank_lines() {
    let r = one("bom_whitespace.xml", "dmarc");
    assert_eq!(r.org_name, "legacy-mta.example");
    assert_eq!(r.records[0].source_ip, ip("192.0.2.31"));
}

#[test]
fn reporter_errors_and_no_records() {
    let r = one("errors_no_records.xml", "dmarc");
    assert!(r.records.is_empty());
    assert_eq!(r.message_count, 0);
    assert_eq!(r.errors.len(), 2);
    assert!(r.errors[0].contains("DNS timeout"));
    check_period(&r);
}

#[test]
fn two_reports_in_one_mail() {
    let v = reports("mailed_two_reports.eml", "dmarc");
    assert_eq!(v.len(), 2);
    check_yahoo(&v[0]);
    check_ipv6(&v[1]);
}

#[test]
fn truncated_report_is_a_clear_error() {
    let e = warden_reports::parse(&sample("truncated.xml")).unwrap_err();
    assert_eq!(e.format, "dmarc");
    assert_eq!(e.kind, ParseErrorKind::Malformed);
}

#[test]
fn mail_without_report_says_so() {
    let mail = b"From: a@example.org\r\nSubject: Report Domain: example.org\r\nContent-Type: application/zip; name=\"x!y!1!2.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n";
    let e = warden_reports::parse(mail).unwrap_err();
    assert_eq!(e.format, "compressed", "{e}");
}

#[test]
fn json_shape_is_stable() {
    let r = one("yahoo.xml", "dmarc");
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["policy_published"]["p"], "none");
    assert!(v["policy_published"].get("adkim").is_none());
    assert_eq!(v["records"][0]["spf"], "fail");
    assert_eq!(v["begin"], "2025-11-20T00:00:00Z");
}

/// `mixed_case.xml`: enumerated values written `Quarantine`, `FAIL`, `Pass`, `REJECT`, `S`
/// (Microsoft and smaller reporters); before, they were dropped or read as `none`.
#[test]
fn enumerated_values_without_case() {
    let r = one("mixed_case.xml", "dmarc");
    let pp = &r.policy_published;
    assert_eq!(pp.p, Some(Policy::Quarantine));
    assert_eq!(pp.sp, Some(Policy::Reject));
    assert_eq!(pp.adkim, Some(Alignment::Strict));
    assert_eq!(pp.pct, Some(50));
    let rec = &r.records[0];
    assert_eq!(rec.disposition, Some(Disposition::Quarantine));
    assert_eq!(rec.dkim, Some(Verdict::Fail));
    assert_eq!(rec.spf, Some(Verdict::Pass));
    // `<result>Fail</result>` in auth_results: mail-auth alone reads it as "none".
    assert_eq!(rec.dkim_results[0].result, "fail");
    assert_eq!(rec.spf_results[0].result, "fail");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// `pct` is output where the reporter gives it (Google and Outlook samples publish it), and
/// absent where it does not (Yahoo sample).
#[test]
fn pct_is_output() {
    assert_eq!(one("outlook.xml", "dmarc").policy_published.pct, Some(100));
    assert_eq!(one("yahoo.xml", "dmarc").policy_published.pct, None);
    let json = serde_json::to_value(one("outlook.xml", "dmarc")).unwrap();
    assert_eq!(json["policy_published"]["pct"], 100);
}

/// DMARCbis fields: `np`, `testing`, `discovery_method`, `generator`.
#[test]
fn dmarcbis_fields_are_output() {
    let r = one("dmarcbis.xml", "dmarc");
    let json = serde_json::to_value(&r).unwrap();
    let pp = &json["policy_published"];
    assert!(pp.get("np").is_some(), "{pp}");
    assert!(pp.get("testing").is_some(), "{pp}");
    assert!(pp.get("discovery_method").is_some(), "{pp}");
}

/// `latin1_org_name.xml`: one Latin-1 byte (`é`) in `org_name`; before, the whole report was
/// refused with "unexpected EOF". Now it is read, with a warning.
#[test]
fn invalid_utf8_is_tolerated_with_a_warning() {
    let r = one("latin1_org_name.xml", "dmarc");
    assert!(r.org_name.starts_with("Messagerie Soci"), "{}", r.org_name);
    assert_eq!(r.records.len(), one("outlook.xml", "dmarc").records.len());
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("UTF-8"), "{:?}", r.warnings);
}

/// `trailing_crlf.xml.gz`: a complete gzip member followed by a CRLF a mail gateway added;
/// before, "corrupt". Now the report is read and the stray bytes noted.
#[test]
fn trailing_bytes_after_gzip_are_ignored_with_a_note() {
    let r = one("trailing_crlf.xml.gz", "compressed");
    assert_eq!(r.org_name, "Enterprise Outlook");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("2 byte(s) after the end of the gzip data")),
        "{:?}",
        r.warnings
    );
}

/// `mailed_one_corrupt.eml`: two gzip attachments, the second damaged in transit. The first
/// report is still read; the second is a failed part naming the attachment and the reason.
#[test]
fn one_corrupt_attachment_does_not_sink_the_other() {
    let input = sample("mailed_one_corrupt.eml");
    let recs = warden_reports::parse(&input).unwrap();
    assert_eq!(recs.len(), 2, "{recs:?}");
    let Record::Dmarc(d) = &recs[0] else {
        panic!("{:?}", recs[0]);
    };
    assert_eq!(d.policy_published.domain, "example.org");
    let (part, reason) = warden_reports::FailedPart::from_record(&recs[1]).unwrap();
    assert!(part.contains("example.net"), "{part}");
    assert!(!reason.is_empty());
}
