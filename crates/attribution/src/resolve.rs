//! The abuse desk's question: who held outside IP X, port Y at time T (± a window for the
//! reporter's clock)?
//!
//! The answer is never a guess (DESIGN.md rule 5): [`resolve`] returns every candidate interval
//! that meets the window, with how its start and end are known and the log lines that prove
//! them, an ambiguity flag when more than one holder remains, and the reasons a single answer is
//! not possible: no port in the report (research notes 4.4: "one of N subscribers on that IP"),
//! no imported logs covering the time, partitions dropped by retention, or a sequence gap that
//! says logs were lost around then.

use crate::detnat::DetConfigSet;
use crate::natlog::pair::{EndKind, LineRef, Millis, NatInterval, RecordKind, StartKind};
use crate::radius::SubscriberIndex;
use crate::store::{EvidenceLine, NatStore, StoreError, day_name, day_of};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Default window: ±5 s, the upper end of the 2–5 s reporter clock skew the research notes
/// recommend (section 4, consequence 2).
pub const DEFAULT_WINDOW_MS: Millis = 5_000;
/// Largest window accepted: wider windows on per-session data return thousands of candidates.
pub const MAX_WINDOW_MS: Millis = 24 * 3_600_000;

/// A lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Query {
    /// Outside VRF (0 when the CGN has one).
    pub vrf: u32,
    /// Outside address from the report.
    pub ip: Ipv4Addr,
    /// Source port from the report, when it has one.
    pub port: Option<u16>,
    /// Protocol, when known (6 TCP, 17 UDP).
    pub proto: Option<u8>,
    /// Report time, UTC milliseconds.
    pub time_ms: Millis,
    /// Half-width of the time window.
    pub window_ms: Millis,
}

/// How a candidate meets the query time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// The interval contains the reported time itself.
    Contains,
    /// It only meets the window around it.
    WithinWindow,
}

/// One log line behind a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// `open` or `close`.
    pub role: &'static str,
    /// File id in the store's file table.
    pub file: u32,
    /// Path of the file as imported.
    pub path: Option<String>,
    /// 1-based line number.
    pub line: u64,
    /// The line read back, when asked for and readable.
    pub text: Option<EvidenceLine>,
    /// Why the line could not be read back.
    pub unreadable: Option<String>,
}

/// Where a candidate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CandidateSource {
    /// A paired interval from imported CGN logs.
    Log,
    /// Computed from a deterministic NAT configuration (RFC 7422): no log line exists, the
    /// configuration version is the evidence, and the interval is the query window.
    Deterministic {
        /// The configuration's id.
        config: String,
    },
}

/// A subscriber session (RADIUS accounting) that held a candidate's inside address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriberMatch {
    /// User-Name.
    pub user_name: Option<String>,
    /// Calling-Station-Id.
    pub calling_station_id: Option<String>,
    /// Acct-Session-Id.
    pub session_id: Option<String>,
    /// Session start, UTC ms.
    pub start_ms: Millis,
    /// Session end, UTC ms, when known.
    pub end_ms: Option<Millis>,
    /// True when no Start record was seen.
    pub start_uncertain: bool,
    /// Accounting records (file id in the caller's RADIUS file list, line).
    pub evidence: Vec<LineRef>,
}

/// One possible holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Log interval or deterministic NAT.
    pub source: CandidateSource,
    /// Subscriber sessions that held the inside address then (when accounting was given).
    pub subscribers: Vec<SubscriberMatch>,
    /// The inside address.
    pub inside_ip: IpAddr,
    /// DS-Lite B4 address, when logged.
    pub b4_ipv6: Option<Ipv6Addr>,
    /// Subscriber, when logged.
    pub subscriber_id: Option<String>,
    /// The interval that names it.
    pub interval: NatInterval,
    /// How it meets the time.
    pub overlap: Overlap,
    /// True when its start or end was inferred, not logged.
    pub inferred: bool,
    /// The evidence lines.
    pub evidence: Vec<Evidence>,
}

/// Why a single holder cannot be named, or why the answer deserves doubt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Doubt {
    /// The report has no source port: every holder of the address is a candidate.
    NoPort,
    /// No imported log covers the window.
    NoCoverage,
    /// The time falls in a day dropped by retention.
    Retention {
        /// First day still kept.
        kept_from: String,
    },
    /// A device sequence gap overlaps the window: logs were probably lost around then.
    LogGap {
        /// The exporter.
        exporter: Option<String>,
        /// Last sequence number before the gap.
        after_seq: u64,
        /// First after it.
        next_seq: u64,
    },
    /// More than one holder meets the window.
    SeveralHolders {
        /// How many distinct holders.
        holders: usize,
    },
    /// A candidate's end (or start) was inferred because its release (or allocation) was lost.
    InferredBounds,
    /// Logs cover the time but nobody held the port then.
    NoHolder,
    /// Accounting names more than one subscriber session for a candidate's inside address.
    SeveralSubscribers,
    /// Accounting was given but names no subscriber for a candidate's inside address.
    NoSubscriber,
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatAttribution {
    /// The question.
    pub query: Query,
    /// Every candidate, earliest first.
    pub candidates: Vec<Candidate>,
    /// True when the candidates name more than one holder (or no port was given).
    pub ambiguous: bool,
    /// Reasons for doubt; empty for one clean answer.
    pub doubts: Vec<Doubt>,
}

impl NatAttribution {
    /// The one holder, when there is exactly one and nothing casts doubt on it.
    pub fn unique(&self) -> Option<&Candidate> {
        match self.candidates.as_slice() {
            [c] if !self.ambiguous => Some(c),
            _ => None,
        }
    }
}

/// Errors of a lookup.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The window is negative or too wide.
    #[error("window of {0} ms is outside 0..={MAX_WINDOW_MS} ms; give a window such as 5s")]
    Window(Millis),
    /// The store failed.
    #[error(transparent)]
    NatStore(#[from] StoreError),
}

/// Further sources of candidates besides the log store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sources<'a> {
    /// Deterministic NAT configurations (answered by computation).
    pub detnat: Option<&'a DetConfigSet>,
    /// RADIUS accounting: inside address -> subscriber over time.
    pub radius: Option<&'a SubscriberIndex>,
}

/// Answers `q` from `store`. With `read_lines`, each evidence line is read back from its file.
pub fn resolve(
    store: &NatStore,
    q: &Query,
    read_lines: bool,
) -> Result<NatAttribution, ResolveError> {
    resolve_with(store, q, read_lines, Sources::default())
}

/// [`resolve`] with deterministic NAT candidates and the RADIUS subscriber join.
pub fn resolve_with(
    store: &NatStore,
    q: &Query,
    read_lines: bool,
    sources: Sources<'_>,
) -> Result<NatAttribution, ResolveError> {
    if !(0..=MAX_WINDOW_MS).contains(&q.window_ms) {
        return Err(ResolveError::Window(q.window_ms));
    }
    let from = q.time_ms.saturating_sub(q.window_ms);
    let to = q.time_ms.saturating_add(q.window_ms);
    let rows = store.stab(q.vrf, q.ip, q.port, q.proto, from, to)?;
    let m = store.manifest();
    let mut doubts = Vec::new();
    if q.port.is_none() {
        doubts.push(Doubt::NoPort);
    }
    if let Some(kept) = &m.retained_from_day
        && day_name(day_of(from)).as_str() < kept.as_str()
    {
        doubts.push(Doubt::Retention {
            kept_from: kept.clone(),
        });
    }
    let covered = coverage(m).iter().any(|&(a, b)| a <= to && b >= from);
    for g in &m.gaps {
        if g.from_ms <= to && g.to_ms >= from {
            doubts.push(Doubt::LogGap {
                exporter: g.exporter.clone(),
                after_seq: g.after_seq,
                next_seq: g.next_seq,
            });
        }
    }
    let mut candidates: Vec<Candidate> = rows
        .into_iter()
        .map(|iv| {
            let overlap = if iv.start_ms <= q.time_ms && q.time_ms <= iv.end_ms {
                Overlap::Contains
            } else {
                Overlap::WithinWindow
            };
            let inferred = iv.end_kind != EndKind::Released || iv.start_kind != StartKind::Logged;
            let mut evidence = vec![evidence_of(
                store,
                "open",
                iv.open_ref.file,
                iv.open_ref.line,
                read_lines,
            )];
            if let Some(c) = iv.close_ref {
                evidence.push(evidence_of(store, "close", c.file, c.line, read_lines));
            }
            Candidate {
                source: CandidateSource::Log,
                subscribers: Vec::new(),
                inside_ip: iv.inside_ip,
                b4_ipv6: iv.b4_ipv6,
                subscriber_id: iv.subscriber_id.clone(),
                interval: iv,
                overlap,
                inferred,
                evidence,
            }
        })
        .collect();
    if let (Some(det), Some(port)) = (sources.detnat, q.port)
        && let Some(m) = det.reverse(q.vrf, q.ip, port, q.time_ms.saturating_mul(1_000_000))
    {
        candidates.push(Candidate {
            source: CandidateSource::Deterministic {
                config: m.config.id().to_owned(),
            },
            subscribers: Vec::new(),
            inside_ip: IpAddr::V4(m.inside_ip),
            b4_ipv6: None,
            subscriber_id: None,
            interval: NatInterval {
                outside_vrf: q.vrf,
                outside_ip: m.block.outside_ip,
                port_lo: m.block.port_lo,
                port_hi: m.block.port_hi,
                proto: None,
                start_ms: from,
                end_ms: to,
                start_kind: StartKind::Logged,
                end_kind: EndKind::Released,
                record: RecordKind::Block,
                inside_ip: IpAddr::V4(m.inside_ip),
                b4_ipv6: None,
                subscriber_id: None,
                open_ref: LineRef { file: 0, line: 0 },
                close_ref: None,
            },
            overlap: Overlap::Contains,
            inferred: false,
            evidence: Vec::new(),
        });
    }
    if let Some(radius) = sources.radius {
        let mut several = false;
        let mut none = false;
        for c in &mut candidates {
            let a = c.interval.start_ms.max(from).saturating_mul(1_000_000);
            let b = c.interval.end_ms.min(to).saturating_mul(1_000_000);
            c.subscribers = radius
                .subscribers_between(c.inside_ip, a, b)
                .into_iter()
                .map(|s| SubscriberMatch {
                    user_name: s.user_name.as_deref().map(str::to_owned),
                    calling_station_id: s.calling_station_id.as_deref().map(str::to_owned),
                    session_id: s.session_id.as_deref().map(str::to_owned),
                    start_ms: s.start_ns.div_euclid(1_000_000),
                    end_ms: s.end_ns.map(|e| e.div_euclid(1_000_000)),
                    start_uncertain: s.start_uncertain,
                    evidence: s
                        .evidence
                        .iter()
                        .map(|e| LineRef {
                            file: e.file,
                            line: e.line,
                        })
                        .collect(),
                })
                .collect();
            several |= c.subscribers.len() > 1;
            none |= c.subscribers.is_empty();
        }
        if several {
            doubts.push(Doubt::SeveralSubscribers);
        }
        if none {
            doubts.push(Doubt::NoSubscriber);
        }
    }
    candidates.sort_by_key(|c| (c.interval.start_ms, c.interval.port_lo));
    let deterministic = candidates
        .iter()
        .any(|c| matches!(c.source, CandidateSource::Deterministic { .. }));
    if !covered && !deterministic {
        doubts.insert(usize::from(q.port.is_none()), Doubt::NoCoverage);
    }
    let mut holders: Vec<(IpAddr, Option<Ipv6Addr>)> = candidates
        .iter()
        .map(|c| (c.inside_ip, c.b4_ipv6))
        .collect();
    holders.sort();
    holders.dedup();
    if holders.len() > 1 {
        doubts.push(Doubt::SeveralHolders {
            holders: holders.len(),
        });
    }
    if candidates.iter().any(|c| c.inferred) {
        doubts.push(Doubt::InferredBounds);
    }
    if candidates.is_empty() && covered {
        // (deterministic candidates need no log coverage; they are in `candidates` already)
        doubts.push(Doubt::NoHolder);
    }
    let ambiguous = holders.len() > 1 || (q.port.is_none() && !candidates.is_empty());
    Ok(NatAttribution {
        query: *q,
        candidates,
        ambiguous,
        doubts,
    })
}

/// Two imported files whose event times are closer than this count as one continuous stretch of
/// logs: a quiet CGN may log nothing for minutes, while a missing hour of logs is a hole worth
/// reporting.
pub const COVERAGE_SLACK_MS: Millis = 15 * 60_000;

/// The stretches of time the imported files cover, merged.
pub fn coverage(m: &crate::store::Manifest) -> Vec<(Millis, Millis)> {
    let mut spans: Vec<(Millis, Millis)> = m
        .files
        .iter()
        .filter_map(|f| Some((f.first_ms?, f.last_ms?)))
        .collect();
    spans.sort_unstable();
    let mut out: Vec<(Millis, Millis)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(COVERAGE_SLACK_MS) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn evidence_of(store: &NatStore, role: &'static str, file: u32, line: u64, read: bool) -> Evidence {
    let path = store
        .manifest()
        .files
        .iter()
        .find(|f| f.id == file)
        .map(|f| f.path.clone());
    let (text, unreadable) = if read {
        match store.evidence(file, line) {
            Ok(l) => (Some(l), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    Evidence {
        role,
        file,
        path,
        line,
        text,
        unreadable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_candidate_and_radius_join_without_logs() {
        let dir = std::env::temp_dir().join(format!("warden-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = NatStore::open(&dir).unwrap();
        let det = DetConfigSet::from_json(
            r#"[{"id": "cgn1 det v1", "algorithm": "vpp", "inside": "100.64.0.0/24",
                 "outside": "192.0.2.0/30", "valid_from": "2026-01-01T00:00:00Z"}]"#,
        )
        .unwrap();
        let t_ms = 1_795_996_800_000;
        let q = Query {
            vrf: 0,
            ip: Ipv4Addr::new(192, 0, 2, 0),
            port: Some(1024),
            proto: None,
            time_ms: t_ms,
            window_ms: 5_000,
        };
        // VPP det44: 100.64.0.0 is the first host of 192.0.2.0, ports 1024..
        let inside = det
            .reverse(0, q.ip, 1024, t_ms * 1_000_000)
            .unwrap()
            .inside_ip;
        let csv = format!(
            "Acct-Status-Type,Framed-IP-Address,User-Name,Acct-Session-Id,Event-Timestamp\nStart,{inside},alice,s1,{}\n",
            t_ms / 1000 - 60
        );
        let acct = crate::radius::read_csv(csv.as_bytes(), 0, chrono_tz::Tz::UTC);
        assert!(acct.errors.is_empty(), "{:?}", acct.errors);
        let radius = SubscriberIndex::build(acct.records);
        let a = resolve_with(
            &store,
            &q,
            false,
            Sources {
                detnat: Some(&det),
                radius: Some(&radius),
            },
        )
        .unwrap();
        let c = a.unique().expect("one deterministic holder");
        assert_eq!(c.inside_ip, IpAddr::V4(inside));
        assert_eq!(
            c.source,
            CandidateSource::Deterministic {
                config: "cgn1 det v1".into()
            }
        );
        assert_eq!(c.subscribers.len(), 1);
        assert_eq!(c.subscribers[0].user_name.as_deref(), Some("alice"));
        assert!(!a.doubts.contains(&Doubt::NoCoverage), "{:?}", a.doubts);
        // Without deterministic NAT the empty store says it has no coverage.
        let a = resolve(&store, &q, false).unwrap();
        assert!(a.candidates.is_empty());
        assert!(a.doubts.contains(&Doubt::NoCoverage));
        // A window that is absurd is refused.
        let bad = Query { window_ms: -1, ..q };
        assert!(resolve(&store, &bad, false).is_err());
    }
}
