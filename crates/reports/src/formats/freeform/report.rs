//! Turns a mail's text into events: scans every line, pairs each address with the time and port
//! of its own line (or table row, or failing that its paragraph), drops the victims, and makes
//! one event per distinct subject with a confidence and the reasons for it.

use super::body::MailText;
use super::classify::{Classification, classify};
use super::extract::{
    IpMention, LineItems, MAX_ITEMS_PER_LINE, Role, TableHeader, scan_line, table_header,
};
use super::fallback::{forwarded_events, url_or_domain_events};
use super::pairing::{paragraph_port, port_for, single_time, time_for};
use super::times::{FoundTime, TimeContext, find_times};
use crate::Limits;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use warden_model::{AbuseEvent, Evidence, Protocol, SourceFormat};

/// Most address mentions examined in one mail. A report listing more is a feed, and should be
/// sent as one; the rest is noted, not silently dropped.
pub const MAX_MENTIONS: usize = 50_000;

/// Most events made from one mail (also bounded by `Limits::max_records`).
pub const MAX_SUBJECTS: usize = 5_000;

/// Most lines examined.
pub const MAX_LINES: usize = 200_000;

/// One scanned line of the mail's text.
pub(super) struct Line<'a> {
    pub(super) text: &'a str,
    pub(super) paragraph: usize,
    pub(super) items: LineItems,
    pub(super) times: Vec<FoundTime>,
}

/// One sighting of an address, with what its line says about it.
struct Sighting<'a> {
    mention: IpMention,
    line: usize,
    port: Option<(u16, String)>,
    time: Option<(FoundTime, &'static str, usize)>,
    protocol: Option<Protocol>,
    text: &'a str,
}

/// Builds the events of one mail. `sha256` is the hash of the raw input for the evidence.
pub fn events(mail: &MailText, sha256: &str, limits: &Limits) -> Vec<AbuseEvent> {
    let ctx = TimeContext {
        reference: mail.date,
    };
    let mut notes = mail.notes.clone();
    // The Subject line is scanned as a paragraph of its own: script mails put the address there
    // (`[Fail2Ban] sshd: banned 198.51.100.2`, `lfd: Port Scan detected from ...`).
    let text = format!(
        "{}\n\n{}",
        mail.subject.replace(['\r', '\n'], " "),
        mail.text
    );
    let lines = scan_lines(&text, &ctx, &mut notes);
    let class = classify(&mail.subject, &mail.text);

    let victims: BTreeSet<IpAddr> = lines
        .iter()
        .flat_map(|l| &l.items.ips)
        .filter(|m| m.role == Role::Destination)
        .map(|m| m.ip)
        .collect();
    let stated_sources = lines
        .iter()
        .flat_map(|l| &l.items.ips)
        .any(|m| m.role == Role::Source);
    let only_time = single_time(&lines);

    let mut sightings: Vec<Sighting<'_>> = Vec::new();
    let mut skipped: BTreeMap<IpAddr, &'static str> = BTreeMap::new();
    let mut mentions = 0usize;
    'lines: for (index, line) in lines.iter().enumerate() {
        for mention in &line.items.ips {
            mentions += 1;
            if mentions > MAX_MENTIONS {
                notes.push(format!(
                    "only the first {MAX_MENTIONS} address mentions were examined"
                ));
                break 'lines;
            }
            if let Some(reason) = not_a_subject(mention.ip) {
                skipped.insert(mention.ip, reason);
                continue;
            }
            if mention.role == Role::Destination {
                continue;
            }
            if mention.role == Role::Unstated && victims.contains(&mention.ip) {
                // Named as a destination elsewhere and never as a source: the reporter's host.
                continue;
            }
            sightings.push(Sighting {
                port: port_for(mention, &line.items)
                    .or_else(|| paragraph_port(mention, index, &lines)),
                time: time_for(mention, index, &lines, only_time.as_ref()),
                protocol: protocol_in(line.text),
                mention: mention.clone(),
                line: index,
                text: line.text,
            });
        }
    }

    let max_subjects = limits.max_records.min(MAX_SUBJECTS);
    let mut out = Vec::new();
    let mut by_ip: BTreeMap<IpAddr, Vec<&Sighting<'_>>> = BTreeMap::new();
    let mut order: Vec<IpAddr> = Vec::new();
    for s in &sightings {
        let entry = by_ip.entry(s.mention.ip).or_default();
        if entry.is_empty() {
            order.push(s.mention.ip);
        }
        entry.push(s);
    }
    if order.len() > max_subjects {
        notes.push(format!(
            "{} addresses named; events made for the first {max_subjects}",
            order.len()
        ));
        order.truncate(max_subjects);
    }
    let urls = all_urls(&lines);
    // A forwarded message's Received chain beats addresses merely mentioned in text (often in
    // the forwarded spam's own body); a stated source in the reporter's words beats both.
    if !stated_sources && !mail.forwarded.is_empty() {
        order.clear();
    }
    for ip in &order {
        let Some(group) = by_ip.get(ip) else { continue };
        let mut event = ip_event(mail, sha256, &class, group, &lines, stated_sources);
        if !urls.is_empty() {
            event.extra.insert(
                "urls".into(),
                urls.iter().take(10).cloned().collect::<Vec<_>>().join(" "),
            );
        }
        out.push(event);
    }
    if out.is_empty() {
        out = forwarded_events(mail, sha256, &class, max_subjects);
        for event in &mut out {
            if !urls.is_empty() {
                let list: Vec<String> = urls.iter().take(10).cloned().collect();
                event.extra.insert("urls".into(), list.join(" "));
            }
        }
    }
    if out.is_empty() {
        out = url_or_domain_events(
            mail,
            sha256,
            &class,
            &lines,
            only_time.as_ref(),
            max_subjects,
        );
    }
    for event in &mut out {
        if !victims.is_empty() {
            let v: Vec<String> = victims.iter().take(10).map(IpAddr::to_string).collect();
            event.extra.insert("destination_ips".into(), v.join(" "));
        }
        if !skipped.is_empty() {
            let s: Vec<String> = skipped
                .iter()
                .take(10)
                .map(|(ip, why)| format!("{ip} ({why})"))
                .collect();
            event.extra.insert("skipped_ips".into(), s.join(", "));
        }
        if !notes.is_empty() {
            event.extra.insert("limits".into(), notes.join("; "));
        }
    }
    out.into_iter().map(AbuseEvent::finish).collect()
}

fn scan_lines<'a>(text: &'a str, ctx: &TimeContext, notes: &mut Vec<String>) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut paragraph = 0usize;
    let mut table: Option<TableHeader> = None;
    for (n, text) in text.lines().enumerate() {
        if n >= MAX_LINES {
            notes.push(format!("only the first {MAX_LINES} lines were scanned"));
            break;
        }
        let trimmed = text.trim();
        // Quoted reply markers (`> `) do not end a paragraph; a blank line does.
        if trimmed.trim_start_matches('>').trim().is_empty() {
            paragraph += 1;
            table = None;
            continue;
        }
        let row_of = match &table {
            Some(t) if t.matches(text) => Some(t),
            _ => None,
        };
        let items = scan_line(text, row_of);
        let mut times = find_times(text, ctx);
        if let Some(header) = row_of {
            for t in times.iter_mut().filter(|t| !t.time.zone_given) {
                if let Some((offset, label)) = header.zone_at(text, t.start) {
                    t.time.utc -= chrono::Duration::seconds(i64::from(offset));
                    t.time.zone_given = true;
                    let note = format!("zone taken from the column heading \"{label}\"");
                    t.note = Some(match t.note.take() {
                        Some(n) => format!("{n}; {note}"),
                        None => note,
                    });
                }
            }
        }
        if row_of.is_none() {
            table = table_header(text);
        }
        if items.capped && !notes.iter().any(|n| n.starts_with("lines with more than")) {
            notes.push(format!(
                "lines with more than {MAX_ITEMS_PER_LINE} items of a kind were only partly read"
            ));
        }
        lines.push(Line {
            text,
            paragraph,
            items,
            times,
        });
    }
    lines
}

/// Addresses that cannot be a provider's customer as seen from outside (RFC 6890 special-purpose
/// registries): private, loopback, link-local, shared CGN space, multicast, unspecified. The
/// documentation ranges (RFC 5737, RFC 3849) are kept: real reports never use them, and test
/// reports do.
pub(super) fn not_a_subject(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_private() {
                Some("private, RFC 1918")
            } else if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if o[0] == 100 && (o[1] & 0xC0) == 64 {
                Some("shared CGN space, RFC 6598")
            } else if v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified() || o[0] == 0 {
                Some("not unicast")
            } else if o[0] >= 240 {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() || v6.is_unspecified() {
                Some("loopback or unspecified")
            } else if (first & 0xfe00) == 0xfc00 {
                Some("unique local, RFC 4193")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

fn protocol_in(line: &str) -> Option<Protocol> {
    let lower = line.to_ascii_lowercase();
    let word = |w: &str| {
        lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|t| t == w)
    };
    if lower.contains("proto=tcp") || word("tcp") || word("ssh2") || word("sshd") {
        Some(Protocol::Tcp)
    } else if lower.contains("proto=udp") || word("udp") {
        Some(Protocol::Udp)
    } else if lower.contains("proto=icmp") || word("icmp") {
        Some(Protocol::Icmp)
    } else {
        None
    }
}

fn ip_event(
    mail: &MailText,
    sha256: &str,
    class: &Classification,
    group: &[&Sighting<'_>],
    lines: &[Line<'_>],
    stated_sources: bool,
) -> AbuseEvent {
    // The sighting to report: one whose line gives both time and port (they must come from the
    // same connection), then one with a time, then the first; earliest time among equals.
    let rank = |s: &Sighting<'_>| {
        let same_line_time = matches!(s.time, Some((_, "same line", _)));
        (
            u8::from(s.port.is_some() && same_line_time),
            u8::from(s.time.is_some()),
        )
    };
    let best = group.iter().copied().max_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| {
            // Earlier time wins, so compare reversed.
            let ta = a.time.as_ref().map(|t| t.0.time.utc);
            let tb = b.time.as_ref().map(|t| t.0.time.utc);
            tb.cmp(&ta).then(b.line.cmp(&a.line))
        })
    });
    let Some(best) = best else {
        return AbuseEvent::new(
            SourceFormat::FreeForm,
            class.class,
            Evidence::with_hash(sha256, ""),
        );
    };
    let mut excerpt = best.text.to_owned();
    if let Some((_, how, i)) = &best.time
        && *how != "same line"
        && let Some(l) = lines.get(*i)
    {
        excerpt = format!("{}\n{excerpt}", l.text);
    }
    let mut event = AbuseEvent::new(
        SourceFormat::FreeForm,
        class.class,
        Evidence::with_hash(sha256, &excerpt),
    );
    event.reporter = mail.reporter.clone();
    event.received = mail.date;
    event.subject.ip = Some(best.mention.ip);
    event.subject.protocol = best.protocol;
    let mut reasons = Vec::new();
    let (role_name, mut confidence) = match (best.mention.role, best.mention.cue.as_str()) {
        (Role::Source, "address opens a log line") => ("source", 0.75),
        (Role::Source, _) => ("source", 0.9),
        _ if stated_sources => ("unstated", 0.45),
        _ => ("unstated", 0.6),
    };
    event.extra.insert("subject_role".into(), role_name.into());
    if best.mention.cue.is_empty() {
        reasons.push("address with no word saying it is the source".to_owned());
    } else {
        event
            .extra
            .insert("subject_cue".into(), best.mention.cue.clone());
        reasons.push(format!(
            "address after \"{}\" ({role_name})",
            best.mention.cue
        ));
    }
    if let Some((port, how)) = &best.port {
        event.subject.port = Some(*port);
        event.extra.insert("port_from".into(), how.clone());
        reasons.push(format!("port {how}"));
    }
    if let Some((t, how, _)) = &best.time {
        event.observed = Some(t.time);
        event.extra.insert("time_from".into(), (*how).to_owned());
        if let Some(note) = &t.note {
            event.extra.insert("time_note".into(), note.clone());
            confidence -= 0.05;
        }
        reasons.push(format!("time from {how}"));
        if *how == "only time in the report" {
            confidence -= 0.1;
        }
    }
    let times: Vec<_> = group
        .iter()
        .filter_map(|s| s.time.as_ref().map(|t| t.0.time.utc))
        .collect();
    event
        .extra
        .insert("observations".into(), group.len().to_string());
    if let (Some(first), Some(last)) = (times.iter().min(), times.iter().max())
        && first != last
    {
        event.extra.insert("first_seen".into(), first.to_rfc3339());
        event.extra.insert("last_seen".into(), last.to_rfc3339());
    }
    if lines.get(best.line).is_some_and(|l| l.items.defanged) {
        event.extra.insert("defanged".into(), "true".into());
    }
    finish_common(&mut event, mail, class, confidence, reasons);
    event
}

pub(super) fn finish_common(
    event: &mut AbuseEvent,
    mail: &MailText,
    class: &Classification,
    subject_confidence: f32,
    mut reasons: Vec<String>,
) {
    if !class.cues.is_empty() {
        event
            .extra
            .insert("class_cues".into(), class.cues.join(", "));
        reasons.push(format!(
            "class {} from cues: {}",
            class.class,
            class.cues.join(", ")
        ));
    } else {
        reasons.push("no class cue found".into());
    }
    event.extra.insert(
        "class_confidence".into(),
        format!("{:.2}", class.confidence),
    );
    if !mail.subject.is_empty() {
        let subject: String = mail.subject.chars().take(200).collect();
        event.extra.insert("mail_subject".into(), subject);
    }
    // The event is as sure as its subject, lowered when the class is a guess.
    let confidence = subject_confidence * (0.6 + 0.4 * class.confidence);
    event.confidence = (confidence * 100.0).round().clamp(1.0, 100.0) / 100.0;
    event
        .extra
        .insert("confidence_reason".into(), reasons.join("; "));
}

fn all_urls(lines: &[Line<'_>]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for url in lines.iter().flat_map(|l| &l.items.urls) {
        if seen.insert(url.url.clone()) {
            out.push(url.url.clone());
        }
    }
    out
}
