//! One CSV row to one event, through a column plan resolved once per file.
//!
//! The hot loop of the feed parser: a 10-million-row device report must not allocate a column
//! lookup per row, so [`ColumnPlan`] turns the mapping's column names into indices once, and
//! [`ColumnPlan::event`] only reads fields by index.

use chrono::{NaiveDate, TimeDelta};
use std::collections::BTreeMap;
use std::net::IpAddr;
use warden_model::{
    AbuseEvent, Evidence, ObservedTime, Protocol, Reporter, Severity, SourceFormat, TimePrecision,
};

use super::mapping::{ReportType, find_column};

/// Column indices for one file and one report type.
#[derive(Debug)]
pub(crate) struct ColumnPlan<'m> {
    report: &'m ReportType,
    timestamp: usize,
    ip: Option<usize>,
    port: Option<usize>,
    protocol: Option<usize>,
    asn: Option<usize>,
    hostname: Option<usize>,
    url: Option<usize>,
    email: Option<usize>,
    severity: Option<usize>,
    tag: Option<usize>,
    keep: Vec<(usize, &'m str)>,
    width: usize,
}

/// Why one row could not become an event.
pub(crate) type RowFault = String;

impl<'m> ColumnPlan<'m> {
    /// Resolves the report type's columns against `header` (lower-cased names). Fails when the
    /// header lacks a timestamp column or any column that could name the subject.
    pub(crate) fn new(report: &'m ReportType, header: &[String]) -> Result<Self, String> {
        let f = &report.fields;
        let col =
            |names: &Option<Vec<String>>| names.as_deref().and_then(|n| find_column(header, n));
        let timestamp = col(&f.timestamp).ok_or_else(|| {
            format!(
                "report type {} needs a timestamp column ({}) and the header has none",
                report.name,
                f.timestamp.as_deref().unwrap_or_default().join(" or ")
            )
        })?;
        let (ip, hostname, url, email) = (col(&f.ip), col(&f.hostname), col(&f.url), col(&f.email));
        if ip.is_none() && hostname.is_none() && url.is_none() && email.is_none() {
            return Err(format!(
                "report type {} names no ip, hostname, url or email column present in the header",
                report.name
            ));
        }
        let keep = report
            .keep
            .iter()
            .filter_map(|k| header.iter().position(|h| h == k).map(|i| (i, k.as_str())))
            .collect();
        Ok(Self {
            report,
            timestamp,
            ip,
            port: col(&f.port),
            protocol: col(&f.protocol),
            asn: col(&f.asn),
            hostname,
            url,
            email,
            severity: col(&f.severity),
            tag: col(&f.tag),
            keep,
            width: header.len(),
        })
    }

    /// Turns one row into an event. `fields` yields the row's cells; `excerpt` is the raw row
    /// text for the evidence; `sha256` is the whole file's hash, computed once.
    pub(crate) fn event(
        &self,
        row: &csv::ByteRecord,
        excerpt: &str,
        sha256: &str,
    ) -> Result<AbuseEvent, RowFault> {
        if row.len() != self.width {
            return Err(format!(
                "has {} fields, the header has {}",
                row.len(),
                self.width
            ));
        }
        let cell = |i: Option<usize>| -> Result<Option<&str>, RowFault> {
            let Some(bytes) = i.and_then(|i| row.get(i)) else {
                return Ok(None);
            };
            let s =
                std::str::from_utf8(bytes).map_err(|_| "a field is not valid UTF-8".to_owned())?;
            let s = s.trim();
            Ok((!s.is_empty()).then_some(s))
        };

        let ts = cell(Some(self.timestamp))?.ok_or("the timestamp is empty")?;
        let observed = parse_timestamp(ts).ok_or_else(|| format!("bad timestamp {ts:?}"))?;

        let mut ev = AbuseEvent::new(
            SourceFormat::Shadowserver,
            self.report.class,
            Evidence::with_hash(sha256, excerpt),
        );
        ev.reporter = Reporter {
            org: Some("Shadowserver Foundation".to_owned()),
            email: None,
            domain: Some("shadowserver.org".to_owned()),
        };
        ev.observed = Some(observed);
        if let Some(ip) = cell(self.ip)? {
            ev.subject.ip = Some(parse_ip(ip).ok_or_else(|| format!("bad IP address {ip:?}"))?);
        }
        if let Some(p) = cell(self.port)? {
            // Shadowserver writes ports as integers; some exports write "0" for "none".
            let port: u16 = p.parse().map_err(|_| format!("bad port {p:?}"))?;
            ev.subject.port = (port != 0).then_some(port);
        }
        ev.subject.protocol = match cell(self.protocol)? {
            Some(p) => Protocol::parse(p),
            None => self.report.protocol,
        };
        if let Some(a) = cell(self.asn)? {
            let a = a
                .strip_prefix("AS")
                .or_else(|| a.strip_prefix("as"))
                .unwrap_or(a);
            ev.subject.asn = Some(a.parse().map_err(|_| format!("bad ASN {a:?}"))?);
        }
        ev.subject.domain =
            cell(self.hostname)?.map(|h| h.trim_end_matches('.').to_ascii_lowercase());
        ev.subject.url = cell(self.url)?.map(str::to_owned);
        ev.subject.email = cell(self.email)?.map(str::to_ascii_lowercase);
        if ev.subject.ip.is_none()
            && ev.subject.domain.is_none()
            && ev.subject.url.is_none()
            && ev.subject.email.is_none()
        {
            return Err("no IP address, host name, URL or e-mail address in this row".to_owned());
        }
        // The row's own severity wins (Shadowserver rates each finding since 2023); an unknown
        // word falls back to the report's default rather than failing the row.
        ev.severity = cell(self.severity)?
            .and_then(|s| s.parse::<Severity>().ok())
            .or(self.report.severity);

        let mut extra = BTreeMap::new();
        extra.insert("report_type".to_owned(), self.report.name.clone());
        if let Some(t) = cell(self.tag)? {
            extra.insert("tag".to_owned(), t.to_owned());
        }
        for &(i, name) in &self.keep {
            if let Some(v) = cell(Some(i))? {
                extra.insert(name.to_owned(), v.to_owned());
            }
        }
        if self.report.needs_mapping {
            // Rare (a type new to the mapping), so the two strings per row do not matter.
            extra.insert("needs_mapping".to_owned(), "true".to_owned());
        }
        ev.extra = extra;
        Ok(ev.finish())
    }
}

/// Parses an IP address, also in the zero-padded IPv6 form some exports use.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// Parses a Shadowserver timestamp: `2026-11-20 03:14:15`, optionally with `T`, fractional
/// seconds, and a `Z` or numeric offset. Shadowserver documents every timestamp as UTC, so a
/// time without a zone is UTC *by the feed's definition* and counts as zone-given.
pub(crate) fn parse_timestamp(s: &str) -> Option<ObservedTime> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let sep_ok = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b' ' | b'T' | b't'))
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !sep_ok {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?;
    let mut rest = s.get(19..)?;
    let mut nanos = 0u32;
    let mut precision = TimePrecision::Second;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = frac.get(..digits.min(9))?;
        nanos = kept.parse::<u32>().ok()? * 10u32.pow(9 - kept.len() as u32);
        precision = TimePrecision::Subsecond;
        rest = frac.get(digits..)?;
    }
    let time =
        chrono::NaiveTime::from_hms_nano_opt(num(11..13)?, num(14..16)?, num(17..19)?, nanos)?;
    let naive = date.and_time(time);
    let offset_secs: i64 = match rest.trim() {
        "" | "Z" | "z" | "UTC" | "utc" => 0,
        off => parse_offset(off)?,
    };
    let utc = naive
        .and_utc()
        .checked_sub_signed(TimeDelta::seconds(offset_secs))?;
    Some(ObservedTime::zoned(utc, precision))
}

/// `+01:00`, `-0500`, `+02` to seconds east of UTC.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<i64>().ok()?,
            digits.get(2..)?.parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamp_styles() {
        let want = Utc.with_ymd_and_hms(2026, 11, 20, 3, 14, 15).unwrap();
        for s in [
            "2026-11-20 03:14:15",
            "2026-11-20T03:14:15Z",
            "2026-11-20T04:14:15+01:00",
            "2026-11-19 22:14:15-0500",
        ] {
            let t = parse_timestamp(s).unwrap();
            assert_eq!(t.utc, want, "{s}");
            assert!(t.zone_given);
            assert_eq!(t.precision, TimePrecision::Second);
        }
        let t = parse_timestamp("2026-11-20 03:14:15.250Z").unwrap();
        assert_eq!(t.precision, TimePrecision::Subsecond);
        assert_eq!(t.utc.timestamp_subsec_millis(), 250);
    }

    #[test]
    fn bad_timestamps() {
        for s in [
            "",
            "2026-11-20",
            "2026-13-20 03:14:15",
            "2026-11-20 25:14:15",
            "2026/11/20 03:14:15",
            "2026-11-20 03:14:15 CET",
            "2026-11-20 03:14:15.",
            "2026-11-20 03:14:15+99:00",
            "２０２６-11-20 03:14:15",
        ] {
            assert!(parse_timestamp(s).is_none(), "{s}");
        }
    }
}
