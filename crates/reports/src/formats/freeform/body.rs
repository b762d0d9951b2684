//! The parts of a mail the free-form parser reads: who sent it, when, its subject, and its text.
//!
//! The text is every inline text part (decoded from quoted-printable or base64 and converted
//! from its charset by mail-parser), HTML converted to text when there is no plain part, text
//! attachments (log excerpts are often attached as `.txt`) and the text of forwarded messages
//! down to `Limits::max_depth`. Everything is bounded: the total text, the length of a line.

use super::html::html_to_text;
use crate::formats::mail::Mail;
use crate::{Limits, ParseError};
use chrono::{DateTime, Utc};
use mail_parser::{Message, PartType};
use warden_model::Reporter;

/// Most text read from one mail, in bytes. Free-form reports are letters and log excerpts;
/// anything beyond this is noted and not scanned, so one huge attachment cannot cost minutes.
pub const MAX_TEXT: usize = 4 * 1024 * 1024;

/// Longest line scanned, in bytes (also bounded by `Limits::max_line`). Longer lines are cut
/// and the cut is noted: minified HTML or base64 junk has no report in it worth the time.
pub const MAX_LINE: usize = 16 * 1024;

/// What the parser needs from a mail.
#[derive(Debug, Clone, Default)]
pub struct MailText {
    /// The Subject header, unfolded and decoded (RFC 2047).
    pub subject: String,
    /// Who sent the report: From (name and address), Reply-To preferred as the contact.
    pub reporter: Reporter,
    /// The Date header in UTC (RFC 5322 section 3.6.1).
    pub date: Option<DateTime<Utc>>,
    /// The text to scan, parts separated by blank lines, lines cut to [`MAX_LINE`].
    pub text: String,
    /// What was left out and why (limits hit, parts skipped), for the events' `extra`.
    pub notes: Vec<String>,
    /// The likely origin of each attached (forwarded) message, from its `Received` chain.
    pub forwarded: Vec<ForwardedOrigin>,
}

/// Where a forwarded message (a spam attached as `message/rfc822` by a person who is not using
/// ARF) most likely came from: the first public client address in its `Received` chain, read
/// top-down (RFC 5321 section 4.4: each relay prepends its own line, so the top lines are the
/// recipient's own trusted relays and lower lines can be forged by the sender).
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardedOrigin {
    /// The client address of that `Received` line.
    pub ip: std::net::IpAddr,
    /// The time the receiving relay stamped on that line.
    pub time: Option<DateTime<Utc>>,
    /// The line, shortened, for the evidence.
    pub excerpt: String,
}

/// Reads a mail. A leading mbox `From ` line is skipped (single messages saved from mail
/// clients often keep it).
pub fn read_mail(input: &[u8], limits: &Limits) -> Result<MailText, ParseError> {
    // The shared MIME layer checks what mail-parser does not: nesting depth, part count, a real
    // header line first. Its view hides the text/HTML alternative structure this reader needs,
    // so the (fast) parse is done once more here.
    Mail::parse(input, limits, "freeform")?;
    let input = skip_mbox_from_line(input);
    let message = crate::formats::mail::parse_mime(input).ok_or_else(|| {
        ParseError::malformed(
            "freeform",
            "input is not an RFC 5322 mail (no header block found)",
        )
    })?;
    let mut mail = MailText {
        subject: message.subject().unwrap_or("").to_owned(),
        reporter: reporter(&message),
        date: message
            .date()
            .filter(|d| d.is_valid())
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        ..MailText::default()
    };
    let max_line = limits.max_line.clamp(64, MAX_LINE);
    let mut collector = Collector {
        text: String::new(),
        notes: Vec::new(),
        forwarded: Vec::new(),
        max_line,
        full: false,
    };
    collect(&message, 0, limits.max_depth, &mut collector);
    mail.text = collector.text;
    mail.notes = collector.notes;
    mail.forwarded = collector.forwarded;
    Ok(mail)
}

fn skip_mbox_from_line(input: &[u8]) -> &[u8] {
    if input.starts_with(b"From ")
        && let Some(nl) = input.iter().position(|&b| b == b'\n')
    {
        return input.get(nl + 1..).unwrap_or(&[]);
    }
    input
}

fn reporter(message: &Message<'_>) -> Reporter {
    let from = message.from().and_then(|a| a.first());
    let reply_to = message.reply_to().and_then(|a| a.first());
    let email = reply_to
        .and_then(|a| a.address())
        .or_else(|| from.and_then(|a| a.address()))
        .map(str::to_lowercase);
    let domain = from
        .and_then(|a| a.address())
        .or(email.as_deref())
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| d.to_lowercase());
    Reporter {
        org: from.and_then(|a| a.name()).map(str::to_owned),
        email,
        domain,
    }
}

struct Collector {
    text: String,
    notes: Vec<String>,
    forwarded: Vec<ForwardedOrigin>,
    max_line: usize,
    full: bool,
}

impl Collector {
    fn push(&mut self, part_text: &str) {
        if self.full {
            return;
        }
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
        let mut cut_lines = 0usize;
        for line in part_text.lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = if line.len() > self.max_line {
                cut_lines += 1;
                let mut end = self.max_line;
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                &line[..end]
            } else {
                line
            };
            if self.text.len() + line.len() + 1 > MAX_TEXT {
                self.full = true;
                self.notes.push(format!(
                    "text after the first {MAX_TEXT} bytes was not scanned"
                ));
                break;
            }
            self.text.push_str(line);
            self.text.push('\n');
        }
        if cut_lines > 0 {
            self.notes.push(format!(
                "{cut_lines} line(s) longer than {} bytes were cut",
                self.max_line
            ));
        }
    }
}

fn collect(message: &Message<'_>, depth: usize, max_depth: usize, out: &mut Collector) {
    if depth > max_depth {
        out.notes.push(format!(
            "forwarded messages nested deeper than {max_depth} were skipped"
        ));
        return;
    }
    let plain: Vec<&PartType<'_>> = message
        .text_body
        .iter()
        .filter_map(|&i| message.parts.get(i as usize))
        .map(|p| &p.body)
        .collect();
    let html_only = plain.iter().all(|b| matches!(b, PartType::Html(_)));
    for body in plain {
        match body {
            PartType::Text(t) => out.push(t),
            PartType::Html(h) if html_only => out.push(&html_to_text(h)),
            _ => {}
        }
    }
    for &i in &message.attachments {
        let Some(part) = message.parts.get(i as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(t) => out.push(t),
            PartType::Html(h) => out.push(&html_to_text(h)),
            PartType::Message(inner) => {
                if let Some(origin) = forwarded_origin(inner) {
                    out.forwarded.push(origin);
                }
                collect(inner, depth + 1, max_depth, out);
            }
            _ => {}
        }
    }
}

/// Most `Received` lines read from one forwarded message; real chains have under 20.
const MAX_RECEIVED: usize = 50;

fn forwarded_origin(message: &Message<'_>) -> Option<ForwardedOrigin> {
    message
        .received_all()
        .take(MAX_RECEIVED)
        .find_map(|received| {
            let ip = received.from_ip()?;
            if super::report::not_a_subject(ip).is_some() {
                return None;
            }
            let time = received
                .date()
                .filter(|d| d.is_valid())
                .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0));
            let from = received.from().map(|h| h.to_string()).unwrap_or_default();
            let by = received
                .by
                .as_ref()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let excerpt: String = format!("Received: from {from} [{ip}] by {by}")
                .chars()
                .take(300)
                .collect();
            Some(ForwardedOrigin { ip, time, excerpt })
        })
}
