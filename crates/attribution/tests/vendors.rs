//! Vendor parser tests over the sample files in `tests/data/natlog/` (see its README for the
//! quirk each line reproduces), plus bad-line and random-input checks.
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

#[test]
fn cisco_samples_multi_record() {
    let ev = parse_sample("cisco.log", Vendor::Cisco);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(e.inside_ip, ip("100.64.1.2"));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("198.51.100.1"), 22345, 23001)
    );
    assert_eq!(e.proto, None);
    assert!(e.tz_assumed);
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 11, 30, 0));
    assert_eq!(e.exporter.as_deref(), Some("10.0.0.1"));
    // Three records in one message, all with the message's time and line.
    assert_eq!(ev[1].len(), 3);
    assert_eq!(ev[1][1].kind, EventKind::BlockRelease);
    assert_eq!(
        (ev[1][1].outside_ip, ev[1][1].port_lo, ev[1][1].port_hi),
        (v4("198.51.100.2"), 4096, 5119)
    );
    assert_eq!(ev[1][2].inside_vrf, 17);
    assert!(
        ev[1]
            .iter()
            .all(|x| x.raw.line == 2 && x.ts_utc_ns == utc_ns(2026, 11, 23, 11, 30, 0))
    );
    // Session records with destination, space between records.
    assert_eq!(ev[2].len(), 2);
    let e = &ev[2][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(
        (e.proto, e.inside_port, e.port_lo, e.port_hi),
        (Some(6), Some(40001), 22400, 22400)
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    assert_eq!(ev[2][1].kind, EventKind::SessionClose);
    assert_eq!(ev[2][1].proto, Some(17));
    assert!(ev[3].is_empty(), "Portblockrunout is diagnostic only");
    // Huawei type3.
    let e = &ev[4][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!((e.inside_ip, e.inside_port), (ip("10.1.1.2"), Some(0)));
    assert_eq!((e.outside_ip, e.port_lo), (v4("172.16.1.1"), 1025));
    assert_eq!(e.exporter.as_deref(), Some("68.1.1.1"));
    assert_eq!(ev[5][0].kind, EventKind::SessionClose);
    assert_eq!(ev[6][0].inside_ip, ip("2001:db8:1::2:2"));
    assert_eq!(
        (ev[6][0].outside_ip, ev[6][0].port_lo),
        (v4("10.11.11.100"), 2048)
    );
    // DS-Lite: IPv4 inside plus B4.
    let e = &ev[7][0];
    assert_eq!(e.inside_ip, ip("192.168.0.2"));
    assert_eq!(e.b4_ipv6, Some("2001:db8:b4::1".parse().unwrap()));
}

#[test]
fn a10_samples_last_port_in_cn3() {
    let ev = parse_sample("a10.log", Vendor::A10);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::MappingOpen);
    assert_eq!(
        (e.inside_ip, e.inside_port),
        (ip("100.65.161.0"), Some(48856))
    );
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("99.99.99.13"), 48856, 48856)
    );
    assert_eq!(e.proto, Some(1));
    assert_eq!(e.dst, Some((ip("8.8.8.8"), 0)));
    assert_eq!(e.exporter.as_deref(), Some("cgn0.thn2/cgn-demo"));
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 10, 0, 1));
    assert_eq!(ev[1][0].kind, EventKind::MappingClose);
    let e = &ev[2][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(
        (e.outside_ip, e.port_lo, e.port_hi),
        (v4("99.99.99.12"), 22016, 22271)
    );
    assert_eq!(e.proto, Some(17));
    assert_eq!(ev[3][0].kind, EventKind::BlockRelease);
    assert_eq!(ev[3][0].port_hi, 22271);
    // ASCII mapping with "ip: port".
    let e = &ev[4][0];
    assert_eq!(e.kind, EventKind::MappingOpen);
    assert_eq!(
        (e.inside_ip, e.inside_port),
        (ip("100.100.100.100"), Some(10000))
    );
    assert_eq!((e.outside_ip, e.port_lo), (v4("150.150.150.150"), 10000));
    assert_eq!(e.exporter.as_deref(), Some("ax1"));
    // Session: NAT address is the reverse-tuple side that is not the server.
    let e = &ev[5][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!((e.outside_ip, e.port_lo), (v4("203.0.113.77"), 2001));
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    assert_eq!(e.proto, Some(6));
    assert_eq!(ev[6][0].kind, EventKind::SessionClose);
    let e = &ev[7][0];
    assert_eq!(
        (e.outside_ip, e.port_lo, e.dst),
        (v4("203.0.113.77"), 3001, Some((ip("192.0.2.53"), 53)))
    );
    let e = &ev[8][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(
        (e.inside_ip, e.outside_ip, e.port_lo, e.port_hi),
        (ip("10.10.10.172"), v4("192.168.9.173"), 3000, 4000)
    );
    assert!(ev[9].is_empty());
}

#[test]
fn f5_samples_route_domains() {
    let ev = parse_sample("f5.log", Vendor::F5);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(
        (e.inside_ip, e.inside_port),
        (ip("100.64.23.122"), Some(40312))
    );
    assert_eq!((e.outside_ip, e.port_lo), (v4("194.15.97.34"), 51211));
    assert_eq!(e.dst, Some((ip("203.0.113.9"), 443)));
    assert_eq!(e.exporter.as_deref(), Some("test"));
    assert_eq!(ev[1][0].kind, EventKind::SessionClose);
    let e = &ev[2][0];
    assert_eq!((e.inside_vrf, e.outside_vrf, e.proto), (12, 3, Some(17)));
    assert_eq!(ev[3][0].kind, EventKind::MappingOpen);
}

#[test]
fn nokia_samples_zone_names_and_centiseconds() {
    let mut c = ctx(Vendor::Nokia);
    c.default_tz = "Europe/Berlin".parse().unwrap();
    let lines = sample("nokia.log");
    let ev: Vec<Vec<NatEvent>> = lines
        .iter()
        .map(|l| parse_line_vec(l.as_bytes(), RawRef::default(), &c).unwrap())
        .collect();
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(e.seq, Some(26));
    assert_eq!(
        (e.inside_ip, e.inside_port, e.inside_vrf),
        (ip("100.64.0.10"), Some(40001), 1)
    );
    assert_eq!(
        (e.outside_ip, e.port_lo, e.outside_vrf),
        (v4("198.51.100.5"), 1030, 2)
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    assert_eq!(e.ts_precision, TsPrecision::CentiSec);
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 13, 39, 26) + 370_000_000);
    assert!(!e.tz_assumed, "the designator was written");
    assert_eq!(e.ts_origin, TsOrigin::DeviceBody);
    // Two events in one message, summer time.
    assert_eq!(ev[2].len(), 2);
    assert_eq!(
        ev[2][0].ts_utc_ns,
        utc_ns(2026, 7, 1, 8, 0, 0) + 990_000_000
    );
    assert_eq!(ev[2][1].kind, EventKind::SessionClose);
    assert_eq!((ev[2][1].inside_port, ev[2][1].port_lo), (Some(5001), 1032));
    assert_eq!(ev[2][1].seq, Some(28));
    // The autumn overlap: CET and CEST name different instants an hour apart.
    assert_eq!(ev[3][0].ts_utc_ns, utc_ns(2026, 10, 25, 1, 30, 0));
    assert_eq!(ev[4][0].ts_utc_ns, utc_ns(2026, 10, 25, 0, 30, 0));
    // With a UTC default zone, CET still resolves through the fixed table.
    let e = &parse_line_vec(lines[0].as_bytes(), RawRef::default(), &ctx(Vendor::Auto)).unwrap()[0];
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 13, 39, 26) + 370_000_000);
}

#[test]
fn vpp_samples() {
    let ev = parse_sample("vpp.log", Vendor::Vpp);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!((e.inside_ip, e.inside_port), (ip("10.0.0.3"), Some(34567)));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.proto),
        (v4("198.51.100.7"), 61002, Some(6))
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    assert_eq!(e.subscriber_id.as_deref(), Some("0"));
    assert_eq!(e.ts_precision, TsPrecision::MicroSec);
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 10, 0, 0) + 123_456_000);
    assert!(!e.tz_assumed);
    assert_eq!(
        ev[1][0].ts_utc_ns,
        utc_ns(2026, 11, 23, 9, 1, 0) + 500_000_000
    );
    let e = &ev[2][0];
    assert_eq!(e.kind, EventKind::MappingOpen);
    assert_eq!(e.b4_ipv6, Some("2001:db8:b4::7".parse().unwrap()));
    assert_eq!(e.subscriber_id.as_deref(), Some("12"));
    assert_eq!(ev[3][0].kind, EventKind::MappingClose);
}

#[test]
fn conntrack_samples() {
    let ev = parse_sample("conntrack.log", Vendor::Conntrack);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(
        (e.inside_ip, e.inside_port),
        (ip("10.0.15.42"), Some(45678))
    );
    assert_eq!(
        (e.outside_ip, e.port_lo, e.proto),
        (v4("203.0.113.50"), 32768, Some(6))
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 80)));
    assert_eq!(e.ts_utc_ns, 1_763_892_000_123_456_000);
    assert_eq!(e.ts_precision, TsPrecision::MicroSec);
    assert!(!e.tz_assumed);
    assert!(ev[1].is_empty(), "UPDATE");
    assert_eq!(ev[2][0].kind, EventKind::SessionClose);
    assert_eq!(ev[2][0].ts_utc_ns, 1_763_892_060_500_000_000);
    assert!(ev[3].is_empty(), "not source-NATed");
    assert!(ev[4].is_empty(), "ICMP has no ports");
    // `-o extended,timestamp`: layer-3 name and number before the protocol.
    let e = &ev[5][0];
    assert_eq!(
        (e.proto, e.outside_ip, e.port_lo),
        (Some(17), v4("203.0.113.51"), 40001)
    );
}

fn ipfix_sample() -> Vec<u8> {
    hex_sample("ipfix-nat.hex")
}

fn hex_sample(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(format!(
        "{}/tests/data/natlog/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn ipfix_rfc8158_records_with_per_exporter_numbering() {
    use warden_attribution::natlog::ExporterProfile;
    use warden_attribution::natlog::ipfix::{NatEventMap, read_ipfix};
    let data = ipfix_sample();
    let mut c = ctx(Vendor::Auto);
    c.exporters.insert(
        "9".into(),
        ExporterProfile {
            ipfix_events: Some(NatEventMap::Juniper),
            ..Default::default()
        },
    );
    let r = read_ipfix(&data, 3, &c, NatEventMap::Iana);
    let t0 = utc_ns(2026, 11, 23, 10, 0, 0);
    assert_eq!(r.events.len(), 5, "{:?}", r.errors);
    let e = &r.events[0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(
        (e.inside_ip, e.outside_ip, e.port_lo, e.port_hi),
        (ip("100.64.0.5"), v4("198.51.100.9"), 1024, 1535)
    );
    assert_eq!(
        (e.ts_utc_ns, e.ts_precision, e.tz_assumed),
        (t0 + 250_000_000, TsPrecision::MilliSec, false)
    );
    assert_eq!(
        (e.inside_vrf, e.seq, e.exporter.as_deref()),
        (3, Some(100), Some("7"))
    );
    assert_eq!((e.raw.file, e.raw.line), (3, 1));
    assert_eq!(r.events[1].kind, EventKind::BlockRelease);
    let e = &r.events[2];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(
        (e.inside_port, e.port_lo, e.proto),
        (Some(40000), 2000, Some(6))
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    // Juniper numbering: 14/15 are port blocks there; stepped block from start, step, count.
    let e = &r.events[3];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(
        (e.port_lo, e.port_hi, e.port_step),
        (2048, 2048 + 63 * 4, 4)
    );
    assert_eq!(
        (e.ts_utc_ns, e.ts_precision),
        (t0 + 60_000_000_000, TsPrecision::Sec)
    );
    assert_eq!(r.events[4].kind, EventKind::BlockRelease);
    // Exhaustion record and the template-less set.
    assert_eq!(r.skipped, 2);
    // The cut record and the truncated header, each with its byte offset.
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert!(
        r.errors[0].reason.contains("not padding"),
        "{}",
        r.errors[0]
    );
    assert!(r.errors[1].reason.contains("truncated message header"));
    assert!(r.errors[1].to_string().contains("IPFIX file #3 at byte"));

    // Without the profile, IANA reads 14/15 as address binding: the numbering matters.
    let r = read_ipfix(&data, 3, &ctx(Vendor::Auto), NatEventMap::Iana);
    assert_eq!(r.events[3].kind, EventKind::AddressBind);
}

#[test]
fn netflow_v9_cisco_hsl() {
    use warden_attribution::natlog::ExporterProfile;
    use warden_attribution::natlog::ipfix::{NatEventMap, read_ipfix};
    let data = hex_sample("netflow9-cisco-hsl.hex");
    let mut c = ctx(Vendor::Auto);
    c.exporters.insert(
        "167772161".into(),
        ExporterProfile {
            ipfix_events: Some(NatEventMap::CiscoHsl),
            ..Default::default()
        },
    );
    let r = read_ipfix(&data, 0, &c, NatEventMap::Iana);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.skipped, 1, "pool exhausted");
    let e = &r.events[0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!(
        (e.inside_ip, e.inside_port),
        (ip("100.64.3.3"), Some(51000))
    );
    assert_eq!(
        (e.outside_ip, e.port_lo, e.proto, e.inside_vrf),
        (v4("198.51.100.77"), 1030, Some(6), 2)
    );
    assert_eq!(e.dst, Some((ip("93.184.216.34"), 443)));
    assert_eq!(
        (e.ts_utc_ns, e.ts_origin),
        (utc_ns(2026, 11, 23, 10, 0, 5), TsOrigin::DeviceHeader)
    );
    assert_eq!(e.seq, Some(1));
    let e = &r.events[1];
    assert_eq!(
        (e.kind, e.ts_utc_ns),
        (EventKind::SessionClose, utc_ns(2026, 11, 23, 10, 1, 5))
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn ipfix_mutations_never_panic(pos in 0usize..2000, byte in any::<u8>(), cut in 0usize..2000) {
        use warden_attribution::natlog::ipfix::{NatEventMap, read_ipfix};
        let mut data = if pos % 2 == 0 { ipfix_sample() } else { hex_sample("netflow9-cisco-hsl.hex") };
        let p = pos % data.len();
        data[p] = byte;
        data.truncate(cut.max(p));
        let _ = read_ipfix(&data, 0, &ctx(Vendor::Auto), NatEventMap::Iana);
    }
}

#[test]
fn sixwind_samples() {
    let ev = parse_sample("sixwind.log", Vendor::SixWind);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::SessionOpen);
    assert_eq!((e.inside_ip, e.inside_port), (ip("10.100.0.1"), Some(4241)));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.proto),
        (v4("10.175.0.3"), 10752, Some(6))
    );
    assert_eq!(e.dst, Some((ip("10.200.0.1"), 33815)));
    assert_eq!(e.exporter.as_deref(), Some("dut-vm"));
    let e = &ev[1][0];
    assert_eq!(e.kind, EventKind::BlockAlloc);
    assert_eq!(
        (e.inside_ip, e.outside_ip, e.port_lo, e.port_hi, e.proto),
        (ip("100.64.0.1"), v4("192.0.2.33"), 1, 512, Some(6))
    );
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 11, 8, 3, 9));
    assert!(ev[2].is_empty());
}

#[test]
fn citrix_samples_default_and_compact() {
    let ev = parse_sample("citrix.log", Vendor::Citrix);
    let e = &ev[0][0];
    assert_eq!(e.kind, EventKind::MappingOpen);
    assert_eq!((e.inside_ip, e.inside_port), (ip("100.64.1.1"), Some(6500)));
    assert_eq!(
        (e.outside_ip, e.port_lo, e.proto),
        (v4("203.0.113.8"), 47902, Some(6))
    );
    assert_eq!(e.dst, Some((ip("192.0.2.2"), 80)));
    assert_eq!(e.ts_utc_ns, utc_ns(2026, 11, 23, 1, 13, 1));
    assert!(!e.tz_assumed);
    let e = &ev[1][0];
    assert_eq!(
        (e.kind, e.outside_ip, e.port_lo, e.inside_vrf, e.proto),
        (EventKind::MappingOpen, v4("203.0.113.9"), 51066, 2, Some(6))
    );
    assert_eq!(ev[2][0].kind, EventKind::MappingClose);
    assert_eq!(ev[2][0].proto, Some(17));
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
        (
            Vendor::Cisco,
            "1 2026 Nov 23 11:30:00 10.0.0.1 - - NAT44 - [UserbasedA - 100.64.1.2 V - 198.51.100.1 - 23001 22345]",
            "port range",
        ),
        (
            Vendor::Cisco,
            "1 2026 Nov 23 11:30:00 10.0.0.1 - - NAT44 - [UserbasedA - 100.64.1.2 V - 198.51.100.1 - 22345 23001",
            "record",
        ),
        (
            Vendor::Cisco,
            "1 2026 Nov 23 11:30:00 10.0.0.1 - - NAT44 - [UserbasedA - - V - 198.51.100.1 - 1 2]",
            "original source",
        ),
        (
            Vendor::A10,
            "<134>Nov 23 10:01:00 cgn CEF:0|A10|CFW|6.0.0-P1|CGN 106|Nat Port Batch Pool Allocated|5|proto=UDP src=100.65.140.73 sourceTranslatedAddress=99.99.99.12 sourceTranslatedPort=22016",
            "cn3",
        ),
        (
            Vendor::A10,
            "cgn0.thn2/cgn-demo CEF:0|A10|CFW|6.0.0-P1|CGN 100|Nat Port Allocated|5|proto=ICMP src=100.65.161.0 spt=1 sourceTranslatedAddress=99.99.99.13 sourceTranslatedPort=48856",
            "time",
        ),
        (
            Vendor::F5,
            "<134>Nov 23 12:00:00 bigip1 test LSN_ADD 100.64.23.122%x:40312 6 194.15.97.34%0:51211",
            "route domain",
        ),
        (
            Vendor::Nokia,
            "<134> Nov 23 14:39:26 192.0.2.10 TMNX: 26 NAT [1/2]: LSN44 SADD 2026 Nov 23 14:39:26 CET TCP 1 100.64.0.10 40001",
            "time",
        ),
        (
            Vendor::Nokia,
            "<134> Nov 23 14:39:26 192.0.2.10 TMNX: 26 NAT [1/2]: LSN44 SADD 2026 Nov 23 14:39:26:37 CET TCP 1 100.64.0.10 40001",
            "outside address",
        ),
        (
            Vendor::Vpp,
            "<134>1 2026-11-23T10:00:00Z vpp NAT - SADD [nsess ISADDR=\"10.0.0.3\" XSADDR=\"198.51.100.7\" XSPORT=\"70000\"]",
            "XSPORT",
        ),
        (
            Vendor::Conntrack,
            "    [NEW] tcp      6 120 SYN_SENT src=10.0.15.42 dst=93.184.216.34 sport=45678 dport=80 src=93.184.216.34 dst=203.0.113.50 sport=80 dport=32768",
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
        for v in std::iter::once(Vendor::Auto).chain(Vendor::ALL) {
            let mut out = Vec::new();
            let _ = parse_line(&bytes, RawRef::default(), &ctx(v), &mut out);
        }
    }

    /// Random mutations of real lines: a much denser search of the parsers' edge cases than
    /// random bytes, which rarely get past the vendor markers.
    #[test]
    fn mutated_samples_never_panic(idx in 0usize..1000, pos in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
        let lines: Vec<String> = ["juniper.log", "cisco.log", "a10.log", "f5.log", "nokia.log", "vpp.log", "conntrack.log", "sixwind.log", "citrix.log"].iter().flat_map(|f| sample(f)).collect();
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
