//! RADIUS accounting join over the samples in `tests/data/radius/` (see its README).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use std::net::IpAddr;
use warden_attribution::radius::{self, AcctStatus, EndKind, SubscriberIndex};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/radius/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn t(h: u32, m: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, s)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn who(idx: &SubscriberIndex, addr: &str, at: i64) -> Vec<String> {
    idx.subscriber_at(ip(addr), at)
        .iter()
        .map(|iv| iv.user_name.as_deref().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn detail_file_intervals_and_lookup() {
    let read = radius::read_detail(&data("detail"), 4, Tz::UTC);
    assert_eq!(read.records.len(), 8, "{:?}", read.errors);
    // Three broken records, each named by its first line and reason.
    let reasons: Vec<(u64, &str)> = read
        .errors
        .iter()
        .map(|e| (e.evidence.line, e.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].1.contains("Framed-IP-Address \"100.64.0.300\""),
        "{reasons:?}"
    );
    assert!(reasons[1].1.contains("Teapot"), "{reasons:?}");
    assert!(reasons[2].1.contains("date line"), "{reasons:?}");
    assert!(read.errors[0].to_string().contains("file #4 line"));

    // Event-Timestamp wins; the logger's Timestamp has Acct-Delay-Time taken off.
    assert_eq!(read.records[0].time_ns, t(10, 0, 0));
    assert!(!read.records[0].tz_assumed);
    assert_eq!(read.records[1].time_ns, t(10, 30, 0));
    assert_eq!(read.records[2].status, AcctStatus::Stop);
    assert!(
        read.records[2].tz_assumed,
        "only the date line gave the time"
    );

    let idx = SubscriberIndex::build(read.records);
    assert_eq!(idx.len(), 5);
    assert_eq!(who(&idx, "100.64.0.10", t(10, 0, 0)), ["alice@isp.example"]);
    assert_eq!(
        who(&idx, "100.64.0.10", t(10, 59, 59)),
        ["alice@isp.example"]
    );
    assert!(
        who(&idx, "100.64.0.10", t(11, 0, 0)).is_empty(),
        "end is exclusive"
    );
    assert!(who(&idx, "100.64.0.10", t(9, 59, 59)).is_empty());
    let alice = idx.subscriber_at(ip("100.64.0.10"), t(10, 15, 0))[0];
    assert_eq!(alice.end_kind, EndKind::Stop);
    assert_eq!(
        alice.calling_station_id.as_deref(),
        Some("00-11-22-33-44-55")
    );
    assert_eq!(alice.session_id.as_deref(), Some("A1B2C3D4"));
    assert_eq!(alice.last_seen_ns, t(11, 0, 0));
    assert_eq!(
        alice.evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [1, 12, 21]
    );
    // Lost Stop: bob ends when dave starts on the same address.
    let bob = idx.subscriber_at(ip("100.64.0.10"), t(11, 10, 0))[0];
    assert_eq!(
        (bob.user_name.as_deref(), bob.end_kind, bob.end_ns),
        (
            Some("bob@isp.example"),
            EndKind::NextStart,
            Some(t(11, 25, 0))
        )
    );
    assert_eq!(who(&idx, "100.64.0.10", t(11, 30, 0)), ["dave@isp.example"]);
    // Still open at the end of the data.
    let erin = idx.subscriber_at(ip("100.64.0.10"), t(23, 0, 0))[0];
    assert_eq!(
        (erin.user_name.as_deref(), erin.end_kind),
        (Some("erin@isp.example"), EndKind::Open)
    );
    // NAS reboot ends carol's session.
    let carol = idx.subscriber_at(ip("100.64.0.11"), t(11, 15, 0))[0];
    assert_eq!(
        (carol.end_kind, carol.end_ns),
        (EndKind::NasRestart, Some(t(11, 20, 0)))
    );
    assert!(who(&idx, "100.64.0.11", t(11, 20, 0)).is_empty());
    // A skew window straddling a handover returns both candidates.
    let both = idx.subscribers_between(ip("100.64.0.10"), t(10, 59, 0), t(11, 6, 0));
    assert_eq!(both.len(), 2);
    assert!(who(&idx, "100.64.9.9", t(10, 0, 0)).is_empty());
}

#[test]
fn detail_date_lines_use_the_configured_zone() {
    let berlin: Tz = "Europe/Berlin".parse().unwrap();
    let read = radius::read_detail(&data("detail"), 0, berlin);
    let bob = read
        .records
        .iter()
        .find(|r| r.user_name.as_deref() == Some("bob@isp.example"))
        .unwrap();
    assert_eq!(bob.time_ns, t(10, 5, 0));
    assert!(bob.tz_assumed);
    // Explicit UTC in Event-Timestamp is not shifted.
    assert_eq!(read.records[0].time_ns, t(10, 0, 0));
}

#[test]
fn csv_export_intervals() {
    let read = radius::read_csv(&data("accounting.csv"), 1, Tz::UTC);
    assert_eq!(read.records.len(), 4, "{:?}", read.errors);
    let errs: Vec<(u64, &str)> = read
        .errors
        .iter()
        .map(|e| (e.evidence.line, e.reason.as_str()))
        .collect();
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0].0, 6);
    assert!(errs[0].1.contains("no Framed-IP-Address"));
    assert_eq!(errs[1].0, 7);
    assert!(errs[1].1.contains("not-a-time"));
    let idx = SubscriberIndex::build(read.records);
    let frank = idx.subscriber_at(ip("100.64.1.1"), t(10, 59, 0))[0];
    assert_eq!(
        (frank.start_ns, frank.end_ns, frank.end_kind),
        (t(9, 0, 0), Some(t(11, 0, 0)), EndKind::Stop)
    );
    assert_eq!(frank.evidence.len(), 3);
    // No Start: Acct-Session-Time on the interim gives the start.
    let grace = idx.subscriber_at(ip("100.64.1.2"), t(9, 10, 0))[0];
    assert_eq!((grace.start_ns, grace.start_uncertain), (t(9, 0, 0), false));
    assert!(idx.subscriber_at(ip("100.64.1.2"), t(8, 59, 0)).is_empty());
}

#[test]
fn garbage_input_never_panics() {
    for input in [
        &b""[..],
        b"\n\n\t= =\n",
        b"Mon\n\tx",
        b"\xff\xfe\n\tA = B",
        b"a,b\n\"unterminated",
    ] {
        let _ = radius::read_detail(input, 0, Tz::UTC);
        let _ = radius::read_csv(input, 0, Tz::UTC);
    }
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let _ = radius::read_detail(&bytes, 0, Tz::UTC);
        let _ = radius::read_csv(&bytes, 0, Tz::UTC);
    }

    #[test]
    fn mutated_samples_never_panic(pos in 0usize..4000, byte in proptest::prelude::any::<u8>()) {
        for name in ["detail", "accounting.csv"] {
            let mut d = data(name);
            let p = pos % d.len();
            d[p] = byte;
            let r = radius::read_detail(&d, 0, Tz::UTC);
            let _ = SubscriberIndex::build(r.records);
            let r = radius::read_csv(&d, 0, Tz::UTC);
            let _ = SubscriberIndex::build(r.records);
        }
    }
}
