//! Every current Shadowserver report type, generated from the shipped schema
//! (`data/shadowserver-schema.json`, Shadowserver's published schema retrieved 2026-03-24).
//!
//! For each type a CSV with that type's exact header and a Shadowserver file name
//! (`2026-03-24-<type>-example_asn.csv`) must give the right report type, subject IP, port where
//! the type has one, UTC time, and the class the reviewed table (`[classes]` in
//! `data/shadowserver.toml`) gives. The subject columns are stated here independently of the
//! mapping: the `ip` of scan reports, `src_ip` of event reports, `http_referer_ip` of the referer
//! reports, and the attacked `dst_ip` of the DDoS-target report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{TimeZone, Utc};
use std::collections::BTreeMap;
use std::net::IpAddr;
use warden_model::{AbuseClass, AbuseEvent};
use warden_reports::formats::shadowserver::{
    self, BUILTIN_TOML, Mapping, Schema, schema::BUILTIN_SCHEMA_JSON,
};
use warden_reports::{Limits, ParseOptions, Record, registry};

const TIME: &str = "2026-03-24 10:20:30";
const SUBJECT_V4: &str = "192.0.2.77";
const SUBJECT_V6: &str = "2001:db8::77";
const SUBJECT_PORT: u16 = 4711;

/// The reviewed table, read straight from the shipped file.
fn class_table() -> BTreeMap<String, AbuseClass> {
    let v: toml::Value = toml::from_str(BUILTIN_TOML).unwrap();
    v["classes"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(k, c)| (k.clone(), c.as_str().unwrap().parse().unwrap()))
        .collect()
}

fn is_v6(name: &str) -> bool {
    name.split('_').next().unwrap().ends_with('6') || name.ends_with('6')
}

/// The column that holds the subject's address in `fields`, by Shadowserver's documentation.
fn subject_ip_column<'a>(name: &str, fields: &'a [String]) -> Option<&'a str> {
    let order: &[&str] = if name == "event4_honeypot_ddos_target" {
        &["dst_ip"]
    } else {
        &["ip", "src_ip", "http_referer_ip"]
    };
    order
        .iter()
        .find_map(|c| fields.iter().find(|f| f == c))
        .map(String::as_str)
}

fn subject_port_column<'a>(name: &str, fields: &'a [String]) -> Option<&'a str> {
    let order: &[&str] = if name == "event4_honeypot_ddos_target" {
        &["dst_port"]
    } else {
        &["port", "src_port", "http_referer_port"]
    };
    order
        .iter()
        .find_map(|c| fields.iter().find(|f| f == c))
        .map(String::as_str)
}

/// One data row for a type: the subject in its columns, plausible values elsewhere.
fn row(name: &str, fields: &[String]) -> String {
    let ip_col = subject_ip_column(name, fields);
    let port_col = subject_port_column(name, fields);
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = f.as_str();
            let v = if f == "timestamp" {
                TIME
            } else if Some(f) == ip_col {
                if is_v6(name) { SUBJECT_V6 } else { SUBJECT_V4 }
            } else if Some(f) == port_col {
                "4711"
            } else if f.ends_with("_ip") || f == "ip" {
                "198.51.100.1"
            } else if f.ends_with("port") {
                "80"
            } else if f == "protocol" {
                "tcp"
            } else if f == "severity" {
                "high"
            } else if f.ends_with("asn") {
                "64500"
            } else if f == "email" {
                "Victim@Example.org"
            } else if f.ends_with("url") {
                "http://bad.example/x"
            } else if f == "website" {
                "victim.example"
            } else if f == "request" {
                "c2.example"
            } else if f.ends_with("hostname") {
                "host.example.net"
            } else if f == "tag" {
                "test-tag"
            } else {
                "x"
            };
            v.to_owned()
        })
        .collect();
    cells.join(",")
}

fn only_event(records: Vec<Record>, what: &str) -> AbuseEvent {
    assert_eq!(records.len(), 1, "{what}: {records:?}");
    match records.into_iter().next().unwrap() {
        Record::Event(e) => *e,
        other => panic!("{what}: not an event: {other:?}"),
    }
}

#[test]
fn every_current_type_by_file_name_and_exact_header() {
    let schema = Schema::from_json(BUILTIN_SCHEMA_JSON.as_bytes()).unwrap();
    let table = class_table();
    assert!(schema.types().len() >= 170, "{}", schema.types().len());
    let want_time = Utc.with_ymd_and_hms(2026, 3, 24, 10, 20, 30).unwrap();
    for (name, t) in schema.types() {
        let class = *table
            .get(name)
            .unwrap_or_else(|| panic!("{name} is missing from the reviewed [classes] table"));
        let csv = format!("{}\n{}\n", t.fields.join(","), row(name, &t.fields));
        let file = format!("2026-03-24-{name}-example_asn.csv");
        let ev = only_event(
            registry::parse_named(csv.as_bytes(), Some(&file))
                .unwrap_or_else(|e| panic!("{file}: {e}")),
            &file,
        );
        assert_eq!(ev.extra["report_type"], *name, "{file}");
        assert!(!ev.extra.contains_key("needs_mapping"), "{file}");
        assert_eq!(ev.class, class, "{file}");
        assert!(ev.confidence > 0.9, "{file}");
        let obs = ev.observed.unwrap_or_else(|| panic!("{file}: no time"));
        assert_eq!(obs.utc, want_time, "{file}");
        assert!(obs.zone_given, "{file}");
        match subject_ip_column(name, &t.fields) {
            Some(_) => {
                let want: IpAddr = if is_v6(name) { SUBJECT_V6 } else { SUBJECT_V4 }
                    .parse()
                    .unwrap();
                assert_eq!(ev.subject.ip, Some(want), "{file}");
            }
            None => {
                // No address in the report: the subject is what the type is about.
                let any = ev.subject.email.is_some()
                    || ev.subject.domain.is_some()
                    || ev.subject.url.is_some();
                assert!(any, "{file}: no subject at all: {:?}", ev.subject);
            }
        }
        let want_port = subject_port_column(name, &t.fields).map(|_| SUBJECT_PORT);
        assert_eq!(ev.subject.port, want_port, "{file}");
    }
}

/// Without a file name, the exact header alone gives the type, or (for column sets Shadowserver
/// shares between types) a type with the same columns and class. IPv4/IPv6 twins are told apart
/// by the address. scan_ssh and scan_rdp used to be read as device_id.
#[test]
fn exact_header_alone_recognises_the_type() {
    let schema = Schema::builtin();
    let table = class_table();
    let mapping = Mapping::builtin();
    let mut exact = 0;
    for (name, t) in schema.types() {
        let csv = format!("{}\n{}\n", t.fields.join(","), row(name, &t.fields));
        let recs = shadowserver::parse_report(csv.as_bytes(), mapping, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = recs.report_type.as_str();
        if got == name {
            exact += 1;
            continue;
        }
        let other = schema
            .get(got)
            .unwrap_or_else(|| panic!("{name} read as {got}"));
        let mut a = t.fields.clone();
        let mut b = other.fields.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{name} read as {got}, whose columns differ");
        // Shadowserver sends DDoS participants and the C2s that ordered the attack with the same
        // columns; only the file name tells them apart.
        let same_columns_other_class = [name.as_str(), got]
            == ["event4_honeypot_ddos", "event4_ddos_participant"]
            || [name.as_str(), got] == ["event4_ddos_participant", "event4_honeypot_ddos"];
        if !same_columns_other_class {
            assert_eq!(
                table[name], table[got],
                "{name} read as {got}, another class"
            );
        }
        assert_eq!(is_v6(name), is_v6(got), "{name} read as {got}");
    }
    for name in ["scan_ssh", "scan_rdp", "scan6_ssh", "device_id"] {
        let t = schema.get(name).unwrap();
        let csv = format!("{}\n{}\n", t.fields.join(","), row(name, &t.fields));
        let r = shadowserver::parse_report(csv.as_bytes(), mapping, &Limits::default()).unwrap();
        assert_eq!(r.report_type, name);
    }
    // 170 types, of which some share one column set with another: at least 120 are unique.
    assert!(
        exact >= 120,
        "only {exact} types recognised exactly by header"
    );
}

/// A type Warden has no mapping for, named by its file: nothing fails, the rows are events with
/// IP, port and time, class `other`, the type from the name, flagged for a mapping.
#[test]
fn unknown_type_from_file_name_is_read_and_flagged() {
    let csv = b"timestamp,severity,ip,protocol,port,hostname,tag,asn,quantum_flux\n\
                2026-03-24 01:02:03,medium,192.0.2.9,udp,9999,,qf,64500,11\n\
                2026-03-24 01:02:04,medium,192.0.2.10,udp,9998,,qf,64500,12\n";
    let recs = registry::parse_named(csv, Some("2026-03-24-scan_quantum_flux-asn.csv")).unwrap();
    assert_eq!(recs.len(), 2);
    let e = recs[0].as_event().unwrap();
    assert_eq!(e.extra["report_type"], "scan_quantum_flux");
    assert_eq!(e.extra["needs_mapping"], "true");
    assert_eq!(e.class, AbuseClass::Other);
    assert_eq!(e.subject.ip, Some("192.0.2.9".parse().unwrap()));
    assert_eq!(e.subject.port, Some(9999));
    assert_eq!(
        e.observed.unwrap().utc,
        Utc.with_ymd_and_hms(2026, 3, 24, 1, 2, 3).unwrap()
    );
    // The same file without its name: an unsupported header, for the quarantine.
    assert!(registry::parse(csv).is_err());
}

/// Pre-2023 names still found in archives and old subscriptions, with the old column layout
/// (no severity column, `ip` rather than `src_ip`).
#[test]
fn older_type_names_keep_working() {
    let csv =
        b"timestamp,ip,port,asn,geo,region,city,hostname,type,infection,url,agent,cc,cc_port\n\
                2019-06-18 00:00:05,203.0.113.5,51000,64500,NL,,,,tcp,necurs,,,198.51.100.9,80\n";
    for (name, class) in [
        ("botnet_drone", AbuseClass::InfectedHost),
        ("drone", AbuseClass::InfectedHost),
        ("sinkhole_http_drone", AbuseClass::InfectedHost),
        ("microsoft_sinkhole", AbuseClass::InfectedHost),
        ("cc_ip", AbuseClass::BotnetC2),
        ("scan_ipmi", AbuseClass::VulnerableService),
    ] {
        let file = format!("2019-06-18-{name}-example_org.csv");
        let e = only_event(registry::parse_named(csv, Some(&file)).unwrap(), &file);
        assert_eq!(e.extra["report_type"], name, "{file}");
        assert_eq!(e.class, class, "{file}");
        assert!(!e.extra.contains_key("needs_mapping"), "{file}");
        assert_eq!(e.subject.ip, Some("203.0.113.5".parse().unwrap()), "{file}");
        assert_eq!(e.subject.port, Some(51000), "{file}");
    }
}

/// A newer schema loaded at run time: its new type is recognised by its exact header, gets a
/// class from its Shadowserver classification, and is flagged until the table has it.
#[test]
fn newer_schema_at_run_time() {
    let newer = format!(
        "{{\"scan_warpdrive\":{{\"name\":\"Accessible-Warpdrive\",\"classification.taxonomy\":\"vulnerable\",\
         \"classification.type\":\"vulnerable-system\",\"fields\":[\"timestamp\",\"severity\",\"ip\",\"protocol\",\
         \"port\",\"hostname\",\"tag\",\"asn\",\"warp_factor\"]}},{}",
        BUILTIN_SCHEMA_JSON.trim_start().strip_prefix('{').unwrap()
    );
    let schema = Schema::from_json(newer.as_bytes()).unwrap();
    let diff = Schema::builtin().diff(&schema);
    assert_eq!(diff.added, ["scan_warpdrive"]);
    assert!(diff.changed.is_empty() && diff.removed.is_empty());
    let mapping = Mapping::with_schema(&schema).unwrap();
    let csv = b"timestamp,severity,ip,protocol,port,hostname,tag,asn,warp_factor\n\
                2026-04-01 00:00:00,high,192.0.2.80,tcp,8080,,warp,64500,9\n";
    let limits = Limits::default();
    let opts = ParseOptions {
        shadowserver: &mapping,
        ..ParseOptions::new(&limits)
    };
    let e = only_event(
        registry::parse_with_options(csv, &opts).unwrap(),
        "warpdrive",
    );
    assert_eq!(e.extra["report_type"], "scan_warpdrive");
    assert_eq!(e.class, AbuseClass::VulnerableService);
    assert_eq!(e.extra["needs_mapping"], "true");
    // The built-in mapping does not know the header.
    assert!(registry::parse(csv).is_err());
}

/// Zip members and mail attachments carry their own file names, which decide the type: the two
/// CSVs below have identical columns (scan_imap / scan_pop3).
#[test]
fn names_inside_zips_decide_the_type() {
    use std::io::Write;
    let schema = Schema::builtin();
    let mut buf = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut buf));
        for name in ["scan_imap", "scan_pop3"] {
            let t = schema.get(name).unwrap();
            let opts: zip::write::SimpleFileOptions = Default::default();
            z.start_file(format!("2026-03-24-{name}-example_asn.csv"), opts)
                .unwrap();
            write!(z, "{}\n{}\n", t.fields.join(","), row(name, &t.fields)).unwrap();
        }
        z.finish().unwrap();
    }
    let recs = registry::parse(&buf).unwrap();
    let types: Vec<&str> = recs
        .iter()
        .map(|r| r.as_event().unwrap().extra["report_type"].as_str())
        .collect();
    assert_eq!(types, ["scan_imap", "scan_pop3"]);
}
