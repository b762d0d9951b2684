//! The line-parsing API: one syslog line (or text log line) in, zero or more [`NatEvent`]s out.
//!
//! Why this shape: an import reads billions of lines, so [`parse_line`] appends into a buffer
//! the caller reuses (no allocation per line once warm), works on `&[u8]` (no UTF-8 pass over
//! the line), and never panics on input. A Cisco IOS-XR message carries several records, so one
//! line may give several events; a recognised vendor message that is not an attribution record
//! (a Junos rule-match, a threshold alarm, a Cisco `Portblockrunout`) gives zero events and no
//! error, so that the importer can count it as "skipped", not "bad".
//!
//! Time: every event is in UTC (see [`super::syslog`]). Zone-less times take the exporter's
//! zone from [`ParseContext::exporters`], else [`ParseContext::default_tz`], and are flagged
//! `tz_assumed`; year-less BSD headers take the year closest to [`ParseContext::reference_s`].

use super::event::{NatEvent, RawRef};
use super::ipfix::NatEventMap;
use super::syslog::ZoneCache;
use super::vendors;
use chrono_tz::Tz;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

/// Longest line accepted (bytes). Real CGN lines are 100–600 bytes; a multi-record Cisco
/// message stays under a UDP datagram. Anything longer is garbage or a framing error.
pub const MAX_LINE_LEN: usize = 64 * 1024;

pub use super::vendors::Vendor;

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Vendor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Vendor::from_name(&s.to_ascii_lowercase()).ok_or_else(|| {
            let names: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
            format!(
                "unknown NAT log vendor {s:?}: expected auto or one of {}",
                names.join(", ")
            )
        })
    }
}

/// What is known about one exporter (a syslog host name or IPFIX observation domain) that its
/// logs do not say themselves.
#[derive(Debug, Clone, Default)]
pub struct ExporterProfile {
    /// Zone of zone-less times from this exporter (overrides [`ParseContext::default_tz`]).
    pub tz: Option<Tz>,
    /// How this exporter numbers IPFIX natEvent (IANA, Juniper, Cisco differ).
    pub ipfix_events: Option<NatEventMap>,
}

/// Everything a line parser needs besides the line: chosen vendor, zones, year reference.
#[derive(Debug)]
pub struct ParseContext {
    /// The dialect, or [`Vendor::Auto`].
    pub vendor: Vendor,
    /// Zone applied to times written without one (`--tz`), unless the exporter has its own.
    pub default_tz: Tz,
    /// Reference time (Unix seconds, UTC) for BSD headers without a year: the year that puts
    /// the line closest to it wins. Use the file's modification time or the import time.
    pub reference_s: i64,
    /// Per-exporter settings, keyed by the host name exactly as the log writes it.
    pub exporters: HashMap<String, ExporterProfile>,
    /// Last vendor Auto matched: probed first next time (logs come in runs of one dialect).
    last_hit: AtomicU8,
    /// Offset of the last zone and day resolved (see [`ZoneCache`]).
    pub(crate) zone_cache: ZoneCache,
}

impl Clone for ParseContext {
    fn clone(&self) -> Self {
        Self {
            vendor: self.vendor,
            default_tz: self.default_tz,
            reference_s: self.reference_s,
            exporters: self.exporters.clone(),
            last_hit: AtomicU8::new(self.last_hit.load(Ordering::Relaxed)),
            zone_cache: ZoneCache::default(),
        }
    }
}

impl ParseContext {
    /// A context for `vendor` with zone `default_tz` and year reference `reference_s`.
    pub fn new(vendor: Vendor, default_tz: Tz, reference_s: i64) -> Self {
        Self {
            vendor,
            default_tz,
            reference_s,
            exporters: HashMap::new(),
            last_hit: AtomicU8::new(0),
            zone_cache: ZoneCache::default(),
        }
    }

    /// The zone for zone-less times from `exporter` (the bytes as written in the log).
    pub fn zone_for(&self, exporter: &[u8]) -> Tz {
        if self.exporters.is_empty() {
            return self.default_tz;
        }
        std::str::from_utf8(exporter)
            .ok()
            .and_then(|h| self.exporters.get(h))
            .and_then(|p| p.tz)
            .unwrap_or(self.default_tz)
    }
}

/// Why a line gave no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineErrorReason {
    /// The line is empty or only whitespace.
    Empty,
    /// The line is longer than [`MAX_LINE_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// No vendor's NAT record was recognised in the line (with Auto) or the chosen vendor's
    /// markers are absent: likely another program's syslog.
    NotNat,
    /// The record was recognised but a field is missing or malformed.
    Field {
        /// Which field (e.g. `"outside address"`).
        field: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The record's time could not be read or resolved.
    Time(&'static str),
}

impl fmt::Display for LineErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty line"),
            Self::TooLong { len } => {
                write!(
                    f,
                    "line is {len} bytes, longer than the {MAX_LINE_LEN}-byte limit"
                )
            }
            Self::NotNat => f.write_str("not a NAT record of any known vendor"),
            Self::Field { field, why } => write!(f, "{field}: {why}"),
            Self::Time(why) => write!(f, "time: {why}"),
        }
    }
}

/// A line that could not be turned into events, with where it was and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("file #{} line {} ({}): {}", raw.file, raw.line, vendor.map_or("unknown format", Vendor::name), reason)]
pub struct LineError {
    /// Where the line is.
    pub raw: RawRef,
    /// The vendor whose parser rejected it, when one recognised it.
    pub vendor: Option<Vendor>,
    /// Why.
    pub reason: LineErrorReason,
}

impl LineError {
    /// True when the line is simply not a NAT record (other syslog traffic): importers count
    /// these apart from malformed NAT records.
    pub fn is_not_nat(&self) -> bool {
        matches!(
            self.reason,
            LineErrorReason::NotNat | LineErrorReason::Empty
        )
    }
}

/// Parses one line into `out`, returning how many events were appended.
///
/// `raw` is copied into every event as its evidence. Trailing `\r\n` is ignored. On error,
/// nothing is appended.
pub fn parse_line(
    line: &[u8],
    raw: RawRef,
    ctx: &ParseContext,
    out: &mut Vec<NatEvent>,
) -> Result<usize, LineError> {
    let err = |vendor, reason| LineError {
        raw,
        vendor,
        reason,
    };
    if line.len() > MAX_LINE_LEN {
        return Err(err(None, LineErrorReason::TooLong { len: line.len() }));
    }
    let line = vendors::scan::trim_end(line);
    if line.is_empty() {
        return Err(err(None, LineErrorReason::Empty));
    }
    let vendor = match ctx.vendor {
        Vendor::Auto => detect(line, ctx).ok_or_else(|| err(None, LineErrorReason::NotNat))?,
        v => v,
    };
    let before = out.len();
    let input = vendors::Input { line, raw, ctx };
    match vendors::parse(vendor, &input, out) {
        Ok(()) => Ok(out.len() - before),
        Err(reason) => {
            out.truncate(before);
            Err(err(Some(vendor), reason))
        }
    }
}

/// Convenience over [`parse_line`] for callers that parse a handful of lines.
pub fn parse_line_vec(
    line: &[u8],
    raw: RawRef,
    ctx: &ParseContext,
) -> Result<Vec<NatEvent>, LineError> {
    let mut v = Vec::new();
    parse_line(line, raw, ctx, &mut v)?;
    Ok(v)
}

/// Which vendor wrote `line`, by cheap substring probes; the vendor that matched last time is
/// tried first.
pub fn detect(line: &[u8], ctx: &ParseContext) -> Option<Vendor> {
    let hint = Vendor::from_u8(ctx.last_hit.load(Ordering::Relaxed));
    if hint != Vendor::Auto && vendors::sniff(hint, line) {
        return Some(hint);
    }
    let found = Vendor::ALL
        .into_iter()
        .find(|&v| v != hint && vendors::sniff(v, line))?;
    ctx.last_hit.store(found as u8, Ordering::Relaxed);
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_names_round_trip() {
        for v in Vendor::ALL {
            assert_eq!(v.name().parse::<Vendor>().unwrap(), v);
        }
        assert!("cheese".parse::<Vendor>().unwrap_err().contains("cheese"));
    }

    #[test]
    fn empty_and_long_lines_are_errors() {
        let ctx = ParseContext::new(Vendor::Auto, Tz::UTC, 0);
        let mut out = Vec::new();
        let e = parse_line(b" \r\n", RawRef::default(), &ctx, &mut out).unwrap_err();
        assert_eq!(e.reason, LineErrorReason::Empty);
        let long = vec![b'a'; MAX_LINE_LEN + 1];
        let e = parse_line(&long, RawRef::default(), &ctx, &mut out).unwrap_err();
        assert!(matches!(e.reason, LineErrorReason::TooLong { .. }));
        let e = parse_line(
            b"Oct 30 21:46:04 host sshd[1]: hello",
            RawRef::default(),
            &ctx,
            &mut out,
        )
        .unwrap_err();
        assert!(e.is_not_nat());
        assert!(e.to_string().contains("not a NAT record"));
        assert!(out.is_empty());
    }
}
