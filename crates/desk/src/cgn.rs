//! Attribution of addresses in shared (carrier-grade NAT) pools through the NAT logs.
//!
//! A report about a CGN pool address names hundreds of subscribers unless the NAT logs are asked
//! who held that address *and port* at that time (M3AAWG LSN logging BCP, RFC 6302). The
//! [`CgnAttributor`] asks the inventory first; when the address is in a prefix marked `shared`,
//! it asks `warden-attribution`'s resolver (log store, deterministic NAT, RADIUS join) and maps
//! each candidate's subscriber id or inside address back to a customer through the inventory
//! (`subscriber` and `inside_prefix` holdings).
//!
//! Nothing is guessed (DESIGN.md rule 5): every candidate with its evidence lines, the
//! resolver's reasons for doubt and the ambiguity flag are kept on the event's attribution, and
//! the case is routed to a customer only when exactly one remains. A coarse or zone-less report
//! time widens the search window instead of pretending to a precision the reporter never gave.
//!
//! The resolver reads files; it runs on the blocking thread pool ([`tokio::task::spawn_blocking`]).

use crate::attribute::{AttributeFuture, Attribution, Attributor, InventoryAttributor};
use crate::error::{DeskError, Result};
use crate::inventory::{self, Holder};
use crate::store::{Store, from_ms};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use warden_attribution::detnat::DetConfigSet;
use warden_attribution::natlog::pair::{EndKind, Millis, StartKind};
use warden_attribution::radius::SubscriberIndex;
use warden_attribution::resolve::{
    CandidateSource, Doubt, MAX_WINDOW_MS, Overlap, Query, Sources, resolve_with,
};
use warden_model::{AbuseEvent, ObservedTime, Protocol, TimePrecision};

/// Candidates kept on one event by default: a report without a port on a busy pool can name a
/// thousand sessions, and a case is read by people.
pub const DEFAULT_MAX_CANDIDATES: usize = 100;
/// Largest accounting file read at start.
pub const MAX_RADIUS_BYTES: u64 = 1 << 30;
/// Largest deterministic NAT configuration read at start.
pub const MAX_DETNAT_BYTES: u64 = 16 << 20;
/// Widest UTC offset in use (UTC+14): a time whose zone was assumed may be off by this much.
pub const ZONE_SPREAD_MS: Millis = 14 * 3_600_000;

/// The `[attribution.nat]` table of `warden.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatConfig {
    /// The NAT log store (a directory written by `warden nat import`).
    pub store: PathBuf,
    /// Half-width of the search window for a precise, zoned report time (`5s`, `500ms`, `1m`).
    #[serde(default = "default_window")]
    pub window: String,
    /// Outside VRF of the pool (0 when the CGN has one).
    #[serde(default)]
    pub vrf: u32,
    /// Deterministic NAT configurations (JSON, as `warden nat lookup --detnat`).
    #[serde(default)]
    pub detnat: Option<PathBuf>,
    /// RADIUS accounting files (`.csv`, else FreeRADIUS detail) for the subscriber join.
    #[serde(default)]
    pub radius: Vec<PathBuf>,
    /// Zone of accounting times without one (default UTC).
    #[serde(default)]
    pub radius_tz: Option<String>,
    /// Candidates kept on an event (the count of all of them is kept too).
    #[serde(default = "default_max_candidates")]
    pub max_candidates: usize,
}

fn default_window() -> String {
    "5s".into()
}

fn default_max_candidates() -> usize {
    DEFAULT_MAX_CANDIDATES
}

impl NatConfig {
    /// A configuration for the store in `dir` with the defaults.
    pub fn for_store(dir: impl Into<PathBuf>) -> Self {
        Self {
            store: dir.into(),
            window: default_window(),
            vrf: 0,
            detnat: None,
            radius: Vec::new(),
            radius_tz: None,
            max_candidates: DEFAULT_MAX_CANDIDATES,
        }
    }
}

/// Parses `5s`, `500ms`, `2m`, `1h` or a bare number of seconds into milliseconds (the one
/// duration syntax, [`warden_attribution::duration`]), within the resolver's widest window.
pub fn parse_window(s: &str) -> Result<Millis> {
    let ms = warden_attribution::duration::parse_millis(s)
        .map_err(|e| DeskError::invalid(format!("NAT window {s:?}"), e.to_string()))?;
    if !(0..=MAX_WINDOW_MS).contains(&ms) {
        return Err(DeskError::invalid(
            format!("NAT window {s:?}"),
            format!("must be between 0 and {} hours", MAX_WINDOW_MS / 3_600_000),
        ));
    }
    Ok(ms)
}

/// The question asked of the NAT logs, as kept on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatQuery {
    /// Outside address from the report.
    pub ip: Ipv4Addr,
    /// Source port from the report.
    pub port: Option<u16>,
    /// Protocol number, when the report names one.
    pub proto: Option<u8>,
    /// Centre of the search window.
    pub time: DateTime<Utc>,
    /// Half-width of the window, milliseconds.
    pub window_ms: i64,
    /// Why the window is wider than the configured one (coarse or zone-less report time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widened: Option<String>,
}

/// One log line (or accounting record) behind a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatEvidence {
    /// `open` / `close` for NAT log lines, `accounting` for RADIUS records.
    pub role: String,
    /// The file, as imported.
    pub path: Option<String>,
    /// 1-based line number.
    pub line: u64,
    /// The original line, when it could be read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why the line could not be read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A RADIUS session that held a candidate's inside address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatSubscriber {
    /// User-Name.
    pub user_name: Option<String>,
    /// Calling-Station-Id.
    pub calling_station_id: Option<String>,
    /// Acct-Session-Id.
    pub session_id: Option<String>,
    /// Session start.
    pub start: DateTime<Utc>,
    /// Session end, when known.
    pub end: Option<DateTime<Utc>>,
    /// No Start record was seen.
    pub start_uncertain: bool,
    /// The accounting records.
    pub evidence: Vec<NatEvidence>,
}

/// One possible holder of the reported address and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatCandidate {
    /// `log` (a paired interval) or `deterministic` (RFC 7422 computation).
    pub source: String,
    /// The deterministic NAT configuration, for `deterministic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The inside address.
    pub inside_ip: IpAddr,
    /// DS-Lite B4 address, when logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b4_ipv6: Option<Ipv6Addr>,
    /// Subscriber id, when the CGN logs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
    /// RADIUS sessions on the inside address (when accounting is configured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribers: Vec<NatSubscriber>,
    /// Outside address of the interval.
    pub outside_ip: IpAddr,
    /// First port of the mapping or block.
    pub port_lo: u16,
    /// Last port.
    pub port_hi: u16,
    /// Protocol, when the mapping is per protocol.
    pub proto: Option<u8>,
    /// Start of the holding.
    pub start: DateTime<Utc>,
    /// End of the holding.
    pub end: DateTime<Utc>,
    /// How the start is known.
    pub start_kind: StartKind,
    /// How the end is known.
    pub end_kind: EndKind,
    /// `contains` (the reported time is inside) or `within_window`.
    pub overlap: String,
    /// The start or end was inferred, not logged.
    pub inferred: bool,
    /// The log lines.
    pub evidence: Vec<NatEvidence>,
    /// The customer the inventory names for this holder, if any.
    pub customer: Option<Holder>,
}

/// A reason the NAT logs give no single answer, or for doubt about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatDoubt {
    /// Machine-readable kind (`no_port`, `no_coverage`, `several_holders`, `log_gap`, ...).
    pub kind: String,
    /// The reason in words, for the analyst.
    pub explanation: String,
}

/// What the NAT logs say about an event, kept on its attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatAnswer {
    /// The question.
    pub query: NatQuery,
    /// The resolver found more than one holder (or was given no port).
    pub ambiguous: bool,
    /// Reasons for doubt; empty for one clean answer.
    pub doubts: Vec<NatDoubt>,
    /// How many candidates the logs name in all.
    pub candidates_total: usize,
    /// The candidates kept (the first `max_candidates`, earliest first).
    pub candidates: Vec<NatCandidate>,
    /// The lookup failed (store unreadable); the analyst must look by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The NAT log store and the optional deterministic NAT and RADIUS sources, loaded once.
pub struct NatResolver {
    dir: PathBuf,
    window_ms: Millis,
    vrf: u32,
    max_candidates: usize,
    detnat: Option<DetConfigSet>,
    radius: Option<SubscriberIndex>,
    radius_paths: Vec<String>,
    /// The opened store and the manifest's modification time it was opened at: `warden nat
    /// import` may append while the desk runs, and a new manifest means a new view.
    cache: Mutex<Option<(Option<SystemTime>, Arc<warden_attribution::store::NatStore>)>>,
}

impl std::fmt::Debug for NatResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatResolver")
            .field("dir", &self.dir)
            .field("window_ms", &self.window_ms)
            .field("detnat", &self.detnat.is_some())
            .field("radius", &self.radius_paths)
            .finish_non_exhaustive()
    }
}

fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(DeskError::io(path))?;
    if meta.len() > limit {
        return Err(DeskError::invalid(
            format!("{what} {}", path.display()),
            format!("{} bytes is over the {limit}-byte limit", meta.len()),
        ));
    }
    std::fs::read(path).map_err(DeskError::io(path))
}

impl NatResolver {
    /// Loads the configuration: checks the window, opens the store once (so a broken store is
    /// reported at start, not on the first report), reads deterministic NAT and accounting
    /// files. Blocking file IO: call it from a blocking context.
    pub fn load(cfg: &NatConfig) -> Result<Self> {
        let window_ms = parse_window(&cfg.window)?;
        let detnat = match &cfg.detnat {
            Some(p) => {
                let bytes = read_limited(p, MAX_DETNAT_BYTES, "deterministic NAT configuration")?;
                let text = String::from_utf8_lossy(&bytes);
                Some(DetConfigSet::from_json(&text).map_err(|e| {
                    DeskError::invalid(
                        format!("deterministic NAT configuration {}", p.display()),
                        e.to_string(),
                    )
                })?)
            }
            None => None,
        };
        let zone: chrono_tz::Tz = match cfg.radius_tz.as_deref() {
            None => chrono_tz::Tz::UTC,
            Some(z) => z.parse().map_err(|_| {
                DeskError::invalid(format!("radius_tz {z:?}"), "not an IANA zone name")
            })?,
        };
        let mut records = Vec::new();
        let mut radius_paths = Vec::new();
        for (i, p) in cfg.radius.iter().enumerate() {
            let data = read_limited(p, MAX_RADIUS_BYTES, "RADIUS accounting file")?;
            let file = u32::try_from(i).unwrap_or(u32::MAX);
            let res = if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
                warden_attribution::radius::read_csv(&data, file, zone)
            } else {
                warden_attribution::radius::read_detail(&data, file, zone)
            };
            for e in res.errors.iter().take(5) {
                tracing::warn!(file = %p.display(), "RADIUS accounting: {e}");
            }
            records.extend(res.records);
            radius_paths.push(p.display().to_string());
        }
        let radius = (!cfg.radius.is_empty()).then(|| SubscriberIndex::build(records));
        let me = Self {
            dir: cfg.store.clone(),
            window_ms,
            vrf: cfg.vrf,
            max_candidates: cfg.max_candidates.clamp(1, 10_000),
            detnat,
            radius,
            radius_paths,
            cache: Mutex::new(None),
        };
        me.store()?;
        Ok(me)
    }

    /// The configured half-width of the window for a precise, zoned time.
    pub fn window_ms(&self) -> Millis {
        self.window_ms
    }

    fn store(&self) -> Result<Arc<warden_attribution::store::NatStore>> {
        let stamp = std::fs::metadata(self.dir.join(warden_attribution::store::manifest::MANIFEST))
            .and_then(|m| m.modified())
            .ok();
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| DeskError::invalid("NAT store cache", "poisoned by a panic"))?;
        if let Some((at, s)) = cache.as_ref()
            && *at == stamp
        {
            return Ok(s.clone());
        }
        let s = Arc::new(
            warden_attribution::store::NatStore::open(&self.dir).map_err(|e| {
                DeskError::invalid(format!("NAT store {}", self.dir.display()), e.to_string())
            })?,
        );
        *cache = Some((stamp, s.clone()));
        Ok(s)
    }

    /// Asks the logs (blocking). Candidates have no customer yet; [`CgnAttributor`] adds them.
    pub fn lookup(&self, q: &NatQuery) -> Result<NatAnswer> {
        let store = self.store()?;
        let query = Query {
            vrf: self.vrf,
            ip: q.ip,
            port: q.port,
            proto: q.proto,
            time_ms: q.time.timestamp_millis(),
            window_ms: q.window_ms.clamp(0, MAX_WINDOW_MS),
        };
        let sources = Sources {
            detnat: self.detnat.as_ref(),
            radius: self.radius.as_ref(),
        };
        // Lines are read back below for the kept candidates only.
        let a = resolve_with(&store, &query, false, sources)
            .map_err(|e| DeskError::invalid("NAT lookup", e.to_string()))?;
        let total = a.candidates.len();
        let candidates = a
            .candidates
            .into_iter()
            .take(self.max_candidates)
            .map(|c| {
                let (source, config) = match c.source {
                    CandidateSource::Log => ("log".to_owned(), None),
                    CandidateSource::Deterministic { config } => {
                        ("deterministic".to_owned(), Some(config))
                    }
                };
                let evidence = c
                    .evidence
                    .iter()
                    .map(|e| {
                        let (text, unreadable) = match store.evidence(e.file, e.line) {
                            Ok(l) => (Some(l.text), None),
                            Err(err) => (None, Some(err.to_string())),
                        };
                        NatEvidence {
                            role: e.role.to_owned(),
                            path: e.path.clone(),
                            line: e.line,
                            text,
                            unreadable,
                        }
                    })
                    .collect();
                let subscribers = c
                    .subscribers
                    .into_iter()
                    .map(|s| NatSubscriber {
                        user_name: s.user_name,
                        calling_station_id: s.calling_station_id,
                        session_id: s.session_id,
                        start: from_ms(s.start_ms),
                        end: s.end_ms.map(from_ms),
                        start_uncertain: s.start_uncertain,
                        evidence: s
                            .evidence
                            .iter()
                            .map(|r| NatEvidence {
                                role: "accounting".into(),
                                path: self.radius_paths.get(r.file as usize).cloned(),
                                line: r.line,
                                text: None,
                                unreadable: None,
                            })
                            .collect(),
                    })
                    .collect();
                let iv = &c.interval;
                NatCandidate {
                    source,
                    config,
                    inside_ip: c.inside_ip,
                    b4_ipv6: c.b4_ipv6,
                    subscriber_id: c.subscriber_id,
                    subscribers,
                    outside_ip: IpAddr::V4(iv.outside_ip),
                    port_lo: iv.port_lo,
                    port_hi: iv.port_hi,
                    proto: iv.proto,
                    start: from_ms(iv.start_ms),
                    end: from_ms(iv.end_ms),
                    start_kind: iv.start_kind,
                    end_kind: iv.end_kind,
                    overlap: match c.overlap {
                        Overlap::Contains => "contains",
                        Overlap::WithinWindow => "within_window",
                    }
                    .into(),
                    inferred: c.inferred,
                    evidence,
                    customer: None,
                }
            })
            .collect();
        Ok(NatAnswer {
            query: q.clone(),
            ambiguous: a.ambiguous,
            doubts: a.doubts.iter().map(|d| explain(d, q)).collect(),
            candidates_total: total,
            candidates,
            error: None,
        })
    }
}

fn explain(d: &Doubt, q: &NatQuery) -> NatDoubt {
    let (kind, explanation) = match d {
        Doubt::NoPort => (
            "no_port",
            format!(
                "the report gives no source port, so every subscriber on {} then is a candidate",
                q.ip
            ),
        ),
        Doubt::NoCoverage => (
            "no_coverage",
            format!(
                "no imported NAT log covers {} ± {} ms",
                q.time.to_rfc3339(),
                q.window_ms
            ),
        ),
        Doubt::Retention { kept_from } => (
            "retention",
            format!("the logs of that day were dropped by retention (kept from {kept_from})"),
        ),
        Doubt::LogGap {
            exporter,
            after_seq,
            next_seq,
        } => (
            "log_gap",
            format!(
                "log sequence numbers jump from {after_seq} to {next_seq}{} around then: lines were probably lost",
                exporter
                    .as_deref()
                    .map(|e| format!(" on {e}"))
                    .unwrap_or_default()
            ),
        ),
        Doubt::SeveralHolders { holders } => (
            "several_holders",
            format!("{holders} different inside addresses held the address and port in the window"),
        ),
        Doubt::InferredBounds => (
            "inferred_bounds",
            "a candidate's start or end was inferred because its log line was lost".to_owned(),
        ),
        Doubt::NoHolder => (
            "no_holder",
            "the logs cover the time but nobody held that address and port then".to_owned(),
        ),
        Doubt::SeveralSubscribers => (
            "several_subscribers",
            "accounting names more than one subscriber session for an inside address".to_owned(),
        ),
        Doubt::NoSubscriber => (
            "no_subscriber",
            "accounting names no subscriber for an inside address".to_owned(),
        ),
    };
    NatDoubt {
        kind: kind.into(),
        explanation,
    }
}

/// The window centre and half-width for a report time: the configured window for a precise,
/// zoned time, wider for minute or day precision and by 14 hours when the zone was assumed.
pub fn window_for(o: &ObservedTime, base_ms: Millis) -> (DateTime<Utc>, Millis, Option<String>) {
    let mut why = Vec::new();
    let (centre, mut half) = match o.precision {
        TimePrecision::Day => {
            why.push("the report gives only a date");
            (
                o.utc + chrono::Duration::hours(12),
                base_ms + 12 * 3_600_000,
            )
        }
        TimePrecision::Minute => {
            why.push("the report time has no seconds");
            (o.utc + chrono::Duration::seconds(30), base_ms + 30_000)
        }
        TimePrecision::Second | TimePrecision::Subsecond => (o.utc, base_ms),
    };
    if !o.zone_given {
        why.push("the report time has no zone, so UTC was assumed");
        half += ZONE_SPREAD_MS;
    }
    let half = half.min(MAX_WINDOW_MS);
    let widened = (!why.is_empty()).then(|| why.join("; "));
    (centre, half, widened)
}

/// Inventory attribution, with the NAT logs asked for addresses in shared pools.
#[derive(Debug, Clone)]
pub struct CgnAttributor {
    inventory: InventoryAttributor,
    store: Store,
    nat: Arc<NatResolver>,
}

impl CgnAttributor {
    /// Attribution through `store`'s inventory and the NAT logs of `nat`.
    pub fn new(store: Store, nat: Arc<NatResolver>) -> Self {
        Self {
            inventory: InventoryAttributor::new(store.clone()),
            store,
            nat,
        }
    }

    /// The customer behind a candidate: its subscriber ids first (CGN-logged, then RADIUS
    /// User-Name and Calling-Station-Id), else its inside address.
    async fn customer_of(&self, c: &NatCandidate, at: DateTime<Utc>) -> Result<Option<Holder>> {
        let mut ids: Vec<String> = c.subscriber_id.iter().cloned().collect();
        for s in &c.subscribers {
            ids.extend(s.user_name.iter().cloned());
            ids.extend(s.calling_station_id.iter().cloned());
        }
        for id in ids {
            if let Some(h) = inventory::holders_of_subscriber(&self.store, &id, at)
                .await?
                .into_iter()
                .next()
            {
                return Ok(Some(h));
            }
        }
        Ok(
            inventory::holders_of_inside_ip(&self.store, c.inside_ip, at)
                .await?
                .into_iter()
                .next(),
        )
    }
}

fn proto_number(p: Option<Protocol>) -> Option<u8> {
    match p? {
        Protocol::Tcp => Some(6),
        Protocol::Udp => Some(17),
        Protocol::Icmp => None,
    }
}

impl Attributor for CgnAttributor {
    fn attribute<'a>(&'a self, event: &'a AbuseEvent, now: DateTime<Utc>) -> AttributeFuture<'a> {
        Box::pin(async move {
            let base = self.inventory.attribute(event, now).await?;
            let Some(IpAddr::V4(ip)) = event.subject.ip else {
                return Ok(base);
            };
            if !base.candidates.iter().any(|h| h.shared) {
                return Ok(base);
            }
            let Some(observed) = event.observed else {
                return Ok(Attribution {
                    note: format!(
                        "{}; the report gives no time, so the NAT logs cannot be searched",
                        base.note
                    ),
                    ..base
                });
            };
            let (time, window_ms, widened) = window_for(&observed, self.nat.window_ms());
            let q = NatQuery {
                ip,
                port: event.subject.port,
                proto: proto_number(event.subject.protocol),
                time,
                window_ms,
                widened,
            };
            let nat = self.nat.clone();
            let q2 = q.clone();
            let looked = tokio::task::spawn_blocking(move || nat.lookup(&q2))
                .await
                .map_err(|e| DeskError::invalid("NAT lookup task", e.to_string()))
                .and_then(|r| r);
            let mut answer = match looked {
                Ok(a) => a,
                Err(e) => {
                    // A broken store must not stop intake: the case stays with the analysts.
                    tracing::warn!("NAT lookup for {ip} failed: {e}");
                    NatAnswer {
                        query: q,
                        ambiguous: true,
                        doubts: Vec::new(),
                        candidates_total: 0,
                        candidates: Vec::new(),
                        error: Some(e.to_string()),
                    }
                }
            };
            let t_ms = time.timestamp_millis();
            for c in &mut answer.candidates {
                // The moment the candidate held the port nearest the reported time (`max`/`min`
                // rather than `clamp`, which panics on an inverted interval).
                let at = from_ms(
                    t_ms.max(c.start.timestamp_millis())
                        .min(c.end.timestamp_millis()),
                );
                c.customer = self.customer_of(c, at).await?;
            }
            Ok(combine(base, answer))
        })
    }
}

/// Folds the NAT answer into the inventory's: the customers the candidates map to replace the
/// pool's operator, and the case is routed only when exactly one customer remains, a port was
/// given, every candidate kept is mapped and none was left off.
fn combine(base: Attribution, answer: NatAnswer) -> Attribution {
    let mut customers: Vec<Holder> = Vec::new();
    for h in answer.candidates.iter().filter_map(|c| c.customer.as_ref()) {
        if !customers.iter().any(|k| k.customer_id == h.customer_id) {
            customers.push(h.clone());
        }
    }
    let unmapped = answer
        .candidates
        .iter()
        .filter(|c| c.customer.is_none())
        .count();
    let truncated = answer.candidates_total > answer.candidates.len();
    let q = &answer.query;
    let ambiguous = q.port.is_none()
        || truncated
        || unmapped > 0
        || customers.len() != 1
        || answer.error.is_some();
    let at = format!(
        "{}:{} at {} ± {} ms",
        q.ip,
        q.port.map_or("-".into(), |p| p.to_string()),
        q.time.to_rfc3339(),
        q.window_ms
    );
    let reasons: Vec<&str> = answer
        .doubts
        .iter()
        .map(|d| d.explanation.as_str())
        .collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join("; "))
    };
    let note = if let Some(e) = &answer.error {
        format!("{}; the NAT lookup failed: {e}", base.note)
    } else if answer.candidates_total == 0 {
        format!("{at}: the NAT logs name no holder{reasons}")
    } else if !ambiguous {
        let c = &answer.candidates[0];
        let who = customers.first().map_or(String::new(), |h| {
            format!("{} ({})", h.customer_id, h.matched)
        });
        format!(
            "{at}: the NAT logs name inside address {}{}, customer {who}{reasons}",
            c.inside_ip,
            c.subscriber_id
                .as_deref()
                .map(|s| format!(" (subscriber {s})"))
                .unwrap_or_default()
        )
    } else {
        let mut s = format!(
            "{at}: the NAT logs name {} candidate(s), {} customer(s)",
            answer.candidates_total,
            customers.len()
        );
        if unmapped > 0 {
            s.push_str(&format!(
                ", {unmapped} inside address(es) not in the inventory"
            ));
        }
        if truncated {
            s.push_str(&format!(", {} kept", answer.candidates.len()));
        }
        s.push_str(&reasons);
        s
    };
    Attribution {
        candidates: if customers.is_empty() {
            base.candidates
        } else {
            customers
        },
        ambiguous,
        needs: if ambiguous { base.needs } else { Vec::new() },
        note,
        nat: Some(answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_refuse() {
        assert_eq!(parse_window("5s").unwrap(), 5_000);
        assert_eq!(parse_window("500ms").unwrap(), 500);
        assert_eq!(parse_window("2m").unwrap(), 120_000);
        assert_eq!(parse_window("7").unwrap(), 7_000);
        assert!(parse_window("25h").is_err());
        assert!(parse_window("fast").is_err());
        assert!(parse_window("-1s").is_err());
        assert_eq!(
            warden_attribution::resolve::DEFAULT_WINDOW_MS,
            parse_window(&default_window()).unwrap()
        );
    }

    #[test]
    fn coarse_and_zoneless_times_widen_the_window() {
        let t = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let (c, w, why) = window_for(&ObservedTime::zoned(t, TimePrecision::Second), 5_000);
        assert_eq!((c, w, why), (t, 5_000, None));
        let (c, w, why) = window_for(&ObservedTime::zoned(t, TimePrecision::Minute), 5_000);
        assert_eq!(c, t + chrono::Duration::seconds(30));
        assert_eq!(w, 35_000);
        assert!(why.unwrap().contains("seconds"));
        let (_, w, why) = window_for(&ObservedTime::assumed_utc(t, TimePrecision::Second), 5_000);
        assert_eq!(w, 5_000 + ZONE_SPREAD_MS);
        assert!(why.unwrap().contains("no zone"));
        let (_, w, _) = window_for(&ObservedTime::assumed_utc(t, TimePrecision::Day), 5_000);
        assert_eq!(w, MAX_WINDOW_MS);
    }
}
