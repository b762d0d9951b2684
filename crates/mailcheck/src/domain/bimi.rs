//! BIMI (draft-brand-indicators-for-message-identification): the `default._bimi` TXT record.
//! Only syntax is checked: the logo's SVG profile and the mark certificate need HTTPS fetches
//! that this audit does not make yet.

use super::tags;
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// Parses a BIMI assertion record: `v=BIMI1` first, `l=` an https URL (or empty to decline),
/// optional `a=` an https URL or empty. Returns (l, a).
pub fn parse(txt: &str) -> Result<(String, String), String> {
    if txt.len() > 2048 {
        return Err("record longer than 2048 octets".into());
    }
    let t = tags::parse(txt)?;
    if t.first() != Some(("v", "BIMI1")) {
        return Err("the first tag must be v=BIMI1".into());
    }
    let l = t.get("l").unwrap_or("").to_owned();
    let a = t.get("a").unwrap_or("").to_owned();
    for (name, v) in [("l", &l), ("a", &a)] {
        if !v.is_empty() && !v.to_ascii_lowercase().starts_with("https://") {
            return Err(format!("{name}={v:?} must be an https: URL"));
        }
    }
    if !l.is_empty() && !l.to_ascii_lowercase().ends_with(".svg") {
        return Err(format!("l={l:?} must point at an SVG file"));
    }
    Ok((l, a))
}

/// BIMI findings; absent BIMI is context, not a problem.
pub async fn check<R: Resolve>(r: &R, domain: &str) -> Vec<Finding> {
    let hard = Practice::Hardening;
    let name = format!("default._bimi.{domain}");
    let ans = match r.query(&name, RrType::Txt).await {
        Ok(a) => a,
        Err(e) => {
            return vec![
                Finding::new(
                    "bimi.record",
                    hard,
                    Status::Info,
                    "BIMI record could not be read",
                )
                .evidence(e.to_string()),
            ];
        }
    };
    let recs: Vec<&str> = ans
        .txt()
        .into_iter()
        .filter(|t| t.trim_start().to_ascii_lowercase().starts_with("v=bimi1"))
        .collect();
    match recs.as_slice() {
        [] => vec![Finding::new("bimi.record", hard, Status::Info, format!("no BIMI record at {name}"))],
        [one] => match parse(one) {
            Ok(_) => vec![Finding::new("bimi.record", hard, Status::Pass, "BIMI record is well formed").evidence((*one).to_owned())],
            Err(e) => vec![Finding::new("bimi.record", hard, Status::Fail, format!("BIMI record is malformed: {e}")).evidence((*one).to_owned())
                .fix("BIMI draft section 4.2: \"v=BIMI1; l=https://.../logo.svg; a=https://.../vmc.pem\".")],
        },
        many => vec![Finding::new("bimi.record", hard, Status::Fail, format!("{} BIMI records: receivers use none", many.len())).evidence(many.join(" | "))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        assert!(parse("v=BIMI1; l=https://x.test/l.svg; a=").is_ok());
        assert!(parse("v=BIMI1; l=; a=").is_ok());
        assert!(parse("v=BIMI1; l=http://x.test/l.svg").is_err());
        assert!(parse("v=BIMI1; l=https://x.test/l.png").is_err());
        assert!(parse("l=https://x.test/l.svg; v=BIMI1").is_err());
    }
}
