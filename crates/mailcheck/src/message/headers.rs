//! Header checks that need no network: the fields RFC 5322 section 3.6 requires or strongly
//! recommends (From, Date, Message-ID), and, for bulk mail, List-Unsubscribe (RFC 2369) with
//! one-click unsubscription (RFC 8058), as the M3AAWG Sender BCP asks.

use mail_parser::{HeaderName, Message};

use crate::{Finding, Practice, Status};

/// Raw values of every header with this name (case-insensitive), in order.
pub fn raw_values<'a>(message: &'a Message<'_>, name: &str) -> Vec<&'a str> {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .filter_map(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
        .map(|b| std::str::from_utf8(b).unwrap_or("").trim())
        .collect()
}

/// Why the message counts as bulk, if it does.
pub fn bulk_reason(message: &Message<'_>, forced: bool) -> Option<String> {
    if forced {
        return Some("declared bulk by the caller".into());
    }
    if let Some(p) = raw_values(message, "Precedence").first() {
        let p = p.to_ascii_lowercase();
        if ["bulk", "list", "junk"].contains(&p.as_str()) {
            return Some(format!("Precedence: {p}"));
        }
    }
    raw_values(message, "List-Id")
        .first()
        .map(|id| format!("List-Id: {id}"))
}

/// The domain of the single From address, lower-cased, if there is exactly one valid one.
pub fn from_domain(message: &Message<'_>) -> Option<String> {
    let addr = message.from()?.first()?.address()?;
    let (local, domain) = addr.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let ok = !local.is_empty()
        && !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    ok.then_some(domain)
}

/// From, Date and Message-ID.
pub fn identity(message: &Message<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let froms = message
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::From)
        .count();
    let from_raw = raw_values(message, "From");
    out.push(match (froms, from_domain(message)) {
        (1, Some(d)) => Finding::new(
            "message.from",
            Practice::Message,
            Status::Pass,
            format!("one valid From address (domain {d})"),
        ),
        (0, _) => Finding::new("message.from", Practice::Message, Status::Fail, "no From header")
            .fix("RFC 5322 section 3.6: every message has exactly one From field; DMARC (RFC 7489 section 6.6.1) keys on it."),
        (n, _) if n > 1 => Finding::new(
            "message.from",
            Practice::Message,
            Status::Fail,
            format!("{n} From headers"),
        )
        .evidence(from_raw.join(" | "))
        .fix("RFC 5322 section 3.6 allows one From field; receivers reject duplicates because DMARC cannot tell which one to check (RFC 7489 section 6.6.1)."),
        _ => Finding::new(
            "message.from",
            Practice::Message,
            Status::Fail,
            "From has no valid address",
        )
        .evidence(from_raw.join(" | "))
        .fix("RFC 5322 section 3.4.1: From needs an addr-spec local-part@domain."),
    });

    let date_raw = raw_values(message, "Date");
    out.push(match (date_raw.first(), message.date()) {
        (None, _) => Finding::new("message.date", Practice::Message, Status::Fail, "no Date header")
            .fix("RFC 5322 section 3.6: the origination date is required; add it when the message is created."),
        (Some(raw), Some(d)) if d.is_valid() => Finding::new(
            "message.date",
            Practice::Message,
            Status::Pass,
            format!("Date present ({})", d.to_rfc3339()),
        )
        .evidence((*raw).to_owned()),
        (Some(raw), _) => Finding::new("message.date", Practice::Message, Status::Fail, "Date cannot be parsed")
            .evidence((*raw).to_owned())
            .fix("RFC 5322 section 3.3: use the date-time form, e.g. `Tue, 24 Nov 2026 04:35:00 +0000`."),
    });

    let mid = raw_values(message, "Message-ID");
    out.push(match mid.first() {
        None => Finding::new("message.message_id", Practice::Message, Status::Fail, "no Message-ID header")
            .fix("RFC 5322 section 3.6.4: every message SHOULD have a Message-ID; many receivers score its absence as spam."),
        Some(v) if v.starts_with('<') && v.ends_with('>') && v.contains('@') && mid.len() == 1 => Finding::new(
            "message.message_id",
            Practice::Message,
            Status::Pass,
            "Message-ID present",
        )
        .evidence((*v).to_owned()),
        Some(v) => Finding::new(
            "message.message_id",
            Practice::Message,
            Status::Fail,
            if mid.len() > 1 { "more than one Message-ID" } else { "Message-ID is malformed" },
        )
        .evidence((*v).to_owned())
        .fix("RFC 5322 section 3.6.4: exactly one Message-ID of the form <unique@domain>."),
    });
    out
}

/// URIs in a List-Unsubscribe value: each in angle brackets (RFC 2369 section 2).
pub fn list_uris(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('>') else { break };
        let uri: String = after
            .get(..end)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !uri.is_empty() {
            out.push(uri);
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

/// List-Unsubscribe and List-Unsubscribe-Post. Returns the findings and whether one-click
/// unsubscription is declared (the DKIM check then wants both headers signed, RFC 8058 section 4).
pub fn unsubscribe(message: &Message<'_>, bulk: Option<&str>) -> (Vec<Finding>, bool) {
    let mut out = Vec::new();
    let lu = raw_values(message, "List-Unsubscribe");
    let post = raw_values(message, "List-Unsubscribe-Post");
    let uris: Vec<String> = lu.iter().flat_map(|v| list_uris(v)).collect();
    let https = uris
        .iter()
        .any(|u| u.to_ascii_lowercase().starts_with("https://"));
    let mailto = uris
        .iter()
        .any(|u| u.to_ascii_lowercase().starts_with("mailto:"));
    let Some(why) = bulk else {
        if lu.is_empty() {
            out.push(Finding::new(
                "message.list_unsubscribe",
                Practice::Message,
                Status::Info,
                "not bulk mail (no Precedence: bulk or List-Id); List-Unsubscribe not required",
            ));
            return (out, false);
        }
        // Not bulk, but if it is there it should still work: fall through with "why" empty.
        return unsubscribe_present(
            out,
            &lu,
            &post,
            &uris,
            https,
            mailto,
            "List-Unsubscribe present",
        );
    };
    if lu.is_empty() {
        out.push(
            Finding::new(
                "message.list_unsubscribe",
                Practice::Message,
                Status::Fail,
                "bulk mail without List-Unsubscribe",
            )
            .evidence(format!("bulk because {why}"))
            .fix("M3AAWG Sender BCP and RFC 2369 section 3.2: add List-Unsubscribe: <https://...>, <mailto:...>, plus List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)."),
        );
        out.push(
            Finding::new(
                "message.one_click",
                Practice::Message,
                Status::Fail,
                "bulk mail without one-click unsubscribe",
            )
            .fix("RFC 8058 section 3.1: List-Unsubscribe with an https URI and List-Unsubscribe-Post: List-Unsubscribe=One-Click."),
        );
        return (out, false);
    }
    unsubscribe_present(
        out,
        &lu,
        &post,
        &uris,
        https,
        mailto,
        &format!("bulk because {why}"),
    )
}

fn unsubscribe_present(
    mut out: Vec<Finding>,
    lu: &[&str],
    post: &[&str],
    uris: &[String],
    https: bool,
    mailto: bool,
    context: &str,
) -> (Vec<Finding>, bool) {
    let f = if https || mailto {
        Finding::new(
            "message.list_unsubscribe",
            Practice::Message,
            Status::Pass,
            "List-Unsubscribe has an https or mailto URI",
        )
    } else {
        Finding::new(
            "message.list_unsubscribe",
            Practice::Message,
            Status::Fail,
            "List-Unsubscribe has no https or mailto URI",
        )
        .fix("RFC 2369 section 3.2 and RFC 8058 section 3.1: give <https://...> (one-click) and/or <mailto:...>; plain http leaks the token and is not accepted for one-click.")
    };
    out.push(
        f.evidence(format!("List-Unsubscribe: {}", lu.join(" | ")))
            .evidence(format!("URIs: {}", uris.join(", ")))
            .evidence(context.to_owned()),
    );
    let one_click_header = post.len() == 1
        && post
            .first()
            .is_some_and(|p| p.trim() == "List-Unsubscribe=One-Click");
    let one_click = one_click_header && https;
    let f = if one_click {
        Finding::new(
            "message.one_click",
            Practice::Message,
            Status::Pass,
            "one-click unsubscribe declared (RFC 8058)",
        )
    } else if one_click_header {
        Finding::new(
            "message.one_click",
            Practice::Message,
            Status::Fail,
            "List-Unsubscribe-Post present but no https URI to POST to",
        )
        .fix("RFC 8058 section 3.1: the one-click URI must be https.")
    } else if post.is_empty() {
        Finding::new(
            "message.one_click",
            Practice::Message,
            Status::Fail,
            "no List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        )
        .fix("RFC 8058 section 3.1: add `List-Unsubscribe-Post: List-Unsubscribe=One-Click` and an https URI; large mailbox providers require it for bulk senders.")
    } else {
        Finding::new(
            "message.one_click",
            Practice::Message,
            Status::Fail,
            "List-Unsubscribe-Post is not exactly `List-Unsubscribe=One-Click`",
        )
        .evidence(post.join(" | "))
        .fix("RFC 8058 section 3.1: one header whose value is exactly List-Unsubscribe=One-Click.")
    };
    out.push(f);
    (out, one_click)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_uris_in_brackets_with_folding() {
        assert_eq!(
            list_uris("<mailto:u@example.com?subject=unsub>,\r\n <https://example.com/u/\r\n abc>"),
            vec![
                "mailto:u@example.com?subject=unsub",
                "https://example.com/u/abc"
            ]
        );
        assert!(list_uris("https://no-brackets.example").is_empty());
        assert!(list_uris("<unterminated").is_empty());
        assert!(list_uris("<>").is_empty());
    }
}
