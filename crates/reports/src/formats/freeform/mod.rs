//! Free-form abuse mail: letters written by people and mails sent by log-mailing scripts
//! (fail2ban, DenyHosts, cPanel/CSF `lfd`), in any language, in plain text or HTML.
//!
//! This is the fallback for mail: it claims anything that looks like an RFC 5322 message with the
//! lowest score of the mail formats, so ARF, X-ARF and SpamCop win whenever they recognise their
//! own. It reads the text (see [`body`]), finds addresses, ports, URLs, domains and times with the
//! role the words give them ([`extract`], [`times`]), classifies the mail from cue words
//! ([`classify`]) and makes one event per distinct subject ([`report`]): every source address,
//! or, when the mail names none, every URL, else every domain. Each event carries a confidence
//! and, in `extra`, the reasons for it (`subject_cue`, `port_from`, `time_from`, `class_cues`,
//! `confidence_reason`), so an analyst can see why the parser decided what it did.
//!
//! # What an event says, and how sure it is
//!
//! `confidence` is the subject's certainty times a class factor (`0.6 + 0.4 × class
//! confidence`). The subject's certainty: 0.9 for an address after a source cue (`from`,
//! `SRC=`, `Quelle`, a `Source IP` column); 0.75 for an address opening a log line; 0.6 for an
//! address nothing qualifies (0.45 when other addresses in the same mail are stated sources);
//! 0.85/0.7 for a defanged/plain URL; 0.7/0.4 for a defanged/plain domain; 0.4 for an e-mail
//! address. A guessed year or day/month order takes 0.05 off, a time that is only "the report's
//! only time" 0.1.
//!
//! Stable `extra` keys (present when they apply):
//!
//! | key | meaning |
//! |---|---|
//! | `subject_role` | `source` or `unstated` |
//! | `subject_cue` | the words that gave the role (`from`, `src`, `column "Source IP"`, `Received chain of a forwarded message`) |
//! | `port_from` | where the port came from (`written onto the address`, `"SPT" on the same line`) |
//! | `time_from` | `same line`, `same paragraph`, `only time in the report` or `Received header` |
//! | `time_note` | a guess about the time: inferred year, ambiguous day/month, zone from a heading |
//! | `observations` | how many times the subject was named |
//! | `first_seen`, `last_seen` | RFC 3339, when the subject's times differ |
//! | `class_cues`, `class_confidence` | the cue words found and the class's own confidence |
//! | `confidence_reason` | all of the above in one sentence |
//! | `destination_ips` | addresses named as destinations (the reporter's machines), up to 10 |
//! | `skipped_ips` | non-public addresses seen and why they were skipped, up to 10 |
//! | `urls` | URLs in a mail whose subjects are addresses, up to 10 |
//! | `defanged` | `true` when the reporter defanged the subject |
//! | `mail_subject` | the Subject header, up to 200 characters |
//! | `limits` | what was not read because a limit was hit |
//!
//! A forwarded message (a spam attached by a person, not by an ARF tool) gives its origin: the
//! first public client address of its `Received` chain, used when the reporter's own words name
//! no source.
//!
//! Known gaps: a forwarded message pasted inline (not attached) is read as text only; quoted
//! reply text is read like any other; ambiguous abbreviations (`IST`) are not
//! read as zones; a time written before its date (`03:14 UTC on 20 Nov`) keeps only the date.

pub mod body;
pub mod classify;
mod cues;
pub mod extract;
mod fallback;
pub mod html;
mod pairing;
pub mod report;
pub mod table;
pub mod times;

use crate::registry::Format;
use crate::{Limits, ParseError, Record};
use warden_model::sha256_hex;

/// Registry entry.
pub const FORMAT: Format = Format {
    name: "freeform",
    sniff,
    parse,
};

/// The score for anything that looks like a mail: low, so every specific mail format (which
/// should score 50 or more) wins, but above zero so that no mail goes unparsed.
pub const SNIFF_SCORE: u8 = 10;

/// Header names that only a mail has; one of them must be present among the first headers.
const MAIL_HEADERS: &[&str] = &[
    "from",
    "date",
    "subject",
    "received",
    "message-id",
    "return-path",
    "to",
    "mime-version",
];

/// Whether `input` looks like an RFC 5322 message (section 2.2: header fields `name: value`,
/// then an empty line): at least two header fields in the first 64 KiB, one a mail header.
pub fn sniff(input: &[u8]) -> u8 {
    let head = input.get(..input.len().min(64 * 1024)).unwrap_or(input);
    let mut lines = head.split(|&b| b == b'\n');
    let mut first = true;
    let mut fields = 0usize;
    let mut mail_field = false;
    for raw in lines.by_ref() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if first && line.starts_with(b"From ") {
            // mbox separator line of a single saved message
            first = false;
            continue;
        }
        first = false;
        if line.is_empty() {
            break;
        }
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            // folded continuation (RFC 5322 section 2.2.3)
            if fields == 0 {
                return 0;
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return 0;
        };
        let name = &line[..colon];
        // RFC 5322 section 3.6.8: field names are printable ASCII without colon or space.
        if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
            return 0;
        }
        fields += 1;
        let lower = name.to_ascii_lowercase();
        if MAIL_HEADERS
            .iter()
            .any(|h| h.as_bytes() == lower.as_slice())
        {
            mail_field = true;
        }
    }
    if fields >= 2 && mail_field {
        SNIFF_SCORE
    } else {
        0
    }
}

/// Parses a free-form mail into one event per distinct subject.
///
/// Errors: the input is over `limits.max_input`; it is not a mail; or it names no address, URL,
/// domain or (for spam, phishing, fraud) e-mail address, so there is nothing to act on: such a
/// mail belongs in the quarantine with this reason (DESIGN.md rule 3).
pub fn parse(input: &[u8], limits: &Limits) -> Result<Vec<Record>, ParseError> {
    if input.len() > limits.max_input {
        return Err(ParseError::limit(
            "freeform",
            format!(
                "mail is {} bytes, over the {} byte limit",
                input.len(),
                limits.max_input
            ),
        ));
    }
    let mail = body::read_mail(input, limits)?;
    let events = report::events(&mail, &sha256_hex(input), limits);
    if events.is_empty() {
        return Err(ParseError::missing(
            "freeform",
            format!(
                "mail {:?} names no public IP address, URL, domain or abusive e-mail address \
                 to act on; an analyst should read it",
                mail.subject.chars().take(80).collect::<String>()
            ),
        ));
    }
    Ok(events.into_iter().map(Record::from).collect())
}
