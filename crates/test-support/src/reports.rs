//! The report stub the engine tests feed the desk instead of the real parsers, so that desk,
//! server and web UI tests do not change when a real parser's output changes.
//!
//! Format: an optional mail header block (CRLF header lines, an empty line; as when the stub arrives
//! over SMTP or IMAP), then a first line `TESTREPORT reporter@x`, then one event per line:
//! `class ip-or-domain [port] [rfc3339-time]`. Anything else is refused as an unknown format,
//! the way the real registry refuses it, so quarantine paths can be tested too.

use chrono::{DateTime, Utc};
use warden_model::{AbuseClass, AbuseEvent, Evidence, ObservedTime, SourceFormat, TimePrecision};
use warden_reports::{ParseError, ParseErrorKind, Record};

/// Parses the line format (see the module documentation). Each line's evidence excerpt is the
/// whole line, so tests can find hostile markup in what the UI renders.
pub fn line_format(raw: &[u8]) -> Result<Vec<Record>, ParseError> {
    let text = std::str::from_utf8(raw).map_err(|_| ParseError::malformed("test", "not UTF-8"))?;
    // A mail carries the stub in its body, after the header block.
    let body = text
        .split_once("\r\n\r\n")
        .filter(|(h, _)| h.contains(':') && !h.starts_with("TESTREPORT"))
        .map_or(text, |(_, b)| b);
    let mut lines = body.lines();
    let Some(reporter) = lines.next().and_then(|l| l.strip_prefix("TESTREPORT ")) else {
        return Err(ParseError::new(
            ParseErrorKind::UnknownFormat,
            "detect",
            "no known report format",
        ));
    };
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let class: AbuseClass = f
            .first()
            .unwrap_or(&"other")
            .parse()
            .map_err(|e: String| ParseError::malformed("test", e))?;
        let mut e = AbuseEvent::new(SourceFormat::FreeForm, class, Evidence::new(raw, line));
        e.reporter.email = Some(reporter.trim().to_owned());
        match f.get(1).map(|s| s.parse::<std::net::IpAddr>()) {
            Some(Ok(ip)) => e.subject.ip = Some(ip),
            Some(Err(_)) => e.subject.domain = f.get(1).map(|s| s.to_string()),
            None => {}
        }
        e.subject.port = f.get(2).and_then(|p| p.parse().ok());
        if let Some(ts) = f.get(3).and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
            e.observed = Some(ObservedTime::zoned(
                ts.with_timezone(&Utc),
                TimePrecision::Second,
            ));
        }
        out.push(Record::from(e.finish()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_mailed_stubs_parse_alike_and_others_are_refused() {
        let plain = line_format(b"TESTREPORT a@b.example\nspam 192.0.2.1 25\n").unwrap();
        let mailed =
            line_format(b"Subject: x\r\nFrom: a@b.example\r\n\r\nTESTREPORT a@b.example\r\nspam 192.0.2.1 25\r\n")
                .unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(mailed.len(), 1);
        let err = line_format(b"Subject: hello\r\n\r\nnot a report at all\r\n").unwrap_err();
        assert!(matches!(err.kind, ParseErrorKind::UnknownFormat), "{err:?}");
    }
}
