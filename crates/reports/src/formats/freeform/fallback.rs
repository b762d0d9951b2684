//! Subjects for reports whose text names no source address: the origin of a forwarded message
//! (a spam attached by a person), else URLs (phishing, malware), else domains, else the abusive
//! e-mail addresses of spam, phishing and fraud reports.

use super::body::MailText;
use super::classify::Classification;
use super::pairing::neighbours;
use super::report::{Line, finish_common, not_a_subject};
use super::times::FoundTime;
use std::collections::BTreeSet;
use warden_model::{AbuseClass, AbuseEvent, Evidence, ObservedTime, SourceFormat, TimePrecision};

/// Events for reports that name no address: one per URL, else one per domain, else (for spam,
/// phishing and fraud) one per e-mail address that is not the reporter's.
/// One event per forwarded message's origin ([`super::body::ForwardedOrigin`]). A forward with
/// no cue word is taken as a spam complaint, which is what people forwarding mail to abuse@
/// mean; the low class confidence says it was a guess.
pub(super) fn forwarded_events(
    mail: &MailText,
    sha256: &str,
    class: &Classification,
    max: usize,
) -> Vec<AbuseEvent> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let guessed;
    let class = if class.class == AbuseClass::Other {
        guessed = Classification {
            class: AbuseClass::Spam,
            confidence: 0.4,
            cues: Vec::new(),
        };
        &guessed
    } else {
        class
    };
    for origin in &mail.forwarded {
        if out.len() >= max || !seen.insert(origin.ip) {
            continue;
        }
        let mut event = base_event(mail, sha256, class, &origin.excerpt);
        event.subject.ip = Some(origin.ip);
        let mut reasons = vec![
            "first public client address in the Received chain of a forwarded message".to_owned(),
        ];
        event.extra.insert("subject_role".into(), "source".into());
        event.extra.insert(
            "subject_cue".into(),
            "Received chain of a forwarded message".into(),
        );
        if class.cues.is_empty() {
            reasons.push("forwarded mail without cue words taken as spam".into());
        }
        if let Some(t) = origin.time {
            // The relay's own stamp: RFC 5322 date with a zone, to the second.
            event.observed = Some(ObservedTime::zoned(t, TimePrecision::Second));
            event
                .extra
                .insert("time_from".into(), "Received header".into());
            reasons.push("time from the Received header".into());
        }
        finish_common(&mut event, mail, class, 0.6, reasons);
        out.push(event);
    }
    out
}

pub(super) fn url_or_domain_events(
    mail: &MailText,
    sha256: &str,
    class: &Classification,
    lines: &[Line<'_>],
    only: Option<&FoundTime>,
    max: usize,
) -> Vec<AbuseEvent> {
    let own = mail.reporter.domain.as_deref().unwrap_or("\u{0}");
    let is_own = |host: &str| host == own || host.ends_with(&format!(".{own}"));
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        for url in &line.items.urls {
            if out.len() >= max || is_own(&url.host) || !seen.insert(url.url.clone()) {
                continue;
            }
            if url.ip.is_some_and(|ip| not_a_subject(ip).is_some()) {
                continue;
            }
            let mut event = base_event(mail, sha256, class, line.text);
            event.subject.url = Some(url.url.clone());
            event.subject.ip = url.ip;
            if url.ip.is_none() {
                event.subject.domain = Some(url.host.clone());
            }
            let mut confidence: f32 = if line.items.defanged { 0.85 } else { 0.7 };
            let mut reasons = vec![format!(
                "URL{} in a report naming no source address",
                if line.items.defanged {
                    " (defanged by the reporter)"
                } else {
                    ""
                }
            )];
            if line.items.defanged {
                event.extra.insert("defanged".into(), "true".into());
            }
            add_time(
                &mut event,
                line,
                index,
                lines,
                only,
                &mut reasons,
                &mut confidence,
            );
            finish_common(&mut event, mail, class, confidence, reasons);
            out.push(event);
        }
    }
    if !out.is_empty() {
        return out;
    }
    for (index, line) in lines.iter().enumerate() {
        for domain in &line.items.domains {
            if out.len() >= max || is_own(domain) || !seen.insert(domain.clone()) {
                continue;
            }
            let mut event = base_event(mail, sha256, class, line.text);
            event.subject.domain = Some(domain.clone());
            let mut confidence: f32 = if line.items.defanged { 0.7 } else { 0.4 };
            let mut reasons = vec!["domain name in a report naming no address or URL".to_owned()];
            add_time(
                &mut event,
                line,
                index,
                lines,
                only,
                &mut reasons,
                &mut confidence,
            );
            finish_common(&mut event, mail, class, confidence, reasons);
            out.push(event);
        }
    }
    if !out.is_empty()
        || !matches!(
            class.class,
            AbuseClass::Spam | AbuseClass::Phishing | AbuseClass::Fraud
        )
    {
        return out;
    }
    let reporter_email = mail.reporter.email.as_deref().unwrap_or("");
    for (index, line) in lines.iter().enumerate() {
        for email in &line.items.emails {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
            if out.len() >= max || email == reporter_email || is_own(domain) {
                continue;
            }
            if !seen.insert(email.clone()) {
                continue;
            }
            let mut event = base_event(mail, sha256, class, line.text);
            event.subject.email = Some(email.clone());
            let mut confidence = 0.4;
            let mut reasons =
                vec!["e-mail address in a report naming no address, URL or domain".to_owned()];
            add_time(
                &mut event,
                line,
                index,
                lines,
                only,
                &mut reasons,
                &mut confidence,
            );
            finish_common(&mut event, mail, class, confidence, reasons);
            out.push(event);
        }
    }
    out
}

fn base_event(mail: &MailText, sha256: &str, class: &Classification, excerpt: &str) -> AbuseEvent {
    let mut event = AbuseEvent::new(
        SourceFormat::FreeForm,
        class.class,
        Evidence::with_hash(sha256, excerpt),
    );
    event.reporter = mail.reporter.clone();
    event.received = mail.date;
    event
}

fn add_time(
    event: &mut AbuseEvent,
    line: &Line<'_>,
    index: usize,
    lines: &[Line<'_>],
    only: Option<&FoundTime>,
    reasons: &mut Vec<String>,
    confidence: &mut f32,
) {
    let found: Option<(FoundTime, &'static str)> = line
        .times
        .first()
        .map(|t| (t.clone(), "same line"))
        .or_else(|| {
            neighbours(lines, index)
                .find_map(|(_, l)| l.times.first())
                .map(|t| (t.clone(), "same paragraph"))
        })
        .or_else(|| only.map(|t| (t.clone(), "only time in the report")));
    if let Some((t, how)) = found {
        event.observed = Some(t.time);
        event.extra.insert("time_from".into(), how.into());
        if let Some(note) = t.note {
            event.extra.insert("time_note".into(), note);
            *confidence -= 0.05;
        }
        if how == "only time in the report" {
            *confidence -= 0.1;
        }
        reasons.push(format!("time from {how}"));
    }
}
