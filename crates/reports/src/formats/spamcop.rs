//! SpamCop report mails: source-IP reports and spamvertised-site reports.
//!
//! SpamCop sends plain-text mails, one per reported thing per recipient, with a subject like
//! `[SpamCop (192.0.2.1) id:7148253614]original subject` (or a URL in the parentheses) and a
//! body like:
//!
//! ```text
//! - SpamCop V5.3.0 -
//! Email from 192.0.2.1 / Thu, 5 Jan 2023 10:00:00 -0500
//! https://www.spamcop.net/w3m?i=z7148253614z...
//!
//! Spamvertised web site: http://shop.example/
//! http://shop.example/ is 203.0.113.7; Thu, 05 Jan 2023 15:03:11 GMT
//!
//! [ Offending message ]
//! Return-Path: <x@x.com>
//! ...
//! ```
//!
//! Every `Email from` line and every `Spamvertised web site` line becomes one event (a digest or
//! a hand-merged mail can hold several). The resolution line `URL is IP; date` gives the hosting
//! address and when SpamCop saw it. The offending message is munged by SpamCop (recipients
//! become `x`, `x@x.com` or `[redacted]`), so nothing is taken from it but evidence. When the
//! body was cut (a gateway truncated it), the thing in the subject's parentheses is used, with
//! lower confidence and `extra["spamcop_from_subject"]`.
//!
//! Bodies forwarded by a person (`> ` quoting) and quoted-printable bodies are read too.

use warden_model::{
    AbuseClass, AbuseEvent, Evidence, Reporter, Severity, SourceFormat, sha256_hex,
};

use super::datetime::parse_datetime;
use super::mail::{Mail, MessageView, contains_ci, domain_of, ip_from_text, url_host};
use crate::registry::Format;
use crate::{Limits, ParseError, Record};

/// Registry entry.
pub const FORMAT: Format = Format {
    name: "spamcop",
    sniff,
    parse,
};

const NAME: &str = "spamcop";

/// Confidence of an event read from the subject line only.
pub const SUBJECT_CONFIDENCE: f32 = 0.7;

/// Most events taken from one mail. A SpamCop mail reports one thing; a digest a few dozen.
pub const MAX_ITEMS: usize = 1000;

/// The SpamCop subject tag, the reports.spamcop.net sender, or the version banner.
fn sniff(input: &[u8]) -> u8 {
    let head = &input[..input.len().min(64 * 1024)];
    if contains_ci(head, b"[SpamCop (") || contains_ci(head, b"@reports.spamcop.net") {
        85
    } else if contains_ci(head, b"- SpamCop V") && contains_ci(head, b"spamcop.net") {
        80
    } else {
        0
    }
}

fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    let mail = Mail::parse(input, limits, NAME)?;
    let view = mail.view();
    let body = report_body(&view);
    let lines: Vec<&str> = body.lines().map(unquote_line).collect();
    if let Some(long) = lines.iter().find(|l| l.len() > limits.max_line) {
        return Err(ParseError::limit(
            NAME,
            format!(
                "a body line is {} bytes, over the {} byte limit",
                long.len(),
                limits.max_line
            ),
        ));
    }
    let subject = view.subject().unwrap_or_default();
    let tag = SubjectTag::parse(subject);
    let context = Context {
        sha256: sha256_hex(input),
        excerpt: excerpt(&lines),
        reporter: reporter(&view),
        received: view.date().map(|t| t.utc),
        tag: tag.as_ref(),
        link: lines
            .iter()
            .find(|l| l.contains("spamcop.net/w3m?") || l.contains("spamcop.net/sc?"))
            .map(|l| l.trim().to_owned()),
    };
    let mut events = Vec::new();
    let report_lines = match lines
        .iter()
        .position(|l| l.trim().starts_with("[ Offending message ]"))
    {
        Some(end) => &lines[..end],
        None => &lines[..],
    };
    for (i, line) in report_lines.iter().enumerate() {
        let line = line.trim();
        if let Some(rest) = strip_prefix_ci(line, "Email from ") {
            events.push(context.source_event(rest)?);
        } else if let Some(rest) = strip_prefix_ci(line, "Spamvertised web site:") {
            let url = rest.trim();
            let resolved = report_lines
                .get(i + 1..)
                .unwrap_or_default()
                .iter()
                .take(3)
                .find_map(|l| resolution(l, url));
            events.push(context.site_event(url, resolved));
        }
        if events.len() > MAX_ITEMS {
            return Err(ParseError::limit(
                NAME,
                format!("more than {MAX_ITEMS} reported items"),
            ));
        }
    }
    if events.is_empty() {
        match &tag {
            Some(tag) => events.push(context.subject_event(tag)?),
            None => {
                return Err(ParseError::missing(
                    NAME,
                    "SpamCop mail names no source (\"Email from\"), no spamvertised site and has \
                     no [SpamCop (...) id:...] subject",
                ));
            }
        }
    }
    Ok(events.into_iter().map(Record::from).collect())
}

/// The text of the report: the first text/plain leaf (multipart/alternative mails), else the
/// first text leaf.
fn report_body(view: &MessageView<'_>) -> String {
    let leaves = view.leaves();
    leaves
        .iter()
        .find(|p| p.content_type() == "text/plain")
        .or_else(|| {
            leaves
                .iter()
                .find(|p| p.content_type().starts_with("text/"))
        })
        .map(|p| p.text().into_owned())
        .unwrap_or_default()
}

/// Removes e-mail quoting (`> `, `>> `) added when a person forwards the report.
fn unquote_line(line: &str) -> &str {
    let mut l = line;
    while let Some(rest) = l.strip_prefix('>') {
        l = rest.strip_prefix(' ').unwrap_or(rest);
    }
    l
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `http://shop.example/ is 203.0.113.7; Thu, 05 Jan 2023 15:03:11 GMT` for `url`.
fn resolution(line: &str, url: &str) -> Option<(std::net::IpAddr, Option<String>)> {
    let line = line.trim();
    let rest = line.strip_prefix(url)?.trim_start().strip_prefix("is ")?;
    let (ip_text, date) = match rest.split_once(';') {
        Some((ip, date)) => (ip, Some(date.trim().to_owned())),
        None => (rest, None),
    };
    Some((ip_from_text(ip_text)?, date))
}

/// The first lines of the report and the offending message's key headers.
fn excerpt(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut in_original = false;
    for l in lines {
        if l.trim().starts_with("[ Offending message ]") {
            in_original = true;
            out.push(l);
            continue;
        }
        if !in_original {
            if !l.trim().is_empty() {
                out.push(l);
            }
        } else if [
            "Received:",
            "From:",
            "Subject:",
            "Date:",
            "Message-ID:",
            "Return-Path:",
        ]
        .iter()
        .any(|h| l.len() >= h.len() && l[..h.len()].eq_ignore_ascii_case(h))
        {
            out.push(l);
        }
        if out.len() > 40 {
            break;
        }
    }
    out.join("\n")
}

fn reporter(view: &MessageView<'_>) -> Reporter {
    let email = view.from_address();
    let domain = email
        .as_deref()
        .and_then(domain_of)
        .map(|d| d.strip_prefix("reports.").unwrap_or(d).to_owned());
    Reporter {
        org: Some("SpamCop".into()),
        email,
        domain,
    }
}

/// `[SpamCop (thing) id:7148253614]`.
struct SubjectTag {
    thing: String,
    id: Option<String>,
}

impl SubjectTag {
    fn parse(subject: &str) -> Option<Self> {
        let start = subject.find("[SpamCop (")? + "[SpamCop (".len();
        let rest = subject.get(start..)?;
        let close = rest.find(')')?;
        let thing = rest[..close].trim().to_owned();
        let after = &rest[close + 1..];
        let id = after
            .trim_start()
            .strip_prefix("id:")
            .map(|s| {
                s.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty());
        Some(Self { thing, id })
    }
}

struct Context<'a> {
    sha256: String,
    excerpt: String,
    reporter: Reporter,
    received: Option<chrono::DateTime<chrono::Utc>>,
    tag: Option<&'a SubjectTag>,
    link: Option<String>,
}

impl Context<'_> {
    fn base(&self, kind: &str) -> AbuseEvent {
        let mut ev = AbuseEvent::new(
            SourceFormat::Spamcop,
            AbuseClass::Spam,
            Evidence::with_hash(&self.sha256, &self.excerpt),
        );
        ev.severity = Some(Severity::Medium);
        ev.reporter = self.reporter.clone();
        ev.received = self.received;
        ev.extra.insert("spamcop_kind".into(), kind.into());
        if let Some(id) = self.tag.and_then(|t| t.id.clone()) {
            ev.extra.insert("spamcop_id".into(), id);
        }
        if let Some(link) = &self.link {
            ev.extra.insert("spamcop_link".into(), link.clone());
        }
        ev
    }

    /// `Email from 192.0.2.1 / Thu, 5 Jan 2023 10:00:00 -0500`.
    fn source_event(&self, rest: &str) -> Result<AbuseEvent, ParseError> {
        let (ip_text, date) = match rest.split_once(" / ") {
            Some((ip, date)) => (ip.trim(), Some(date.trim())),
            None => (rest.trim(), None),
        };
        let ip = ip_from_text(ip_text).ok_or_else(|| {
            ParseError::malformed(
                NAME,
                format!("\"Email from\" names {ip_text:?}, not an IP address"),
            )
        })?;
        let mut ev = self.base("source");
        ev.subject.ip = Some(ip);
        if let Some(date) = date {
            match parse_datetime(date) {
                Ok(t) => ev.observed = Some(t),
                Err(e) => {
                    ev.extra.insert("date_unreadable".into(), e.to_string());
                }
            }
        }
        Ok(ev.finish())
    }

    /// `Spamvertised web site: URL`, with the hosting address when SpamCop resolved it.
    fn site_event(
        &self,
        url: &str,
        resolved: Option<(std::net::IpAddr, Option<String>)>,
    ) -> AbuseEvent {
        let mut ev = self.base("spamvertised");
        ev.subject.domain = url_host(url);
        ev.subject.url = Some(url.to_owned());
        if let Some((ip, date)) = resolved {
            ev.subject.ip = Some(ip);
            if let Some(date) = date {
                match parse_datetime(&date) {
                    Ok(t) => ev.observed = Some(t),
                    Err(e) => {
                        ev.extra.insert("date_unreadable".into(), e.to_string());
                    }
                }
            }
        }
        ev.finish()
    }

    /// Only the subject tag survived: an address or a URL, no time.
    fn subject_event(&self, tag: &SubjectTag) -> Result<AbuseEvent, ParseError> {
        let mut ev;
        if let Some(ip) = ip_from_text(&tag.thing) {
            ev = self.base("source");
            ev.subject.ip = Some(ip);
        } else if tag.thing.contains("://") {
            ev = self.base("spamvertised");
            ev.subject.domain = url_host(&tag.thing);
            ev.subject.url = Some(tag.thing.clone());
        } else {
            return Err(ParseError::missing(
                NAME,
                format!(
                    "the body names nothing to report and the subject tag holds {:?}, neither an \
                     address nor a URL",
                    tag.thing
                ),
            ));
        }
        ev.confidence = SUBJECT_CONFIDENCE;
        ev.extra
            .insert("spamcop_from_subject".into(), "true".into());
        Ok(ev.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tags() {
        let t = SubjectTag::parse("[SpamCop (192.0.2.1) id:7148253614]Great deals").unwrap();
        assert_eq!(t.thing, "192.0.2.1");
        assert_eq!(t.id.as_deref(), Some("7148253614"));
        let t = SubjectTag::parse("Fwd: [SpamCop (http://shop.example/) id:1]x").unwrap();
        assert_eq!(t.thing, "http://shop.example/");
        assert!(SubjectTag::parse("[SpamCop (unterminated").is_none());
        assert!(SubjectTag::parse("hello").is_none());
    }

    #[test]
    fn resolution_lines() {
        let (ip, date) = resolution(
            "http://a.example/ is 203.0.113.7; Thu, 05 Jan 2023 15:03:11 GMT",
            "http://a.example/",
        )
        .unwrap();
        assert_eq!(ip.to_string(), "203.0.113.7");
        assert_eq!(date.as_deref(), Some("Thu, 05 Jan 2023 15:03:11 GMT"));
        assert!(resolution("http://b.example/ is 203.0.113.7", "http://a.example/").is_none());
    }

    #[test]
    fn quoting_removed() {
        assert_eq!(unquote_line("> > Email from x"), "Email from x");
        assert_eq!(unquote_line(">>Email"), "Email");
    }
}
