//! Containers under attack and in normal use: compression bombs (built here, at run time), entry
//! count and depth limits, and real report bundles dispatched back through the registry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::io::Write;
use warden_reports::formats::compressed::{self, MAX_ZIP_ENTRIES};
use warden_reports::{Limits, ParseErrorKind, Record, registry};

const MIB: usize = 1024 * 1024;

fn sample(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/data/compressed/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One gzip member of `n` MiB of zeros (about 1 KiB per MiB compressed).
fn zeros_gz(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; MIB];
    for _ in 0..n {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A zip bomb: one compressed entry of `mib` MiB of zeros, copied raw (without recompressing)
/// under `copies` names. Expands to `mib * copies` MiB from a few KiB.
fn zip_bomb(mib: usize, copies: usize) -> Vec<u8> {
    let seed = zip_of(&[("zeros.bin", &vec![0u8; mib * MIB])]);
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(seed)).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..copies {
        let f = src.by_index_raw(0).unwrap();
        w.raw_copy_file_rename(f, format!("zeros{i}.bin")).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn events(records: &[Record]) -> usize {
    records.iter().filter(|r| r.as_event().is_some()).count()
}

#[test]
fn gzip_bomb_single_member_hits_the_limit() {
    let bomb = zeros_gz(16);
    assert!(bomb.len() < 64 * 1024, "bomb is {} bytes", bomb.len());
    let limits = Limits {
        max_decompressed: MIB,
        ..Limits::default()
    };
    let err = registry::parse_with(&bomb, &limits).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("decompression limit"), "{err}");
}

#[test]
fn gzip_bomb_of_concatenated_members_hits_the_limit() {
    // 512 members of 1 MiB each: 512 MiB from ~500 KiB. The decoder stops at the 32 MiB budget,
    // so the test inflates 32 MiB at most and never holds more than that in memory.
    let member = zeros_gz(1);
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 512)
        .collect();
    let limits = Limits {
        max_decompressed: 32 * MIB,
        ..Limits::default()
    };
    let err = registry::parse_with(&bomb, &limits).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
}

#[test]
fn zip_bomb_hits_the_shared_budget() {
    // Each entry alone (2 MiB) is under the 8 MiB budget; together (64 MiB) they are not.
    let bomb = zip_bomb(2, 32);
    assert!(bomb.len() < 256 * 1024, "bomb is {} bytes", bomb.len());
    let limits = Limits {
        max_decompressed: 8 * MIB,
        ..Limits::default()
    };
    let err = registry::parse_with(&bomb, &limits).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("zeros"), "names the entry: {err}");
}

#[test]
fn too_many_zip_entries() {
    let names: Vec<String> = (0..=MAX_ZIP_ENTRIES).map(|i| format!("f{i}.csv")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let err = registry::parse(&zip_of(&entries)).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("entries"), "{err}");
}

#[test]
fn nesting_is_limited_by_depth() {
    let csv = sample("scan_rdp.csv.gz");
    // gzip(zip(gzip(zip(gzip(csv))))) = 5 container levels.
    let mut nested = csv.clone();
    for level in 0..4 {
        nested = if level % 2 == 0 {
            zip_of(&[("inner", &nested)])
        } else {
            gzip(&nested)
        };
    }
    let deep_ok = Limits {
        max_depth: 6,
        ..Limits::default()
    };
    assert_eq!(events(&registry::parse_with(&nested, &deep_ok).unwrap()), 2);
    let shallow = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let err = registry::parse_with(&nested, &shallow).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
    assert!(err.message.contains("nested"), "{err}");
}

#[test]
fn self_similar_quine_like_nesting_stops() {
    // A gzip whose content is itself gzip, 200 levels deep: the depth limit ends it.
    let mut g = b"timestamp,ip\n".to_vec();
    for _ in 0..200 {
        g = gzip(&g);
    }
    let err = registry::parse(&g).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LimitExceeded, "{err}");
}

#[test]
fn bundle_of_two_shadowserver_reports() {
    let recs = registry::parse(&sample("shadowserver_two_reports.zip")).unwrap();
    assert_eq!(events(&recs), 4);
    let types: Vec<_> = recs
        .iter()
        .filter_map(|r| r.as_event())
        .map(|e| e.extra["report_type"].as_str())
        .collect();
    assert_eq!(types, ["scan_rdp", "scan_rdp", "scan_ssh", "scan_ssh"]);
}

#[test]
fn stored_zip_gzip_and_multi_member() {
    for name in [
        "shadowserver_stored.zip",
        "scan_rdp.csv.gz",
        "multi_member.csv.gz",
        "zip_in_gzip.zip.gz",
    ] {
        let input = sample(name);
        assert_eq!(
            registry::detect(&input).map(|f| f.name),
            Some("compressed"),
            "{name}"
        );
        let recs = registry::parse(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(events(&recs), 2, "{name}");
        let first = recs[0].as_event().unwrap();
        assert_eq!(
            first.subject.ip,
            Some("192.0.2.10".parse().unwrap()),
            "{name}"
        );
        assert_eq!(first.subject.port, Some(3389), "{name}");
    }
}

#[test]
fn gzip_keeps_the_inner_file_name() {
    let (name, data) = compressed::gunzip(&sample("scan_rdp.csv.gz"), MIB).unwrap();
    assert_eq!(name.as_deref(), Some("2026-11-20-scan_rdp.csv"));
    assert!(data.starts_with(b"\"timestamp\""));
}

#[test]
fn broken_containers_are_clear_errors() {
    let e = registry::parse(&sample("empty.zip")).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Malformed, "{e}");
    let e = registry::parse(&sample("corrupt.zip")).unwrap_err();
    assert_eq!(e.format, "compressed", "{e}");
    let gz = gzip(b"hello");
    let e = registry::parse(&gz[..gz.len() - 6]).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::Malformed, "{e}");
}

#[test]
fn content_nobody_understands_names_the_member() {
    let z = zip_of(&[("notes.txt", b"just some words")]);
    let e = registry::parse(&z).unwrap_err();
    assert!(e.message.contains("notes.txt"), "{e}");
}
