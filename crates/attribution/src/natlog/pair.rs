//! Pairing: turns a stream of open/close/interim [`NatEvent`]s into [`NatInterval`]s.
//!
//! An abuse lookup asks "who held outside IP X, port Y at time T", which is a stabbing query over
//! intervals, not over events (research notes, section 6). Syslog over UDP loses records, so an
//! interval whose release never arrives must still end somewhere, and must say how its end was
//! inferred (section 0, finding 4):
//!
//! * the next allocation of the same block to someone else ends it ([`EndKind::NextAlloc`]),
//! * the last interim record plus the configured interim period ends it
//!   ([`EndKind::InterimExpired`]; Juniper re-sends active blocks every interim period),
//! * a configured maximum lifetime ends it ([`EndKind::MaxLifetime`]).
//!
//! Whichever comes first wins. Intervals still open when the input ends and whose bounds lie past
//! the newest event seen stay *pending* ([`Pairer::finish`]) so that the next import can close them
//! with their real release.
//!
//! Device sequence numbers (Nokia `<seq>`, IPFIX sequence) that jump are reported as
//! [`SeqGap`]s: possible log loss, which lookups surface as a reason for doubt.

use super::{EventKind, NatEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Milliseconds: the store's time unit. Devices log seconds, centiseconds or milliseconds; a
/// finer unit would only cost bytes per interval.
pub type Millis = i64;

/// Converts an event's UTC nanoseconds to the store's milliseconds (floor, also before 1970).
pub fn ns_to_ms(ns: i64) -> Millis {
    ns.div_euclid(1_000_000)
}

/// How an interval's start is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// The allocation or session-create record was logged.
    Logged,
    /// Only an interim ("still active") record was seen; the real start is earlier.
    Interim,
}

/// How an interval's end is known: the honesty flag lookups show to the analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndKind {
    /// The release or session-delete record was logged.
    Released,
    /// The release was lost; the next allocation of the same block to another holder ended it.
    NextAlloc,
    /// The release was lost; no interim record came within the interim period after the last one.
    InterimExpired,
    /// The release was lost; the configured maximum lifetime ended it.
    MaxLifetime,
    /// A release for the same block naming a different inside address arrived: the holder
    /// changed without an allocation being logged, so this interval ended at the latest then.
    ForeignRelease,
    /// Still open at the end of the imported data (pending intervals only).
    Open,
}

impl EndKind {
    /// True when the end was inferred rather than logged.
    pub fn inferred(self) -> bool {
        !matches!(self, Self::Released)
    }
}

/// What sort of translation an interval records: a single port (per session or per endpoint
/// mapping), a port block, or a whole address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Per-session (5-tuple) translation.
    Session,
    /// Endpoint-independent port mapping (BIB entry).
    Mapping,
    /// Port block allocation (PBA).
    Block,
    /// Paired-pooling address binding.
    Address,
}

impl RecordKind {
    fn of(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::SessionOpen | EventKind::SessionClose => Some(Self::Session),
            EventKind::MappingOpen | EventKind::MappingClose => Some(Self::Mapping),
            EventKind::BlockAlloc | EventKind::BlockRelease | EventKind::BlockInterim => {
                Some(Self::Block)
            }
            EventKind::AddressBind | EventKind::AddressUnbind => Some(Self::Address),
            EventKind::Exhaustion => None,
        }
    }
}

/// A pointer back to the log line that proves an interval's start or end. The byte offset is
/// recovered from the file table's line index, so it is not repeated per interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineRef {
    /// Index into the store's file table.
    pub file: u32,
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
}

/// One holder of an outside address and port range over a time interval `[start, end]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatInterval {
    /// Outside VRF or route domain.
    pub outside_vrf: u32,
    /// Outside (public) address.
    pub outside_ip: Ipv4Addr,
    /// First outside port.
    pub port_lo: u16,
    /// Last outside port, inclusive.
    pub port_hi: u16,
    /// IP protocol, `None` when the record covers all protocols.
    pub proto: Option<u8>,
    /// Start, UTC milliseconds.
    pub start_ms: Millis,
    /// End, UTC milliseconds (inclusive bound of the holding).
    pub end_ms: Millis,
    /// How the start is known.
    pub start_kind: StartKind,
    /// How the end is known.
    pub end_kind: EndKind,
    /// What sort of translation this is.
    pub record: RecordKind,
    /// Inside (subscriber-side) address.
    pub inside_ip: IpAddr,
    /// DS-Lite B4 address, when logged.
    pub b4_ipv6: Option<Ipv6Addr>,
    /// Subscriber identifier, when logged.
    pub subscriber_id: Option<String>,
    /// The line that opened the interval (allocation, create or first interim).
    pub open_ref: LineRef,
    /// The line that closed it, when one was logged.
    pub close_ref: Option<LineRef>,
}

/// Pairing configuration: the bounds used when a release is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairConfig {
    /// Longest a session or mapping may live without a logged end.
    pub max_session_ms: Millis,
    /// Longest a port block or address binding may live without a logged end.
    pub max_block_ms: Millis,
    /// The device's interim logging period, when interim logging is configured.
    pub interim_period_ms: Option<Millis>,
}

impl Default for PairConfig {
    /// One day for sessions (TCP established timeouts are hours, not days) and seven days for
    /// blocks (Juniper `active-block-timeout 0` keeps a block until the host goes idle).
    fn default() -> Self {
        Self {
            max_session_ms: 24 * 3_600_000,
            max_block_ms: 7 * 24 * 3_600_000,
            interim_period_ms: None,
        }
    }
}

/// A jump in a device's sequence numbers: records in between were probably lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqGap {
    /// The exporter whose sequence jumped.
    pub exporter: Option<String>,
    /// Last sequence number seen before the gap.
    pub after_seq: u64,
    /// First sequence number seen after it.
    pub next_seq: u64,
    /// Time of the record before the gap.
    pub from_ms: Millis,
    /// Time of the record after the gap.
    pub to_ms: Millis,
    /// Where the record after the gap is.
    pub at: LineRef,
}

/// Counters of events that did not become clean intervals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairStats {
    /// Events fed in.
    pub events: u64,
    /// Intervals emitted.
    pub intervals: u64,
    /// Releases with no open interval for the block (allocation lost or before the data).
    pub orphan_closes: u64,
    /// Intervals ended by an inferred bound.
    pub inferred_ends: u64,
    /// Exhaustion and other events that carry no holder.
    pub ignored: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    vrf: u32,
    ip: Ipv4Addr,
    lo: u16,
    hi: u16,
    proto: Option<u8>,
}

#[derive(Debug, Clone)]
struct Open {
    interval: NatInterval,
    last_seen_ms: Millis,
    interim_seen: bool,
    /// Overlapping opens of the same mapping by the same holder (endpoint-independent mapping
    /// reuses one outside port for several sessions); the interval ends with the last close.
    depth: u32,
}

/// Streaming pairer. Feed events in time order per exporter (log files in the order written);
/// it keeps only the currently open intervals in memory.
#[derive(Debug)]
pub struct Pairer {
    config: PairConfig,
    open: HashMap<Key, Open, ahash::RandomState>,
    last_seq: HashMap<String, (u64, Millis)>,
    gaps: Vec<SeqGap>,
    stats: PairStats,
    watermark_ms: Millis,
}

/// At most this many gaps are kept verbatim; the rest are counted.
pub const MAX_GAPS_KEPT: usize = 10_000;

impl Pairer {
    /// A pairer with no open intervals.
    pub fn new(config: PairConfig) -> Self {
        Self {
            config,
            open: HashMap::default(),
            last_seq: HashMap::new(),
            gaps: Vec::new(),
            stats: PairStats::default(),
            watermark_ms: Millis::MIN,
        }
    }

    /// Re-opens intervals left pending by an earlier import so their real releases can close them.
    pub fn resume(&mut self, pending: Vec<PendingInterval>) {
        for p in pending {
            let key = key_of(&p.interval);
            self.open.insert(
                key,
                Open {
                    interval: p.interval,
                    last_seen_ms: p.last_seen_ms,
                    interim_seen: p.interim_seen,
                    depth: 1,
                },
            );
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> PairStats {
        self.stats
    }

    /// Sequence gaps found so far.
    pub fn gaps(&self) -> &[SeqGap] {
        &self.gaps
    }

    /// Number of currently open intervals.
    pub fn open_len(&self) -> usize {
        self.open.len()
    }

    /// Feeds one event; closed intervals are pushed to `out`.
    pub fn push(&mut self, ev: &NatEvent, out: &mut Vec<NatInterval>) {
        self.stats.events += 1;
        let ts = ns_to_ms(ev.ts_utc_ns);
        let at = LineRef {
            file: ev.raw.file,
            line: ev.raw.line,
        };
        self.track_seq(ev, ts, at);
        self.watermark_ms = self.watermark_ms.max(ts);
        let Some(record) = RecordKind::of(ev.kind) else {
            self.stats.ignored += 1;
            return;
        };
        let key = Key {
            vrf: ev.outside_vrf,
            ip: ev.outside_ip,
            lo: ev.port_lo.min(ev.port_hi),
            hi: ev.port_hi.max(ev.port_lo),
            proto: ev.proto,
        };
        if ev.kind.opens() || ev.kind == EventKind::BlockInterim {
            let interim = ev.kind == EventKind::BlockInterim;
            if let Some(cur) = self.open.get_mut(&key) {
                if same_holder(&cur.interval, ev) {
                    cur.last_seen_ms = cur.last_seen_ms.max(ts);
                    if interim {
                        cur.interim_seen = true;
                    } else if record != RecordKind::Block {
                        cur.depth = cur.depth.saturating_add(1);
                    }
                    if cur.interval.subscriber_id.is_none() {
                        cur.interval.subscriber_id = ev.subscriber_id.as_deref().map(str::to_owned);
                    }
                    // An interim or re-sent alloc long after the bound means the holding was
                    // re-established after loss; keep one interval, the evidence stays the first
                    // line.
                    return;
                }
                if let Some(prev) = self.open.remove(&key) {
                    self.close_inferred(prev, Some(ts), out);
                }
            }
            let interval = NatInterval {
                outside_vrf: key.vrf,
                outside_ip: key.ip,
                port_lo: key.lo,
                port_hi: key.hi,
                proto: key.proto,
                start_ms: ts,
                end_ms: ts,
                start_kind: if interim {
                    StartKind::Interim
                } else {
                    StartKind::Logged
                },
                end_kind: EndKind::Open,
                record,
                inside_ip: ev.inside_ip,
                b4_ipv6: ev.b4_ipv6,
                subscriber_id: ev.subscriber_id.as_deref().map(str::to_owned),
                open_ref: at,
                close_ref: None,
            };
            self.open.insert(
                key,
                Open {
                    interval,
                    last_seen_ms: ts,
                    interim_seen: interim,
                    depth: 1,
                },
            );
        } else if ev.kind.closes() {
            let Some(cur) = self.open.get_mut(&key) else {
                self.stats.orphan_closes += 1;
                return;
            };
            if same_holder(&cur.interval, ev) {
                if cur.depth > 1 {
                    cur.depth -= 1;
                    cur.last_seen_ms = cur.last_seen_ms.max(ts);
                    return;
                }
                if let Some(mut o) = self.open.remove(&key) {
                    o.interval.end_ms = ts.max(o.interval.start_ms);
                    o.interval.end_kind = EndKind::Released;
                    o.interval.close_ref = Some(at);
                    self.emit(o.interval, out);
                }
            } else if let Some(mut o) = self.open.remove(&key) {
                // Someone else released the block: the allocation to them was lost. Our holder
                // held it at most until now, probably much less.
                self.stats.orphan_closes += 1;
                let bound = self.bound(&o);
                o.interval.end_ms = ts.min(bound.0).max(o.interval.start_ms);
                o.interval.end_kind = if ts <= bound.0 {
                    EndKind::ForeignRelease
                } else {
                    bound.1
                };
                self.stats.inferred_ends += 1;
                self.emit(o.interval, out);
            }
        }
    }

    /// Ends the input: closes every open interval whose inferred bound lies at or before the
    /// newest event seen, and returns the rest as pending (end = its bound, kind `Open`).
    pub fn finish(mut self, out: &mut Vec<NatInterval>) -> PairOutcome {
        let mut pending = Vec::new();
        let open: Vec<Open> = self.open.drain().map(|(_, o)| o).collect();
        for o in open {
            let (bound, kind) = self.bound(&o);
            if bound <= self.watermark_ms {
                let mut iv = o.interval;
                iv.end_ms = bound.max(iv.start_ms);
                iv.end_kind = kind;
                self.stats.inferred_ends += 1;
                self.emit(iv, out);
            } else {
                let mut iv = o.interval;
                iv.end_ms = bound.max(iv.start_ms);
                iv.end_kind = EndKind::Open;
                pending.push(PendingInterval {
                    interval: iv,
                    last_seen_ms: o.last_seen_ms,
                    interim_seen: o.interim_seen,
                });
            }
        }
        pending.sort_by(|a, b| {
            let (a, b) = (&a.interval, &b.interval);
            (a.outside_vrf, a.outside_ip, a.port_lo, a.start_ms).cmp(&(
                b.outside_vrf,
                b.outside_ip,
                b.port_lo,
                b.start_ms,
            ))
        });
        PairOutcome {
            pending,
            gaps: self.gaps,
            stats: self.stats,
            watermark_ms: self.watermark_ms,
        }
    }

    fn emit(&mut self, iv: NatInterval, out: &mut Vec<NatInterval>) {
        self.stats.intervals += 1;
        out.push(iv);
    }

    /// The earliest inferred end of an open interval, and which rule gave it.
    fn bound(&self, o: &Open) -> (Millis, EndKind) {
        let max = match o.interval.record {
            RecordKind::Session | RecordKind::Mapping => self.config.max_session_ms,
            RecordKind::Block | RecordKind::Address => self.config.max_block_ms,
        };
        let mut best = (
            o.interval.start_ms.saturating_add(max.max(0)),
            EndKind::MaxLifetime,
        );
        if let Some(p) = self.config.interim_period_ms
            && o.interval.record == RecordKind::Block
        {
            let b = o.last_seen_ms.saturating_add(p.max(0));
            if b < best.0 {
                best = (b, EndKind::InterimExpired);
            }
        }
        best
    }

    fn close_inferred(&mut self, mut o: Open, next_ms: Option<Millis>, out: &mut Vec<NatInterval>) {
        let (bound, kind) = self.bound(&o);
        let (end, kind) = match next_ms {
            Some(n) if n <= bound => (n, EndKind::NextAlloc),
            _ => (bound, kind),
        };
        o.interval.end_ms = end.max(o.interval.start_ms);
        o.interval.end_kind = kind;
        self.stats.inferred_ends += 1;
        self.emit(o.interval, out);
    }

    fn track_seq(&mut self, ev: &NatEvent, ts: Millis, at: LineRef) {
        let Some(seq) = ev.seq else { return };
        let exporter = ev.exporter.as_deref().unwrap_or("");
        if let Some((last, last_ts)) = self.last_seq.get(exporter).copied()
            && seq > last.saturating_add(1)
            && self.gaps.len() < MAX_GAPS_KEPT
        {
            self.gaps.push(SeqGap {
                exporter: ev.exporter.as_deref().map(str::to_owned),
                after_seq: last,
                next_seq: seq,
                from_ms: last_ts,
                to_ms: ts,
                at,
            });
        }
        // A lower number is a device restart or reordering; start counting again from it.
        match self.last_seq.get_mut(exporter) {
            Some(v) => *v = (seq, ts),
            None => {
                self.last_seq.insert(exporter.to_owned(), (seq, ts));
            }
        }
    }
}

/// An interval still open when the input ended. Its `end_ms` is the latest inferred bound, so
/// lookups can show it; `last_seen_ms` lets the next import resume pairing exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInterval {
    /// The interval, `end_kind` = [`EndKind::Open`].
    pub interval: NatInterval,
    /// Last time a record showed it held.
    pub last_seen_ms: Millis,
    /// Whether an interim record was seen.
    pub interim_seen: bool,
}

/// What is left after the input ends.
#[derive(Debug, Clone, Default)]
pub struct PairOutcome {
    /// Intervals still open, to be carried to the next import.
    pub pending: Vec<PendingInterval>,
    /// Sequence gaps (possible loss).
    pub gaps: Vec<SeqGap>,
    /// Counters.
    pub stats: PairStats,
    /// Newest event time seen.
    pub watermark_ms: Millis,
}

fn same_holder(iv: &NatInterval, ev: &NatEvent) -> bool {
    iv.inside_ip == ev.inside_ip
        && (iv.b4_ipv6.is_none() || ev.b4_ipv6.is_none() || iv.b4_ipv6 == ev.b4_ipv6)
}

fn key_of(iv: &NatInterval) -> Key {
    Key {
        vrf: iv.outside_vrf,
        ip: iv.outside_ip,
        lo: iv.port_lo,
        hi: iv.port_hi,
        proto: iv.proto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::natlog::{RawRef, TsOrigin, TsPrecision};

    fn ev(kind: EventKind, sec: i64, inside: [u8; 4], lo: u16, hi: u16, line: u64) -> NatEvent {
        NatEvent {
            ts_utc_ns: sec * 1_000_000_000,
            ts_precision: TsPrecision::Sec,
            ts_origin: TsOrigin::DeviceBody,
            tz_assumed: false,
            exporter: None,
            seq: None,
            kind,
            proto: None,
            inside_vrf: 0,
            inside_ip: IpAddr::from(inside),
            b4_ipv6: None,
            inside_port: None,
            outside_vrf: 0,
            outside_ip: Ipv4Addr::new(198, 51, 100, 1),
            port_lo: lo,
            port_hi: hi,
            port_step: 1,
            dst: None,
            subscriber_id: None,
            raw: RawRef {
                file: 0,
                line,
                offset: 0,
            },
        }
    }

    fn run(cfg: PairConfig, evs: &[NatEvent]) -> (Vec<NatInterval>, PairOutcome) {
        let mut p = Pairer::new(cfg);
        let mut out = Vec::new();
        for e in evs {
            p.push(e, &mut out);
        }
        let o = p.finish(&mut out);
        (out, o)
    }

    #[test]
    fn alloc_release_pairs() {
        let (out, o) = run(
            PairConfig::default(),
            &[
                ev(EventKind::BlockAlloc, 100, [10, 0, 0, 1], 1024, 1151, 1),
                ev(EventKind::BlockRelease, 200, [10, 0, 0, 1], 1024, 1151, 2),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].start_ms, 100_000);
        assert_eq!(out[0].end_ms, 200_000);
        assert_eq!(out[0].end_kind, EndKind::Released);
        assert_eq!(out[0].close_ref, Some(LineRef { file: 0, line: 2 }));
        assert!(o.pending.is_empty());
    }

    #[test]
    fn lost_release_closed_by_next_alloc() {
        let (out, _) = run(
            PairConfig::default(),
            &[
                ev(EventKind::BlockAlloc, 100, [10, 0, 0, 1], 1024, 1151, 1),
                ev(EventKind::BlockAlloc, 300, [10, 0, 0, 2], 1024, 1151, 2),
                ev(EventKind::BlockRelease, 400, [10, 0, 0, 2], 1024, 1151, 3),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].end_kind, EndKind::NextAlloc);
        assert_eq!(out[0].end_ms, 300_000);
        assert_eq!(out[1].end_kind, EndKind::Released);
    }

    #[test]
    fn interim_period_bounds_lost_release() {
        let cfg = PairConfig {
            interim_period_ms: Some(60_000),
            ..PairConfig::default()
        };
        let (out, o) = run(
            cfg,
            &[
                ev(EventKind::BlockAlloc, 0, [10, 0, 0, 1], 1024, 1151, 1),
                ev(EventKind::BlockInterim, 60, [10, 0, 0, 1], 1024, 1151, 2),
                // unrelated later traffic moves the watermark
                ev(EventKind::BlockAlloc, 1000, [10, 0, 0, 9], 2048, 2175, 3),
            ],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_kind, EndKind::InterimExpired);
        assert_eq!(out[0].end_ms, 120_000);
        assert_eq!(o.pending.len(), 1);
        assert_eq!(o.pending[0].interval.end_kind, EndKind::Open);
    }

    #[test]
    fn max_lifetime_bounds_and_pending_carry() {
        let cfg = PairConfig {
            max_session_ms: 10_000,
            ..PairConfig::default()
        };
        let mut a = ev(EventKind::SessionOpen, 0, [10, 0, 0, 1], 5000, 5000, 1);
        a.proto = Some(6);
        let mut b = ev(EventKind::SessionOpen, 100, [10, 0, 0, 2], 6000, 6000, 2);
        b.proto = Some(6);
        let (out, o) = run(cfg, &[a, b.clone()]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_kind, EndKind::MaxLifetime);
        assert_eq!(out[0].end_ms, 10_000);
        assert_eq!(o.pending.len(), 1);
        // the next import closes the pending one with its real release
        let mut p = Pairer::new(cfg);
        p.resume(o.pending);
        let mut c = ev(EventKind::SessionClose, 105, [10, 0, 0, 2], 6000, 6000, 1);
        c.proto = Some(6);
        let mut out = Vec::new();
        p.push(&c, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_kind, EndKind::Released);
        assert_eq!(out[0].start_ms, 100_000);
    }

    #[test]
    fn orphan_close_and_foreign_release_are_counted() {
        let (out, o) = run(
            PairConfig::default(),
            &[
                ev(EventKind::BlockRelease, 50, [10, 0, 0, 7], 1024, 1151, 1),
                ev(EventKind::BlockAlloc, 100, [10, 0, 0, 1], 1024, 1151, 2),
                ev(EventKind::BlockRelease, 200, [10, 0, 0, 2], 1024, 1151, 3),
            ],
        );
        assert_eq!(o.stats.orphan_closes, 2);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_kind, EndKind::ForeignRelease);
    }

    #[test]
    fn endpoint_independent_mapping_nests() {
        let mut evs = vec![
            ev(EventKind::SessionOpen, 0, [10, 0, 0, 1], 7000, 7000, 1),
            ev(EventKind::SessionOpen, 5, [10, 0, 0, 1], 7000, 7000, 2),
            ev(EventKind::SessionClose, 10, [10, 0, 0, 1], 7000, 7000, 3),
            ev(EventKind::SessionClose, 20, [10, 0, 0, 1], 7000, 7000, 4),
        ];
        for e in &mut evs {
            e.proto = Some(17);
        }
        let (out, _) = run(PairConfig::default(), &evs);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].start_ms, out[0].end_ms), (0, 20_000));
    }

    #[test]
    fn sequence_gap_is_reported() {
        let mut a = ev(EventKind::BlockAlloc, 0, [10, 0, 0, 1], 1024, 1151, 1);
        a.seq = Some(10);
        let mut b = ev(EventKind::BlockAlloc, 5, [10, 0, 0, 2], 2048, 2175, 2);
        b.seq = Some(11);
        let mut c = ev(EventKind::BlockAlloc, 9, [10, 0, 0, 3], 4096, 4223, 3);
        c.seq = Some(15);
        let (_, o) = run(PairConfig::default(), &[a, b, c]);
        assert_eq!(o.gaps.len(), 1);
        assert_eq!((o.gaps[0].after_seq, o.gaps[0].next_seq), (11, 15));
        assert_eq!((o.gaps[0].from_ms, o.gaps[0].to_ms), (5_000, 9_000));
    }
}
