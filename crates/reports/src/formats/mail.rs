//! MIME access for the mail-borne report formats (ARF, X-ARF, SpamCop, free-form mail), over
//! `mail-parser` 0.11, with the crate's [`Limits`] enforced.
//!
//! `mail-parser` is tolerant of broken mail (which real reports are) but has no size or depth
//! limits of its own beyond three levels of `message/rfc822`. This module adds them: the input
//! size, the MIME nesting depth (multipart inside message inside multipart...), the number of
//! parts, the length of a header line. It also gives the two views every report parser needs:
//!
//! * [`MessageView`]: a message's headers (raw, unfolded, case-insensitive) and its leaf parts in
//!   order ([`Part`]), each with its content type and decoded body;
//! * [`FieldBlock`]: an RFC 5322 §2.2 header block read from bytes, which is the shape of a
//!   `message/feedback-report` body (RFC 5965 §3.1), a `text/rfc822-headers` part, the head of
//!   a `message/rfc822` original, and the key/value part of legacy X-ARF.
//!
//! Small helpers read the things report fields contain: IP addresses in their real-world
//! spellings ([`ip_from_text`]), the client address of a `Received` header
//! ([`received_from_ip`]) and addr-specs ([`addr_spec`]).

use std::borrow::Cow;
use std::net::IpAddr;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MessagePart, PartType};
use warden_model::ObservedTime;

/// Runs mail-parser over `input`, turning a panic inside it into `None`.
///
/// Why: fuzzing found inputs on which mail-parser 0.11.9 panics ("Invalid part ID, could not
/// find multipart", parsers/message.rs:485) instead of returning. Reports are attacker-controlled
/// and the desk parses them in a long-running server, so a panic must never escape a parser.
/// Every MIME parse in this crate goes through here.
pub(crate) fn parse_mime(input: &[u8]) -> Option<Message<'_>> {
    std::panic::catch_unwind(|| MessageParser::default().parse(input)).unwrap_or(None)
}

use super::datetime::parse_datetime;
use crate::{Limits, ParseError};

/// Most MIME parts followed in one mail. A real report has two to five; thousands of empty parts
/// are an attack on whoever walks them.
pub const MAX_PARTS: usize = 1000;

/// Most fields read from one header block. RFC 5322 sets no limit; real blocks have under 100
/// (a long `Received` chain included).
pub const MAX_FIELDS: usize = 2000;

/// A parsed mail whose size and shape have been checked against [`Limits`].
#[derive(Debug)]
pub struct Mail<'x> {
    msg: Message<'x>,
}

impl<'x> Mail<'x> {
    /// Parses `input` as an RFC 5322 message and checks the limits. `format` names the parser
    /// in errors.
    ///
    /// Fails when the input is over `limits.max_input`, has no header at all, nests deeper than
    /// `limits.max_depth` or has more than [`MAX_PARTS`] parts.
    pub fn parse(
        input: &'x [u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, ParseError> {
        if input.len() > limits.max_input {
            return Err(ParseError::limit(
                format,
                format!(
                    "mail is {} bytes, over the {} byte limit",
                    input.len(),
                    limits.max_input
                ),
            ));
        }
        if !starts_with_header(input) {
            return Err(ParseError::malformed(
                format,
                "input does not start with a mail header line (\"Name: value\")",
            ));
        }
        let msg = parse_mime(input)
            .filter(|m| !m.parts.is_empty())
            .ok_or_else(|| ParseError::malformed(format, "not a mail: no header block found"))?;
        check_shape(&msg, limits, format)?;
        Ok(Self { msg })
    }

    /// The top-level message.
    pub fn view(&self) -> MessageView<'_> {
        MessageView { msg: &self.msg }
    }
}

/// True when the first line is a header field (`Name: value`), skipping an mbox `From ` line.
/// mail-parser accepts almost anything; report sniffing and parsing must not.
fn starts_with_header(input: &[u8]) -> bool {
    let mut rest = input;
    if rest.starts_with(b"From ") {
        match rest.iter().position(|b| *b == b'\n') {
            Some(i) => rest = &rest[i + 1..],
            None => return false,
        }
    }
    let line_end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    match line.iter().position(|b| *b == b':') {
        Some(0) | None => false,
        // Real field names are letters, digits, '-' and '_'; RFC 5322 allows more, but a JSON
        // document's `{"Version":` must not pass for a header.
        Some(colon) => line[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')),
    }
}

/// Walks every part (nested messages included) without recursion, so a hostile nesting cannot
/// overflow the stack, and enforces depth and part count.
fn check_shape(msg: &Message<'_>, limits: &Limits, format: &'static str) -> Result<(), ParseError> {
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(msg, 0, 0)];
    let mut seen = 0usize;
    while let Some((m, id, depth)) = stack.pop() {
        seen += 1;
        if seen > MAX_PARTS {
            return Err(ParseError::limit(
                format,
                format!("mail has more than {MAX_PARTS} MIME parts"),
            ));
        }
        if depth > limits.max_depth {
            return Err(ParseError::limit(
                format,
                format!("MIME parts nest deeper than {} levels", limits.max_depth),
            ));
        }
        let Some(part) = m.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(children) => {
                for child in children.iter().rev() {
                    // A multipart lists itself first in some broken mails; never loop on it.
                    if *child > id {
                        stack.push((m, *child, depth + 1));
                    }
                }
            }
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

/// A read-only view of one message (the top-level mail or an attached `message/rfc822`).
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'m> {
    msg: &'m Message<'m>,
}

impl<'m> MessageView<'m> {
    fn root(&self) -> Option<&'m MessagePart<'m>> {
        self.msg.parts.first()
    }

    /// Every header field of the message, in order, as (name, unfolded raw value).
    pub fn raw_headers(&self) -> Vec<(&'m str, String)> {
        let Some(root) = self.root() else {
            return Vec::new();
        };
        root.headers
            .iter()
            .map(|h| {
                let raw = self
                    .msg
                    .raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .unwrap_or_default();
                (h.name.as_str(), unfold(&String::from_utf8_lossy(raw)))
            })
            .collect()
    }

    /// The first header field called `name` (case-insensitive), unfolded and trimmed, as it was
    /// written (no RFC 2047 decoding: report fields are ASCII, and raw keeps comments).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// Every header field called `name`, in order.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let Some(root) = self.root() else {
            return Vec::new();
        };
        root.headers
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .filter_map(|h| {
                self.msg
                    .raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
            })
            .map(|raw| unfold(&String::from_utf8_lossy(raw)))
            .collect()
    }

    /// The Subject with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> Option<&'m str> {
        self.msg.subject()
    }

    /// The first address of From, lower-cased.
    pub fn from_address(&self) -> Option<String> {
        first_addr(self.msg.from()?).map(|(_, a)| a)
    }

    /// The display name of From, when one is given.
    pub fn from_name(&self) -> Option<String> {
        first_addr(self.msg.from()?).and_then(|(n, _)| n)
    }

    /// The Date header as an honest [`ObservedTime`]; `None` when absent or unreadable.
    pub fn date(&self) -> Option<ObservedTime> {
        parse_datetime(&self.header("Date")?).ok()
    }

    /// The top-level content type as lower-case `type/subtype` (`text/plain` when absent, per
    /// RFC 2045 §5.2).
    pub fn content_type(&self) -> String {
        self.root()
            .map(part_content_type)
            .unwrap_or_else(|| "text/plain".into())
    }

    /// A parameter of the top-level Content-Type (`report-type`, `boundary`).
    pub fn content_type_param(&self, name: &str) -> Option<&'m str> {
        let root = self.root()?;
        root.headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case("Content-Type"))
            .and_then(|h| match &h.value {
                HeaderValue::ContentType(ct) => ct.attribute(name),
                _ => None,
            })
    }

    /// The leaf parts in document order. A multipart is walked into; an attached message is a
    /// leaf (see [`Part::message`]). A message without MIME structure is one leaf, its body.
    pub fn leaves(&self) -> Vec<Part<'m>> {
        let mut out = Vec::new();
        let mut stack = vec![0u32];
        let mut visits = 0usize;
        while let Some(id) = stack.pop() {
            visits += 1;
            if visits > MAX_PARTS {
                break;
            }
            let Some(part) = self.msg.parts.get(id as usize) else {
                continue;
            };
            match &part.body {
                PartType::Multipart(children) => {
                    stack.extend(children.iter().rev().filter(|c| **c > id));
                }
                _ => out.push(Part {
                    part,
                    msg: self.msg,
                }),
            }
        }
        out
    }

    /// The first leaf whose content type is `ctype` (lower-case `type/subtype`).
    pub fn find_part(&self, ctype: &str) -> Option<Part<'m>> {
        self.leaves()
            .into_iter()
            .find(|p| p.content_type() == ctype)
    }

    /// The whole raw header block, for evidence excerpts.
    pub fn raw_header_block(&self) -> Cow<'m, str> {
        let Some(root) = self.root() else {
            return Cow::Borrowed("");
        };
        let end = (root.offset_body as usize).min(self.msg.raw_message.len());
        String::from_utf8_lossy(self.msg.raw_message.get(..end).unwrap_or_default())
    }
}

/// One leaf MIME part.
#[derive(Debug, Clone, Copy)]
pub struct Part<'m> {
    part: &'m MessagePart<'m>,
    msg: &'m Message<'m>,
}

impl<'m> Part<'m> {
    /// Lower-case `type/subtype`; `text/plain` when the part has no Content-Type.
    pub fn content_type(&self) -> String {
        part_content_type(self.part)
    }

    /// A header of the part (raw, unfolded), such as Content-Disposition.
    pub fn header(&self, name: &str) -> Option<String> {
        self.part
            .headers
            .iter()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .and_then(|h| {
                self.msg
                    .raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
            })
            .map(|raw| unfold(&String::from_utf8_lossy(raw)))
    }

    /// The decoded body (transfer encoding removed). For an attached message this is the
    /// message's raw bytes, headers included.
    pub fn bytes(&self) -> &'m [u8] {
        match &self.part.body {
            PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
            PartType::Binary(b) | PartType::InlineBinary(b) => b,
            // An unencoded attached message shares the outer buffer; its own root part's offsets
            // delimit it (`Message::raw_message` applies them, bounds-checked).
            PartType::Message(m) => m.raw_message(),
            PartType::Multipart(_) => &[],
        }
    }

    /// The decoded body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'m, str> {
        match &self.part.body {
            PartType::Text(t) | PartType::Html(t) => Cow::Borrowed(t.as_ref()),
            _ => String::from_utf8_lossy(self.bytes()),
        }
    }

    /// The attached message, when this part is a `message/rfc822` that `mail-parser` could read.
    pub fn message(&self) -> Option<MessageView<'m>> {
        match &self.part.body {
            PartType::Message(m) if !m.parts.is_empty() => Some(MessageView { msg: m }),
            _ => None,
        }
    }

    /// True when the part's body was empty or could not be decoded.
    pub fn is_empty(&self) -> bool {
        self.bytes().iter().all(|b| b.is_ascii_whitespace())
    }
}

fn part_content_type(part: &MessagePart<'_>) -> String {
    part.headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case("Content-Type"))
        .and_then(|h| match &h.value {
            HeaderValue::ContentType(ct) => Some(match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            }),
            _ => None,
        })
        .unwrap_or_else(|| "text/plain".into())
}

fn first_addr(addr: &Address<'_>) -> Option<(Option<String>, String)> {
    let a = addr.first()?;
    let email = a.address.as_deref()?.trim().to_ascii_lowercase();
    if email.is_empty() {
        return None;
    }
    let name = a
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Some((name, email))
}

/// Joins folded lines (RFC 5322 §2.2.3) and trims.
fn unfold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            let cont = line.trim_start();
            if cont.is_empty() {
                continue;
            }
            out.push(' ');
            out.push_str(cont);
        } else {
            out.push_str(line);
        }
    }
    out.trim().to_owned()
}

/// An RFC 5322 header block read field by field: the body of `message/feedback-report`
/// (RFC 5965 §3.1 says it is header-formatted), `text/rfc822-headers`, the head of an original
/// message, a legacy X-ARF report.
///
/// Tolerant like a feedback-loop consumer must be: lines that are not fields are skipped and
/// counted, not fatal. Bounded: lines over `limits.max_line` and more than [`MAX_FIELDS`]
/// fields are errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldBlock {
    fields: Vec<(String, String)>,
    skipped: usize,
}

impl FieldBlock {
    /// Reads fields from `bytes` up to the first empty line (the end of a header block).
    pub fn parse_head(
        bytes: &[u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, ParseError> {
        Self::read(bytes, limits, format, true)
    }

    /// Reads fields from all of `bytes`, skipping empty lines (some feedback loops put blank
    /// lines between feedback-report fields).
    pub fn parse_all(
        bytes: &[u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, ParseError> {
        Self::read(bytes, limits, format, false)
    }

    fn read(
        bytes: &[u8],
        limits: &Limits,
        format: &'static str,
        stop_at_blank: bool,
    ) -> Result<Self, ParseError> {
        let mut block = FieldBlock::default();
        // A mbox "From " line or a BOM before the first field is noise, not a field.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        for (n, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
            if raw_line.len() > limits.max_line {
                return Err(ParseError::limit(
                    format,
                    format!(
                        "header line {} is {} bytes, over the {} byte limit",
                        n + 1,
                        raw_line.len(),
                        limits.max_line
                    ),
                ));
            }
            let line = String::from_utf8_lossy(raw_line);
            let line = line.strip_suffix('\r').unwrap_or(&line);
            if line.trim().is_empty() {
                if stop_at_blank && !block.fields.is_empty() {
                    break;
                }
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match block.fields.last_mut() {
                    Some((_, value)) => {
                        if !value.is_empty() {
                            value.push(' ');
                        }
                        value.push_str(line.trim());
                    }
                    None => block.skipped += 1,
                }
                continue;
            }
            match line.split_once(':') {
                Some((name, value))
                    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    if block.fields.len() >= MAX_FIELDS {
                        return Err(ParseError::limit(
                            format,
                            format!("header block has more than {MAX_FIELDS} fields"),
                        ));
                    }
                    block
                        .fields
                        .push((name.to_owned(), value.trim().to_owned()));
                }
                _ => block.skipped += 1,
            }
        }
        Ok(block)
    }

    /// The first value of `name` (case-insensitive), when non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, v)| !v.is_empty() && n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All fields in order as (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of fields read.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when no field was read.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Number of lines that were neither fields nor continuations.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

/// ASCII case-insensitive substring search, for `sniff` functions that must stay cheap (no MIME
/// parse) and must not care how a reporter capitalised a header.
pub fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if haystack.len() < needle.len() {
        return false;
    }
    // Every registered format sniffs every input, so this runs often: find candidates for the
    // first byte (both cases) with memchr's vectorised search, then compare the rest.
    let last_start = haystack.len() - needle.len();
    let candidates = &haystack[..=last_start];
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lo, up, candidates)
        .any(|i| haystack[i + 1..i + needle.len()].eq_ignore_ascii_case(rest))
}

/// Reads an IP address in the spellings reports use: `192.0.2.1`, `[192.0.2.1]`,
/// `192.0.2.1 (mail.example.com)`, `IPv6:2001:db8::1`, `[IPv6:2001:db8::1]`, `2001:db8::1%eth0`
/// is refused (a zone index is local). IPv4-mapped IPv6 (`::ffff:192.0.2.1`) becomes the IPv4
/// address, which is what inventories hold.
pub fn ip_from_text(text: &str) -> Option<IpAddr> {
    let first = text.split_whitespace().next()?;
    let t = first.trim_matches(|c| matches!(c, '[' | ']' | '<' | '>' | '"' | ',' | ';'));
    let t = strip_prefix_ci(t, "ipv6:").unwrap_or(t);
    let t = t.trim_matches(|c| matches!(c, '[' | ']'));
    let ip: IpAddr = t.parse().ok()?;
    Some(canonical_ip(ip))
}

/// IPv4-mapped IPv6 addresses as IPv4; others unchanged.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The connecting client's address in a `Received` header value (RFC 5321 §4.4): the address
/// literal in the `from` clause, like `from mx.example (mx.example [192.0.2.1])`. Looks only
/// before ` by ` so the receiving host's own address is never taken.
pub fn received_from_ip(value: &str) -> Option<IpAddr> {
    let lower = value.to_ascii_lowercase();
    let from_clause = match lower.find(" by ") {
        Some(i) => &value[..i],
        None if lower.trim_start().starts_with("from") => value,
        None => return None,
    };
    // Prefer a bracketed literal, then any token that is an address.
    let mut rest = from_clause;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        if let Some(ip) = ip_from_text(&after[..close]) {
            return Some(ip);
        }
        rest = &after[close + 1..];
    }
    from_clause
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '=' | ';'))
        .find_map(|tok| {
            if tok.contains(['.', ':']) {
                ip_from_text(tok)
            } else {
                None
            }
        })
}

/// The addr-spec in `Name <local@domain>`, `<local@domain>` or `local@domain`, lower-cased; `None`
/// when there is no `@` (`<>` null senders included).
pub fn addr_spec(value: &str) -> Option<String> {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split_whitespace().find(|t| t.contains('@'))?,
    };
    let inner = inner.trim().trim_matches(|c| matches!(c, '"' | ',' | ';'));
    let (local, domain) = inner.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains(char::is_whitespace) {
        return None;
    }
    Some(inner.to_ascii_lowercase())
}

/// The domain part of an addr-spec.
pub fn domain_of(addr: &str) -> Option<&str> {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// The host of an `http(s)://` URL, lower-cased, without port or credentials.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if host.starts_with('[') {
        host.split(']').next().map(|h| h.trim_start_matches('['))?
    } else {
        host.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &[u8] = b"From: Abuse Desk <Abuse@Example.NET>\r\n\
Subject: =?utf-8?q?Spam_report?=\r\n\
Date: Thu, 5 Jan 2023 10:00:00 +0100\r\n\
X-Long: first\r\n\tsecond\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
\r\n\
human text\r\n\
--b1\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: abuse\r\n\
Source-IP: 192.0.2.1\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Received: from a.example (a.example [198.51.100.7]) by mx.example.net\r\n\
Subject: buy\r\n\
\r\n\
body\r\n\
--b1--\r\n";

    #[test]
    fn views_headers_and_parts() {
        let mail = Mail::parse(SIMPLE, &Limits::default(), "test").unwrap();
        let v = mail.view();
        assert_eq!(v.subject(), Some("Spam report"));
        assert_eq!(v.from_address().as_deref(), Some("abuse@example.net"));
        assert_eq!(v.from_name().as_deref(), Some("Abuse Desk"));
        assert_eq!(v.header("x-long").as_deref(), Some("first second"));
        assert_eq!(v.content_type(), "multipart/report");
        assert_eq!(v.content_type_param("report-type"), Some("feedback-report"));
        assert_eq!(
            v.date().unwrap().utc.to_rfc3339(),
            "2023-01-05T09:00:00+00:00"
        );
        let leaves = v.leaves();
        let types: Vec<_> = leaves.iter().map(|p| p.content_type()).collect();
        assert_eq!(
            types,
            ["text/plain", "message/feedback-report", "message/rfc822"]
        );
        let fb = FieldBlock::parse_all(leaves[1].bytes(), &Limits::default(), "test").unwrap();
        assert_eq!(fb.get("feedback-type"), Some("abuse"));
        let orig = leaves[2].message().unwrap();
        assert_eq!(orig.subject(), Some("buy"));
        let head = FieldBlock::parse_head(leaves[2].bytes(), &Limits::default(), "test").unwrap();
        assert_eq!(head.len(), 2, "{head:?}");
        let received = head.get("received").unwrap();
        assert_eq!(
            received_from_ip(received),
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn limits_are_enforced() {
        let small = Limits {
            max_input: 10,
            ..Limits::default()
        };
        assert_eq!(
            Mail::parse(SIMPLE, &small, "t").unwrap_err().kind,
            crate::ParseErrorKind::LimitExceeded
        );
        let shallow = Limits {
            max_depth: 1,
            ..Limits::default()
        };
        assert_eq!(
            Mail::parse(SIMPLE, &shallow, "t").unwrap_err().kind,
            crate::ParseErrorKind::LimitExceeded
        );
        let short = Limits {
            max_line: 8,
            ..Limits::default()
        };
        assert!(FieldBlock::parse_all(b"Feedback-Type: abuse\n", &short, "t").is_err());
        // Deep multipart nesting is refused, not walked.
        let mut deep = String::from("Content-Type: multipart/mixed; boundary=\"b0\"\n\n");
        for i in 0..40 {
            deep.push_str(&format!(
                "--b{i}\nContent-Type: multipart/mixed; boundary=\"b{}\"\n\n",
                i + 1
            ));
        }
        let err = Mail::parse(deep.as_bytes(), &Limits::default(), "t").unwrap_err();
        assert_eq!(err.kind, crate::ParseErrorKind::LimitExceeded, "{err}");
    }

    #[test]
    fn deep_attached_messages_are_refused_or_bounded() {
        // message/rfc822 inside message/rfc822, 2000 levels: a mail bomb shape.
        let mut msg = String::from("From: x@example.net\r\nSubject: inner\r\n\r\nbody\r\n");
        for _ in 0..2000 {
            msg = format!("From: x@example.net\r\nContent-Type: message/rfc822\r\n\r\n{msg}");
        }
        match Mail::parse(msg.as_bytes(), &Limits::default(), "t") {
            Err(e) => assert_eq!(e.kind, crate::ParseErrorKind::LimitExceeded, "{e}"),
            Ok(m) => assert!(m.view().leaves().len() <= MAX_PARTS),
        }
    }

    #[test]
    fn not_a_mail() {
        for bad in [
            &b""[..],
            b"\x00\x01\x02",
            b"{\"Version\":\"4\"}",
            b": no name\n",
        ] {
            assert!(Mail::parse(bad, &Limits::default(), "t").is_err());
        }
    }

    #[test]
    fn ip_spellings() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        for s in [
            "192.0.2.1",
            "[192.0.2.1]",
            "192.0.2.1 (mail.example.com)",
            "::ffff:192.0.2.1",
        ] {
            assert_eq!(ip_from_text(s), Some(v4), "{s}");
        }
        let v6: IpAddr = "2001:db8::25".parse().unwrap();
        for s in ["2001:db8::25", "[IPv6:2001:db8::25]", "IPv6:2001:db8::25"] {
            assert_eq!(ip_from_text(s), Some(v6), "{s}");
        }
        assert_eq!(ip_from_text("unknown"), None);
        assert_eq!(ip_from_text(""), None);
        assert_eq!(
            received_from_ip("from [IPv6:2001:db8::25] (helo) by mx.example ([203.0.113.9])"),
            Some(v6)
        );
        assert_eq!(received_from_ip("by mx.example with LMTP"), None);
        assert_eq!(
            received_from_ip("from localhost (127.0.0.1) by x"),
            Some("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ci(
            b"xx Message/Feedback-Report",
            b"message/feedback-report"
        ));
        assert!(!contains_ci(
            b"message/feedback",
            b"message/feedback-report"
        ));
        assert!(contains_ci(b"", b""));
        assert!(!contains_ci(b"", b"a"));
    }

    #[test]
    fn addresses_and_urls() {
        assert_eq!(
            addr_spec("Bob <Bob@Example.com>").as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(
            addr_spec("bob@example.com").as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(addr_spec("<>"), None);
        assert_eq!(domain_of("bob@example.com"), Some("example.com"));
        assert_eq!(
            url_host("http://user@Shop.Example:8080/x?y").as_deref(),
            Some("shop.example")
        );
        assert_eq!(
            url_host("https://[2001:db8::1]/p").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(url_host("not a url"), None);
    }

    proptest::proptest! {
        #[test]
        fn field_helpers_never_panic(s in "\\PC{0,120}") {
            let _ = ip_from_text(&s);
            let _ = received_from_ip(&s);
            let _ = addr_spec(&s);
            let _ = url_host(&s);
            let _ = contains_ci(s.as_bytes(), b"feedback");
            let _ = FieldBlock::parse_all(s.as_bytes(), &Limits::default(), "t");
        }

        #[test]
        fn mail_shaped_input_never_panics(s in "[A-Za-z-]{1,12}: [ -~]{0,40}\r?\n(--b\r?\n|[ -~]{0,40}\r?\n){0,20}") {
            if let Ok(m) = Mail::parse(s.as_bytes(), &Limits::default(), "t") {
                for p in m.view().leaves() {
                    let _ = (p.content_type(), p.text(), p.message().map(|v| v.raw_headers()));
                }
            }
        }
    }
}
