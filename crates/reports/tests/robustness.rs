//! Hostile input never panics the parsers: random bytes, truncated real samples, deeply nested
//! MIME, huge inputs and endless lines. Every format is also driven directly, not only through
//! detection, so a format that detection would not pick is still exercised.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use proptest::prelude::*;
use std::path::Path;
use warden_reports::{Limits, ParseErrorKind, registry::FORMATS};

/// Every sample file under tests/data (all formats), for truncation tests.
fn corpus() -> Vec<Vec<u8>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_none_or(|x| x != "md")
                && let Ok(b) = std::fs::read(&p)
            {
                out.push(b);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"),
        &mut out,
    );
    out
}

fn all_formats(input: &[u8], limits: &Limits) {
    let _ = warden_reports::parse_with(input, limits);
    for f in FORMATS {
        let _ = (f.sniff)(input);
        let _ = (f.parse)(input, limits);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        all_formats(&bytes, &Limits::default());
    }

    #[test]
    fn mail_shaped_noise_never_panics(
        headers in proptest::collection::vec("[A-Za-z-]{1,20}: [ -~]{0,80}", 0..12),
        body in "[ -~\r\n]{0,2000}",
    ) {
        let msg = format!("{}\r\n\r\n{}", headers.join("\r\n"), body);
        all_formats(msg.as_bytes(), &Limits::default());
    }
}

#[test]
fn truncated_samples_never_panic() {
    let limits = Limits::default();
    for sample in corpus() {
        // Cut at many points, including inside multi-byte sequences and MIME boundaries.
        let step = (sample.len() / 16).max(1);
        for cut in (0..sample.len()).step_by(step) {
            all_formats(&sample[..cut], &limits);
        }
    }
}

/// Builds a multipart message nested `depth` levels deep, the way a mail bomb would.
fn nested_multipart(depth: usize) -> Vec<u8> {
    let mut body = String::from("Content-Type: text/plain\r\n\r\nSource-IP: 192.0.2.1\r\n");
    for i in 0..depth {
        body = format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n{body}\r\n--b{i}--\r\n"
        );
    }
    format!("From: a@example.net\r\nSubject: nest\r\nMIME-Version: 1.0\r\n{body}").into_bytes()
}

/// Builds message/rfc822 parts nested `depth` levels deep.
fn nested_rfc822(depth: usize) -> Vec<u8> {
    let mut msg = String::from("From: x@example.net\r\nSubject: inner\r\n\r\nbody 192.0.2.9\r\n");
    for _ in 0..depth {
        msg = format!("From: x@example.net\r\nContent-Type: message/rfc822\r\n\r\n{msg}");
    }
    msg.into_bytes()
}

#[test]
fn deeply_nested_mime_never_panics() {
    let limits = Limits::default();
    for depth in [limits.max_depth + 1, 100, 2000] {
        all_formats(&nested_multipart(depth), &limits);
        all_formats(&nested_rfc822(depth), &limits);
    }
}

#[test]
fn oversized_input_is_refused_with_a_limit_error() {
    let limits = Limits {
        max_input: 1024,
        ..Limits::default()
    };
    let big = vec![b'a'; 2048];
    let err = warden_reports::parse_with(&big, &limits).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded);
    assert!(err.message.contains("1024"), "{err}");
}

#[test]
fn endless_line_never_panics() {
    let limits = Limits {
        max_line: 4096,
        ..Limits::default()
    };
    let mut mail = b"From: a@example.net\r\nSubject: x\r\n\r\n".to_vec();
    mail.extend(std::iter::repeat_n(b'x', 1_000_000));
    all_formats(&mail, &limits);
    let mut csv = b"timestamp,ip,port\n".to_vec();
    csv.extend(std::iter::repeat_n(b'1', 1_000_000));
    all_formats(&csv, &limits);
}

#[test]
fn binary_junk_is_a_clear_error() {
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let err = warden_reports::parse(&junk).unwrap_err();
    assert!(!err.message.is_empty());
}

#[test]
fn fuzz_regressions_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "eml") {
            let input = std::fs::read(e.path()).unwrap();
            for f in FORMATS {
                let r = std::panic::catch_unwind(|| (f.parse)(&input, &Limits::default()));
                assert!(r.is_ok(), "{} panicked on {}", f.name, e.path().display());
            }
            n += 1;
        }
    }
    assert!(n >= 1, "no regression inputs found");
}
