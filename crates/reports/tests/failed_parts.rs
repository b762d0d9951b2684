//! One bad part of a multi-part report never sinks the rest (issue 15, item 2): every other
//! attachment or member is parsed, and the bad one comes back as a failed-part record with its
//! name and reason, so the desk can quarantine it. Samples in tests/data/compressed and
//! tests/data/shadowserver (see their READMEs); the DMARC mail case is in tests/dmarc.rs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use warden_model::AbuseClass;
use warden_reports::{FailedPart, Record, registry};

fn sample(dir: &str, name: &str) -> Vec<u8> {
    let p = format!("{}/tests/data/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn split(recs: &[Record]) -> (Vec<&Record>, Vec<(String, String)>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for r in recs {
        match FailedPart::from_record(r) {
            Some(f) => bad.push(f),
            None => good.push(r),
        }
    }
    (good, bad)
}

/// `one_bad_member.zip`: a good scan_rdp CSV and a scan_ssh CSV whose only row has an
/// unreadable timestamp. The two RDP events come through; the SSH member is a failed part.
#[test]
fn zip_with_one_bad_member() {
    let input = sample("compressed", "one_bad_member.zip");
    let recs = registry::parse(&input).unwrap();
    let (good, bad) = split(&recs);
    assert_eq!(good.len(), 2, "{recs:?}");
    for r in &good {
        let e = r.as_event().unwrap();
        assert_eq!(e.extra["report_type"], "scan_rdp");
        assert!(e.subject.ip.is_some());
    }
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].0.contains("scan_ssh"), "{bad:?}");
    assert!(bad[0].1.contains("bad timestamp"), "{bad:?}");
    // The failed part is never something attribution acts on.
    let failed = recs
        .iter()
        .find(|r| FailedPart::from_record(r).is_some())
        .unwrap();
    let e = failed.as_event().unwrap();
    assert_eq!(e.class, AbuseClass::Other);
    assert_eq!(e.confidence, 0.0);
    assert!(e.subject.ip.is_none());
    assert_eq!(e.extra["part_error_kind"], "malformed");
}

/// `mailed_one_truncated_zip.eml`: a Shadowserver mail with a good CSV attached beside a zip cut
/// in half in transit. The CSV's events are read; the zip is a failed part.
#[test]
fn shadowserver_mail_with_one_truncated_zip() {
    let input = sample("shadowserver", "mailed_one_truncated_zip.eml");
    assert_eq!(
        registry::detect(&input).map(|f| f.name),
        Some("shadowserver")
    );
    let recs = registry::parse(&input).unwrap();
    let (good, bad) = split(&recs);
    assert_eq!(good.len(), 2, "{recs:?}");
    assert!(
        good.iter()
            .all(|r| r.as_event().unwrap().extra["report_type"] == "scan_rdp")
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].0.contains("scan_smb"), "{bad:?}");
    assert!(bad[0].1.contains("zip"), "{bad:?}");
}

/// When every part is bad there is nothing to keep: the input is an error (for the quarantine),
/// not a list of failed parts.
#[test]
fn all_parts_bad_is_an_error() {
    let input = sample("compressed", "corrupt.zip");
    assert!(registry::parse(&input).is_err());
}
