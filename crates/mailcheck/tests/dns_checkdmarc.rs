//! SPF lookup counts compared with checkdmarc, the peer (PyPI `checkdmarc`, installed by
//! .ci/install-mailcheck-dns.sh), on the fixture zones served by the test bind9. Where the two
//! disagree, the difference is listed in `KNOWN_DIFFERENCES` and explained in docs/mailcheck.md
//! ("SPF counting differences vs checkdmarc"); any other disagreement fails the test.
//! Required in CI (CI=true); skipped (and the skip recorded) elsewhere when checkdmarc is
//! missing. checkdmarc is confined to loopback (warden-test-support's `peer`): the test fails if
//! it reaches for any other address or the system resolver.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

mod dns_support;

use warden_mailcheck::domain::spf;
use warden_test_support::peer::{self, Confinement};
use warden_test_support::tool::{CHECKDMARC, require_tool};

/// The SPF fixtures compared.
const DOMAINS: &[&str] = &[
    "good.test",
    "spf-toomany.test",
    "spf-ten.test",
    "spf-void.test",
    "spf-redirect.test",
    "spf-ptr.test",
    "spf-mx11.test",
    "spf-macro.test",
    "spf-noall.test",
    "spf-inclnone.test",
    "spf-loop.test",
];

/// (domain, field, ours, checkdmarc's): disagreements we understand and document.
const KNOWN_DIFFERENCES: &[(&str, &str, usize, usize)] = &[
    // checkdmarc does not count an `exists` term that finds nothing as void; RFC 7208 section
    // 4.6.4 counts every DNS-querying term whose answer is NXDOMAIN or empty.
    ("spf-void.test", "void_lookups", 3, 2),
    // `ptr` looks up the client's address, which an audit does not have; checkdmarc counts an
    // address lookup of the domain as void, we count no void lookup for it (and warn on ptr).
    ("spf-ptr.test", "void_lookups", 0, 1),
    // checkdmarc adds each exchange of `mx` to the 10-term count (its issue #197); RFC 7208
    // section 4.6.4 counts the mx term once and limits its exchanges to 10 separately, which
    // we report as spf.mx_lookups. Both call the record broken.
    ("spf-mx11.test", "lookups", 1, 11),
];

#[derive(Debug, serde::Deserialize)]
struct Peer {
    domain: String,
    lookups: Option<usize>,
    void_lookups: Option<usize>,
    error: Option<String>,
}

#[tokio::test]
async fn spf_counts_match_checkdmarc() {
    let Some(b) = dns_support::bind() else { return };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/checkdmarc-spf-counts.py");
    let Some(peer_tool) = require_tool(&CHECKDMARC) else {
        return;
    };
    // The peer asks only the test bind9: the guard refuses and reports any other address and
    // any use of the system resolver, and the test fails on a report.
    let peer = peer::Peer::new(
        &std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("checkdmarc-peer-{}", std::process::id())),
        Confinement::Loopback,
    );
    let out = peer
        .command(peer_tool.program("python3"))
        .arg(&script)
        .args([
            "--server",
            "127.0.0.1",
            "--port",
            &b.addr.port().to_string(),
        ])
        .args(DOMAINS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    peer.assert_confined("checkdmarc");
    let peers: Vec<Peer> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(peers.len(), DOMAINS.len());

    let r = dns_support::resolver(b);
    let mut unexplained = Vec::new();
    println!(
        "{:<20} {:>7} {:>7} {:>6} {:>6}  checkdmarc error",
        "domain", "lookups", "peer", "void", "peer"
    );
    for p in &peers {
        let tree = spf::walk(&r, &p.domain).await;
        println!(
            "{:<20} {:>7} {:>7} {:>6} {:>6}  {}",
            p.domain,
            tree.lookups,
            p.lookups.map_or("-".into(), |n| n.to_string()),
            tree.void_lookups,
            p.void_lookups.map_or("-".into(), |n| n.to_string()),
            p.error.as_deref().unwrap_or("")
        );
        for (field, ours, theirs) in [
            ("lookups", tree.lookups, p.lookups),
            ("void_lookups", tree.void_lookups, p.void_lookups),
        ] {
            let Some(theirs) = theirs else { continue };
            if ours != theirs
                && !KNOWN_DIFFERENCES.contains(&(p.domain.as_str(), field, ours, theirs))
            {
                unexplained.push(format!(
                    "{} {field}: ours {ours}, checkdmarc {theirs}",
                    p.domain
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:#?}"
    );
}
