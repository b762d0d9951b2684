//! Synthetic CGN behaviour with ground truth, for tests and benchmarks.
//!
//! Real CGN logs cannot be shipped (they are personal data), and real logs have no ground truth.
//! The generator simulates subscribers behind a CGN with address pooling "paired" (a subscriber
//! keeps one outside address), either
//!
//! * allocating and releasing port blocks (Juniper `JSERVICES_NAT_PORT_BLOCK_*` lines, with
//!   optional `_ACTIVE` interim re-sends), or
//! * opening per-session translations (Juniper `RT_FLOW_SESSION_CREATE`/`_CLOSE`, RFC 5424
//!   structured form with millisecond times),
//!
//! and writes the log lines a device would emit, in the device's (possibly skewed) clock, while
//! recording the true intervals. It can lose releases and allocations (syslog over UDP) and skew
//! the device clock, the two things that make attribution hard in practice. Deterministic: the
//! same config and seed give the same bytes.

use crate::natlog::pair::Millis;
use chrono::{DateTime, Utc};
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

/// How the simulated CGN allocates ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Port block allocation of `block_size` ports from 1024 up.
    PortBlock {
        /// Ports per block.
        block_size: u16,
        /// Interim (`_ACTIVE`) re-send period, when interim logging is on.
        interim_period_ms: Option<Millis>,
    },
    /// One translation per session (TCP and UDP).
    PerSession,
}

/// Which device's log lines the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineFormat {
    /// Juniper: `JSERVICES_NAT_PORT_BLOCK_*` for port blocks, `RT_FLOW_SESSION_*` (RFC 5424
    /// structured) for sessions. No sequence numbers.
    #[default]
    Juniper,
    /// Nokia 7750 flow syslog: `LSN44 SADD`/`SDEL` with centisecond times and a device sequence
    /// number in every line. A record lost on the way (a lost allocation or release) still used
    /// its number, so the import sees a sequence gap there, as it would with a real device.
    /// Port-block holdings are written as SADD/SDEL of their first port.
    Nokia,
}

/// Generator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Simulation start, UTC ms (true time).
    pub start_ms: Millis,
    /// How long new holdings are started.
    pub duration_ms: Millis,
    /// Number of subscribers.
    pub subscribers: u32,
    /// Number of outside addresses (subscriber `i` uses address `i % outside_ips`).
    pub outside_ips: u32,
    /// Allocation scheme.
    pub scheme: Scheme,
    /// Mean holding time (block or session).
    pub mean_hold_ms: Millis,
    /// Mean time between a subscriber's holdings.
    pub mean_gap_ms: Millis,
    /// Share of releases not logged (lost).
    pub lost_release: f64,
    /// Share of allocations not logged (lost).
    pub lost_alloc: f64,
    /// Device clock minus true time.
    pub clock_skew_ms: Millis,
    /// Line format (vendor).
    pub format: LineFormat,
    /// Exporter host name written in the lines.
    pub host: String,
    /// First outside address.
    pub first_outside: Ipv4Addr,
    /// First inside address (subscriber `i` is this plus `i`).
    pub first_inside: Ipv4Addr,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            start_ms: 1_795_996_800_000, // 2026-11-30T00:00:00Z
            duration_ms: 3_600_000,
            subscribers: 200,
            outside_ips: 4,
            scheme: Scheme::PortBlock {
                block_size: 512,
                interim_period_ms: None,
            },
            mean_hold_ms: 600_000,
            mean_gap_ms: 300_000,
            lost_release: 0.0,
            lost_alloc: 0.0,
            clock_skew_ms: 0,
            format: LineFormat::Juniper,
            host: "cgn1".into(),
            first_outside: Ipv4Addr::new(198, 51, 100, 1),
            first_inside: Ipv4Addr::new(100, 64, 0, 1),
        }
    }
}

/// One true holding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthInterval {
    /// Outside address.
    pub outside_ip: Ipv4Addr,
    /// First port.
    pub port_lo: u16,
    /// Last port.
    pub port_hi: u16,
    /// Protocol (`None` for blocks, which cover all protocols).
    pub proto: Option<u8>,
    /// True start, UTC ms.
    pub start_ms: Millis,
    /// True end, UTC ms.
    pub end_ms: Millis,
    /// Holder.
    pub inside_ip: IpAddr,
    /// Whether the allocation line was written.
    pub alloc_logged: bool,
    /// Whether the release line was written.
    pub release_logged: bool,
}

/// Counters of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Lines written.
    pub lines: u64,
    /// Holdings simulated.
    pub intervals: u64,
}

/// SplitMix64: tiny, fast, and good enough for simulation; keeps the crate free of a PRNG
/// dependency and the output stable across dependency upgrades.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean (at least 1).
    pub fn exp(&mut self, mean: Millis) -> Millis {
        let u = 1.0 - self.unit();
        ((-u.ln()) * mean.max(1) as f64).max(1.0) as Millis
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Start { sub: u32 },
    End { slot: usize },
    Interim { slot: usize, epoch: u64 },
}

/// One simulated holding, as the device sees it.
#[derive(Debug, Clone)]
pub struct Holding {
    /// Subscriber index.
    pub sub: u32,
    /// Outside address index.
    pub ip: u32,
    /// First port.
    pub lo: u16,
    /// Last port.
    pub hi: u16,
    /// Protocol (per session only).
    pub proto: Option<u8>,
    /// True start.
    pub start: Millis,
    epoch: u64,
    /// Whether the open record is written.
    pub alloc_logged: bool,
    session_id: u64,
}

impl Holding {
    /// Inside address of the holder.
    pub fn inside(&self, cfg: &GenConfig) -> Ipv4Addr {
        ip_at(cfg.first_inside, self.sub)
    }

    /// Outside address.
    pub fn outside(&self, cfg: &GenConfig) -> Ipv4Addr {
        ip_at(cfg.first_outside, self.ip)
    }
}

/// Runs the simulation, writing log lines to `out` and, when given, true intervals to `truth`.
pub fn generate(
    cfg: &GenConfig,
    out: &mut dyn Write,
    mut truth: Option<&mut Vec<TruthInterval>>,
) -> io::Result<GenStats> {
    let mut line = String::with_capacity(512);
    simulate(
        cfg,
        &mut |h, kind, t, seq| {
            line.clear();
            write_line(cfg, h, kind, t, seq, &mut line);
            out.write_all(line.as_bytes())
        },
        &mut |x| {
            if let Some(tr) = truth.as_deref_mut() {
                tr.push(x);
            }
        },
    )
}

/// A log record the simulated device writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Allocation or session create.
    Open,
    /// Release or session close.
    Close,
    /// Interim (`_ACTIVE`) re-send.
    Interim,
}

/// Runs the simulation without formatting lines: `on_line` sees each record that would be
/// written (in device time order) with the device's record number (1, 2, ...; lost records use
/// a number too, so the numbers of written records have gaps where records were lost),
/// `on_truth` each finished true holding. Benchmarks use this to
/// build stores of hundreds of millions of intervals without writing terabytes of text.
pub fn simulate(
    cfg: &GenConfig,
    on_line: &mut dyn FnMut(&Holding, Kind, Millis, u64) -> io::Result<()>,
    on_truth: &mut dyn FnMut(TruthInterval),
) -> io::Result<GenStats> {
    let mut rng = SplitMix::new(cfg.seed);
    let mut heap: BinaryHeap<std::cmp::Reverse<(Millis, u64, Ev)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let ips = cfg.outside_ips.max(1);
    for sub in 0..cfg.subscribers {
        let t = cfg.start_ms + rng.below(cfg.mean_gap_ms.max(1) as u64) as Millis;
        seq += 1;
        heap.push(std::cmp::Reverse((t, seq, Ev::Start { sub })));
    }
    let (block_size, interim) = match cfg.scheme {
        Scheme::PortBlock {
            block_size,
            interim_period_ms,
        } => (block_size.max(1), interim_period_ms),
        Scheme::PerSession => (1, None),
    };
    let per_ip_slots = ((65_536 - 1024) / u32::from(block_size)) as usize;
    // Used blocks (PBA) or used (port, proto) pairs (per session) per outside address.
    let mut used: Vec<HashSet<(u16, u8)>> = vec![HashSet::new(); ips as usize];
    let mut slots: Vec<Option<Holding>> = Vec::new();
    let mut free_slots: Vec<usize> = Vec::new();
    let end_new = cfg.start_ms + cfg.duration_ms;
    let mut stats = GenStats::default();
    let mut epoch = 0u64;
    let mut record = 0u64;
    while let Some(std::cmp::Reverse((t, _, ev))) = heap.pop() {
        match ev {
            Ev::Start { sub } => {
                if t >= end_new {
                    continue;
                }
                let ip = sub % ips;
                let mut chosen = None;
                for _ in 0..32 {
                    let (lo, proto) = match cfg.scheme {
                        Scheme::PortBlock { .. } => {
                            let b = rng.below(per_ip_slots as u64) as u32;
                            ((1024 + b * u32::from(block_size)) as u16, 0u8)
                        }
                        Scheme::PerSession => {
                            let p = (1024 + rng.below(65_536 - 1024)) as u16;
                            (p, if rng.below(4) == 0 { 17 } else { 6 })
                        }
                    };
                    if let Some(set) = used.get_mut(ip as usize)
                        && set.insert((lo, proto))
                    {
                        chosen = Some((lo, proto));
                        break;
                    }
                }
                if let Some((lo, proto)) = chosen {
                    epoch += 1;
                    let h = Holding {
                        sub,
                        ip,
                        lo,
                        hi: lo.saturating_add(block_size - 1),
                        proto: (proto != 0).then_some(proto),
                        start: t,
                        epoch,
                        alloc_logged: rng.unit() >= cfg.lost_alloc,
                        session_id: epoch,
                    };
                    let slot = match free_slots.pop() {
                        Some(s) => s,
                        None => {
                            slots.push(None);
                            slots.len() - 1
                        }
                    };
                    record += 1;
                    if h.alloc_logged {
                        on_line(&h, Kind::Open, t, record)?;
                        stats.lines += 1;
                    }
                    let hold = rng.exp(cfg.mean_hold_ms);
                    seq += 1;
                    heap.push(std::cmp::Reverse((t + hold, seq, Ev::End { slot })));
                    if let Some(p) = interim {
                        seq += 1;
                        heap.push(std::cmp::Reverse((t + p, seq, Ev::Interim { slot, epoch })));
                    }
                    if let Some(s) = slots.get_mut(slot) {
                        *s = Some(h);
                    }
                }
                // Per-session subscribers start sessions independently of their open ones;
                // block holders wait for their block to go before the next.
                if cfg.scheme == Scheme::PerSession || chosen.is_none() {
                    let next = t + rng.exp(cfg.mean_gap_ms);
                    seq += 1;
                    heap.push(std::cmp::Reverse((next, seq, Ev::Start { sub })));
                }
            }
            Ev::End { slot } => {
                let Some(h) = slots.get_mut(slot).and_then(Option::take) else {
                    continue;
                };
                free_slots.push(slot);
                if let Some(set) = used.get_mut(h.ip as usize) {
                    set.remove(&(h.lo, h.proto.unwrap_or(0)));
                }
                let release_logged = rng.unit() >= cfg.lost_release;
                record += 1;
                if release_logged {
                    on_line(&h, Kind::Close, t, record)?;
                    stats.lines += 1;
                }
                stats.intervals += 1;
                {
                    on_truth(TruthInterval {
                        outside_ip: ip_at(cfg.first_outside, h.ip),
                        port_lo: h.lo,
                        port_hi: h.hi,
                        proto: h.proto,
                        start_ms: h.start,
                        end_ms: t,
                        inside_ip: IpAddr::V4(ip_at(cfg.first_inside, h.sub)),
                        alloc_logged: h.alloc_logged,
                        release_logged,
                    });
                }
                if cfg.scheme != Scheme::PerSession {
                    let next = t + rng.exp(cfg.mean_gap_ms);
                    seq += 1;
                    heap.push(std::cmp::Reverse((next, seq, Ev::Start { sub: h.sub })));
                }
            }
            Ev::Interim { slot, epoch } => {
                if let Some(Some(h)) = slots.get(slot)
                    && h.epoch == epoch
                {
                    record += 1;
                    on_line(h, Kind::Interim, t, record)?;
                    stats.lines += 1;
                    if let Some(p) = interim {
                        seq += 1;
                        heap.push(std::cmp::Reverse((t + p, seq, Ev::Interim { slot, epoch })));
                    }
                }
            }
        }
    }
    Ok(stats)
}

fn ip_at(base: Ipv4Addr, i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(i))
}

fn write_line(
    cfg: &GenConfig,
    h: &Holding,
    kind: Kind,
    true_ms: Millis,
    seq: u64,
    line: &mut String,
) {
    use std::fmt::Write as _;
    let device_ms = true_ms + cfg.clock_skew_ms;
    let dt = DateTime::<Utc>::from_timestamp_millis(device_ms).unwrap_or_default();
    let inside = ip_at(cfg.first_inside, h.sub);
    let outside = ip_at(cfg.first_outside, h.ip);
    let host = &cfg.host;
    if cfg.format == LineFormat::Nokia {
        // Research notes 1.5: BSD header (device local time, UTC here), `<prefix>: <seq> NAT
        // [<MDA>]: `, then the event with its own centisecond time and zone designator. The
        // optional router ids before the addresses are left out: the outside one would be read
        // as the outside VRF, and the simulated CGN has one.
        let tag = if kind == Kind::Close { "SDEL" } else { "SADD" };
        let proto = if h.proto == Some(17) { "UDP" } else { "TCP" };
        let sport = 30_000 + (h.session_id % 30_000);
        let dst = Ipv4Addr::from(0xCB00_7100 | (h.session_id as u32 & 0xff));
        let dport = if h.proto == Some(17) { 53 } else { 443 };
        let _ = writeln!(
            line,
            "<134> {} {host} TMNX: {seq} NAT [1/2]: LSN44 {tag} {}:{:02} UTC {proto} {inside} {sport} {outside} {} {dst} {dport}",
            dt.format("%b %e %H:%M:%S"),
            dt.format("%Y %b %-d %H:%M:%S"),
            dt.timestamp_subsec_millis() / 10,
            h.lo,
        );
        return;
    }
    match cfg.scheme {
        Scheme::PortBlock { .. } => {
            let tag = match kind {
                Kind::Open => "ALLOC",
                Kind::Close => "RELEASE",
                Kind::Interim => "ACTIVE",
            };
            // The BSD header is the collector's receive time; the body time is the PIC's clock
            // (research notes 1.1a). Both are written in device time here.
            let _ = writeln!(
                line,
                "{} {host} {}: {host}{{sset0}}[jservices-nat]: JSERVICES_NAT_PORT_BLOCK_{tag}: {inside} -> {outside}:{}-{}",
                dt.format("%b %e %H:%M:%S"),
                dt.format("%Y-%m-%d %H:%M:%S"),
                h.lo,
                h.hi
            );
        }
        Scheme::PerSession => {
            let tag = if kind == Kind::Open {
                "CREATE"
            } else {
                "CLOSE"
            };
            let proto = h.proto.unwrap_or(6);
            let dport = if proto == 17 { 53 } else { 443 };
            let sport = 30_000 + (h.session_id % 30_000);
            let dst = Ipv4Addr::from(0xCB00_7100 | (h.session_id as u32 & 0xff));
            let _ = writeln!(
                line,
                "<14>1 {} {host} RT_FLOW - RT_FLOW_SESSION_{tag} [junos@2636.1.1.1.2.25 source-address=\"{inside}\" source-port=\"{sport}\" destination-address=\"{dst}\" destination-port=\"{dport}\" service-name=\"none\" nat-source-address=\"{outside}\" nat-source-port=\"{}\" nat-destination-address=\"{dst}\" nat-destination-port=\"{dport}\" protocol-id=\"{proto}\" session-id-32=\"{}\"]",
                dt.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                h.lo,
                h.session_id
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_time_ordered() {
        let cfg = GenConfig::default();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut truth = Vec::new();
        let s = generate(&cfg, &mut a, Some(&mut truth)).unwrap();
        generate(&cfg, &mut b, None).unwrap();
        assert_eq!(a, b);
        assert!(s.lines > 100, "{s:?}");
        assert_eq!(s.intervals as usize, truth.len());
        // no two true holdings of one block overlap
        let mut t = truth.clone();
        t.sort_by_key(|x| (x.outside_ip, x.port_lo, x.start_ms));
        for w in t.windows(2) {
            if w[0].outside_ip == w[1].outside_ip && w[0].port_lo == w[1].port_lo {
                assert!(w[0].end_ms <= w[1].start_ms);
            }
        }
        let text = String::from_utf8(a).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("JSERVICES_NAT_PORT_BLOCK_ALLOC")
        );
    }

    #[test]
    fn losses_are_recorded_in_truth() {
        let cfg = GenConfig {
            lost_release: 0.3,
            scheme: Scheme::PerSession,
            mean_hold_ms: 30_000,
            mean_gap_ms: 20_000,
            ..GenConfig::default()
        };
        let mut truth = Vec::new();
        let mut out = Vec::new();
        let s = generate(&cfg, &mut out, Some(&mut truth)).unwrap();
        let lost = truth.iter().filter(|t| !t.release_logged).count();
        assert!(
            lost > truth.len() / 5 && lost < truth.len() / 2,
            "{lost} of {}",
            truth.len()
        );
        assert_eq!(s.lines as usize, truth.len() * 2 - lost);
    }
}
