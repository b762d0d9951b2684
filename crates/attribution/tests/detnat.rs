//! Deterministic NAT: reverse must be the exact inverse of forward, for every inside address
//! and every outside port, for each vendor algorithm; versions must switch at their dates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs,
    reason = "test and bench code: a broken set-up should fail loudly, and criterion macros generate undocumented items"
)]

use chrono::{TimeZone, Utc};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use warden_attribution::detnat::{
    Algorithm, DetConfig, DetConfigSet, DetConfigSpec, DetError, Fill,
};

fn spec(id: &str, algorithm: Algorithm, inside: &str, outside: &str) -> DetConfigSpec {
    DetConfigSpec {
        id: id.into(),
        algorithm,
        inside: inside.parse().unwrap(),
        outside: outside.parse().unwrap(),
        outside_vrf: 0,
        valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        valid_to: None,
    }
}

/// Forward every inside address, reverse every port of every outside address, and check that
/// the two agree exactly: each (outside, port) belongs to at most one subscriber, and it is the
/// subscriber whose block contains it. Returns how many inside addresses were mapped.
fn assert_exact_inverse(cfg: &DetConfig) -> usize {
    let inside: Ipv4Net = cfg.spec().inside;
    let outside: Ipv4Net = cfg.spec().outside;
    // owner[(outside offset) * 65536 + port]; a flat table keeps the 1M-port sweep fast.
    let base = u32::from(outside.network());
    let slot = |o: Ipv4Addr, p: u16| ((u32::from(o) - base) as usize) * 65_536 + usize::from(p);
    let mut owner: Vec<Option<Ipv4Addr>> = vec![None; (outside.hosts().count() + 2) * 65_536];
    let mut mapped = 0;
    for i in inside.hosts().chain([inside.network(), inside.broadcast()]) {
        let Some(b) = cfg.forward(i) else { continue };
        mapped += 1;
        assert!(
            outside.contains(&b.outside_ip),
            "{i} -> {b:?} outside the pool"
        );
        assert!(b.port_lo >= 1 && b.port_lo <= b.port_hi);
        for p in b.port_lo..=b.port_hi {
            let o = &mut owner[slot(b.outside_ip, p)];
            assert!(o.replace(i).is_none(), "{}:{p} given twice", b.outside_ip);
        }
    }
    for o in outside
        .hosts()
        .chain([outside.network(), outside.broadcast()])
    {
        for p in 0..=u16::MAX {
            assert_eq!(cfg.reverse(o, p), owner[slot(o, p)], "reverse({o}, {p})");
        }
    }
    mapped
}

#[test]
fn vpp_det44_slash24_to_slash28_is_exact_inverse() {
    let cfg = DetConfig::new(spec(
        "vpp",
        Algorithm::Vpp,
        "10.0.0.0/24",
        "198.51.100.0/28",
    ))
    .unwrap();
    assert_eq!(assert_exact_inverse(&cfg), 256);
    // det44.h: sharing ratio 16, 4032 ports per host, from 1024.
    let b = cfg.forward("10.0.0.0".parse().unwrap()).unwrap();
    assert_eq!(
        (b.outside_ip, b.port_lo, b.port_hi),
        ("198.51.100.0".parse().unwrap(), 1024, 5055)
    );
    let b = cfg.forward("10.0.0.17".parse().unwrap()).unwrap();
    assert_eq!(
        (b.outside_ip, b.port_lo, b.port_hi),
        ("198.51.100.1".parse().unwrap(), 5056, 9087)
    );
    let b = cfg.forward("10.0.0.255".parse().unwrap()).unwrap();
    assert_eq!(
        (b.outside_ip, b.port_lo, b.port_hi),
        ("198.51.100.15".parse().unwrap(), 61_504, 65_535)
    );
    // Below 1024 nobody holds a port.
    assert_eq!(cfg.reverse("198.51.100.3".parse().unwrap(), 1023), None);
}

#[test]
fn juniper_deterministic_napt_slash24_to_slash28_is_exact_inverse() {
    // Computed block size: 254 hosts (boundaries skipped) over 16 addresses -> 64512/16 = 4032.
    let alg = Algorithm::Juniper {
        block_size: 0,
        include_boundary_addresses: false,
    };
    let cfg = DetConfig::new(spec("jnpr", alg, "10.0.0.0/24", "198.51.100.0/28")).unwrap();
    assert_eq!(cfg.layout().block_size, 4032);
    assert_eq!(assert_exact_inverse(&cfg), 254);
    assert_eq!(cfg.forward("10.0.0.0".parse().unwrap()), None);
    assert_eq!(cfg.forward("10.0.0.255".parse().unwrap()), None);
    let b = cfg.forward("10.0.0.1".parse().unwrap()).unwrap();
    assert_eq!(
        (b.outside_ip, b.port_lo),
        ("198.51.100.0".parse().unwrap(), 1024)
    );

    // Default Next Gen block size 256 with boundaries: compare with the documented formulas
    // Pu_Prefix = Base_PU + PR_Port_Offset / 64512, Pu_Start = 1024 + PR_Port_Offset % 64512.
    let alg = Algorithm::Juniper {
        block_size: 256,
        include_boundary_addresses: true,
    };
    let cfg = DetConfig::new(spec("jnpr256", alg, "10.0.0.0/24", "198.51.100.0/28")).unwrap();
    assert_eq!(assert_exact_inverse(&cfg), 256);
    for k in 0u32..256 {
        let i = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 0)) + k);
        let off = k * 256;
        let pu = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 51, 100, 0)) + off / 64_512);
        let start = 1024 + off % 64_512;
        let b = cfg.forward(i).unwrap();
        assert_eq!(
            (b.outside_ip, u32::from(b.port_lo), u32::from(b.port_hi)),
            (pu, start, start + 255)
        );
    }
}

#[test]
fn generic_round_robin_and_sequential_are_exact_inverses() {
    for fill in [Fill::RoundRobin, Fill::Sequential] {
        let alg = Algorithm::Generic {
            first_port: 2000,
            block_size: 3000,
            fill,
        };
        let cfg = DetConfig::new(spec("gen", alg, "100.64.0.0/24", "203.0.113.0/28")).unwrap();
        assert_eq!(assert_exact_inverse(&cfg), 256);
    }
    let alg = Algorithm::Generic {
        first_port: 1024,
        block_size: 2000,
        fill: Fill::RoundRobin,
    };
    let cfg = DetConfig::new(spec("rr", alg, "100.64.0.0/24", "203.0.113.0/28")).unwrap();
    // Round robin: consecutive subscribers land on consecutive addresses.
    let a = cfg.forward("100.64.0.0".parse().unwrap()).unwrap();
    let b = cfg.forward("100.64.0.1".parse().unwrap()).unwrap();
    let c = cfg.forward("100.64.0.16".parse().unwrap()).unwrap();
    assert_eq!(
        (a.outside_ip, a.port_lo),
        ("203.0.113.0".parse().unwrap(), 1024)
    );
    assert_eq!(
        (b.outside_ip, b.port_lo),
        ("203.0.113.1".parse().unwrap(), 1024)
    );
    assert_eq!(
        (c.outside_ip, c.port_lo),
        ("203.0.113.0".parse().unwrap(), 3024)
    );
}

#[test]
fn impossible_configs_are_refused_with_reasons() {
    // 256 subscribers cannot fit 4096-port blocks on 16 addresses (15 blocks each).
    let alg = Algorithm::Generic {
        first_port: 1024,
        block_size: 4096,
        fill: Fill::Sequential,
    };
    let e = DetConfig::new(spec("big", alg, "10.0.0.0/24", "198.51.100.0/28")).unwrap_err();
    assert!(e.to_string().contains("more inside addresses"), "{e}");
    let e =
        DetConfig::new(spec("v", Algorithm::Vpp, "10.0.0.0/28", "198.51.100.0/24")).unwrap_err();
    assert!(e.to_string().contains("VPP det44"), "{e}");
    let mut s = spec("dates", Algorithm::Vpp, "10.0.0.0/24", "198.51.100.0/28");
    s.valid_to = Some(s.valid_from);
    assert!(
        DetConfig::new(s)
            .unwrap_err()
            .to_string()
            .contains("valid_to")
    );
}

#[test]
fn versions_switch_at_their_dates_and_overlaps_are_refused() {
    let t = |m| Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
    let ns = |m| t(m).timestamp_nanos_opt().unwrap();
    let mut v1 = spec("pool v1", Algorithm::Vpp, "10.0.0.0/24", "198.51.100.0/28");
    v1.valid_from = t(1);
    v1.valid_to = Some(t(6));
    let mut v2 = spec(
        "pool v2",
        Algorithm::Juniper {
            block_size: 0,
            include_boundary_addresses: false,
        },
        "10.0.0.0/24",
        "198.51.100.0/28",
    );
    v2.valid_from = t(6);
    let mut set = DetConfigSet::new();
    set.add(v1).unwrap();
    set.add(v2).unwrap();
    let out: Ipv4Addr = "198.51.100.0".parse().unwrap();
    let m = set.reverse(0, out, 1024, ns(3)).unwrap();
    assert_eq!(
        (m.inside_ip, m.config.id()),
        ("10.0.0.0".parse().unwrap(), "pool v1")
    );
    assert_eq!((m.block.port_lo, m.block.port_hi), (1024, 5055));
    let m = set.reverse(0, out, 1024, ns(6)).unwrap();
    assert_eq!(
        (m.inside_ip, m.config.id()),
        ("10.0.0.1".parse().unwrap(), "pool v2")
    );
    assert!(
        set.reverse(0, out, 1024, ns(1) - 1).is_none(),
        "before any version"
    );
    assert!(set.reverse(7, out, 1024, ns(3)).is_none(), "other VRF");
    assert_eq!(set.forward("10.0.0.0".parse().unwrap(), ns(3)).len(), 1);

    let mut clash = spec("clash", Algorithm::Vpp, "10.9.0.0/24", "198.51.100.8/29");
    clash.valid_from = t(7);
    assert!(matches!(set.add(clash), Err(DetError::Overlap { .. })));
}

#[test]
fn configs_load_from_json() {
    let text = r#"[
      {"id": "cgn1 A", "algorithm": "vpp", "inside": "100.64.0.0/24", "outside": "192.0.2.0/28",
       "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2026-07-01T00:00:00Z"},
      {"id": "cgn1 B", "algorithm": "juniper", "block_size": 256, "inside": "100.64.0.0/24",
       "outside": "192.0.2.0/28", "valid_from": "2026-07-01T00:00:00Z"},
      {"id": "edge", "algorithm": "generic", "first_port": 1024, "block_size": 2016, "fill": "round_robin",
       "inside": "100.65.0.0/26", "outside": "192.0.2.16/30", "outside_vrf": 3,
       "valid_from": "2026-01-01T00:00:00Z"}
    ]"#;
    let set = DetConfigSet::from_json(text).unwrap();
    assert_eq!(set.configs().len(), 3);
    let t = Utc
        .with_ymd_and_hms(2026, 8, 1, 0, 0, 0)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap();
    let m = set
        .reverse(0, "192.0.2.0".parse().unwrap(), 1024 + 256, t)
        .unwrap();
    // Boundary addresses skipped: slot 0 is 100.64.0.1, slot 1 is 100.64.0.2.
    assert_eq!(
        (m.inside_ip, m.config.id()),
        ("100.64.0.2".parse().unwrap(), "cgn1 B")
    );
    let e = DetConfigSet::from_json(r#"[{"id": "x", "algorithm": "warp"}]"#).unwrap_err();
    assert!(e.to_string().contains("config file"), "{e}");
}

mod random_configs {
    use super::*;
    use proptest::prelude::*;

    fn check(cfg: &DetConfig, probes: &[(u32, u16)]) -> Result<(), TestCaseError> {
        let inside = cfg.spec().inside;
        let outside = cfg.spec().outside;
        for &(r, port) in probes {
            let i = Ipv4Addr::from(
                u32::from(inside.network()) + r % (1u32 << (32 - inside.prefix_len())),
            );
            if let Some(b) = cfg.forward(i) {
                for p in [
                    b.port_lo,
                    b.port_hi,
                    b.port_lo + (port % (b.port_hi - b.port_lo + 1)),
                ] {
                    prop_assert_eq!(cfg.reverse(b.outside_ip, p), Some(i));
                }
            }
            let o = Ipv4Addr::from(
                u32::from(outside.network()) + r % (1u32 << (32 - outside.prefix_len())),
            );
            if let Some(back) = cfg.reverse(o, port) {
                let b = cfg
                    .forward(back)
                    .expect("reverse answers only mapped addresses");
                prop_assert_eq!(b.outside_ip, o);
                prop_assert!(b.port_lo <= port && port <= b.port_hi);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn generic_layouts_round_trip(
            in_len in 16u8..=30, out_extra in 0u8..=8, first_port in 1u16..=4096,
            block in 1u16..=4096, rr in any::<bool>(),
            probes in proptest::collection::vec((any::<u32>(), any::<u16>()), 64),
        ) {
            let out_len = (in_len + out_extra).min(32);
            let fill = if rr { Fill::RoundRobin } else { Fill::Sequential };
            let alg = Algorithm::Generic { first_port, block_size: block, fill };
            let s = spec("p", alg, &format!("10.0.0.0/{in_len}"), &format!("198.18.0.0/{out_len}"));
            // Many random layouts are impossible (too few blocks); they must be refused, not
            // half-built.
            if let Ok(cfg) = DetConfig::new(s) {
                check(&cfg, &probes)?;
            }
        }

        #[test]
        fn vendor_layouts_round_trip(
            in_len in 16u8..=30, out_extra in 0u8..=10, block in 0u16..=4096, boundary in any::<bool>(),
            probes in proptest::collection::vec((any::<u32>(), any::<u16>()), 64),
        ) {
            let out_len = (in_len + out_extra).min(32);
            let (i, o) = (format!("10.0.0.0/{in_len}"), format!("198.18.0.0/{out_len}"));
            if let Ok(cfg) = DetConfig::new(spec("v", Algorithm::Vpp, &i, &o)) {
                check(&cfg, &probes)?;
            }
            let alg = Algorithm::Juniper { block_size: block, include_boundary_addresses: boundary };
            if let Ok(cfg) = DetConfig::new(spec("j", alg, &i, &o)) {
                check(&cfg, &probes)?;
            }
        }
    }
}
