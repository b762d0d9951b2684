//! DKIM (RFC 6376) verified with mail-auth, then judged the way DMARC will judge it: only a
//! passing signature whose d= aligns with the From domain counts (RFC 7489 section 3.1.1).

use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator};

use crate::{Finding, Practice, Status};

/// Identifier alignment of a signing domain with the From domain. Relaxed alignment needs the
/// organizational domain; without a public-suffix list we accept the cases that are certain
/// (same name, or one a subdomain of the other) and say so when siblings might still align.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    /// d= equals the From domain.
    Strict,
    /// One is a subdomain of the other.
    Relaxed,
    /// Neither; may still share an organizational domain (siblings).
    No,
}

/// Compares two domains (lower-case, no trailing dot expected but tolerated).
pub fn alignment(signing: &str, from: &str) -> Alignment {
    let d = signing.trim_end_matches('.').to_ascii_lowercase();
    let f = from.trim_end_matches('.').to_ascii_lowercase();
    if d == f {
        Alignment::Strict
    } else if f.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{f}")) {
        Alignment::Relaxed
    } else {
        Alignment::No
    }
}

fn result_name(r: &DkimResult) -> String {
    match r {
        DkimResult::Pass => "pass".into(),
        DkimResult::Neutral(e) => format!("neutral ({e})"),
        DkimResult::Fail(e) => format!("fail ({e})"),
        DkimResult::PermError(e) => format!("permerror ({e})"),
        DkimResult::TempError(e) => format!("temperror ({e})"),
        DkimResult::None => "none".into(),
    }
}

/// Verifies every DKIM-Signature and returns the `message.dkim` finding, plus the
/// `message.one_click_signed` finding when one-click unsubscribe is declared.
pub async fn check(
    raw: &[u8],
    from_domain: Option<&str>,
    authenticator: Option<&MessageAuthenticator>,
    timeout: std::time::Duration,
    one_click: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(parsed) = AuthenticatedMessage::parse(raw) else {
        out.push(Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Fail,
            "message headers could not be read for DKIM",
        ));
        return out;
    };
    if parsed.dkim_headers.is_empty() {
        out.push(
            Finding::new("message.dkim", Practice::Authentication, Status::Fail, "message is not DKIM-signed")
                .fix("M3AAWG Sender BCP (authenticate all mail) and RFC 6376: sign with a key of at least 2048 bits under the From domain, so that DMARC can align (RFC 7489 section 3.1.1)."),
        );
        if one_click {
            out.push(one_click_finding(false));
        }
        return out;
    }
    let Some(auth) = authenticator else {
        out.push(Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Info,
            format!(
                "{} DKIM signature(s) present but not verified (no DNS resolver)",
                parsed.dkim_headers.len()
            ),
        ));
        if one_click {
            out.push(Finding::new(
                "message.one_click_signed",
                Practice::Message,
                Status::Info,
                "whether the one-click headers are signed was not checked (DKIM not verified)",
            ));
        }
        return out;
    };
    let outputs = match tokio::time::timeout(timeout, auth.verify_dkim(&parsed)).await {
        Ok(o) => o,
        Err(_) => {
            out.push(
                Finding::new(
                    "message.dkim",
                    Practice::Authentication,
                    Status::Warn,
                    format!("DKIM key lookup timed out after {timeout:?}"),
                )
                .fix("Check that the selector's TXT record resolves quickly (RFC 6376 section 3.6.2.2)."),
            );
            return out;
        }
    };
    let mut evidence = Vec::new();
    let mut best: Option<(Alignment, Vec<String>)> = None;
    let mut any_temp = false;
    for o in &outputs {
        let (d, s, h) = match o.signature() {
            Some(sig) => (sig.d.clone(), sig.s.clone(), sig.h.clone()),
            None => ("?".into(), "?".into(), Vec::new()),
        };
        let al = from_domain.map_or(Alignment::No, |f| alignment(&d, f));
        evidence.push(format!(
            "d={d} s={s}: {} (alignment with From: {al:?})",
            result_name(o.result())
        ));
        match o.result() {
            DkimResult::Pass => {
                let better = match &best {
                    None => true,
                    Some((b, _)) => *b == Alignment::No && al != Alignment::No,
                };
                if better {
                    best = Some((al, h));
                }
            }
            DkimResult::TempError(_) => any_temp = true,
            _ => {}
        }
    }
    let f = match &best {
        Some((al, _)) if *al != Alignment::No => Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Pass,
            format!("DKIM passes and aligns with From ({al:?})"),
        ),
        Some(_) => Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Warn,
            "DKIM passes but no passing signature aligns with the From domain",
        )
        .fix("RFC 7489 section 3.1.1: sign with d= equal to the From domain or its organizational domain, or DMARC will not count the signature."),
        None if any_temp => Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Warn,
            "DKIM could not be verified (temporary DNS error)",
        ),
        None => Finding::new(
            "message.dkim",
            Practice::Authentication,
            Status::Fail,
            "no DKIM signature verifies",
        )
        .fix("RFC 6376 section 6: publish the selector's public key (s._domainkey.d TXT) and do not change signed headers or the body after signing."),
    };
    let mut f = f;
    if let Some(fd) = from_domain {
        f = f.evidence(format!("From domain: {fd}"));
    }
    for e in evidence {
        f = f.evidence(e);
    }
    out.push(f);

    if one_click {
        let signed = best.as_ref().is_some_and(|(al, h)| {
            *al != Alignment::No
                && h.iter().any(|x| x.eq_ignore_ascii_case("List-Unsubscribe"))
                && h.iter()
                    .any(|x| x.eq_ignore_ascii_case("List-Unsubscribe-Post"))
        });
        out.push(one_click_finding(signed));
    }
    out
}

/// RFC 8058 section 4: the one-click headers must be covered by a DKIM signature that aligns.
fn one_click_finding(signed: bool) -> Finding {
    if signed {
        Finding::new(
            "message.one_click_signed",
            Practice::Message,
            Status::Pass,
            "the aligned DKIM signature covers List-Unsubscribe and List-Unsubscribe-Post",
        )
    } else {
        Finding::new(
            "message.one_click_signed",
            Practice::Message,
            Status::Fail,
            "one-click headers are not covered by an aligned, passing DKIM signature",
        )
        .fix("RFC 8058 section 4: include List-Unsubscribe and List-Unsubscribe-Post in the h= tag of a DKIM signature aligned with From.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_cases() {
        assert_eq!(alignment("example.com", "Example.COM."), Alignment::Strict);
        assert_eq!(
            alignment("example.com", "news.example.com"),
            Alignment::Relaxed
        );
        assert_eq!(
            alignment("mail.example.com", "example.com"),
            Alignment::Relaxed
        );
        assert_eq!(alignment("esp.example", "example.com"), Alignment::No);
        assert_eq!(alignment("ample.com", "example.com"), Alignment::No);
    }
}
