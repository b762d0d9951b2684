//! SPF, DMARC and DKIM findings against the fixture zones on a real bind9: every finding has
//! a fixture that makes it pass and one that makes it fail (see tests/data/zones/root.zone).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;

use warden_mailcheck::domain::{dkim, dmarc, spf};
use warden_mailcheck::{Finding, Status};

/// The worst status among findings with this id; panics with the list when absent.
fn status(fs: &[Finding], id: &str) -> Status {
    let worst = fs
        .iter()
        .filter(|f| f.id == id)
        .map(|f| f.status)
        .max_by_key(|s| match s {
            Status::Fail => 3,
            Status::Warn => 2,
            Status::Pass => 1,
            Status::Info => 0,
        });
    worst.unwrap_or_else(|| panic!("no {id} finding in {fs:#?}"))
}

fn has(fs: &[Finding], id: &str) -> bool {
    fs.iter().any(|f| f.id == id)
}

#[tokio::test]
async fn spf_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let good = spf::check(&r, "good.test").await;
    for id in [
        "spf.record",
        "spf.syntax",
        "spf.lookups",
        "spf.void_lookups",
        "spf.all",
    ] {
        assert_eq!(status(&good, id), Status::Pass, "{id}: {good:#?}");
    }
    assert!(!has(&good, "spf.loop") && !has(&good, "spf.ptr") && !has(&good, "spf.mx_lookups"));
    let tree = good.iter().find(|f| f.id == "spf.tree").unwrap();
    assert!(tree.summary.contains("2 DNS-querying terms"), "{tree:?}");
    assert!(
        tree.evidence
            .iter()
            .any(|l| l.contains("include: _spf.good.test")),
        "{tree:?}"
    );

    assert_eq!(
        status(&spf::check(&r, "nospf.test").await, "spf.record"),
        Status::Fail
    );
    assert_eq!(
        status(&spf::check(&r, "twospf.test").await, "spf.record"),
        Status::Fail
    );
    assert_eq!(
        status(&spf::check(&r, "spf-syntax.test").await, "spf.syntax"),
        Status::Fail
    );

    let many = spf::check(&r, "spf-toomany.test").await;
    assert_eq!(status(&many, "spf.lookups"), Status::Fail);
    assert!(
        many.iter()
            .any(|f| f.id == "spf.lookups" && f.summary.starts_with("11 ")),
        "{many:#?}"
    );
    let ten = spf::check(&r, "spf-ten.test").await;
    assert!(
        ten.iter().any(|f| f.id == "spf.lookups"
            && f.summary.starts_with("10 ")
            && f.status == Status::Warn),
        "{ten:#?}"
    );

    let void = spf::check(&r, "spf-void.test").await;
    assert_eq!(status(&void, "spf.void_lookups"), Status::Fail);
    assert!(
        void.iter()
            .any(|f| f.id == "spf.void_lookups" && f.summary.starts_with("3 "))
    );

    assert_eq!(
        status(&spf::check(&r, "spf-loop.test").await, "spf.loop"),
        Status::Fail
    );
    assert_eq!(
        status(&spf::check(&r, "spf-plusall.test").await, "spf.all"),
        Status::Fail
    );
    assert_eq!(
        status(&spf::check(&r, "spf-neutral.test").await, "spf.all"),
        Status::Warn
    );
    assert_eq!(
        status(&spf::check(&r, "spf-noall.test").await, "spf.all"),
        Status::Warn
    );
    // redirect= carries the target's -all.
    assert_eq!(
        status(&spf::check(&r, "spf-redirect.test").await, "spf.all"),
        Status::Pass
    );
    assert_eq!(
        status(&spf::check(&r, "spf-ptr.test").await, "spf.ptr"),
        Status::Warn
    );
    assert_eq!(
        status(&spf::check(&r, "spf-mx11.test").await, "spf.mx_lookups"),
        Status::Fail
    );
    let mac = spf::check(&r, "spf-macro.test").await;
    assert_eq!(status(&mac, "spf.macros"), Status::Info);
    assert_eq!(status(&mac, "spf.lookups"), Status::Pass);
    let none = spf::check(&r, "spf-inclnone.test").await;
    assert_eq!(status(&none, "spf.void_lookups"), Status::Warn, "{none:#?}");
}

#[tokio::test]
async fn dmarc_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let good = dmarc::check(&r, "good.test").await;
    for id in [
        "dmarc.record",
        "dmarc.syntax",
        "dmarc.policy",
        "dmarc.pct",
        "dmarc.rua",
    ] {
        assert_eq!(status(&good, id), Status::Pass, "{id}: {good:#?}");
    }
    assert!(
        !has(&good, "dmarc.external_auth"),
        "same-domain rua needs no authorization"
    );

    assert_eq!(
        status(&dmarc::check(&r, "nospf.test").await, "dmarc.record"),
        Status::Fail
    );
    assert_eq!(
        status(&dmarc::check(&r, "dmarc-two.test").await, "dmarc.record"),
        Status::Fail
    );
    assert_eq!(
        status(&dmarc::check(&r, "dmarc-syntax.test").await, "dmarc.syntax"),
        Status::Fail
    );

    let weak = dmarc::check(&r, "dmarc-weak.test").await;
    assert_eq!(status(&weak, "dmarc.policy"), Status::Warn);
    assert_eq!(status(&weak, "dmarc.pct"), Status::Warn);
    assert_eq!(status(&weak, "dmarc.rua"), Status::Warn);

    let sp = dmarc::check(&r, "dmarc-sp.test").await;
    assert_eq!(status(&sp, "dmarc.sp"), Status::Warn);
    assert_eq!(status(&sp, "dmarc.external_auth"), Status::Pass, "{sp:#?}");

    let ext = dmarc::check(&r, "dmarc-ext.test").await;
    assert_eq!(status(&ext, "dmarc.external_auth"), Status::Fail);
}

#[tokio::test]
async fn dkim_findings() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let one = |s: &str| vec![s.to_owned()];
    let good = dkim::check(&r, "good.test", &[]).await;
    assert_eq!(
        status(&good, "dkim.key"),
        Status::Pass,
        "common selector1 is found: {good:#?}"
    );
    assert!(good.iter().any(|f| f.summary.contains("2048 bits")));

    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("k2048")).await,
            "dkim.key"
        ),
        Status::Pass
    );
    assert_eq!(
        status(&dkim::check(&r, "dkim.test", &one("ed")).await, "dkim.key"),
        Status::Pass
    );
    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("k1024")).await,
            "dkim.key"
        ),
        Status::Warn
    );
    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("k512")).await,
            "dkim.key"
        ),
        Status::Fail
    );
    assert_eq!(
        status(&dkim::check(&r, "dkim.test", &one("rev")).await, "dkim.key"),
        Status::Info
    );
    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("tst")).await,
            "dkim.testing"
        ),
        Status::Warn
    );
    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("bad")).await,
            "dkim.syntax"
        ),
        Status::Fail
    );
    assert_eq!(
        status(
            &dkim::check(&r, "dkim.test", &one("missing")).await,
            "dkim.key"
        ),
        Status::Fail
    );
    assert_eq!(
        status(&dkim::check(&r, "nospf.test", &[]).await, "dkim.found"),
        Status::Warn
    );
}
