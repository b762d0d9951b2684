//! The date styles real abuse reports use, read into an [`ObservedTime`] that says how much it can
//! be trusted.
//!
//! Reporters write dates every way there is: RFC 5322 §3.3 with and without weekday, seconds or
//! zone, the obsolete zone names of RFC 5322 §4.3 (`EST`, `PDT`) and European ones (`MEZ`,
//! `MESZ`, `CET`), trailing comments (`+0000 (UTC)`), ISO 8601 / RFC 3339, `ctime` output, Unix
//! epochs, US `MM/DD/YYYY hh:mm AM` dates from feedback loops and German `DD.MM.YYYY`. One
//! tolerant tokenizer reads them all; what it cannot read is an error naming the input, never a
//! guess.
//!
//! Honesty rules (DESIGN.md rule 4): a time without a zone is taken as UTC with `zone_given =
//! false`; the precision is what the text gave (day, minute, second, sub-second); RFC 5322
//! military zones other than `Z` are treated as unknown (§4.3 says their sign was specified wrong
//! and they carry no information).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use thiserror::Error;
use warden_model::{ObservedTime, TimePrecision};

/// The longest date text accepted. Real dates are under 80 bytes; a longer one is not a date.
pub const MAX_DATE_LEN: usize = 256;

/// Why a date text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot read date {input:?}: {reason}")]
pub struct DateError {
    /// The text as given (cut to [`MAX_DATE_LEN`] bytes).
    pub input: String,
    /// What was wrong with it.
    pub reason: String,
}

impl DateError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        let mut end = input.len().min(MAX_DATE_LEN);
        while !input.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            input: input.get(..end).unwrap_or_default().to_owned(),
            reason: reason.into(),
        }
    }
}

/// Reads one date in any of the supported styles.
///
/// The result is in UTC; `zone_given` is false when the text had no zone or offset (the
/// wall-clock reading is then taken as UTC), `precision` is what the text gave.
pub fn parse_datetime(input: &str) -> Result<ObservedTime, DateError> {
    if input.len() > MAX_DATE_LEN {
        return Err(DateError::new(
            input,
            format!("longer than {MAX_DATE_LEN} bytes"),
        ));
    }
    let text = strip_comments(input);
    let text = text.trim();
    if text.is_empty() {
        return Err(DateError::new(input, "empty"));
    }
    if let Some(t) = parse_epoch(text) {
        return t.ok_or_else(|| DateError::new(input, "epoch out of range"));
    }
    let mut parts = Parts::default();
    for token in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
    {
        parts
            .token(token)
            .map_err(|reason| DateError::new(input, reason))?;
    }
    parts
        .finish()
        .map_err(|reason| DateError::new(input, reason))
}

/// Builds an [`ObservedTime`] from already separated parts (a date parsed elsewhere, a JSON
/// field pair); kept beside [`parse_datetime`] so every date path ends in the same honesty rules:
/// no offset means `zone_given = false`.
pub fn from_parts(
    date: NaiveDate,
    time: Option<NaiveTime>,
    offset_seconds: Option<i32>,
    precision: TimePrecision,
) -> Option<ObservedTime> {
    let naive = NaiveDateTime::new(date, time.unwrap_or(NaiveTime::MIN));
    match offset_seconds {
        Some(secs) => {
            let off = FixedOffset::east_opt(secs)?;
            let utc = off
                .from_local_datetime(&naive)
                .single()?
                .with_timezone(&Utc);
            Some(ObservedTime::zoned(utc, precision))
        }
        None => Some(ObservedTime::assumed_utc(
            Utc.from_utc_datetime(&naive),
            precision,
        )),
    }
}

/// Removes RFC 5322 comments (`(UTC)`, `(Pacific Standard Time)`), nesting included. An
/// unbalanced `(` drops the rest, which is what a truncated comment means.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A whole-text Unix epoch: 9-10 digits are seconds, 12-13 digits milliseconds, an optional
/// fraction after a dot. Returns `None` when the text is not an epoch at all.
fn parse_epoch(text: &str) -> Option<Option<ObservedTime>> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let value: i64 = int.parse().ok()?;
    let (utc, precision) = match int.len() {
        9 | 10 => {
            let nanos = frac.map(frac_nanos).unwrap_or(0);
            let p = if frac.is_some() {
                TimePrecision::Subsecond
            } else {
                TimePrecision::Second
            };
            (DateTime::from_timestamp(value, nanos), p)
        }
        12 | 13 if frac.is_none() => (
            DateTime::from_timestamp_millis(value),
            TimePrecision::Subsecond,
        ),
        _ => return None,
    };
    Some(utc.map(|u| ObservedTime::zoned(u, precision)))
}

/// Nanoseconds from the digits after a decimal point (extra digits past 9 are ignored).
fn frac_nanos(digits: &str) -> u32 {
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    for b in digits.bytes().take(9) {
        nanos += u32::from(b - b'0') * scale;
        scale /= 10;
    }
    nanos
}

/// A zone: a fixed offset, or an IANA name whose offset depends on the date.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Fixed(i32),
    Iana(chrono_tz::Tz),
    /// Given, but carries no information (RFC 5322 §4.3 military letters).
    Unknown,
}

/// The pieces found so far.
#[derive(Debug, Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<(u32, u32, Option<u32>, Option<u32>)>,
    meridiem: Option<bool>,
    zone: Option<Zone>,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// German month abbreviations that differ from the English ones (X-ARF reporters are often German).
const MONTHS_DE: [(&str, u32); 5] = [("mär", 3), ("mrz", 3), ("mai", 5), ("okt", 10), ("dez", 12)];

/// German two-letter weekdays (`Mo, 3 Jul 2023`), skipped like the English names.
const WEEKDAYS_DE: [&str; 7] = ["mo", "di", "mi", "do", "fr", "sa", "so"];

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Obsolete and common zone abbreviations, as offsets in minutes east of UTC. RFC 5322 §4.3 names
/// the US ones; the European ones (MEZ/MESZ are German for CET/CEST) are common in reports.
/// Ambiguous abbreviations (IST, CST outside the US) are read the RFC 5322 way or not at all.
const NAMED_ZONES: [(&str, i32); 30] = [
    ("UT", 0),
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("WET", 0),
    ("WEST", 60),
    ("BST", 60),
    ("CET", 60),
    ("MEZ", 60),
    ("CEST", 120),
    ("MESZ", 120),
    ("EET", 120),
    ("EEST", 180),
    ("MSK", 180),
    ("EST", -300),
    ("EDT", -240),
    ("CST", -360),
    ("CDT", -300),
    ("MST", -420),
    ("MDT", -360),
    ("PST", -480),
    ("PDT", -420),
    ("AKST", -540),
    ("AKDT", -480),
    ("HST", -600),
    ("JST", 540),
    ("KST", 540),
    ("AEST", 600),
    ("AEDT", 660),
    ("NZST", 720),
];

impl Parts {
    fn token(&mut self, token: &str) -> Result<(), String> {
        let lower = token.to_ascii_lowercase();
        let lower = lower.trim_end_matches('.');
        if lower.is_empty() {
            return Ok(());
        }
        if lower == "at" || lower == "on" {
            return Ok(());
        }
        if (lower.len() >= 3 && WEEKDAYS.iter().any(|w| w.starts_with(lower)))
            || WEEKDAYS_DE.contains(&lower)
        {
            return Ok(());
        }
        if let Some(m) = month_of(lower) {
            return set(&mut self.month, m, "month");
        }
        if lower == "am" || lower == "a.m" || lower == "pm" || lower == "p.m" {
            return set(&mut self.meridiem, lower.starts_with('p'), "AM/PM");
        }
        if let Some(z) = named_zone(token) {
            return set(&mut self.zone, z, "zone");
        }
        if let Some(off) = parse_offset(token) {
            return set(&mut self.zone, Zone::Fixed(off), "zone");
        }
        if token.contains('/')
            && token
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
        {
            let tz: chrono_tz::Tz = token
                .parse()
                .map_err(|_| format!("unknown time zone {token:?}"))?;
            return set(&mut self.zone, Zone::Iana(tz), "zone");
        }
        let first = token.chars().next().unwrap_or(' ');
        if !first.is_ascii_digit() {
            return Err(format!("unexpected word {token:?}"));
        }
        // ISO 8601 date, maybe with the time attached by 'T'.
        if token.len() >= 10 && token.as_bytes().get(4) == Some(&b'-') {
            let (date, rest) = match token.find(['T', 't']) {
                Some(i) => (&token[..i], Some(&token[i + 1..])),
                None => (token, None),
            };
            let mut it = date.split('-');
            let (y, m, d) = (it.next(), it.next(), it.next());
            if it.next().is_some() {
                return Err(format!("bad ISO date {date:?}"));
            }
            set(&mut self.year, num(y, "year")? as i32, "year")?;
            set(&mut self.month, num(m, "month")?, "month")?;
            set(&mut self.day, num(d, "day")?, "day")?;
            if let Some(rest) = rest {
                self.time_token(rest)?;
            }
            return Ok(());
        }
        if token.contains(':') {
            return self.time_token(token);
        }
        if token.contains('/') {
            return self.slash_date(token);
        }
        if token.contains('.') {
            // German style DD.MM.YYYY.
            let mut it = token.split('.');
            let (d, m, y) = (it.next(), it.next(), it.next());
            if it.next().is_some_and(|s| !s.is_empty()) {
                return Err(format!("bad dotted date {token:?}"));
            }
            set(&mut self.day, num(d, "day")?, "day")?;
            set(&mut self.month, num(m, "month")?, "month")?;
            return set(&mut self.year, year_of(y)?, "year");
        }
        if !token.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("unexpected token {token:?}"));
        }
        let n: u32 = token
            .parse()
            .map_err(|_| format!("number {token:?} too large"))?;
        match token.len() {
            4 => set(&mut self.year, n as i32, "year"),
            1 | 2 if self.day.is_none() => {
                self.day = Some(n);
                Ok(())
            }
            1 | 2 if self.year.is_none() => {
                self.year = Some(two_digit_year(n));
                Ok(())
            }
            _ => Err(format!("unexpected number {token:?}")),
        }
    }

    /// `HH:MM[:SS[.fff]]` with an optional zone glued on (`Z`, `+01:00`, `-0500`).
    fn time_token(&mut self, token: &str) -> Result<(), String> {
        let (clock, zone) = match token.find(['Z', 'z', '+', '-']) {
            Some(i) => (&token[..i], Some(&token[i..])),
            None => (token, None),
        };
        if let Some(z) = zone {
            let zone = if z.eq_ignore_ascii_case("z") {
                Zone::Fixed(0)
            } else {
                Zone::Fixed(parse_offset(z).ok_or_else(|| format!("bad offset {z:?}"))?)
            };
            set(&mut self.zone, zone, "zone")?;
        }
        let (hms, frac) = match clock.split_once(['.', ',']) {
            Some((a, f)) => (a, Some(f)),
            None => (clock, None),
        };
        let mut it = hms.split(':');
        let h = num(it.next(), "hour")?;
        let m = num(it.next(), "minute")?;
        let s = match it.next() {
            Some(s) => Some(num(Some(s), "second")?),
            None => None,
        };
        if it.next().is_some() {
            return Err(format!("bad time {clock:?}"));
        }
        let nanos = match frac {
            Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) && s.is_some() => {
                Some(frac_nanos(f))
            }
            Some(f) => return Err(format!("bad fraction of a second {f:?}")),
            None => None,
        };
        if self.time.is_some() {
            return Err("two times".into());
        }
        self.time = Some((h, m, s, nanos));
        Ok(())
    }

    /// `MM/DD/YYYY` (US feedback loops) or `YYYY/MM/DD`; `DD/MM/YYYY` only when the first number
    /// cannot be a month.
    fn slash_date(&mut self, token: &str) -> Result<(), String> {
        let mut it = token.split('/');
        let (a, b, c) = (it.next(), it.next(), it.next());
        if it.next().is_some() {
            return Err(format!("bad date {token:?}"));
        }
        if a.is_some_and(|a| a.len() == 4) {
            set(&mut self.year, num(a, "year")? as i32, "year")?;
            set(&mut self.month, num(b, "month")?, "month")?;
            return set(&mut self.day, num(c, "day")?, "day");
        }
        let (first, second) = (num(a, "month")?, num(b, "day")?);
        let (month, day) = if first > 12 && second <= 12 {
            (second, first)
        } else {
            (first, second)
        };
        set(&mut self.month, month, "month")?;
        set(&mut self.day, day, "day")?;
        set(&mut self.year, year_of(c)?, "year")
    }

    fn finish(self) -> Result<ObservedTime, String> {
        let year = self.year.ok_or("no year")?;
        let month = self.month.ok_or("no month")?;
        let day = self.day.ok_or("no day")?;
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| format!("no such date {year:04}-{month:02}-{day:02}"))?;
        let (time, precision) = match self.time {
            None => {
                if self.meridiem.is_some() {
                    return Err("AM/PM without a time".into());
                }
                (NaiveTime::MIN, TimePrecision::Day)
            }
            Some((mut h, m, s, nanos)) => {
                if let Some(pm) = self.meridiem {
                    if !(1..=12).contains(&h) {
                        return Err(format!("hour {h} with AM/PM"));
                    }
                    h = match (pm, h) {
                        (false, 12) => 0,
                        (true, 12) => 12,
                        (true, h) => h + 12,
                        (false, h) => h,
                    };
                }
                // RFC 5322 allows a leap second (60); chrono cannot hold it without nanos tricks,
                // and a second's error is below any attribution skew.
                let sec = s.unwrap_or(0).min(59);
                let t = NaiveTime::from_hms_nano_opt(h, m, sec, nanos.unwrap_or(0))
                    .ok_or_else(|| format!("no such time {h:02}:{m:02}:{sec:02}"))?;
                let p = match (s, nanos) {
                    (None, _) => TimePrecision::Minute,
                    (Some(_), None) => TimePrecision::Second,
                    (Some(_), Some(_)) => TimePrecision::Subsecond,
                };
                (t, p)
            }
        };
        let naive = NaiveDateTime::new(date, time);
        match self.zone {
            None | Some(Zone::Unknown) => Ok(ObservedTime::assumed_utc(
                Utc.from_utc_datetime(&naive),
                precision,
            )),
            Some(Zone::Fixed(secs)) => from_parts(date, Some(time), Some(secs), precision)
                .ok_or_else(|| format!("offset of {secs} seconds is out of range")),
            Some(Zone::Iana(tz)) => {
                // In the repeated hour at the end of summer time the earlier reading is taken;
                // in the skipped hour the text names no real instant.
                let local = tz
                    .from_local_datetime(&naive)
                    .earliest()
                    .ok_or_else(|| format!("{naive} does not exist in {tz}"))?;
                Ok(ObservedTime::zoned(local.with_timezone(&Utc), precision))
            }
        }
    }
}

fn set<T>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("two values for the {what}"));
    }
    *slot = Some(value);
    Ok(())
}

fn num(s: Option<&str>, what: &str) -> Result<u32, String> {
    let s = s.ok_or_else(|| format!("no {what}"))?;
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad {what} {s:?}"));
    }
    s.parse().map_err(|_| format!("bad {what} {s:?}"))
}

fn year_of(s: Option<&str>) -> Result<i32, String> {
    let text = s.ok_or("no year")?;
    let n = num(Some(text), "year")?;
    Ok(if text.len() <= 2 {
        two_digit_year(n)
    } else {
        n as i32
    })
}

/// RFC 5322 §4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx.
fn two_digit_year(n: u32) -> i32 {
    if n < 50 {
        2000 + n as i32
    } else {
        1900 + n as i32
    }
}

fn month_of(lower: &str) -> Option<u32> {
    if lower.len() < 3 || !lower.chars().all(|c| c.is_alphabetic()) {
        return None;
    }
    if let Some(i) = MONTHS.iter().position(|m| m.starts_with(lower)) {
        return u32::try_from(i + 1).ok();
    }
    MONTHS_DE
        .iter()
        .find(|(m, _)| lower.starts_with(m))
        .map(|(_, n)| *n)
}

/// Zone abbreviations; single military letters other than `Z` are "given but unknown".
fn named_zone(token: &str) -> Option<Zone> {
    let upper = token.to_ascii_uppercase();
    if let Some((_, mins)) = NAMED_ZONES.iter().find(|(n, _)| *n == upper) {
        return Some(Zone::Fixed(mins * 60));
    }
    if upper.len() == 1 && upper.chars().all(|c| c.is_ascii_uppercase() && c != 'J') {
        return Some(Zone::Unknown);
    }
    // "GMT+1", "UTC+02:00": a named base with an offset glued on.
    for base in ["GMT", "UTC"] {
        if let Some(rest) = upper.strip_prefix(base)
            && !rest.is_empty()
        {
            return parse_offset(rest).map(Zone::Fixed);
        }
    }
    None
}

/// `+hhmm`, `-hhmm`, `+hh:mm`, `+hh`, `+h` as seconds east of UTC.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        _ => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn check(input: &str, expect: &str, precision: TimePrecision, zone_given: bool) {
        let t = parse_datetime(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(t.utc, utc(expect), "{input}");
        assert_eq!(t.precision, precision, "{input}");
        assert_eq!(t.zone_given, zone_given, "{input}");
    }

    #[test]
    fn rfc5322_styles() {
        use TimePrecision::*;
        check(
            "Thu, 5 Jan 2023 10:00:00 +0000",
            "2023-01-05T10:00:00Z",
            Second,
            true,
        );
        check(
            "Thu, 5 Jan 2023 10:00:00 +0000 (UTC)",
            "2023-01-05T10:00:00Z",
            Second,
            true,
        );
        check(
            "5 Jan 2023 10:00:00 -0500",
            "2023-01-05T15:00:00Z",
            Second,
            true,
        );
        check(
            "Thu, 05 Jan 2023 10:00 +0100",
            "2023-01-05T09:00:00Z",
            Minute,
            true,
        );
        check(
            "Thu, 5 Jan 2023 10:00:00",
            "2023-01-05T10:00:00Z",
            Second,
            false,
        );
        check(
            "Thu, 5 Jan 23 10:00:00 GMT",
            "2023-01-05T10:00:00Z",
            Second,
            true,
        );
        check(
            "Mon, 3 Jul 2023 08:15:00 PDT",
            "2023-07-03T15:15:00Z",
            Second,
            true,
        );
        check(
            "Mon, 3 Jul 2023 08:15:00 EST",
            "2023-07-03T13:15:00Z",
            Second,
            true,
        );
        check(
            "Mo, 3 Jul 2023 08:15:00 MESZ",
            "2023-07-03T06:15:00Z",
            Second,
            true,
        );
        check(
            "3 Jul 2023 08:15:00 CET",
            "2023-07-03T07:15:00Z",
            Second,
            true,
        );
        check(
            "Thu, 5 Jan 2023 10:00:00 -0000",
            "2023-01-05T10:00:00Z",
            Second,
            true,
        );
        check(
            "Thu, 5 Jan 2023 10:00:60 +0000",
            "2023-01-05T10:00:59Z",
            Second,
            true,
        );
        check(
            "5 Jan 2023 10:00:00 A",
            "2023-01-05T10:00:00Z",
            Second,
            false,
        );
        check(
            "Tue, 14 Mar 2023 10:00:00 +0000 (Coordinated (Universal) Time)",
            "2023-03-14T10:00:00Z",
            Second,
            true,
        );
    }

    #[test]
    fn iso_and_epoch() {
        use TimePrecision::*;
        check("2023-01-05T10:00:00Z", "2023-01-05T10:00:00Z", Second, true);
        check(
            "2023-01-05T10:00:00.250+01:00",
            "2023-01-05T09:00:00.250Z",
            Subsecond,
            true,
        );
        check("2023-01-05 10:00:00", "2023-01-05T10:00:00Z", Second, false);
        check(
            "2023-01-05 10:00:00 UTC",
            "2023-01-05T10:00:00Z",
            Second,
            true,
        );
        check(
            "2023-01-05T10:00:00-0500",
            "2023-01-05T15:00:00Z",
            Second,
            true,
        );
        check("2023-01-05", "2023-01-05T00:00:00Z", Day, false);
        check("1672912800", "2023-01-05T10:00:00Z", Second, true);
        check("1672912800123", "2023-01-05T10:00:00.123Z", Subsecond, true);
        check(
            "2023-07-03 08:15:00 Europe/Berlin",
            "2023-07-03T06:15:00Z",
            Second,
            true,
        );
    }

    #[test]
    fn other_styles() {
        use TimePrecision::*;
        check(
            "Thu Jan  5 10:00:00 2023",
            "2023-01-05T10:00:00Z",
            Second,
            false,
        );
        check(
            "01/05/2023 10:00:00 AM EST",
            "2023-01-05T15:00:00Z",
            Second,
            true,
        );
        check("1/5/2023 12:30 PM", "2023-01-05T12:30:00Z", Minute, false);
        check("1/5/2023 12:30 AM", "2023-01-05T00:30:00Z", Minute, false);
        check("25/12/2023 08:00:00", "2023-12-25T08:00:00Z", Second, false);
        check(
            "05.01.2023 10:00:00 MEZ",
            "2023-01-05T09:00:00Z",
            Second,
            true,
        );
        check(
            "January 5, 2023 10:00:00 GMT+1",
            "2023-01-05T09:00:00Z",
            Second,
            true,
        );
        check("5 Okt 2023 10:00", "2023-10-05T10:00:00Z", Minute, false);
    }

    #[test]
    fn bad_dates_are_errors() {
        for bad in [
            "",
            "yesterday",
            "32 Jan 2023 10:00:00",
            "Feb 30 2023",
            "2023-13-01",
            "10:00:00",
            "Jan 2023",
            "5 Jan 2023 25:00:00",
            "5 Jan 2023 10:00:00 +9999",
            "5 Jan 2023 10:00 10:00",
            "13:00 PM 1/5/2023",
            "5 Jan 2023 Mars/Olympus",
            "99999999999999999999",
        ] {
            let err = parse_datetime(bad).unwrap_err();
            assert!(err.to_string().contains("cannot read date"), "{bad}: {err}");
        }
        let long = "1".repeat(MAX_DATE_LEN + 1);
        assert!(parse_datetime(&long).is_err());
    }
}
