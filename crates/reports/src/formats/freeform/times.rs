//! Times written by people and by log files, in many styles, each turned into an
//! [`ObservedTime`] that says whether the writer gave a zone and how precise the time was.
//!
//! Why so many styles: a free-form report pastes whatever its author's tools print. Syslog
//! (`Nov 20 03:14:15`, RFC 3164 section 4.1.2: no year, no zone), ISO 8601 / RFC 3339 from
//! fail2ban and modern daemons, RFC 5322 section 3.3 dates from mail headers, Apache's
//! `[20/Nov/2026:03:14:15 +0100]`, and prose in the writer's language (`20.11.2026 03:14:15 MEZ`,
//! `20 novembre 2026 à 03h14`, `November 20, 2026 3:14 PM EST`). Attribution behind CGN needs the
//! zone and the seconds (M3AAWG Large Scale NAT logging BCP), so nothing is assumed silently:
//! a missing zone is marked `zone_given = false`, a guessed year or an ambiguous day/month order
//! is reported in [`FoundTime::note`].

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use regex::{Captures, Regex};
use std::sync::LazyLock;
use warden_model::{ObservedTime, TimePrecision};

/// What the rest of the mail tells about its times: the mail's own `Date` header, used to infer
/// the year of syslog stamps and to pick the plausible reading of `03/04/2026`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeContext {
    /// When the report was written (its `Date` header), in UTC.
    pub reference: Option<DateTime<Utc>>,
}

/// One time found in a line, with its byte span so it can be paired with the nearest address.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundTime {
    /// Byte offset of the start of the match in the line.
    pub start: usize,
    /// Byte offset just past the match (including the zone when one was read).
    pub end: usize,
    /// The time, normalised to UTC.
    pub time: ObservedTime,
    /// What was guessed, for the event's `extra` (`year inferred from the Date header`,
    /// `03/04 read as day/month; month/day also possible`).
    pub note: Option<String>,
}

/// The date-and-time shapes, most specific first. Each is tried on the whole line; overlapping
/// matches keep the longest (see [`find_times`]).
static ISO: LazyLock<Regex> = LazyLock::new(|| {
    // RFC 3339 section 5.6 and the ISO 8601 variants log tools print: space instead of `T`,
    // comma before the fraction (fail2ban, Python logging).
    re(
        r"(?i)\b(\d{4})-(\d{2})-(\d{2})(?:T|\s+|T\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?",
    )
});
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{4})-(\d{2})-(\d{2})\b"));
static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    // dd.mm.yyyy (German, Russian, Dutch...), a/b/yyyy and a-b-yyyy (ambiguous order), then an
    // optional connecting word ("um", "at", "à", "a las", "om", "às", "в") and the time, with
    // French `03h14` and German `Uhr`.
    re(
        r"(?i)\b(\d{1,2})([./-])(\d{1,2})[./-](\d{4}|\d{2})\b(?:,?\s*(?:um|at|à|a\s+las|a\s+la|om|às|as|в|kl\.?|le)?\s*(\d{1,2})[:h](\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:\s*uhr|\s*h\b)?(?:\s*([ap]\.?m\.?)(?:\W|$))?)?",
    )
});
static DAY_MONTH_NAME: LazyLock<Regex> = LazyLock::new(|| {
    // RFC 5322 section 3.3 `Fri, 20 Nov 2026 03:14:15 +0100` and prose `20. November 2026`,
    // `20 de noviembre de 2026 a las 03:14`, `20 ноября 2026 г. в 03:14`.
    re(
        r"(?i)\b(\d{1,2})\.?\s+(?:de\s+)?(\p{L}{3,10})\.?,?\s+(?:de\s+)?(\d{4})(?:\s*г\.)?(?:,?\s*(?:um|at|à|a\s+las|a\s+la|om|às|as|в|-)?\s*(\d{1,2})[:h](\d{2})(?::(\d{2}))?(?:\s*uhr|\s*h\b)?(?:\s*([ap]\.?m\.?)(?:\W|$))?)?",
    )
});
static MONTH_NAME_DAY: LazyLock<Regex> = LazyLock::new(|| {
    // US prose `November 20, 2026 at 3:14:15 PM EST`, and `Nov 20 2026 03:14:15`.
    re(
        r"(?i)\b(\p{L}{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:,?\s*(?:at|-)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([ap]\.?m\.?)(?:\W|$))?)?",
    )
});
static ASCTIME: LazyLock<Regex> = LazyLock::new(|| {
    // C `asctime()`/`ctime()`: `Fri Nov 20 03:14:15 2026` (CSF/lfd, mbox From lines), often
    // followed by a zone: `Fri Nov 20 03:14:15 2026 +0100`.
    re(r"(?i)\b(\p{L}{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})\b")
});
static SYSLOG: LazyLock<Regex> = LazyLock::new(|| {
    // RFC 3164 section 4.1.2 TIMESTAMP: `Mmm dd hh:mm:ss`, day space-padded, no year, no zone.
    re(r"(?i)\b(\p{L}{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\b")
});
static APACHE: LazyLock<Regex> = LazyLock::new(|| {
    // Common Log Format `[20/Nov/2026:03:14:15 +0100]`.
    re(r"(?i)\b(\d{2})/(\p{L}{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})")
});

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file, checked by the unit tests; a typo would fail every
    // test run, never a user's input.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("built-in time pattern compiles")
}

/// Every time in `line`, left to right, without overlaps.
pub fn find_times(line: &str, ctx: &TimeContext) -> Vec<FoundTime> {
    let mut found: Vec<FoundTime> = Vec::new();
    for caps in ISO.captures_iter(line) {
        push(&mut found, line, &caps, iso(&caps));
    }
    for caps in APACHE.captures_iter(line) {
        push(&mut found, line, &caps, apache(&caps));
    }
    for caps in DAY_MONTH_NAME.captures_iter(line) {
        push(&mut found, line, &caps, day_month_name(&caps));
    }
    for caps in MONTH_NAME_DAY.captures_iter(line) {
        push(&mut found, line, &caps, month_name_day(&caps));
    }
    for caps in NUMERIC.captures_iter(line) {
        push(&mut found, line, &caps, numeric(&caps, line, ctx));
    }
    for caps in ASCTIME.captures_iter(line) {
        push(&mut found, line, &caps, asctime(&caps));
    }
    for caps in SYSLOG.captures_iter(line) {
        push(&mut found, line, &caps, syslog(&caps, ctx));
    }
    for caps in ISO_DATE.captures_iter(line) {
        push(&mut found, line, &caps, iso_date(&caps));
    }
    found.sort_by_key(|f| f.start);
    found
}

/// A parsed wall-clock reading before the zone is applied.
struct Reading {
    local: NaiveDateTime,
    precision: TimePrecision,
    note: Option<String>,
    /// Whether to look for a zone after the match (not after a bare date).
    zone_allowed: bool,
}

fn push(found: &mut Vec<FoundTime>, line: &str, caps: &Captures<'_>, reading: Option<Reading>) {
    let (Some(m), Some(reading)) = (caps.get(0), reading) else {
        return;
    };
    let (start, mut end) = (m.start(), m.end());
    if found.iter().any(|f| start < f.end && f.start < end) {
        // An earlier, more specific shape already claimed these bytes.
        return;
    }
    let after = line.get(end..).unwrap_or("");
    let zone = if reading.zone_allowed {
        read_zone(after).or_else(|| read_iana_zone(after, reading.local))
    } else {
        None
    };
    let time = match zone {
        Some((offset, used)) => {
            end += used;
            let utc = reading.local - Duration::seconds(i64::from(offset));
            ObservedTime::zoned(Utc.from_utc_datetime(&utc), reading.precision)
        }
        None => ObservedTime::assumed_utc(Utc.from_utc_datetime(&reading.local), reading.precision),
    };
    found.push(FoundTime {
        start,
        end,
        time,
        note: reading.note,
    });
}

fn num<T: std::str::FromStr>(caps: &Captures<'_>, i: usize) -> Option<T> {
    caps.get(i)?.as_str().parse().ok()
}

fn has(caps: &Captures<'_>, i: usize) -> bool {
    caps.get(i).is_some()
}

fn build(
    date: NaiveDate,
    h: Option<u32>,
    mi: Option<u32>,
    s: Option<u32>,
    frac: Option<&str>,
    ampm: Option<&str>,
) -> Option<(NaiveDateTime, TimePrecision)> {
    let Some(mut h) = h else {
        return Some((date.and_hms_opt(0, 0, 0)?, TimePrecision::Day));
    };
    if let Some(ap) = ampm {
        let pm = ap.to_ascii_lowercase().starts_with('p');
        if !(1..=12).contains(&h) {
            return None;
        }
        h = match (pm, h) {
            (false, 12) => 0,
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, h) => h,
        };
    }
    let mi = mi?;
    let nanos = match frac {
        Some(f) => {
            let digits: String = f.chars().take(9).collect();
            let scale = 10u32.checked_pow(9 - digits.len() as u32)?;
            digits.parse::<u32>().ok()?.checked_mul(scale)?
        }
        None => 0,
    };
    let precision = match (s, frac) {
        (Some(_), Some(_)) => TimePrecision::Subsecond,
        (Some(_), None) => TimePrecision::Second,
        _ => TimePrecision::Minute,
    };
    // A leap second (`:60`) is read as the last second of the minute rather than rejected.
    let s = s.unwrap_or(0).min(59);
    Some((date.and_hms_nano_opt(h, mi, s, nanos)?, precision))
}

fn iso(caps: &Captures<'_>) -> Option<Reading> {
    let date = NaiveDate::from_ymd_opt(num(caps, 1)?, num(caps, 2)?, num(caps, 3)?)?;
    let frac = caps.get(7).map(|m| m.as_str());
    let (local, precision) = build(date, num(caps, 4), num(caps, 5), num(caps, 6), frac, None)?;
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed: true,
    })
}

fn iso_date(caps: &Captures<'_>) -> Option<Reading> {
    let date = NaiveDate::from_ymd_opt(num(caps, 1)?, num(caps, 2)?, num(caps, 3)?)?;
    let (local, precision) = build(date, None, None, None, None, None)?;
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed: false,
    })
}

fn apache(caps: &Captures<'_>) -> Option<Reading> {
    let month = month_number(caps.get(2)?.as_str())?;
    let date = NaiveDate::from_ymd_opt(num(caps, 3)?, month, num(caps, 1)?)?;
    let (local, precision) = build(date, num(caps, 4), num(caps, 5), num(caps, 6), None, None)?;
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed: true,
    })
}

fn day_month_name(caps: &Captures<'_>) -> Option<Reading> {
    let month = month_number(caps.get(2)?.as_str())?;
    let date = NaiveDate::from_ymd_opt(num(caps, 3)?, month, num(caps, 1)?)?;
    let ampm = caps.get(7).map(|m| m.as_str());
    let (local, precision) = build(date, num(caps, 4), num(caps, 5), num(caps, 6), None, ampm)?;
    let zone_allowed = has(caps, 4);
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed,
    })
}

fn month_name_day(caps: &Captures<'_>) -> Option<Reading> {
    let month = month_number(caps.get(1)?.as_str())?;
    let date = NaiveDate::from_ymd_opt(num(caps, 3)?, month, num(caps, 2)?)?;
    let ampm = caps.get(7).map(|m| m.as_str());
    let (local, precision) = build(date, num(caps, 4), num(caps, 5), num(caps, 6), None, ampm)?;
    let zone_allowed = has(caps, 4);
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed,
    })
}

fn asctime(caps: &Captures<'_>) -> Option<Reading> {
    let month = month_number(caps.get(1)?.as_str())?;
    let date = NaiveDate::from_ymd_opt(num(caps, 6)?, month, num(caps, 2)?)?;
    let (local, precision) = build(date, num(caps, 3), num(caps, 4), num(caps, 5), None, None)?;
    Some(Reading {
        local,
        precision,
        note: None,
        zone_allowed: true,
    })
}

fn syslog(caps: &Captures<'_>, ctx: &TimeContext) -> Option<Reading> {
    let month = month_number(caps.get(1)?.as_str())?;
    let day: u32 = num(caps, 2)?;
    // No year in RFC 3164 stamps: take the report's year, or the year before when that would put
    // the log line after the report was written (a December log mailed in January).
    let reference = ctx.reference?;
    let mut year = reference.year();
    let candidate = NaiveDate::from_ymd_opt(year, month, day)?;
    if candidate > reference.date_naive() + Duration::days(1) {
        year -= 1;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (local, precision) = build(date, num(caps, 3), num(caps, 4), num(caps, 5), None, None)?;
    Some(Reading {
        local,
        precision,
        note: Some(format!(
            "year {year} inferred from the mail's Date header (syslog stamp has none)"
        )),
        zone_allowed: true,
    })
}

fn numeric(caps: &Captures<'_>, line: &str, ctx: &TimeContext) -> Option<Reading> {
    let a: u32 = num(caps, 1)?;
    let sep = caps.get(2)?.as_str();
    let b: u32 = num(caps, 3)?;
    let year_text = caps.get(4)?.as_str();
    let mut year: i32 = year_text.parse().ok()?;
    if year_text.len() == 2 {
        year += 2000;
    }
    let ampm = caps.get(9).map(|m| m.as_str());
    let time = (
        num(caps, 5),
        num(caps, 6),
        num(caps, 7),
        caps.get(8).map(|m| m.as_str()),
    );
    let mut note = None;
    // Dotted dates are day-first everywhere they are used. Slash and dash dates are day-first in
    // most of the world and month-first in the US: decide by the numbers when one is over 12,
    // otherwise say that it was ambiguous (DESIGN.md rule 4: no silent guess).
    let (day, month) = if sep == "." || a > 12 {
        (a, b)
    } else if b > 12 {
        (b, a)
    } else if a == b {
        (a, b)
    } else {
        let after = line.get(caps.get(0)?.end()..).unwrap_or("");
        let us_hint = ampm.is_some() || read_zone(after).is_some_and(|(_, _)| us_zone(after));
        let (day, month) = pick_order(a, b, year, ctx, us_hint);
        note = Some(format!(
            "{a:02}{sep}{b:02}{sep}{year} is ambiguous (day/month or month/day); read as day {day}, month {month}{}",
            if us_hint { " (US zone or AM/PM)" } else { "" }
        ));
        (day, month)
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (local, precision) = build(date, time.0, time.1, time.2, time.3, ampm)?;
    Some(Reading {
        local,
        precision,
        note,
        zone_allowed: has(caps, 5),
    })
}

/// Picks day/month order for an ambiguous `a/b/yyyy`: a reading in the future of the report is
/// impossible; otherwise the one closer to the report wins; with no Date header, a US clue decides,
/// then day-first.
fn pick_order(a: u32, b: u32, year: i32, ctx: &TimeContext, us_hint: bool) -> (u32, u32) {
    let day_first = NaiveDate::from_ymd_opt(year, b, a);
    let month_first = NaiveDate::from_ymd_opt(year, a, b);
    if let (Some(reference), Some(df), Some(mf)) = (ctx.reference, day_first, month_first) {
        let limit = reference.date_naive() + Duration::days(1);
        match (df <= limit, mf <= limit) {
            (true, false) => return (a, b),
            (false, true) => return (b, a),
            (true, true) => {
                let ddf = (limit - df).num_days();
                let dmf = (limit - mf).num_days();
                if ddf != dmf {
                    return if ddf < dmf { (a, b) } else { (b, a) };
                }
            }
            (false, false) => {}
        }
    }
    if us_hint { (b, a) } else { (a, b) }
}

fn us_zone(after: &str) -> bool {
    let t = after.trim_start().trim_start_matches('(');
    [
        "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "HST",
    ]
    .iter()
    .any(|z| t.starts_with(z))
}

/// Month names and abbreviations in the languages abuse mail arrives in. Genitive forms for
/// Russian (`ноября`) because dates use them.
fn month_number(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    let w = w.trim_end_matches('.');
    #[rustfmt::skip]
    const NAMES: &[(&str, u32)] = &[
        ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("may", 5), ("jun", 6), ("jul", 7),
        ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
        // German
        ("januar", 1), ("jänner", 1), ("februar", 2), ("märz", 3), ("mär", 3), ("mai", 5),
        ("juni", 6), ("juli", 7), ("okt", 10), ("oktober", 10), ("dez", 12), ("dezember", 12),
        // French
        ("janv", 1), ("janvier", 1), ("févr", 2), ("février", 2), ("fevrier", 2), ("mars", 3),
        ("avr", 4), ("avril", 4), ("juin", 6), ("juil", 7), ("juillet", 7), ("août", 8),
        ("aout", 8), ("sept", 9), ("septembre", 9), ("octobre", 10), ("novembre", 11),
        ("déc", 12), ("décembre", 12), ("decembre", 12),
        // Spanish and Portuguese
        ("ene", 1), ("enero", 1), ("febrero", 2), ("marzo", 3), ("abr", 4), ("abril", 4),
        ("mayo", 5), ("junio", 6), ("julio", 7), ("ago", 8), ("agosto", 8), ("septiembre", 9),
        ("setiembre", 9), ("octubre", 10), ("noviembre", 11), ("dic", 12), ("diciembre", 12),
        ("janeiro", 1), ("fevereiro", 2), ("março", 3), ("maio", 5), ("junho", 6),
        ("julho", 7), ("set", 9), ("setembro", 9), ("out", 10), ("outubro", 10), ("novembro", 11),
        ("dez", 12), ("dezembro", 12),
        // Dutch
        ("januari", 1), ("februari", 2), ("maart", 3), ("mei", 5), ("augustus", 8),
        ("okt", 10),
        // Russian, nominative and genitive
        ("янв", 1), ("января", 1), ("январь", 1), ("фев", 2), ("февраля", 2), ("февраль", 2),
        ("мар", 3), ("марта", 3), ("март", 3), ("апр", 4), ("апреля", 4), ("апрель", 4),
        ("мая", 5), ("май", 5), ("июн", 6), ("июня", 6), ("июнь", 6), ("июл", 7), ("июля", 7),
        ("июль", 7), ("авг", 8), ("августа", 8), ("август", 8), ("сен", 9), ("сентября", 9),
        ("сентябрь", 9), ("окт", 10), ("октября", 10), ("октябрь", 10), ("ноя", 11),
        ("ноября", 11), ("ноябрь", 11), ("дек", 12), ("декабря", 12), ("декабрь", 12),
        // English full names
        ("january", 1), ("february", 2), ("march", 3), ("april", 4), ("june", 6),
        ("july", 7), ("august", 8), ("september", 9), ("october", 10), ("november", 11),
        ("december", 12),
    ];
    NAMES.iter().find(|(n, _)| *n == w).map(|(_, m)| *m)
}

/// Reads a zone right after a time: `Z`, `+0100`, `+01:00`, `UTC`, `UTC+1`, `GMT+01:00`,
/// `(MEZ)`, `CEST`, `МСК`. Returns the offset east of UTC in seconds and the bytes used.
///
/// Abbreviations that mean two different zones are not read: `IST` (India or Ireland) and
/// `CST` only as US Central (the common reading in English abuse mail), which is said in the
/// module doc. An unreadable zone leaves the time zone-less, which is honest.
pub fn read_zone(after: &str) -> Option<(i32, usize)> {
    let trimmed = after.trim_start_matches([' ', '\t']);
    let mut used = after.len() - trimmed.len();
    if used > 3 {
        return None;
    }
    let (paren, rest) = match trimmed.strip_prefix('(') {
        Some(r) => (true, r),
        None => (false, trimmed),
    };
    if paren {
        used += 1;
    }
    let (offset, len) = zone_token(rest)?;
    used += len;
    if paren && rest.get(len..).is_some_and(|r| r.starts_with(')')) {
        used += 1;
    }
    Some((offset, used))
}

fn zone_token(s: &str) -> Option<(i32, usize)> {
    if let Some(n) = numeric_offset(s) {
        return Some(n);
    }
    let word_len = s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len());
    let word = s.get(..word_len)?;
    // `Z` and abbreviations are upper case in the wild; a lower-case word is prose, not a zone.
    if word.is_empty() || word.chars().any(|c| c.is_lowercase()) {
        return None;
    }
    let hours: f32 = match word {
        "Z" | "UTC" | "GMT" | "UT" | "WET" => 0.0,
        "CET" | "MEZ" | "WEST" | "BST" => 1.0,
        "CEST" | "MESZ" | "EET" | "SAST" => 2.0,
        "EEST" | "MSK" | "МСК" => 3.0,
        "EST" => -5.0,
        "EDT" | "AST" => -4.0,
        "CST" => -6.0,
        "CDT" => -5.0,
        "MST" => -7.0,
        "MDT" => -6.0,
        "PST" => -8.0,
        "PDT" => -7.0,
        "AKST" => -9.0,
        "HST" => -10.0,
        "JST" | "KST" => 9.0,
        "AEST" => 10.0,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        _ => return None,
    };
    let base = (hours * 3600.0) as i32;
    // `UTC+1`, `GMT+01:00`: an offset glued to the name.
    if matches!(word, "UTC" | "GMT")
        && let Some((extra, len)) = s.get(word_len..).and_then(short_offset)
    {
        return Some((extra, word_len + len));
    }
    Some((base, word_len))
}

/// An IANA time zone name after a time (`2026-11-20 03:14:15 Europe/Berlin`, `(America/New_York)`),
/// read with the zone's rules for that local time, so summer time is right. A local time that
/// falls in a DST fold or gap has no single offset and leaves the zone unread (honestly absent).
fn read_iana_zone(after: &str, local: NaiveDateTime) -> Option<(i32, usize)> {
    let trimmed = after.trim_start_matches([' ', '\t']);
    let mut used = after.len() - trimmed.len();
    if used > 3 {
        return None;
    }
    let (paren, rest) = match trimmed.strip_prefix('(') {
        Some(r) => (true, r),
        None => (false, trimmed),
    };
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+')))
        .unwrap_or(rest.len());
    let name = rest.get(..len)?;
    if !name.contains('/') || len > 40 {
        return None;
    }
    let tz: chrono_tz::Tz = name.parse().ok()?;
    let offset = tz
        .offset_from_local_datetime(&local)
        .single()?
        .fix()
        .local_minus_utc();
    used += usize::from(paren) + len;
    if paren && rest.get(len..).is_some_and(|r| r.starts_with(')')) {
        used += 1;
    }
    Some((offset, used))
}

/// `+0100`, `+01:00`, `-05`, as in RFC 5322 section 3.3 and RFC 3339 section 5.6.
fn numeric_offset(s: &str) -> Option<(i32, usize)> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digit = |i: usize| {
        b.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i32::from(c - b'0'))
    };
    let hh = digit(1)? * 10 + digit(2)?;
    let (mm, len) = if b.get(3) == Some(&b':') {
        (digit(4)? * 10 + digit(5)?, 6)
    } else if let (Some(m1), Some(m2)) = (digit(3), digit(4)) {
        (m1 * 10 + m2, 5)
    } else {
        (0, 3)
    };
    if digit(len).is_some() || hh > 14 || mm > 59 {
        return None;
    }
    Some((sign * (hh * 3600 + mm * 60), len))
}

/// `+1`, `+01`, `+01:00`, `-5` after `UTC`/`GMT`.
fn short_offset(s: &str) -> Option<(i32, usize)> {
    if let Some(n) = numeric_offset(s) {
        return Some(n);
    }
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let d = b.get(1).filter(|c| c.is_ascii_digit())?;
    if b.get(2).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((sign * i32::from(d - b'0') * 3600, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TimeContext {
        TimeContext {
            reference: Some(Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()),
        }
    }

    fn one(line: &str) -> FoundTime {
        let mut v = find_times(line, &ctx());
        assert_eq!(v.len(), 1, "{line}: {v:?}");
        v.remove(0)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn iso_with_offset_and_fraction() {
        let t = one("2026-11-20T03:14:15.250+01:00 sshd[1]: Failed password");
        assert_eq!(
            t.time.utc,
            utc(2026, 11, 20, 2, 14, 15) + Duration::milliseconds(250)
        );
        assert!(t.time.zone_given);
        assert_eq!(t.time.precision, TimePrecision::Subsecond);
        let t =
            one("2026-11-20 03:14:15,123 fail2ban.actions [811]: NOTICE [sshd] Ban 198.51.100.2");
        assert!(!t.time.zone_given);
        assert_eq!(
            t.time.utc,
            utc(2026, 11, 20, 3, 14, 15) + Duration::milliseconds(123)
        );
        let t = one("at 2026-11-20 03:14 UTC");
        assert_eq!(t.time.precision, TimePrecision::Minute);
        assert!(t.time.zone_given);
    }

    #[test]
    fn german_mez_and_mesz() {
        let t = one("Zeit: 20.11.2026 03:14:15 MEZ, Quelle 198.51.100.2");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 15));
        assert!(t.time.zone_given);
        let t = one("am 01.07.2026 um 14:00 Uhr (MESZ)");
        assert_eq!(t.time.utc, utc(2026, 7, 1, 12, 0, 0));
        assert_eq!(t.time.precision, TimePrecision::Minute);
    }

    #[test]
    fn syslog_year_from_date_header() {
        let t = one("Nov 20 03:14:15 host sshd[2]: Invalid user admin from 198.51.100.2");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 3, 14, 15));
        assert!(!t.time.zone_given);
        assert!(t.note.unwrap().contains("2026"));
        // December log in a January mail: the year before.
        let jan = TimeContext {
            reference: Some(utc(2027, 1, 2, 0, 0, 0)),
        };
        let v = find_times("Dec 31 23:59:59 host x", &jan);
        assert_eq!(v[0].time.utc, utc(2026, 12, 31, 23, 59, 59));
        // Without a Date header the year cannot be known: no time rather than a wrong one.
        assert!(find_times("Nov 20 03:14:15 host", &TimeContext::default()).is_empty());
    }

    #[test]
    fn asctime_with_year_and_zone() {
        let t = one("Time:     Fri Nov 20 03:14:15 2026 +0100");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 15));
        assert!(t.time.zone_given);
        assert!(t.note.is_none());
    }

    #[test]
    fn rfc5322_and_apache() {
        let t = one("Date: Fri, 20 Nov 2026 03:14:15 +0100");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 15));
        let t = one("198.51.100.2 - - [20/Nov/2026:03:14:15 -0500] \"GET /wp-login.php\"");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 8, 14, 15));
    }

    #[test]
    fn ambiguous_slash_dates_are_reported() {
        // 11/20: only month/day is possible.
        let t = one("11/20/2026 3:14:15 PM EST");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 20, 14, 15));
        assert!(t.note.is_none());
        // 03/04/2026: both readings possible; the note says so.
        let t = one("03/04/2026 10:00:00 UTC");
        assert!(t.note.as_deref().unwrap().contains("ambiguous"));
        // 10/11/2026 vs 11/10/2026 near a 24 Nov report: 10 November is closer.
        let t = one("10/11/2026 10:00:00 UTC");
        assert_eq!(t.time.utc, utc(2026, 11, 10, 10, 0, 0));
    }

    #[test]
    fn prose_in_other_languages() {
        let t = one("le 20 novembre 2026 à 03h14 (UTC+1)");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 0));
        assert!(t.time.zone_given);
        let t = one("el 20 de noviembre de 2026 a las 03:14:15 CET");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 15));
        let t = one("20 ноября 2026 г. в 03:14:15 МСК");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 0, 14, 15));
        let t = one("on November 20, 2026 at 3:14:15 AM PST");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 11, 14, 15));
    }

    #[test]
    fn iana_zone_names_follow_summer_time() {
        let t = one("2026-07-01 14:00:00 Europe/Berlin");
        assert_eq!(t.time.utc, utc(2026, 7, 1, 12, 0, 0));
        assert!(t.time.zone_given);
        let t = one("2026-11-20 03:14:15 (Europe/Berlin)");
        assert_eq!(t.time.utc, utc(2026, 11, 20, 2, 14, 15));
        // 02:30 on the spring-forward day does not exist in Berlin: no zone rather than a guess.
        let t = one("2026-03-29 02:30:00 Europe/Berlin");
        assert!(!t.time.zone_given);
        let t = one("2026-11-20 03:14:15 Not/AZone");
        assert!(!t.time.zone_given);
    }

    #[test]
    fn not_times() {
        assert!(find_times("version 1.2.3.4 and 99.99.9999", &ctx()).is_empty());
        assert!(find_times("31/02/2026 10:00", &ctx()).is_empty());
        assert!(find_times("2026-13-40T99:99", &ctx()).is_empty());
        assert!(find_times("Fooo 20 03:14:15", &ctx()).is_empty());
    }
}
