//! MX, PTR and FCrDNS findings against the fixture zones on a real bind9.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;

use warden_mailcheck::domain::{mx, ptr};
use warden_mailcheck::{Finding, Status};

fn status(fs: &[Finding], id: &str) -> Status {
    fs.iter()
        .filter(|f| f.id == id)
        .map(|f| f.status)
        .max_by_key(|s| match s {
            Status::Fail => 3,
            Status::Warn => 2,
            Status::Pass => 1,
            Status::Info => 0,
        })
        .unwrap_or_else(|| panic!("no {id} finding in {fs:#?}"))
}

#[tokio::test]
async fn mx_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let (good, set) = mx::check(&r, "good.test").await;
    for id in ["mx.present", "mx.resolvable", "mx.cname", "mx.ipv6"] {
        assert_eq!(status(&good, id), Status::Pass, "{id}: {good:#?}");
    }
    assert_eq!(set.exchanges.len(), 1);
    assert_eq!(set.exchanges[0].addresses.len(), 2);

    let (v4, _) = mx::check(&r, "nospf.test").await;
    assert_eq!(status(&v4, "mx.ipv6"), Status::Warn);
    assert_eq!(
        status(&mx::check(&r, "nomx.test").await.0, "mx.present"),
        Status::Fail
    );
    assert_eq!(
        status(&mx::check(&r, "nx-domain.test").await.0, "mx.present"),
        Status::Fail
    );
    assert_eq!(
        status(&mx::check(&r, "mx-cname.test").await.0, "mx.cname"),
        Status::Fail
    );
    assert_eq!(
        status(&mx::check(&r, "mx-unres.test").await.0, "mx.resolvable"),
        Status::Fail
    );
    let (null, set) = mx::check(&r, "nullmx.test").await;
    assert_eq!(status(&null, "mx.null"), Status::Info);
    assert!(set.null_mx && set.exchanges.is_empty());
    assert_eq!(
        status(&mx::check(&r, "nullmix.test").await.0, "mx.null"),
        Status::Fail
    );
}

#[tokio::test]
async fn ptr_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let ok = ptr::check_ip(&r, "198.51.100.10".parse().unwrap(), "MX mx1.good.test").await;
    assert_eq!(status(&ok, "ptr.present"), Status::Pass);
    assert_eq!(status(&ok, "ptr.fcrdns"), Status::Pass, "{ok:#?}");
    let ok6 = ptr::check_ip(&r, "fd00::10".parse().unwrap(), "MX mx1.good.test").await;
    assert_eq!(status(&ok6, "ptr.fcrdns"), Status::Pass, "{ok6:#?}");

    let mismatch = ptr::check_ip(&r, "198.51.100.11".parse().unwrap(), "sending IP").await;
    assert_eq!(status(&mismatch, "ptr.present"), Status::Pass);
    assert_eq!(status(&mismatch, "ptr.fcrdns"), Status::Fail);

    let none = ptr::check_ip(&r, "198.51.100.12".parse().unwrap(), "sending IP").await;
    assert_eq!(status(&none, "ptr.present"), Status::Fail);
}
