//! `warden parse` end to end: the real binary over the sample corpus and over hostile batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn warden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warden"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/tests/data")
        .join(rel)
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

#[test]
fn arf_sample_gives_ip_port_utc_time_and_class() {
    let out = warden()
        .arg("parse")
        .arg("--json")
        .arg(data("arf/source-port-rfc6692.eml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let e = &lines[0];
    assert_eq!(e["record"], "event");
    assert_eq!(e["source_format"], "arf");
    assert_eq!(e["class"], "spam");
    assert_eq!(e["subject"]["ip"], "192.0.2.150");
    assert_eq!(e["subject"]["port"], 40123);
    assert_eq!(e["observed"]["utc"], "2023-03-14T07:59:31Z");
    assert_eq!(e["observed"]["zone_given"], true);
    assert!(e.get("missing").is_none(), "nothing missing: {e}");
    assert!(
        e["source"]["path"]
            .as_str()
            .unwrap()
            .ends_with("source-port-rfc6692.eml")
    );
}

#[test]
fn every_format_directory_yields_records_of_its_format() {
    for (dir, format) in [
        ("arf", "arf"),
        ("xarf", "xarf"),
        ("xarf_legacy", "xarf_legacy"),
        ("spamcop", "spamcop"),
        ("shadowserver", "shadowserver"),
        ("freeform", "free_form"),
    ] {
        let out = warden()
            .arg("parse")
            .arg("--json")
            .arg(data(dir))
            .output()
            .unwrap();
        let lines = json_lines(&out);
        let of_format = lines
            .iter()
            .filter(|l| l["source_format"] == format)
            .count();
        assert!(
            of_format >= 12,
            "{dir}: only {of_format} events of format {format}"
        );
    }
    for (dir, record) in [("dmarc", "dmarc"), ("tlsrpt", "tls_rpt")] {
        let out = warden()
            .arg("parse")
            .arg("--json")
            .arg(data(dir))
            .output()
            .unwrap();
        let n = json_lines(&out)
            .iter()
            .filter(|l| l["record"] == record)
            .count();
        assert!(n >= 12, "{dir}: only {n} {record} records");
    }
}

#[test]
fn summary_counts_formats_classes_and_missing_fields() {
    let out = warden()
        .args(["parse", "--summary", "--json"])
        .arg(data("arf"))
        .arg(data("shadowserver"))
        .output()
        .unwrap();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let s = &lines[0];
    assert!(s["records_by_format"]["arf"].as_u64().unwrap() >= 12, "{s}");
    assert!(
        s["records_by_format"]["shadowserver"].as_u64().unwrap() >= 12,
        "{s}"
    );
    assert!(s["events_by_class"]["spam"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["missing"]["source_port"].as_u64().unwrap() >= 1, "{s}");
}

/// Binary junk, a gzip bomb built here, and a truncated mbox in one batch with good reports:
/// each bad input is named on stderr, the good ones still parse, and the exit code is 1.
#[test]
fn hostile_batch_reports_each_failure_and_keeps_the_rest() {
    let dir = tempdir();
    let junk: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    std::fs::write(dir.join("junk.bin"), &junk).unwrap();

    // 300 MiB of zeros compresses to ~300 KiB: over the default decompressed-size limit.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&zeros).unwrap();
    }
    std::fs::write(dir.join("bomb.csv.gz"), gz.finish().unwrap()).unwrap();

    let good = std::fs::read(data("arf/yahoo-fbl.eml")).unwrap();
    let mut mbox = b"From a@example.org Tue Nov 24 04:35:00 2026\n".to_vec();
    mbox.extend_from_slice(&good);
    mbox.extend_from_slice(b"\nFrom b@example.org Tue Nov 24 04:36:00 2026\n");
    mbox.extend_from_slice(&good[..good.len() / 3]);
    std::fs::write(dir.join("cut.mbox"), &mbox).unwrap();
    std::fs::copy(data("arf/source-port-rfc6692.eml"), dir.join("good.eml")).unwrap();

    let out = warden()
        .args(["parse", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("junk.bin"), "{stderr}");
    assert!(
        stderr.contains("bomb.csv.gz") && stderr.contains("limit"),
        "{stderr}"
    );
    assert!(stderr.contains("cut.mbox (message 2)"), "{stderr}");
    let lines = json_lines(&out);
    let ips: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["subject"]["ip"].as_str())
        .collect();
    assert!(
        ips.contains(&"192.0.2.150"),
        "good.eml still parsed: {ips:?}"
    );
    assert!(
        ips.contains(&"192.0.2.10"),
        "first mbox message still parsed: {ips:?}"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let mut child = warden()
        .args(["parse", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sample = std::fs::read(data("arf/ipv6-bracketed.eml")).unwrap();
    child.stdin.take().unwrap().write_all(&sample).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines[0]["subject"]["ip"], "2001:db8:10::25");
    assert_eq!(lines[0]["source"]["path"], "-");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        warden().arg("parse").output().unwrap().status.code(),
        Some(2)
    );
    let out = warden()
        .args(["parse", "--format", "nonsense", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known formats"));
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "warden-parse-cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Maildir: messages in `new/` and `cur/` are read; `tmp/` holds half-delivered mail and is
/// skipped (a message is complete only once renamed out of it).
#[test]
fn maildir_reads_new_and_cur_but_not_tmp() {
    let dir = tempdir();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::copy(
        data("arf/source-port-rfc6692.eml"),
        dir.join("new/1700000000.1.host"),
    )
    .unwrap();
    std::fs::copy(
        data("arf/yahoo-fbl.eml"),
        dir.join("cur/1700000001.2.host:2,S"),
    )
    .unwrap();
    std::fs::write(dir.join("tmp/1700000002.3.host"), b"From: half\r\nSubj").unwrap();
    let out = warden()
        .args(["parse", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let ips: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["subject"]["ip"].as_str())
        .collect();
    assert_eq!(ips.len(), 2, "{ips:?}");
    assert!(
        ips.contains(&"192.0.2.150") && ips.contains(&"192.0.2.10"),
        "{ips:?}"
    );
}

/// A scratch directory of this test binary's own.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("warden-parse-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A CSV row for each column of `fields`: the values a scan report carries.
fn csv_for(fields: &[String]) -> String {
    let row: Vec<&str> = fields
        .iter()
        .map(|f| match f.as_str() {
            "timestamp" => "2026-03-24 01:02:03",
            "ip" => "192.0.2.77",
            "port" => "993",
            "protocol" => "tcp",
            "asn" => "64500",
            _ => "",
        })
        .collect();
    format!("{}\n{}\n", fields.join(","), row.join(","))
}

fn schema_fields(name: &str) -> Vec<String> {
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/data/shadowserver-schema.json"),
    )
    .unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&text).unwrap();
    schema[name]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

/// Quirk: Shadowserver's scan_imap and scan_pop3 reports have the same columns; only the file
/// name (`YYYY-MM-DD-<type>-...csv`) tells them apart, so `warden parse` must hand it on.
#[test]
fn a_shadowserver_file_name_decides_between_twin_report_types() {
    let fields = schema_fields("scan_imap");
    assert_eq!(
        fields,
        schema_fields("scan_pop3"),
        "the twins share columns"
    );
    let dir = scratch("twins");
    let file = dir.join("2026-03-24-scan_pop3-example-asn64500.csv");
    std::fs::write(&file, csv_for(&fields)).unwrap();
    let out = warden()
        .args(["parse", "--json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let text = lines[0].to_string();
    assert!(text.contains("scan_pop3"), "{text}");
    assert!(!text.contains("scan_imap"), "{text}");
    assert!(text.contains("192.0.2.77"), "{text}");
}

/// `[reports] shadowserver_schema` in warden.toml: a report type only the newer schema knows
/// is recognised by its columns, without a file name, when `--config` names that file.
#[test]
fn parse_uses_the_shadowserver_schema_named_in_the_config() {
    let dir = scratch("schema");
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/data/shadowserver-schema.json"),
    )
    .unwrap();
    let mut schema: serde_json::Value = serde_json::from_slice(&shipped).unwrap();
    let fields = [
        "timestamp",
        "ip",
        "port",
        "protocol",
        "asn",
        "warden_probe_marker",
        "warden_probe_banner",
    ];
    schema["scan_warden_probe"] = serde_json::json!({
        "classification.taxonomy": "vulnerable",
        "classification.type": "vulnerable-system",
        "fields": fields,
        "name": "Warden test probe",
        "url": "https://example.invalid/scan_warden_probe"
    });
    let schema_file = dir.join("newer-schema.json");
    std::fs::write(&schema_file, serde_json::to_vec(&schema).unwrap()).unwrap();
    let config = dir.join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[reports]\nshadowserver_schema = {:?}\n",
            schema_file.display().to_string()
        ),
    )
    .unwrap();
    let csv = dir.join("feed.csv");
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    std::fs::write(&csv, csv_for(&fields)).unwrap();

    let with = warden()
        .args(["parse", "--json", "--config"])
        .arg(&config)
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let text = json_lines(&with)[0].to_string();
    assert!(text.contains("scan_warden_probe"), "{text}");

    let without = warden()
        .args(["parse", "--json"])
        .arg(&csv)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&without.stdout);
    assert!(!text.contains("scan_warden_probe"), "{text}");

    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "[reports]\nshadowserver_schema = \"/nonexistent/ss.json\"\n",
    )
    .unwrap();
    let out = warden()
        .args(["parse", "--json", "--config"])
        .arg(&broken)
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shadowserver_schema") && err.contains("/nonexistent/ss.json"),
        "{err}"
    );
}
