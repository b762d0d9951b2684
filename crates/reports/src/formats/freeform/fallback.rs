//! Subjects for reports that name no source address: URLs (phishing, malware), else domains,
//! else the abusive e-mail addresses of spam, phishing and fraud reports.

use super::body::MailText;
use super::classify::Classification;
use super::pairing::neighbours;
use super::report::{Line, finish_common, not_a_subject};
use super::times::FoundTime;
use std::collections::BTreeSet;
use warden_model::{AbuseClass, AbuseEvent, Evidence, SourceFormat};

/// Events for reports that name no address: one per URL, else one per domain, else (for spam,
/// phishing and fraud) one per e-mail address that is not the reporter's.
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
