//! Legacy X-ARF 0.1 / 0.2: a mail marked `X-ARF: YES` (or `X-XARF: PLAIN`) whose second part is
//! a YAML report of flat `Key: value` pairs (`Reported-From`, `Category`, `Report-Type`,
//! `Source`, `Source-Type`, `Port`, `Date`, `Schema-URL` ...) and whose third part is evidence.
//!
//! Why no YAML crate: the report is flat, and the senders that still emit it (fail2ban actions,
//! SSHCure, Java and Perl templates) build it by string concatenation, so much of it is not
//! valid YAML (`User-Agent: SSHCure 3 @host`, values with `: ` or `#` inside) and a strict parser
//! would reject real reports. The report is read with the bounded header-block reader
//! [`FieldBlock`] (line length, field count limits) and YAML scalar quoting (`'...'`, `"..."`)
//! is undone; `%YAML`/`---` markers and `#` comment lines are skipped. That also spares a
//! dependency on `serde_yaml`, which is no longer maintained.
//!
//! `Port` in these schemas is the *attacked service's* port (`Port: 22` with `Service: ssh`), not
//! the source port, so it is kept as `extra["destination_port"]` and never as the subject's
//! port: using it for CGN attribution would point at the wrong subscriber. A `Source-Port`
//! field, which some senders add, is taken as the source port.

use warden_model::{AbuseEvent, Evidence, Reporter, SourceFormat};

use super::datetime::parse_datetime;
use super::mail::{FieldBlock, Mail, MessageView, addr_spec, domain_of, ip_from_text, url_host};
use super::xarf::class_of;
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

/// Registry entry.
pub const FORMAT: Format = Format {
    name: "xarf_legacy",
    sniff,
    parse,
};

const NAME: &str = "xarf_legacy";

/// The `X-ARF: YES` or `X-XARF: PLAIN` header, looked for in the top-level header block only (a
/// forwarded report quoting the header in its body is not one).
fn sniff(input: &[u8]) -> u8 {
    let head = header_block(&input[..input.len().min(16 * 1024)]);
    let marked = head.split(|b| *b == b'\n').any(|line| {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            return false;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        (name.eq_ignore_ascii_case(b"X-ARF") || name.eq_ignore_ascii_case(b"X-XARF"))
            && (value.eq_ignore_ascii_case(b"YES") || value.eq_ignore_ascii_case(b"PLAIN"))
    });
    if marked { 95 } else { 0 }
}

/// The bytes up to the first empty line.
fn header_block(input: &[u8]) -> &[u8] {
    let end = (0..input.len())
        .find(|&i| input[i..].starts_with(b"\n\n") || input[i..].starts_with(b"\r\n\r\n"))
        .map_or(input.len(), |i| i + 1);
    &input[..end]
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    let mail = Mail::parse(input, limits, NAME)?;
    let view = mail.view();
    let mut report = None;
    let mut evidence = None;
    for part in view.leaves() {
        if report.is_some() {
            if evidence.is_none() && !part.is_empty() {
                evidence = Some(part.text().into_owned());
            }
            continue;
        }
        if !part.content_type().starts_with("text/") {
            continue;
        }
        let block = FieldBlock::parse_all(part.bytes(), limits, NAME)?;
        if block.get("Report-Type").is_some() || block.get("Category").is_some() {
            report = Some((block, part.text().into_owned()));
        }
    }
    let (block, report_text) = report.ok_or_else(|| {
        ParseError::missing(
            NAME,
            "X-ARF mail has no report part with Category or Report-Type (X-ARF 0.2 second part)",
        )
    })?;
    let ev = legacy_event(input, &view, &block, &report_text, evidence.as_deref());
    Ok(vec![ev.into()])
}

fn legacy_event(
    input: &[u8],
    view: &MessageView<'_>,
    block: &FieldBlock,
    report_text: &str,
    evidence: Option<&str>,
) -> AbuseEvent {
    let get = |name: &str| block.get(name).map(unquote).filter(|v| !v.is_empty());
    let category = get("Category").unwrap_or_default();
    let report_type = get("Report-Type").unwrap_or_default();
    let (class, severity) = class_of(&category, &report_type);
    let mut excerpt = report_text.trim().to_owned();
    if let Some(ev) = evidence {
        excerpt.push_str("\n\n");
        excerpt.push_str(ev.trim());
    }
    let mut ev = AbuseEvent::new(
        SourceFormat::XarfLegacy,
        class,
        Evidence::new(input, &excerpt),
    );
    ev.severity = severity;
    ev.received = view.date().map(|t| t.utc);
    ev.extra.insert("xarf_class".into(), category);
    ev.extra.insert("xarf_type".into(), report_type);
    for (field, key) in [
        ("Version", "xarf_version"),
        ("Schema-URL", "schema_url"),
        ("User-Agent", "user_agent"),
        ("Service", "service"),
        ("Port", "destination_port"),
        ("Report-ID", "report_id"),
        ("Occurrences", "occurrences"),
        ("TLP", "tlp"),
        ("Source-Type", "source_type"),
        ("Attachment", "attachment"),
    ] {
        if let Some(v) = get(field) {
            ev.extra.insert(key.into(), v);
        }
    }
    ev.reporter = reporter(view, get("Reported-From"));
    if let Some(source) = get("Source") {
        let source_type = get("Source-Type").unwrap_or_default().to_ascii_lowercase();
        match ip_from_text(&source) {
            Some(ip) if !source_type.contains("uri") && !source_type.contains("url") => {
                ev.subject.ip = Some(ip)
            }
            _ if source.contains("://") => {
                ev.subject.domain = url_host(&source);
                ev.subject.url = Some(source);
            }
            _ if source_type.contains("mail") => ev.subject.email = addr_spec(&source),
            _ if source_type.contains("domain") || source.contains('.') => {
                ev.subject.domain = Some(source.trim_end_matches('.').to_ascii_lowercase())
            }
            _ => {
                ev.extra.insert("source_unreadable".into(), source);
            }
        }
    }
    if let Some(port) = get("Source-Port") {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => ev.subject.port = Some(p),
            _ => {
                ev.extra.insert("source_port_unreadable".into(), port);
            }
        }
    }
    if let Some(date) = get("Date") {
        match parse_datetime(&date) {
            Ok(t) => ev.observed = Some(t),
            Err(e) => {
                ev.extra.insert("date_unreadable".into(), e.to_string());
            }
        }
    }
    ev.finish()
}

/// `Reported-From` is the reporter's address; the mail's From fills what it lacks.
fn reporter(view: &MessageView<'_>, reported_from: Option<String>) -> Reporter {
    let email = reported_from
        .as_deref()
        .and_then(addr_spec)
        .or_else(|| view.from_address());
    let domain = email.as_deref().and_then(domain_of).map(str::to_owned);
    Reporter {
        org: view.from_name(),
        email,
        domain,
    }
}

/// Removes YAML scalar quotes: `'a''b'` -> `a'b`, `"a\"b"` -> `a"b`.
fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        return v[1..v.len() - 1].replace("''", "'");
    }
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        return v[1..v.len() - 1]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
    }
    v.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting() {
        assert_eq!(unquote("'1234567'"), "1234567");
        assert_eq!(unquote("'it''s'"), "it's");
        assert_eq!(unquote("\"a \\\"b\\\"\""), "a \"b\"");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("'"), "'");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"From: a@b\nX-ARF: YES\n\nbody"), 95);
        assert_eq!(sniff(b"X-ARF: YES\n\nbody"), 95);
        assert_eq!(sniff(b"From: a@b\n\nX-ARF: YES in the body"), 0);
    }
}
