//! Syslog time handling shared by the vendor parsers (the framing is in `vendors/framing.rs`).
//!
//! Vendors write times in many shapes (research notes section 0, finding 3): BSD syslog headers
//! (RFC 3164 section 4.1.2: `Mmm dd HH:MM:SS`, no year, no zone), RFC 5424 section 6.2.3
//! timestamps (fraction and offset), Cisco's `YYYY Mmm DD HH:MM:SS`, Junos bodies
//! `YYYY-MM-DD HH:MM:SS` (sometimes `HH: MM:SS`), Nokia `YYYY Mmm DD hh:mm:ss:cs TZ`. Everything
//! here works on `&[u8]` without allocating, and turns a [`LocalTime`] into a UTC [`Stamp`] with
//! an honest precision and a flag when the zone was assumed (DESIGN.md rule 4).

use super::event::TsPrecision;
use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use std::sync::atomic::{AtomicU64, Ordering};

/// A wall-clock time as written in a log, before any zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Year, or `None` when the header has none (BSD syslog) and it must be inferred.
    pub year: Option<i32>,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=60 (a leap second is folded into :59).
    pub second: u8,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// How precise the written time was.
    pub precision: TsPrecision,
    /// UTC offset in seconds when the log wrote one (RFC 5424 `Z` or `+hh:mm`).
    pub offset_s: Option<i32>,
}

/// A resolved UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the Unix epoch, UTC.
    pub utc_ns: i64,
    /// Precision of the source text.
    pub precision: TsPrecision,
    /// True when no zone or offset was written and a configured zone was applied.
    pub tz_assumed: bool,
}

/// Why a time could not be resolved; static text so that errors do not allocate.
pub type TimeError = &'static str;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Month number (1..=12) of an English three-letter abbreviation, case-insensitive.
pub fn month_from_abbrev(s: &[u8]) -> Option<u8> {
    if s.len() != 3 {
        return None;
    }
    let lower = [s[0] | 0x20, s[1] | 0x20, s[2] | 0x20];
    MONTHS
        .iter()
        .position(|m| [m[0] | 0x20, m[1] | 0x20, m[2] | 0x20] == lower)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Seconds since the epoch of a wall-clock time read as if it were UTC, checking the calendar.
fn naive_epoch_s(t: &LocalTime, year: i32) -> Result<i64, TimeError> {
    if t.month == 0 || t.month > 12 || t.day == 0 || t.day > days_in_month(year, t.month) {
        return Err("day or month out of range");
    }
    if t.hour > 23 || t.minute > 59 || t.second > 60 {
        return Err("hour, minute or second out of range");
    }
    let days = days_from_civil(i64::from(year), u32::from(t.month), u32::from(t.day));
    let sec = i64::from(t.second.min(59));
    Ok(days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + sec)
}

/// Picks the year for a header that has none: the one that puts the time closest to
/// `reference_s` (the file's time or the import's "now"). That handles the December -> January
/// rollover in both directions (a "Dec 31" line read on Jan 2 is last year's).
pub fn infer_year(t: &LocalTime, reference_s: i64) -> Result<i32, TimeError> {
    let ref_days = reference_s.div_euclid(86_400);
    // Year of the reference, from its day count (inverse of days_from_civil, year only).
    let ref_year = civil_year(ref_days);
    let mut best: Option<(i64, i32)> = None;
    for y in [ref_year - 1, ref_year, ref_year + 1] {
        if let Ok(s) = naive_epoch_s(t, y) {
            let dist = (s - reference_s).abs();
            if best.is_none_or(|(d, _)| dist < d) {
                best = Some((dist, y));
            }
        }
    }
    best.map(|(_, y)| y)
        .ok_or("date does not exist in the years around the reference time")
}

fn civil_year(days: i64) -> i32 {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    i32::try_from(y).unwrap_or(i32::MAX)
}

/// Turns a written time into UTC. A written offset wins; otherwise `zone` is applied with
/// chrono-tz (DST-correct) and the stamp is marked `tz_assumed`. In the autumn overlap the
/// earlier instant is taken (the log cannot say which); a time in the spring gap is an error,
/// since it means the assumed zone is wrong for this exporter.
pub fn resolve(t: &LocalTime, zone: Tz, reference_s: i64) -> Result<Stamp, TimeError> {
    resolve_cached(t, zone, reference_s, None)
}

/// [`resolve`] with a [`ZoneCache`], for the hot path of an import.
pub fn resolve_cached(
    t: &LocalTime,
    zone: Tz,
    reference_s: i64,
    cache: Option<&ZoneCache>,
) -> Result<Stamp, TimeError> {
    let year = match t.year {
        Some(y) => y,
        None => infer_year(t, reference_s)?,
    };
    let naive_s = naive_epoch_s(t, year)?;
    let (utc_s, tz_assumed) = match t.offset_s {
        Some(off) => (naive_s - i64::from(off), false),
        None if zone == Tz::UTC => (naive_s, true),
        None => {
            let day = naive_s.div_euclid(86_400);
            let off = match cache.and_then(|c| c.get(zone, day)) {
                Some(off) => off,
                None => {
                    let off = zone_offset_s(zone, t, year)?;
                    if let Some(c) = cache {
                        c.fill(zone, day, off, t, year);
                    }
                    off
                }
            };
            (naive_s - off, true)
        }
    };
    let utc_ns = utc_s
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(i64::from(t.nanos)))
        .ok_or("time out of range")?;
    Ok(Stamp {
        utc_ns,
        precision: t.precision,
        tz_assumed,
    })
}

/// Remembers the UTC offset of one zone on one local day that has no DST change, so that an
/// import does not search the zone's transition table for every line (logs come in time order,
/// so nearly every line hits). One atomic word: safe to share between threads, and a racing
/// overwrite only costs a lookup. Days with a transition are never cached, so the answer is
/// always the exact chrono-tz one.
#[derive(Debug, Default)]
pub struct ZoneCache {
    /// bit 63 valid, bits 32..63 local day + 2^30, bits 16..32 zone id, bits 0..16 offset
    /// in minutes (two's complement).
    slot: AtomicU64,
}

impl ZoneCache {
    fn key(zone: Tz, day: i64) -> Option<u64> {
        let day = u64::try_from(day + (1 << 30))
            .ok()
            .filter(|d| *d < (1 << 31))?;
        Some((1 << 63) | (day << 32) | (u64::from(zone as u16) << 16))
    }

    fn get(&self, zone: Tz, day: i64) -> Option<i64> {
        let key = Self::key(zone, day)?;
        let v = self.slot.load(Ordering::Relaxed);
        (v & !0xFFFF == key).then(|| i64::from((v & 0xFFFF) as u16 as i16) * 60)
    }

    fn fill(&self, zone: Tz, day: i64, off: i64, t: &LocalTime, year: i32) {
        let Some(key) = Self::key(zone, day) else {
            return;
        };
        if off % 60 != 0 {
            return;
        }
        let at = |h, m, s| LocalTime {
            hour: h,
            minute: m,
            second: s,
            ..*t
        };
        let same_all_day = [at(0, 0, 0), at(23, 59, 59)]
            .iter()
            .all(|x| zone_offset_s(zone, x, year).ok() == Some(off));
        let Ok(mins) = i16::try_from(off / 60) else {
            return;
        };
        if same_all_day {
            self.slot
                .store(key | u64::from(mins as u16), Ordering::Relaxed);
        }
    }
}

/// UTC offset (seconds east) of `zone` at the given local wall-clock time.
fn zone_offset_s(zone: Tz, t: &LocalTime, year: i32) -> Result<i64, TimeError> {
    let naive = NaiveDate::from_ymd_opt(year, u32::from(t.month), u32::from(t.day))
        .and_then(|d| {
            d.and_hms_opt(
                u32::from(t.hour),
                u32::from(t.minute),
                u32::from(t.second.min(59)),
            )
        })
        .ok_or("invalid calendar time")?;
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(dt) => Ok(i64::from(dt.offset().fix().local_minus_utc())),
        chrono::LocalResult::Ambiguous(early, _) => {
            Ok(i64::from(early.offset().fix().local_minus_utc()))
        }
        chrono::LocalResult::None => {
            Err("local time does not exist in the assumed zone (DST gap): check --tz")
        }
    }
}

/// The offset a zone abbreviation stands for when `zone` uses it at that local time, used for
/// Nokia's per-event designator (`CET`/`CEST`): matching it against the configured zone picks
/// the right side of a DST change without guessing what an ambiguous abbreviation means.
pub fn abbrev_offset_in_zone(zone: Tz, t: &LocalTime, abbrev: &[u8]) -> Option<i32> {
    let year = t.year?;
    let naive = NaiveDate::from_ymd_opt(year, u32::from(t.month), u32::from(t.day))?.and_hms_opt(
        u32::from(t.hour),
        u32::from(t.minute),
        u32::from(t.second.min(59)),
    )?;
    let matches = |dt: chrono::DateTime<Tz>| {
        use chrono_tz::OffsetName;
        let name = dt.offset().abbreviation()?;
        (name.as_bytes().eq_ignore_ascii_case(abbrev)).then(|| dt.offset().fix().local_minus_utc())
    };
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(dt) => matches(dt),
        chrono::LocalResult::Ambiguous(a, b) => matches(a).or_else(|| matches(b)),
        chrono::LocalResult::None => None,
    }
}

/// Offsets of the few zone abbreviations that mean one thing everywhere. Ambiguous ones (IST,
/// CST, BST...) are left out on purpose: they resolve only through the exporter's zone.
pub fn fixed_abbrev_offset(abbrev: &[u8]) -> Option<i32> {
    const TABLE: [(&[u8], i32); 12] = [
        (b"UTC", 0),
        (b"GMT", 0),
        (b"Z", 0),
        (b"UT", 0),
        (b"CET", 3600),
        (b"CEST", 7200),
        (b"EET", 7200),
        (b"EEST", 10_800),
        (b"WET", 0),
        (b"WEST", 3600),
        (b"PST", -8 * 3600),
        (b"PDT", -7 * 3600),
    ];
    TABLE
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(abbrev))
        .map(|(_, o)| *o)
}

// ---------------------------------------------------------------------------------------------
// Small byte scanners for the time shapes.

fn digits<const N: usize>(s: &[u8]) -> Option<u32> {
    let d = s.get(..N)?;
    let mut v = 0u32;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn u8_of(v: u32) -> Option<u8> {
    u8::try_from(v).ok()
}

/// Hour, minute, second.
pub type Hms = (u8, u8, u8);

/// Reads `HH:MM:SS` at the start of `s`, tolerating the Junos `HH: MM:SS` quirk (a space after
/// a colon, research notes 1.1a). Returns the time and the rest of the input.
pub fn parse_hms(s: &[u8]) -> Option<(Hms, &[u8])> {
    let h = digits::<2>(s)?;
    let mut i = 2;
    let field = |i: &mut usize| -> Option<u32> {
        if s.get(*i) != Some(&b':') {
            return None;
        }
        *i += 1;
        if s.get(*i) == Some(&b' ') {
            *i += 1;
        }
        let v = digits::<2>(s.get(*i..)?)?;
        *i += 2;
        Some(v)
    };
    let m = field(&mut i)?;
    let sec = field(&mut i)?;
    Some(((u8_of(h)?, u8_of(m)?, u8_of(sec)?), s.get(i..)?))
}

/// Reads a fraction `.ddd...` (after the dot) into nanoseconds and its precision.
fn parse_fraction(s: &[u8]) -> (u32, Option<TsPrecision>, usize) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return (0, None, 0);
    }
    let mut ns = 0u32;
    for (k, &c) in s
        .iter()
        .take(9)
        .take_while(|c| c.is_ascii_digit())
        .enumerate()
    {
        ns += u32::from(c - b'0') * 10u32.pow(8 - u32::try_from(k).unwrap_or(8));
    }
    let p = match n {
        1 | 2 => TsPrecision::CentiSec,
        3 => TsPrecision::MilliSec,
        _ => TsPrecision::MicroSec,
    };
    (ns, Some(p), n)
}

/// Reads a BSD syslog timestamp `Mmm dd HH:MM:SS` (RFC 3164 section 4.1.2; the day may be
/// space-padded). Returns the time (no year, no zone) and the rest after it.
pub fn parse_bsd_time(s: &[u8]) -> Option<(LocalTime, &[u8])> {
    let month = month_from_abbrev(s.get(..3)?)?;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let day_len = s
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if day_len == 0 || day_len > 2 {
        return None;
    }
    let day = s[i..i + day_len]
        .iter()
        .fold(0u8, |a, c| a * 10 + (c - b'0'));
    i += day_len;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let ((hour, minute, second), rest) = parse_hms(s.get(i + 1..)?)?;
    let t = LocalTime {
        year: None,
        month,
        day,
        hour,
        minute,
        second,
        nanos: 0,
        precision: TsPrecision::Sec,
        offset_s: None,
    };
    Some((t, rest))
}

/// Reads `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+hh:mm|-hh:mm]` (RFC 5424 section 6.2.3, RFC 3339),
/// also the zone-less Junos body form `YYYY-MM-DD HH: MM:SS`.
pub fn parse_iso_time(s: &[u8]) -> Option<(LocalTime, &[u8])> {
    let year = digits::<4>(s)?;
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits::<2>(s.get(5..)?)?;
    let day = digits::<2>(s.get(8..)?)?;
    if !matches!(s.get(10), Some(b'T' | b' ' | b't')) {
        return None;
    }
    let ((hour, minute, second), mut rest) = parse_hms(s.get(11..)?)?;
    let mut nanos = 0;
    let mut precision = TsPrecision::Sec;
    if rest.first() == Some(&b'.') {
        let (ns, p, n) = parse_fraction(&rest[1..]);
        if let Some(p) = p {
            nanos = ns;
            precision = p;
            rest = &rest[1 + n..];
        }
    }
    let mut offset_s = None;
    match rest.first() {
        Some(b'Z' | b'z') => {
            offset_s = Some(0);
            rest = &rest[1..];
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hh = digits::<2>(rest.get(1..)?)?;
            let (mm, used) = if rest.get(3) == Some(&b':') {
                (digits::<2>(rest.get(4..)?)?, 6)
            } else {
                (digits::<2>(rest.get(3..)?)?, 5)
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            let off = i32::try_from(hh * 3600 + mm * 60).ok()?;
            offset_s = Some(if sign == b'-' { -off } else { off });
            rest = &rest[used..];
        }
        _ => {}
    }
    let t = LocalTime {
        year: Some(i32::try_from(year).ok()?),
        month: u8_of(month)?,
        day: u8_of(day)?,
        hour,
        minute,
        second,
        nanos,
        precision,
        offset_s,
    };
    Some((t, rest))
}

/// Reads the Cisco IOS-XR CGN / Huawei "type3" timestamp `YYYY Mmm DD HH:MM:SS` (second
/// precision, no zone; research notes 1.2a).
pub fn parse_year_month_day_time(s: &[u8]) -> Option<(LocalTime, &[u8])> {
    let year = digits::<4>(s)?;
    if s.get(4) != Some(&b' ') {
        return None;
    }
    let (mut t, rest) = parse_bsd_time(s.get(5..)?)?;
    t.year = Some(i32::try_from(year).ok()?);
    Some((t, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ref_s(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * 86_400
    }

    #[test]
    fn bsd_time_with_padded_day() {
        let (t, rest) = parse_bsd_time(b"Oct  3 21:46:04 host").unwrap();
        assert_eq!(
            (t.month, t.day, t.hour, t.minute, t.second),
            (10, 3, 21, 46, 4)
        );
        assert_eq!(rest, b" host");
        assert!(parse_bsd_time(b"Foo 30 21:46:04").is_none());
        assert!(parse_bsd_time(b"Oct 30 21:46").is_none());
    }

    #[test]
    fn junos_space_after_colon_quirk() {
        let (t, rest) = parse_iso_time(b"2026-07-19 16: 13:02: x").unwrap();
        assert_eq!((t.hour, t.minute, t.second), (16, 13, 2));
        assert_eq!(rest, b": x");
        assert_eq!(t.offset_s, None);
    }

    #[test]
    fn rfc5424_time_with_offset_and_millis() {
        let (t, _) = parse_iso_time(b"2018-06-26T17:23:06.269-07:00").unwrap();
        let s = resolve(&t, Tz::UTC, 0).unwrap();
        assert!(!s.tz_assumed);
        assert_eq!(s.precision, TsPrecision::MilliSec);
        // 2018-06-27T00:23:06.269Z
        assert_eq!(
            s.utc_ns,
            (ref_s(2018, 6, 27) + 23 * 60 + 6) * 1_000_000_000 + 269_000_000
        );
    }

    #[test]
    fn year_inference_handles_december_january_rollover() {
        let (t, _) = parse_bsd_time(b"Dec 31 23:59:59").unwrap();
        assert_eq!(infer_year(&t, ref_s(2026, 1, 2)).unwrap(), 2025);
        let (t, _) = parse_bsd_time(b"Jan  1 00:00:01").unwrap();
        assert_eq!(infer_year(&t, ref_s(2025, 12, 31)).unwrap(), 2026);
        let (t, _) = parse_bsd_time(b"Jun 15 12:00:00").unwrap();
        assert_eq!(infer_year(&t, ref_s(2026, 6, 20)).unwrap(), 2026);
        // Feb 29 resolves to the nearest leap year only.
        let (t, _) = parse_bsd_time(b"Feb 29 12:00:00").unwrap();
        assert_eq!(infer_year(&t, ref_s(2028, 3, 1)).unwrap(), 2028);
        assert!(infer_year(&t, ref_s(2026, 3, 1)).is_err());
    }

    #[test]
    fn zone_is_applied_dst_correctly() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let (mut t, _) = parse_bsd_time(b"Jul  1 12:00:00").unwrap();
        t.year = Some(2026);
        let s = resolve(&t, zone, 0).unwrap();
        assert!(s.tz_assumed);
        assert_eq!(s.utc_ns / 1_000_000_000, ref_s(2026, 7, 1) + 10 * 3600);
        t.month = 1;
        let s = resolve(&t, zone, 0).unwrap();
        assert_eq!(s.utc_ns / 1_000_000_000, ref_s(2026, 1, 1) + 11 * 3600);
        // 2026-03-29 02:30 does not exist in Berlin.
        t.month = 3;
        t.day = 29;
        t.hour = 2;
        t.minute = 30;
        assert!(resolve(&t, zone, 0).is_err());
        // 2026-10-25 02:30 happens twice; the earlier (CEST) is taken.
        t.month = 10;
        t.day = 25;
        let s = resolve(&t, zone, 0).unwrap();
        assert_eq!(s.utc_ns / 1_000_000_000, ref_s(2026, 10, 25) + 30 * 60);
        // The CET designator picks the later one.
        assert_eq!(abbrev_offset_in_zone(zone, &t, b"CET"), Some(3600));
        assert_eq!(abbrev_offset_in_zone(zone, &t, b"CEST"), Some(7200));
    }

    #[test]
    fn zone_cache_never_changes_an_answer() {
        let cache = ZoneCache::default();
        for name in [
            "Europe/Berlin",
            "America/Sao_Paulo",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
        ] {
            let zone: Tz = name.parse().unwrap();
            let start = days_from_civil(2026, 1, 1) * 86_400;
            for step in 0..(365 * 48) {
                let s = start + step * 1800 + 17;
                let days = s.div_euclid(86_400);
                let secs = s.rem_euclid(86_400);
                let d =
                    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(days as u64);
                use chrono::Datelike;
                let t = LocalTime {
                    year: Some(d.year()),
                    month: d.month() as u8,
                    day: d.day() as u8,
                    hour: (secs / 3600) as u8,
                    minute: (secs / 60 % 60) as u8,
                    second: (secs % 60) as u8,
                    nanos: 0,
                    precision: TsPrecision::Sec,
                    offset_s: None,
                };
                assert_eq!(
                    resolve(&t, zone, 0),
                    resolve_cached(&t, zone, 0, Some(&cache)),
                    "{name} {t:?}"
                );
            }
        }
    }
}
