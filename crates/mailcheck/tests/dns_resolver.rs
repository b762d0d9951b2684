//! The resolver layer against a real bind9 on loopback: outcomes, TXT joining, DNSSEC status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;

use warden_mailcheck::resolver::{Dnssec, Outcome, Resolve, RrType};

#[tokio::test]
async fn answers_outcomes_and_dnssec_status() {
    let Some(b) = dns_support::bind() else { return };
    let r = dns_support::resolver(b);

    let a = r.query("good.test", RrType::Txt).await.unwrap();
    assert_eq!(a.outcome, Outcome::Records);
    assert_eq!(a.txt(), vec!["v=spf1 mx include:_spf.good.test -all"]);
    assert_eq!(a.dnssec, Dnssec::Secure, "signed fake root must validate");

    // A long TXT split into several character-strings is joined without separators.
    let k = r
        .query("selector1._domainkey.good.test", RrType::Txt)
        .await
        .unwrap();
    assert!(k.txt()[0].starts_with("v=DKIM1; k=rsa; p=MII"));
    assert!(!k.txt()[0].contains("\" \""));

    let nx = r
        .query("does-not-exist.good.test", RrType::A)
        .await
        .unwrap();
    assert_eq!(nx.outcome, Outcome::NxDomain);
    assert!(nx.is_void());

    let nodata = r.query("good.test", RrType::A).await.unwrap();
    assert_eq!(nodata.outcome, Outcome::NoData);

    let ins = r.query("mx.insecure.test", RrType::A).await.unwrap();
    assert_eq!(
        ins.ips(),
        vec!["198.51.100.20".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        ins.dnssec,
        Dnssec::Insecure,
        "unsigned delegation must be insecure"
    );

    let bogus = r.query("mx.bogus.test", RrType::A).await.unwrap_err();
    assert!(
        bogus.bogus,
        "a DS for another key must make answers bogus: {bogus}"
    );

    let mx = r.query("good.test", RrType::Mx).await.unwrap();
    assert_eq!(mx.mx(), vec![(10, "mx1.good.test".to_owned())]);
    let null = r.query("nullmx.test", RrType::Mx).await.unwrap();
    assert_eq!(null.mx(), vec![(0, String::new())]);
}

#[tokio::test]
async fn unreachable_server_is_an_error_not_an_empty_answer() {
    use std::time::Duration;
    use warden_mailcheck::resolver::{DnsResolver, ResolverSettings};
    // A port nobody listens on: the query must fail, not look like "no records".
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    drop(sock);
    let r = DnsResolver::new(&ResolverSettings {
        upstreams: vec![addr],
        timeout: Duration::from_millis(300),
        attempts: 1,
        validate: false,
        trust_anchor: None,
        cache_size: 16,
    })
    .unwrap();
    let e = r.query("good.test", RrType::Txt).await.unwrap_err();
    assert_eq!(e.name, "good.test");
}
