//! Vendor parser tests over the sample files in `tests/data/natlog/` (see its README for the
//! quirk each line reproduces), plus bad-line and random-input checks.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use warden_attribution::natlog::{
    EventKind, LineErrorReason, NatEvent, ParseContext, RawRef, TsOrigin, TsPrecision, Vendor,
    parse_line, parse_line_vec,
};

/// Reference time for year inference: the day these tests were written.
fn reference() -> i64 {
    Utc.with_ymd_and_hms(2026, 11, 24, 4, 0, 0)
        .unwrap()
        .timestamp()
}

fn ctx(vendor: Vendor) -> ParseContext {
    ParseContext::new(vendor, Tz::UTC, reference())
}

fn sample(name: &str) -> Vec<String> {
    let path = format!("{}/tests/data/natlog/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Parses every line of a sample with both the named vendor and Auto, checks both agree, and
/// returns the events per line.
fn parse_sample(name: &str, vendor: Vendor) -> Vec<Vec<NatEvent>> {
    let explicit = ctx(vendor);
    let auto = ctx(Vendor::Auto);
    sample(name)
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let raw = RawRef {
                file: 0,
                line: i as u64 + 1,
                offset: 0,
            };
            let a = parse_line_vec(line.as_bytes(), raw, &explicit)
                .unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
            let b = parse_line_vec(line.as_bytes(), raw, &auto)
                .unwrap_or_else(|e| panic!("{name}:{} (auto): {e}", i + 1));
            assert_eq!(a, b, "{name}:{}: auto detection disagrees", i + 1);
            a
        })
        .collect()
}

fn utc_ns(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn juniper_samples() {
    let ev = parse_sample("juniper.log", Vendor::Juniper);
    // ASP PBA, IPv6 inside, body time preferred over header.
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(e.inside_ip, ip("3002::1"));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("33.33.0.3"), 1050, 1099)
    );
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 10, 31, 4, 46, 4));
    assert_eq!(e.ts_origin, TsOrigin::DeviceBody);
    assert!(e.tz_assumed);
    assert_eq!(e.exporter.as_deref(), Some("graphite"));
    assert_eq!(e.raw.line, 1);
    assert_eq!(ev[1][0].kind, EventKind::BlockRelease);
    // JSERVICES with "HH: MM:SS" and trailing 0x0.
    let e = &ev[2][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(e.inside_ip, ip("100.64.12.7"));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("198.51.100.20"), 2048, 2175)
    );
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 10, 15, 1));
    assert_eq!(e.exporter.as_deref(), Some("mx960-cgn1"));
    assert_eq!(e.proto, None);
    assert_eq!(ev[3][0].kind, EventKind::BlockInterim);
    assert_eq!(ev[4][0].kind, EventKind::BlockRelease);
    // Rule match: recognised, no attribution.
    assert!(ev[5].is_empty());
    // RT_FLOW BSD with connection tags; year inferred from the reference (Nov 2026).
    let e = &ev[6][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(e.inside_ip, ip("172.16.0.1"));
    assert_eq!(e.inside_port, Some(23456));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("203.0.113.2"), 12345, 12345)
    );
    assert_eq!(e.dst, Some((ip("8.8.8.8"), 443)));
    assert_eq!(e.proto, Some(6));
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 13, 13, 12, 0));
    assert_eq!(e.ts_origin, TsOrigin::DeviceHeader);
    assert_eq!(ev[7][0].kind, EventKind::SessionClose);
    assert_eq!(ev[7][0].port_lo, 12345);
    // Old format without tags.
    let e = &ev[8][0];
    assert_eq!((e.outside_ip, e.port_lo), (v4("203.0.113.9"), 61001));
    assert_eq!(e.proto, Some(6));
    // Structured: offset known, millisecond precision, not assumed.
    let e = &ev[9][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!((e.outside_ip, e.port_lo), (v4("100.0.0.1"), 1024));
    assert_eq!(e.inside_ip, ip("50.0.0.10"));
    assert_eq!(e.proto, Some(1));
    assert!(!e.tz_assumed);
    assert_eq!(e.ts_precision, TsPrecision::MilliSec);
    assert_eq!(e.ts_utc_ns, utc_ns(2018, 6, 27, 0, 23, 6) + 269_000_000);
    assert_eq!(e.exporter.as_deref(), Some("booklet"));
    // No translation: no event.
    assert!(ev[10].is_empty());
}

#[test]
fn juniper_exporter_zone_applies_to_body_time() {
    let mut c = ctx(Vendor::Juniper);
    c.exporters.insert(
        "mx960-cgn1".into(),
        warden_attribution::natlog::ExporterProfile {
            tz: Some("America/Sao_Paulo".parse().unwrap()),
            ..Default::default()
        },
    );
    let line = &sample("juniper.log")[2];
    let e = &parse_line_vec(line.as_bytes(), RawRef::default(), &c).unwrap()[0];
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 13, 15, 1));
    assert!(e.tz_assumed);
}

/// Lines each vendor recognises but must reject, with the field the error must name.
#[test]
fn bad_lines_give_reasons() {
    let cases: &[(Vendor, &str, &str)] = &[
        (
            Vendor::Juniper,
            "Nov 23 10:15:01 2026-11-23 10: 15:01: mx{S}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.12.7 -> 198.51.100.20:2175-2048",
            "port range",
        ),
        (
            Vendor::Juniper,
            "Nov 23 10:15:01 2026-11-23 10: 15:01: mx{S}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.12.7 -> 198.51.100.300:2048-2175",
            "outside address",
        ),
        (
            Vendor::Juniper,
            "Nov 23 10:15:01 2026-11-23 10: 15:01: mx{S}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.12.7 198.51.100.3:2048-2175",
            "mapping",
        ),
        (
            Vendor::Juniper,
            "<14>Nov 13 13:12:00 srx RT_FLOW: RT_FLOW_SESSION_CREATE: session created 172.16.0.1/23456->8.8.8.8/443 junos-https",
            "NAT tuple",
        ),
        (
            Vendor::Juniper,
            "Nov 31 10:15:01 2026-02-30 10: 15:01: mx{S}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.12.7 -> 198.51.100.3:2048-2175",
            "time",
        ),
    ];
    for (vendor, line, field) in cases {
        for v in [*vendor, Vendor::Auto] {
            let mut out = Vec::new();
            let e = parse_line(
                line.as_bytes(),
                RawRef {
                    file: 2,
                    line: 9,
                    offset: 0,
                },
                &ctx(v),
                &mut out,
            )
            .expect_err(line);
            assert!(out.is_empty());
            assert!(!e.is_not_nat(), "{line}: {e}");
            assert_eq!(e.vendor, Some(*vendor));
            let msg = e.to_string();
            assert!(msg.contains(field), "{msg} should name {field}");
            assert!(msg.contains("line 9"), "{msg}");
        }
    }
}

#[test]
fn unrelated_syslog_is_not_nat() {
    let c = ctx(Vendor::Auto);
    for line in [
        "Nov 23 10:15:01 host sshd[811]: Accepted publickey for root",
        "<14>1 2026-11-23T10:15:01Z host app - - hello",
        "garbage \u{fffd} \x01\x02",
    ] {
        let e = parse_line_vec(line.as_bytes(), RawRef::default(), &c).unwrap_err();
        assert_eq!(e.reason, LineErrorReason::NotNat, "{line}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for v in [Vendor::Auto, Vendor::Juniper, Vendor::Cisco, Vendor::A10, Vendor::F5, Vendor::Nokia, Vendor::Vpp, Vendor::Conntrack] {
            let mut out = Vec::new();
            let _ = parse_line(&bytes, RawRef::default(), &ctx(v), &mut out);
        }
    }

    /// Random mutations of real lines: a much denser search of the parsers' edge cases than
    /// random bytes, which rarely get past the vendor markers.
    #[test]
    fn mutated_samples_never_panic(idx in 0usize..1000, pos in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
        let lines: Vec<String> = ["juniper.log"].iter().flat_map(|f| sample(f)).collect();
        let mut line = lines[idx % lines.len()].clone().into_bytes();
        if !line.is_empty() {
            let p = pos % line.len();
            line[p] = byte;
            line.truncate(cut.max(p));
        }
        let mut out = Vec::new();
        let _ = parse_line(&line, RawRef::default(), &ctx(Vendor::Auto), &mut out);
    }
}
