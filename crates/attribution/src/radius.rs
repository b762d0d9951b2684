//! RADIUS accounting join: inside (framed) IP address -> subscriber, over time.
//!
//! Many CGN logs name only the private address (research notes section 0, finding 5), so the
//! subscriber comes from RADIUS accounting (RFC 2866): `Acct-Status-Type` Start / Interim-Update
//! / Stop with `Framed-IP-Address` (RFC 2865 section 5.8). Records are read from CSV exports or
//! FreeRADIUS `detail` files, sorted by time and folded into [`SubscriberInterval`]s per address.
//! Lost Stops are common (UDP, NAS reboots), so an open session ends at the next Start of the
//! same address or at the NAS's Accounting-On/Off, and answers say how the end was known.

use crate::natlog::syslog::{self, LocalTime};
use crate::natlog::{Label, TsPrecision};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::net::IpAddr;

/// Largest accounting input read (bytes): a day of a large ISP's accounting fits well within.
pub const MAX_INPUT_BYTES: usize = 4 << 30;
/// Longest line or CSV record (bytes).
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// Most attributes in one `detail` block.
pub const MAX_ATTRIBUTES: usize = 512;

/// RFC 2866 section 5.1 `Acct-Status-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcctStatus {
    /// 1: session starts.
    Start,
    /// 2: session ends.
    Stop,
    /// 3: still active (RFC 2869 section 2.1).
    InterimUpdate,
    /// 7: NAS rebooted; all its sessions ended.
    AccountingOn,
    /// 8: NAS going down; all its sessions end.
    AccountingOff,
}

impl AcctStatus {
    fn parse(v: &str) -> Option<Self> {
        Some(match v.trim().to_ascii_lowercase().as_str() {
            "start" | "1" => Self::Start,
            "stop" | "2" => Self::Stop,
            "interim-update" | "interim_update" | "alive" | "3" => Self::InterimUpdate,
            "accounting-on" | "7" => Self::AccountingOn,
            "accounting-off" | "8" => Self::AccountingOff,
            _ => return None,
        })
    }
}

/// Where an accounting record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RadiusEvidence {
    /// Index of the input file in the caller's file table.
    pub file: u32,
    /// 1-based line where the record starts.
    pub line: u64,
}

/// One accounting record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcctRecord {
    /// Event time, UTC nanoseconds (Event-Timestamp, else the logger's time, minus
    /// Acct-Delay-Time).
    pub time_ns: i64,
    /// True when the time was written without a zone and the configured one was applied.
    pub tz_assumed: bool,
    /// Record type.
    pub status: AcctStatus,
    /// Framed-IP-Address (or Framed-IPv6-Address).
    pub framed_ip: Option<IpAddr>,
    /// User-Name.
    pub user_name: Option<Label>,
    /// Calling-Station-Id (often the CPE MAC or line id).
    pub calling_station_id: Option<Label>,
    /// Acct-Session-Id.
    pub session_id: Option<Label>,
    /// NAS-IP-Address, to scope Accounting-On/Off.
    pub nas_ip: Option<IpAddr>,
    /// Acct-Session-Time in seconds (RFC 2866 section 5.7), on Interim-Update and Stop.
    pub session_time_s: Option<u32>,
    /// Where it came from.
    pub evidence: RadiusEvidence,
}

/// A record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RADIUS accounting file #{} line {}: {reason}", evidence.file, evidence.line)]
pub struct RadiusError {
    /// Where.
    pub evidence: RadiusEvidence,
    /// Why.
    pub reason: String,
}

/// Records read from one input, and the ones that were rejected.
#[derive(Debug, Default)]
pub struct AcctReadResult {
    /// Records read.
    pub records: Vec<AcctRecord>,
    /// Records rejected, with reasons.
    pub errors: Vec<RadiusError>,
}

/// Attribute values of one record before they become an [`AcctRecord`].
#[derive(Default)]
struct Attrs {
    status: Option<String>,
    framed: Option<String>,
    user: Option<String>,
    calling: Option<String>,
    session: Option<String>,
    nas: Option<String>,
    event_ts: Option<String>,
    logger_ts: Option<String>,
    delay: Option<String>,
    session_time: Option<String>,
}

impl Attrs {
    /// Stores `value` under the attribute `name` (case and `-`/`_` insensitive).
    fn set(&mut self, name: &str, value: &str) {
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let v = value.trim().trim_matches('"').to_owned();
        let slot = match key.as_str() {
            "acctstatustype" => &mut self.status,
            "framedipaddress" | "framedipv6address" => &mut self.framed,
            "username" => &mut self.user,
            "callingstationid" => &mut self.calling,
            "acctsessionid" => &mut self.session,
            "nasipaddress" => &mut self.nas,
            "eventtimestamp" => &mut self.event_ts,
            "timestamp" | "time" => &mut self.logger_ts,
            "acctdelaytime" => &mut self.delay,
            "acctsessiontime" => &mut self.session_time,
            _ => return,
        };
        *slot = Some(v);
    }

    fn into_record(
        self,
        header_time: Option<(i64, bool)>,
        zone: Tz,
        evidence: RadiusEvidence,
    ) -> Result<AcctRecord, String> {
        let status_text = self.status.ok_or("no Acct-Status-Type")?;
        let status = AcctStatus::parse(&status_text)
            .ok_or_else(|| format!("Acct-Status-Type {status_text:?} is not Start, Stop, Interim-Update, Accounting-On or Accounting-Off"))?;
        let framed_ip = match self.framed {
            Some(f) => Some(
                f.parse()
                    .map_err(|_| format!("Framed-IP-Address {f:?} is not an IP address"))?,
            ),
            None => None,
        };
        if framed_ip.is_none()
            && matches!(
                status,
                AcctStatus::Start | AcctStatus::Stop | AcctStatus::InterimUpdate
            )
        {
            return Err("no Framed-IP-Address".into());
        }
        let nas_ip = self.nas.and_then(|n| n.parse().ok());
        // Event-Timestamp is the NAS's own time; the logger's time is when the server wrote it,
        // late by Acct-Delay-Time (RFC 2866 section 5.2).
        let (mut time_ns, tz_assumed, from_logger) =
            match self.event_ts.as_deref().map(|t| parse_time(t, zone)) {
                Some(Ok((t, a))) => (t, a, false),
                Some(Err(e)) => return Err(format!("Event-Timestamp: {e}")),
                None => match self.logger_ts.as_deref().map(|t| parse_time(t, zone)) {
                    Some(Ok((t, a))) => (t, a, true),
                    Some(Err(e)) => return Err(format!("Timestamp: {e}")),
                    None => {
                        let (t, a) =
                            header_time.ok_or("no Event-Timestamp, Timestamp or date line")?;
                        (t, a, true)
                    }
                },
            };
        if from_logger
            && let Some(d) = self
                .delay
                .as_deref()
                .and_then(|d| d.trim().parse::<i64>().ok())
        {
            time_ns = time_ns.saturating_sub(d.saturating_mul(1_000_000_000));
        }
        let label =
            |s: Option<String>| s.filter(|s| !s.is_empty()).map(|s| Label::from(s.as_str()));
        Ok(AcctRecord {
            time_ns,
            tz_assumed,
            status,
            framed_ip,
            user_name: label(self.user),
            calling_station_id: label(self.calling),
            session_id: label(self.session),
            nas_ip,
            session_time_s: self.session_time.and_then(|t| t.trim().parse().ok()),
            evidence,
        })
    }
}

/// Reads a time: Unix seconds (with optional fraction), RFC 3339, `YYYY-MM-DD HH:MM:SS`
/// (zone assumed), or FreeRADIUS's `Mmm dd yyyy hh:mm:ss ZONE`.
fn parse_time(s: &str, zone: Tz) -> Result<(i64, bool), String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
        && secs.abs() < 9e9
    {
        // Rounded to microseconds, the precision accounting systems write. |secs| < 9e9 keeps
        // the nanosecond count inside i64.
        return Ok(((secs * 1e6).round() as i64 * 1000, false));
    }
    let b = s.as_bytes();
    if let Some((t, rest)) = syslog::parse_iso_time(b)
        && rest.is_empty()
    {
        return resolve(&t, zone);
    }
    // `Nov 23 2026 10:00:00 UTC`
    let mut parts = s.split_ascii_whitespace();
    let (Some(mon), Some(day), Some(year), Some(hms)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("{s:?} is not a time this reader knows"));
    };
    let bad = || format!("{s:?} is not a time this reader knows");
    let month = syslog::month_from_abbrev(mon.as_bytes()).ok_or_else(bad)?;
    let ((hour, minute, second), r) = syslog::parse_hms(hms.as_bytes()).ok_or_else(bad)?;
    if !r.is_empty() {
        return Err(bad());
    }
    let mut t = LocalTime {
        year: Some(year.parse().map_err(|_| bad())?),
        month,
        day: day.parse().map_err(|_| bad())?,
        hour,
        minute,
        second,
        nanos: 0,
        precision: TsPrecision::Sec,
        offset_s: None,
    };
    if let Some(tz) = parts.next() {
        t.offset_s = syslog::fixed_abbrev_offset(tz.as_bytes())
            .or_else(|| syslog::abbrev_offset_in_zone(zone, &t, tz.as_bytes()));
    }
    resolve(&t, zone)
}

fn resolve(t: &LocalTime, zone: Tz) -> Result<(i64, bool), String> {
    let s = syslog::resolve(t, zone, 0).map_err(str::to_owned)?;
    Ok((s.utc_ns, s.tz_assumed))
}

/// Reads a CSV export with a header row naming the RADIUS attributes (`Acct-Status-Type`,
/// `Framed-IP-Address`, `User-Name`, `Calling-Station-Id`, `Acct-Session-Id`,
/// `NAS-IP-Address`, `Event-Timestamp` or `Timestamp`, `Acct-Delay-Time`; case, `-` and `_`
/// do not matter, other columns are ignored).
pub fn read_csv(data: &[u8], file: u32, zone: Tz) -> AcctReadResult {
    let mut out = AcctReadResult::default();
    let ev = |line: u64| RadiusEvidence { file, line };
    if data.len() > MAX_INPUT_BYTES {
        out.errors.push(RadiusError {
            evidence: ev(0),
            reason: format!("input is larger than {MAX_INPUT_BYTES} bytes"),
        });
        return out;
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            out.errors.push(RadiusError {
                evidence: ev(1),
                reason: format!("header row: {e}"),
            });
            return out;
        }
    };
    for row in rdr.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(RadiusError {
                    evidence: ev(line),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        if row.as_slice().len() > MAX_LINE_BYTES {
            out.errors.push(RadiusError {
                evidence: ev(line),
                reason: format!("record longer than {MAX_LINE_BYTES} bytes"),
            });
            continue;
        }
        let mut attrs = Attrs::default();
        for (name, value) in headers.iter().zip(row.iter()) {
            if !value.is_empty() {
                attrs.set(name, value);
            }
        }
        match attrs.into_record(None, zone, ev(line)) {
            Ok(r) => out.records.push(r),
            Err(reason) => out.errors.push(RadiusError {
                evidence: ev(line),
                reason,
            }),
        }
    }
    out
}

/// A `detail` block being read: first line, date-line time, attributes, attribute count.
type OpenBlock = (u64, Option<(i64, bool)>, Attrs, usize);

/// Reads a FreeRADIUS `detail` file: blocks separated by blank lines, each a date line
/// (`Mon Nov 23 10:00:00 2026`, the server's local time) followed by indented
/// `Attribute = value` lines.
pub fn read_detail(data: &[u8], file: u32, zone: Tz) -> AcctReadResult {
    let mut out = AcctReadResult::default();
    let ev = |line: u64| RadiusEvidence { file, line };
    if data.len() > MAX_INPUT_BYTES {
        out.errors.push(RadiusError {
            evidence: ev(0),
            reason: format!("input is larger than {MAX_INPUT_BYTES} bytes"),
        });
        return out;
    }
    let mut block: Option<OpenBlock> = None;
    let mut failed: Option<(u64, String)> = None;
    let finish = |block: &mut Option<OpenBlock>,
                  failed: &mut Option<(u64, String)>,
                  out: &mut AcctReadResult| {
        if let Some((line, reason)) = failed.take() {
            out.errors.push(RadiusError {
                evidence: ev(line),
                reason,
            });
            *block = None;
            return;
        }
        if let Some((line, header, attrs, _)) = block.take() {
            match attrs.into_record(header, zone, ev(line)) {
                Ok(r) => out.records.push(r),
                Err(reason) => out.errors.push(RadiusError {
                    evidence: ev(line),
                    reason,
                }),
            }
        }
    };
    for (i, raw) in data.split(|&c| c == b'\n').enumerate() {
        let n = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            finish(&mut block, &mut failed, &mut out);
            continue;
        }
        if failed.is_some() {
            continue; // skip the rest of a broken block
        }
        if raw.len() > MAX_LINE_BYTES {
            failed = Some((n, format!("line longer than {MAX_LINE_BYTES} bytes")));
            continue;
        }
        let Ok(text) = std::str::from_utf8(raw) else {
            failed = Some((n, "line is not UTF-8".into()));
            continue;
        };
        let indented = raw.first().is_some_and(|c| *c == b' ' || *c == b'\t');
        match (&mut block, indented) {
            (None, false) | (Some(_), false) => {
                finish(&mut block, &mut failed, &mut out);
                match detail_date(text, zone) {
                    Ok(t) => block = Some((n, Some(t), Attrs::default(), 0)),
                    Err(reason) => failed = Some((n, reason)),
                }
            }
            (None, true) => failed = Some((n, "attribute line before a date line".into())),
            (Some((_, _, attrs, count)), true) => {
                *count += 1;
                if *count > MAX_ATTRIBUTES {
                    failed = Some((
                        n,
                        format!("more than {MAX_ATTRIBUTES} attributes in one record"),
                    ));
                    continue;
                }
                let Some((name, value)) = text.split_once('=') else {
                    failed = Some((n, format!("{:?} is not `Attribute = value`", text.trim())));
                    continue;
                };
                attrs.set(name.trim(), value);
            }
        }
    }
    finish(&mut block, &mut failed, &mut out);
    out
}

/// Reads the ctime-style date line `Www Mmm dd hh:mm:ss yyyy` (local time of the server).
fn detail_date(text: &str, zone: Tz) -> Result<(i64, bool), String> {
    let bad = || format!("{text:?} is not a `Www Mmm dd hh:mm:ss yyyy` date line");
    let rest = text.trim().split_once(' ').ok_or_else(bad)?.1;
    let (mut t, after) = syslog::parse_bsd_time(rest.as_bytes()).ok_or_else(bad)?;
    let year: i32 = std::str::from_utf8(after)
        .map_err(|_| bad())?
        .trim()
        .parse()
        .map_err(|_| bad())?;
    t.year = Some(year);
    resolve(&t, zone).map_err(|e| format!("date line {text:?}: {e}"))
}

/// How an interval's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// An Acct-Status-Type Stop.
    Stop,
    /// No Stop; the next Start for the same address ended it.
    NextStart,
    /// No Stop; the NAS sent Accounting-On/Off.
    NasRestart,
    /// Still open at the end of the data.
    Open,
}

/// An inside address held by one subscriber session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInterval {
    /// The framed (inside) address.
    pub inside_ip: IpAddr,
    /// Start, UTC nanoseconds.
    pub start_ns: i64,
    /// True when no Start was seen and the interval begins at the first Interim-Update.
    pub start_uncertain: bool,
    /// End (exclusive), UTC nanoseconds; `None` while open.
    pub end_ns: Option<i64>,
    /// How the end is known.
    pub end_kind: EndKind,
    /// Time of the last record of the session (the latest proof it was alive).
    pub last_seen_ns: i64,
    /// User-Name.
    pub user_name: Option<Label>,
    /// Calling-Station-Id.
    pub calling_station_id: Option<Label>,
    /// Acct-Session-Id.
    pub session_id: Option<Label>,
    /// NAS-IP-Address.
    pub nas_ip: Option<IpAddr>,
    /// Every record of the session (start, interims, stop).
    pub evidence: Vec<RadiusEvidence>,
}

/// Inside address -> subscriber intervals, built from accounting records.
#[derive(Debug, Default, Clone)]
pub struct SubscriberIndex {
    by_ip: HashMap<IpAddr, Vec<SubscriberInterval>>,
}

impl SubscriberIndex {
    /// Folds records (any order) into intervals.
    pub fn build(mut records: Vec<AcctRecord>) -> Self {
        records.sort_by_key(|r| (r.time_ns, r.evidence.file, r.evidence.line));
        let mut by_ip: HashMap<IpAddr, Vec<SubscriberInterval>> = HashMap::new();
        for r in records {
            match r.status {
                AcctStatus::AccountingOn | AcctStatus::AccountingOff => {
                    for iv in by_ip.values_mut().flat_map(|v| v.iter_mut()) {
                        if iv.end_ns.is_none() && (r.nas_ip.is_none() || iv.nas_ip == r.nas_ip) {
                            iv.end_ns = Some(r.time_ns);
                            iv.end_kind = EndKind::NasRestart;
                            iv.evidence.push(r.evidence);
                        }
                    }
                }
                AcctStatus::Start | AcctStatus::InterimUpdate | AcctStatus::Stop => {
                    let Some(ip) = r.framed_ip else { continue };
                    let list = by_ip.entry(ip).or_default();
                    let same = list.iter().rposition(|iv| {
                        iv.end_ns.is_none()
                            && iv.session_id == r.session_id
                            && iv.user_name == r.user_name
                    });
                    match (r.status, same.and_then(|i| list.get_mut(i))) {
                        (AcctStatus::Start, Some(iv)) => iv.evidence.push(r.evidence), // resent Start
                        (_, None) => {
                            let stop = r.status == AcctStatus::Stop;
                            // Without a Start, Acct-Session-Time says when it began.
                            let (start_ns, start_uncertain) = match (r.status, r.session_time_s) {
                                (AcctStatus::Start, _) => (r.time_ns, false),
                                (_, Some(s)) => (
                                    r.time_ns.saturating_sub(i64::from(s) * 1_000_000_000),
                                    false,
                                ),
                                (_, None) => (r.time_ns, true),
                            };
                            // A new session on this address ends any other still-open one.
                            for iv in list.iter_mut().filter(|iv| iv.end_ns.is_none()) {
                                iv.end_ns = Some(start_ns.max(iv.start_ns));
                                iv.end_kind = EndKind::NextStart;
                            }
                            list.push(SubscriberInterval {
                                inside_ip: ip,
                                start_ns,
                                start_uncertain,
                                end_ns: stop.then_some(r.time_ns),
                                end_kind: if stop { EndKind::Stop } else { EndKind::Open },
                                last_seen_ns: r.time_ns,
                                user_name: r.user_name,
                                calling_station_id: r.calling_station_id,
                                session_id: r.session_id,
                                nas_ip: r.nas_ip,
                                evidence: vec![r.evidence],
                            });
                        }
                        (AcctStatus::InterimUpdate, Some(iv)) => {
                            iv.last_seen_ns = r.time_ns;
                            iv.evidence.push(r.evidence);
                        }
                        (_, Some(iv)) => {
                            iv.end_ns = Some(r.time_ns);
                            iv.end_kind = EndKind::Stop;
                            iv.last_seen_ns = r.time_ns;
                            iv.evidence.push(r.evidence);
                        }
                    }
                }
            }
        }
        Self { by_ip }
    }

    /// Every session that held `inside_ip` at `t_ns`: more than one means the accounting is
    /// ambiguous (overlapping sessions), none means nobody is known to have held it.
    pub fn subscriber_at(&self, inside_ip: IpAddr, t_ns: i64) -> Vec<&SubscriberInterval> {
        self.subscribers_between(inside_ip, t_ns, t_ns)
    }

    /// Every session that held `inside_ip` at some time in `[from_ns, to_ns]` (a reporter's
    /// clock skew window).
    pub fn subscribers_between(
        &self,
        inside_ip: IpAddr,
        from_ns: i64,
        to_ns: i64,
    ) -> Vec<&SubscriberInterval> {
        self.by_ip.get(&inside_ip).map_or_else(Vec::new, |list| {
            list.iter()
                .filter(|iv| iv.start_ns <= to_ns && iv.end_ns.is_none_or(|e| e > from_ns))
                .collect()
        })
    }

    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.by_ip.values().map(Vec::len).sum()
    }

    /// True when there is no interval.
    pub fn is_empty(&self) -> bool {
        self.by_ip.is_empty()
    }
}
