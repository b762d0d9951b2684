//! SMTP TLS Reporting (RFC 8460): the `_smtp._tls` TXT record that tells senders where to
//! report TLS failures; without it, MTA-STS and DANE problems go unnoticed.

use super::tags;
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// Parses a TLS-RPT record (RFC 8460 section 3): `v=TLSRPTv1` first, `rua=` with one or more
/// comma-separated `mailto:` or `https:` URIs. Returns the URIs.
pub fn parse(txt: &str) -> Result<Vec<String>, String> {
    if txt.len() > 2048 {
        return Err("record longer than 2048 octets".into());
    }
    let t = tags::parse(txt)?;
    if t.first() != Some(("v", "TLSRPTv1")) {
        return Err("the first tag must be v=TLSRPTv1".into());
    }
    let rua = t.get("rua").ok_or("the required rua= tag is missing")?;
    let uris: Vec<String> = rua
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if uris.is_empty() {
        return Err("rua= names no destination".into());
    }
    for u in &uris {
        let l = u.to_ascii_lowercase();
        let ok = (l.starts_with("mailto:") && u.contains('@'))
            || (l.starts_with("https://") && u.len() > 8);
        if !ok {
            return Err(format!(
                "rua destination {u:?} is not a mailto: address or https: URL"
            ));
        }
    }
    Ok(uris)
}

/// TLS-RPT findings for `domain`.
pub async fn check<R: Resolve>(r: &R, domain: &str) -> Vec<Finding> {
    let hard = Practice::Hardening;
    let name = format!("_smtp._tls.{domain}");
    let ans = match r.query(&name, RrType::Txt).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                Finding::new(
                    "tlsrpt.record",
                    hard,
                    Status::Fail,
                    "TLS-RPT record could not be read",
                )
                .evidence(e.to_string()),
            ];
        }
    };
    let recs: Vec<&str> = ans
        .txt()
        .into_iter()
        .filter(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("v=tlsrptv1")
        })
        .collect();
    match recs.as_slice() {
        [] => vec![Finding::new("tlsrpt.record", hard, Status::Warn, format!("no TLS-RPT record at {name}: nobody hears about TLS failures"))
            .fix("RFC 8460 section 3: publish TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@<domain>\" at _smtp._tls.<domain>.")],
        [one] => match parse(one) {
            Ok(uris) => vec![Finding::new("tlsrpt.record", hard, Status::Pass, format!("TLS reports go to {}", uris.join(", "))).evidence((*one).to_owned())],
            Err(e) => vec![Finding::new("tlsrpt.record", hard, Status::Fail, format!("TLS-RPT record is malformed: {e}")).evidence((*one).to_owned())
                .fix("RFC 8460 section 3: \"v=TLSRPTv1; rua=mailto:...\" (or https:).")],
        },
        many => vec![Finding::new("tlsrpt.record", hard, Status::Fail, format!("{} TLS-RPT records: senders use none", many.len()))
            .evidence(many.join(" | "))
            .fix("RFC 8460 section 3: publish exactly one record; list several destinations in one rua=.")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        assert_eq!(
            parse("v=TLSRPTv1; rua=mailto:a@b.test,https://r.test/x")
                .unwrap()
                .len(),
            2
        );
        assert!(parse("v=TLSRPTv1").is_err());
        assert!(parse("rua=mailto:a@b.test; v=TLSRPTv1").is_err());
        assert!(parse("v=TLSRPTv1; rua=http://r.test").is_err());
    }
}
