//! `warden check domain` end to end: the binary against the mailcheck fixture zones on a real
//! bind9 (the same harness as crates/mailcheck/tests), checking output formats and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

#[path = "../../mailcheck/tests/dns_support/mod.rs"]
mod dns_support;

use std::process::{Command, Output};

fn warden(b: &dns_support::Bind, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "domain", "--no-mta-sts-fetch"])
        .args(["--resolver", &b.addr.to_string()])
        .arg("--trust-anchor")
        .arg(&b.anchor)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn text_json_html_and_exit_codes() {
    let Some(b) = dns_support::bind() else { return };

    let good = warden(b, &["good.test"]);
    let text = String::from_utf8_lossy(&good.stdout);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(text.starts_with("good.test  (score 100/100)"), "{text}");
    assert!(text.contains("Authentication (SPF, DKIM, DMARC)"));

    let bad = warden(b, &["nospf.test", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(v["subject"], "nospf.test");
    assert_eq!(v["worst"], "fail");

    let html = b.dir.join("report.html");
    let both = warden(
        b,
        &["good.test", "nospf.test", "--html", html.to_str().unwrap()],
    );
    assert_eq!(both.status.code(), Some(1));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Findings to act on") && page.contains("nospf.test"));
}

#[test]
fn batch_mode_writes_one_json_line_per_domain() {
    let Some(b) = dns_support::bind() else { return };
    let list = b.dir.join("domains.txt");
    std::fs::write(
        &list,
        "# fixtures\ngood.test\n\nnospf.test  # no SPF\nspf-toomany.test\n",
    )
    .unwrap();
    let out = warden(b, &["-f", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let mut subjects: Vec<&str> = lines
        .iter()
        .map(|l| l["subject"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["good.test", "nospf.test", "spf-toomany.test"]);
    // Not a terminal: no progress bar on stderr.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn input_errors_exit_2_and_name_the_input() {
    let Some(b) = dns_support::bind() else { return };
    let list = b.dir.join("bad-list.txt");
    std::fs::write(&list, "good.test\nnot a domain\n").unwrap();
    let out = warden(b, &["-f", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-list.txt:2"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "check",
            "domain",
            "good.test",
            "--resolver",
            "not-an-address",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resolver"));

    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "domain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
