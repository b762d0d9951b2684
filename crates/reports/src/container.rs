//! Mail containers: splitting an mbox file into its messages, purely, with every oddity of real
//! mailboxes reported rather than hidden.
//!
//! Why this is its own module: abuse desks export their abuse@ folder as mbox, and reporters
//! attach mbox files with many reports. The mbox family (RFC 4155; mboxo, mboxrd, mboxcl) has no
//! single definition:
//!
//! - a message starts at a `From ` line (the "From_" line: `From sender asctime-date`) at the
//!   start of the file or after an empty line;
//! - body lines that begin with `From ` are quoted as `>From ` by the writer. mboxrd also quotes
//!   `>From ` as `>>From `, so reading removes one `>` from any `>...>From ` line; mboxo quotes
//!   only `From `, so reading removes the `>` of `>From ` alone ([`MboxFlavor`]);
//! - mboxcl writers add `Content-Length:` and may leave `From ` unquoted. This splitter never
//!   trusts Content-Length for framing (it is often wrong after edits); it uses it only to say a
//!   final message was cut short.
//!
//! What real files add, and how it is handled: CRLF line ends (kept, mail parsers read both);
//! junk before the first message and binary junk (NUL padding left by crashed mail clients)
//! between messages, skipped and reported as [`SkippedRegion`]; a last message cut off by a full
//! disk or an interrupted copy, kept and flagged [`MboxMessage::truncated`].

use crate::{Limits, ParseError, Record, registry};
use std::borrow::Cow;

/// Which quoting convention the mbox writer used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MboxFlavor {
    /// mboxrd: `>*From ` lines lose one `>`. The right reading for mboxrd files, and for mboxo
    /// files it differs only on lines that began `>From ` in the original, which are rare.
    #[default]
    Mboxrd,
    /// mboxo: only `>From ` loses its `>`; `>>From ` stays as it is.
    Mboxo,
}

/// One message of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage<'a> {
    /// Byte offset of the message's `From ` line in the file (for evidence and re-runs).
    pub offset: usize,
    /// The `From ` line without its line end (lossy UTF-8, at most 1000 characters).
    pub from_line: String,
    /// The message bytes, `From ` line removed, quoting undone, the separating empty line
    /// removed. Borrowed from the input when nothing had to be unquoted.
    pub data: Cow<'a, [u8]>,
    /// Why the message looks cut short, when it does (only the last message can be).
    pub truncated: Option<String>,
}

/// A part of the file that is not a message, skipped and said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRegion {
    /// Byte offset in the file.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// The result of splitting a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mailbox<'a> {
    /// The messages, in file order.
    pub messages: Vec<MboxMessage<'a>>,
    /// What was skipped: junk before the first message, binary junk between messages.
    pub skipped: Vec<SkippedRegion>,
}

/// Whether `input` starts like an mbox file: a `From ` separator line first (after optional
/// NUL padding) followed by a header field.
pub fn looks_like_mbox(input: &[u8]) -> bool {
    let start = input.iter().take_while(|&&b| b == 0).count();
    let rest = input.get(start..).unwrap_or(&[]);
    let first = rest.split(|&b| b == b'\n').next().unwrap_or(&[]);
    is_separator(strip_cr(first), true)
}

/// Splits an mbox file into messages. Pure: no I/O.
///
/// An empty file is an empty mailbox. A file with no `From ` separator at all is not an mbox and
/// is an error (it may be a single message; parse it as such). Limits: the input size
/// (`max_input`), the number of messages (`max_records`) and the longest line (`max_line`).
pub fn split_mbox<'a>(
    input: &'a [u8],
    flavor: MboxFlavor,
    limits: &Limits,
) -> Result<Mailbox<'a>, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            "mbox",
            format!(
                "mbox is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    let mut mailbox = Mailbox::default();
    if input.iter().all(u8::is_ascii_whitespace) {
        return Ok(mailbox);
    }
    // Pass 1: find the separator lines.
    let mut separators: Vec<(usize, usize)> = Vec::new(); // (line start, content start)
    let mut prev_blank = true;
    let mut prev_junk = false;
    let mut pos = 0usize;
    while pos < input.len() {
        let end = input
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'\n'));
        let next = end.map_or(input.len(), |e| pos + e + 1);
        let raw = input
            .get(pos..end.map_or(input.len(), |e| pos + e))
            .unwrap_or(&[]);
        if raw.len() > limits.max_line {
            return Err(ParseError::limit(
                "mbox",
                format!(
                    "line at byte {pos} is {} bytes, over the {} byte line limit",
                    raw.len(),
                    limits.max_line
                ),
            ));
        }
        let line = strip_cr(raw);
        let nuls = line.iter().take_while(|&&b| b == 0).count();
        let candidate = line.get(nuls..).unwrap_or(&[]);
        // A separator is followed by a header field; a body line that merely begins with
        // `From ` and a time (`From 03:14 to 03:20 ...`) is not.
        if is_separator(
            candidate,
            prev_blank || prev_junk || nuls > 0 || separators.is_empty(),
        ) && starts_with_header(input.get(next..).unwrap_or(&[]))
        {
            if separators.len() >= limits.max_records {
                return Err(ParseError::limit(
                    "mbox",
                    format!("mbox has more than {} messages", limits.max_records),
                ));
            }
            separators.push((pos + nuls, next));
        }
        prev_blank = line.is_empty();
        prev_junk = is_junk_line(line);
        pos = next;
    }
    let Some(&(first, _)) = separators.first() else {
        return Err(ParseError::malformed(
            "mbox",
            "no `From ` separator line found: this is not an mbox file (if it is one message, \
             parse it as a single mail)",
        ));
    };
    if first > 0 {
        let lead = input.get(..first).unwrap_or(&[]);
        if !lead.iter().all(|&b| b == 0 || b.is_ascii_whitespace()) {
            mailbox.skipped.push(SkippedRegion {
                offset: 0,
                len: first,
                reason: "text before the first `From ` line".into(),
            });
        }
    }
    // Pass 2: cut the messages.
    for (i, &(sep, content)) in separators.iter().enumerate() {
        let is_last = i + 1 == separators.len();
        let end = separators.get(i + 1).map_or(input.len(), |&(next, _)| next);
        let from_raw = input.get(sep..content).unwrap_or(&[]);
        let from_line: String =
            String::from_utf8_lossy(strip_cr(from_raw.strip_suffix(b"\n").unwrap_or(from_raw)))
                .chars()
                .take(1000)
                .collect();
        let body = input.get(content..end.max(content)).unwrap_or(&[]);
        let (body, junk) = split_trailing_junk(body);
        if let Some(junk_len) = junk {
            mailbox.skipped.push(SkippedRegion {
                offset: content + body.len(),
                len: junk_len,
                reason: "binary junk (NUL padding or control bytes) after a message".into(),
            });
        }
        let mut truncated = None;
        if is_last {
            truncated = truncation(body);
        }
        let body = if truncated.is_none() {
            drop_separator_blank(body)
        } else {
            body
        };
        if !starts_with_header(body) {
            mailbox.skipped.push(SkippedRegion {
                offset: sep,
                len: content - sep + body.len(),
                reason: "a `From ` line not followed by a mail header".into(),
            });
            continue;
        }
        mailbox.messages.push(MboxMessage {
            offset: sep,
            from_line,
            data: unquote(body, flavor),
            truncated,
        });
    }
    Ok(mailbox)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A `From ` separator: `From ` then a sender token then a date with a time of day
/// (`Tue Nov 24 04:35:00 2026`, or the ISO-ish dates some tools write). A body line that begins
/// `From ` and was left unquoted by a careless writer rarely has a time in it; when it is not
/// after an empty line it must also have a year and a weekday or month name.
fn is_separator(line: &[u8], after_blank: bool) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let text = String::from_utf8_lossy(rest);
    let mut tokens = text.split_whitespace();
    let Some(_sender) = tokens.next() else {
        return false;
    };
    let date: Vec<&str> = tokens.collect();
    if date.is_empty() {
        return false;
    }
    let has_time = date.iter().any(|t| {
        let parts: Vec<&str> = t.split(':').collect();
        parts.len() >= 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if !has_time {
        return false;
    }
    if after_blank {
        return true;
    }
    const NAMES: &[&str] = &[
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let has_year = date
        .iter()
        .any(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()));
    let has_name = date.iter().any(|t| NAMES.contains(t));
    has_year && has_name
}

/// Lines that are binary junk: NUL or other control bytes, or not UTF-8.
fn is_junk_line(line: &[u8]) -> bool {
    !line.is_empty()
        && (line
            .iter()
            .any(|&b| b == 0 || (b < 0x20 && b != b'\t') || b == 0x7f)
            || std::str::from_utf8(line).is_err())
}

/// Splits off the trailing lines of a message that are binary junk (after its last empty line).
fn split_trailing_junk(body: &[u8]) -> (&[u8], Option<usize>) {
    let mut keep = body.len();
    loop {
        let head = body.get(..keep).unwrap_or(&[]);
        let without_nl = head.strip_suffix(b"\n").unwrap_or(head);
        let start = without_nl
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line = strip_cr(without_nl.get(start..).unwrap_or(&[]));
        if keep == 0 || !is_junk_line(line) {
            break;
        }
        keep = start;
    }
    if keep < body.len() {
        (body.get(..keep).unwrap_or(&[]), Some(body.len() - keep))
    } else {
        (body, None)
    }
}

/// The empty line that ends each message (RFC 4155 appendix A) belongs to the container.
fn drop_separator_blank(body: &[u8]) -> &[u8] {
    if let Some(b) = body.strip_suffix(b"\r\n\r\n") {
        return body.get(..b.len() + 2).unwrap_or(body);
    }
    if let Some(b) = body.strip_suffix(b"\n\n") {
        return body.get(..b.len() + 1).unwrap_or(body);
    }
    body
}

fn starts_with_header(body: &[u8]) -> bool {
    let first = strip_cr(body.split(|&b| b == b'\n').next().unwrap_or(&[]));
    match first.iter().position(|&b| b == b':') {
        Some(colon) => {
            let name = first.get(..colon).unwrap_or(&[]);
            !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b))
        }
        None => false,
    }
}

/// Signs that the last message was cut off: no final line end, a header block that never
/// ends, or a body shorter than its own Content-Length (mboxcl).
fn truncation(body: &[u8]) -> Option<String> {
    let header_end = find(body, b"\n\n").or_else(|| find(body, b"\n\r\n"));
    if header_end.is_none() {
        return Some(
            "the header block has no end (no empty line): the file ends inside the headers".into(),
        );
    }
    if !body.ends_with(b"\n") {
        return Some("the file ends in the middle of a line".into());
    }
    let header_end = header_end.unwrap_or(0);
    let headers = String::from_utf8_lossy(body.get(..header_end).unwrap_or(&[]));
    let declared = headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let body_start = body.get(header_end..).map_or(body.len(), |r| {
        header_end
            + r.iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count()
                .min(4)
    });
    let actual = body.len().saturating_sub(body_start);
    match declared {
        Some(n) if actual < n => Some(format!(
            "the body has {actual} bytes but its Content-Length header says {n}"
        )),
        _ => None,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Undoes `From ` quoting. Borrowed when no line needed it.
fn unquote(body: &[u8], flavor: MboxFlavor) -> Cow<'_, [u8]> {
    let quoted = |line: &[u8]| -> bool {
        match flavor {
            MboxFlavor::Mboxrd => {
                let gt = line.iter().take_while(|&&b| b == b'>').count();
                gt > 0 && line.get(gt..).is_some_and(|r| r.starts_with(b"From "))
            }
            MboxFlavor::Mboxo => line.starts_with(b">From "),
        }
    };
    if !body.split(|&b| b == b'\n').any(quoted) {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len());
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(if quoted(line) {
            line.get(1..).unwrap_or(&[])
        } else {
            line
        });
    }
    Cow::Owned(out)
}

/// The outcome of parsing one message of a mailbox.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageOutcome {
    /// Position of the message in the mailbox, from 0.
    pub index: usize,
    /// Byte offset of its `From ` line.
    pub offset: usize,
    /// Why it looks cut short, when it does.
    pub truncated: Option<String>,
    /// Its records, or why it could not be parsed (it then belongs in the quarantine).
    pub result: Result<Vec<Record>, ParseError>,
}

/// Splits a mailbox and parses every message with the format registry, one outcome per
/// message, so one bad message never hides the others. Errors only when the file itself is not
/// a readable mbox.
pub fn parse_mbox(input: &[u8], limits: &Limits) -> Result<Vec<MessageOutcome>, ParseError> {
    let mailbox = split_mbox(input, MboxFlavor::Mboxrd, limits)?;
    Ok(mailbox
        .messages
        .iter()
        .enumerate()
        .map(|(index, m)| MessageOutcome {
            index,
            offset: m.offset,
            truncated: m.truncated.clone(),
            result: registry::parse_with(&m.data, limits),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Mailbox<'_> {
        split_mbox(input, MboxFlavor::Mboxrd, &Limits::default()).unwrap()
    }

    #[test]
    fn two_messages_and_quoting() {
        let input = b"From a@example.org Tue Nov 24 04:35:00 2026\nSubject: one\n\n>From here\n>>From there\n\nFrom b@example.org Tue Nov 24 04:36:00 2026\nSubject: two\n\nbody\n";
        let mb = split(input);
        assert_eq!(mb.messages.len(), 2);
        assert_eq!(
            &*mb.messages[0].data,
            b"Subject: one\n\nFrom here\n>From there\n"
        );
        assert_eq!(&*mb.messages[1].data, b"Subject: two\n\nbody\n");
        assert!(matches!(mb.messages[1].data, Cow::Borrowed(_)));
        let mbo = split_mbox(input, MboxFlavor::Mboxo, &Limits::default()).unwrap();
        assert_eq!(
            &*mbo.messages[0].data,
            b"Subject: one\n\nFrom here\n>>From there\n"
        );
    }

    #[test]
    fn body_from_without_time_is_not_a_separator() {
        let input = b"From a@example.org Tue Nov 24 04:35:00 2026\nSubject: one\n\nFrom the desk of the abuse team\n";
        let mb = split(input);
        assert_eq!(mb.messages.len(), 1);
        assert!(
            mb.messages[0]
                .data
                .ends_with(b"From the desk of the abuse team\n")
        );
    }

    #[test]
    fn empty_and_not_mbox() {
        assert!(split(b"").messages.is_empty());
        assert!(split(b"\n\r\n").messages.is_empty());
        let err = split_mbox(
            b"Subject: x\n\nhello\n",
            MboxFlavor::Mboxrd,
            &Limits::default(),
        );
        assert!(err.is_err());
    }

    #[test]
    fn truncated_last_message() {
        let mb = split(b"From a Tue Nov 24 04:35:00 2026\nSubject: one\n\npartial li");
        assert!(
            mb.messages[0]
                .truncated
                .as_deref()
                .unwrap()
                .contains("middle of a line")
        );
        let mb = split(b"From a Tue Nov 24 04:35:00 2026\nSubject: one\nFrom: x@example.org\n");
        assert!(
            mb.messages[0]
                .truncated
                .as_deref()
                .unwrap()
                .contains("header")
        );
        let mb =
            split(b"From a Tue Nov 24 04:35:00 2026\nSubject: one\nContent-Length: 100\n\nshort\n");
        assert!(
            mb.messages[0]
                .truncated
                .as_deref()
                .unwrap()
                .contains("Content-Length")
        );
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_records: 1,
            ..Limits::default()
        };
        let input = b"From a Tue Nov 24 04:35:00 2026\nS: 1\n\nx\n\nFrom b Tue Nov 24 04:35:00 2026\nS: 2\n\ny\n";
        assert!(split_mbox(input, MboxFlavor::Mboxrd, &limits).is_err());
        let limits = Limits {
            max_line: 10,
            ..Limits::default()
        };
        assert!(split_mbox(input, MboxFlavor::Mboxrd, &limits).is_err());
    }
}
